//! The aggregation service layer: applying feed events and summing facts.

use std::collections::{HashMap, VecDeque};

use anyhow::Context;
use chiso_domain::{AdminUnitCode, Count, DataElementCode, PeriodCode, ReportVersion, Total};
use chiso_proto::registry::v1 as registry;
use chiso_runtime::{ServiceError, ServiceResult};
use chrono::NaiveDate;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, QuerySelect, sea_query::OnConflict,
};

use crate::entity::{agency_tree, fact, feed_cursor};

/// Name of the submission feed in `feed_cursors`.
pub const SUBMISSION_FEED: &str = "submission";
/// Name of the registry's agency feed in `feed_cursors`.
pub const REGISTRY_FEED: &str = "registry";

/// The last sequence number applied from `feed`; 0 before the first.
#[tracing::instrument(name = "db.cursor", skip_all)]
pub async fn cursor(db: &DatabaseConnection, feed: &str) -> ServiceResult<i64> {
    Ok(feed_cursor::Entity::find_by_id(feed.to_owned())
        .one(db)
        .await?
        .map_or(0, |c| c.last_seq))
}

/// Applies one feed event: the report's values replace the agency's values for
/// that period, and the cursor moves, in one transaction. An event at or
/// below the cursor was applied before and is skipped.
#[tracing::instrument(name = "db.apply", skip_all)]
pub async fn apply(
    db: &DatabaseConnection,
    seq: i64,
    report: &ReportVersion,
) -> ServiceResult<bool> {
    let txn = chiso_runtime::db::begin_write(db).await?;
    if !advance(&txn, SUBMISSION_FEED, seq).await? {
        return Ok(false);
    }
    let period = report.content.period.to_string();
    fact::Entity::delete_many()
        .filter(fact::Column::AgencyCode.eq(report.agency.as_str()))
        .filter(fact::Column::Period.eq(&period))
        .exec(&txn)
        .await?;
    if !report.content.values.is_empty() {
        fact::Entity::insert_many(report.content.values.iter().map(|(code, count)| {
            fact::ActiveModel {
                agency_code: Set(report.agency.to_string()),
                period: Set(period.clone()),
                data_element: Set(code.to_string()),
                province_code: Set(report.province.to_string()),
                value: Set(count.get()),
                report_id: Set(report.id.clone()),
                report_version: Set(report.version),
            }
        }))
        .exec_without_returning(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(true)
}

/// Applies one agency-feed entry: the agency's versions replace its rows in
/// the tree copy, and the cursor moves, in one transaction.
#[tracing::instrument(name = "db.apply_agency", skip_all)]
pub async fn apply_agency(
    db: &DatabaseConnection,
    seq: i64,
    agency: &registry::Agency,
    versions: &[registry::AgencyVersion],
) -> ServiceResult<bool> {
    let txn = chiso_runtime::db::begin_write(db).await?;
    if !advance(&txn, REGISTRY_FEED, seq).await? {
        return Ok(false);
    }
    agency_tree::Entity::delete_many()
        .filter(agency_tree::Column::Code.eq(&agency.code))
        .exec(&txn)
        .await?;
    let date = |field: &str, raw: &str| {
        NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| {
            ServiceError::Internal(anyhow::anyhow!(
                "agency feed entry {seq}: {field} `{raw}` is not a date"
            ))
        })
    };
    let mut rows = Vec::with_capacity(versions.len());
    for v in versions {
        rows.push(agency_tree::ActiveModel {
            code: Set(agency.code.clone()),
            valid_from: Set(date("valid_from", &v.valid_from)?),
            valid_to: Set(match v.valid_to.as_str() {
                "" => None,
                raw => Some(date("valid_to", raw)?),
            }),
            parent_code: Set(Some(v.parent_code.clone()).filter(|p| !p.is_empty())),
            province_code: Set(v.province_code.clone()),
            admin_unit_code: Set(Some(agency.admin_unit_code.clone()).filter(|c| !c.is_empty())),
        });
    }
    if !rows.is_empty() {
        agency_tree::Entity::insert_many(rows)
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(true)
}

/// Moves `feed`'s cursor to `seq` unless it is already there or past it (an
/// entry applied before); returns whether the caller should apply the entry.
async fn advance(txn: &DatabaseTransaction, feed: &str, seq: i64) -> ServiceResult<bool> {
    let current = feed_cursor::Entity::find_by_id(feed.to_owned())
        .one(txn)
        .await?
        .map_or(0, |c| c.last_seq);
    if seq <= current {
        return Ok(false);
    }
    feed_cursor::Entity::insert(feed_cursor::ActiveModel {
        feed: Set(feed.to_owned()),
        last_seq: Set(seq),
    })
    .on_conflict(
        OnConflict::column(feed_cursor::Column::Feed)
            .update_column(feed_cursor::Column::LastSeq)
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    Ok(true)
}

/// The agencies of an area on a date: the People's Committee whose
/// administrative-unit code is `area` and everything under it then.
/// `None` when no such committee existed on that date.
#[tracing::instrument(name = "db.area_members", skip_all)]
pub async fn area_members(
    db: &DatabaseConnection,
    area: &AdminUnitCode,
    as_of: NaiveDate,
) -> ServiceResult<Option<Vec<String>>> {
    let active: Vec<agency_tree::Model> = agency_tree::Entity::find()
        .filter(agency_tree::Column::ValidFrom.lte(as_of))
        .filter(
            Condition::any()
                .add(agency_tree::Column::ValidTo.is_null())
                .add(agency_tree::Column::ValidTo.gt(as_of)),
        )
        .all(db)
        .await?;
    let Some(root) = active
        .iter()
        .find(|a| a.admin_unit_code.as_deref() == Some(area.as_str()))
    else {
        return Ok(None);
    };
    let mut children: HashMap<&str, Vec<&str>> = HashMap::new();
    for a in &active {
        if let Some(parent) = &a.parent_code {
            children
                .entry(parent.as_str())
                .or_default()
                .push(a.code.as_str());
        }
    }
    let mut members = vec![root.code.clone()];
    let mut queue = VecDeque::from([root.code.as_str()]);
    while let Some(code) = queue.pop_front() {
        for child in children.get(code).into_iter().flatten() {
            members.push((*child).to_owned());
            queue.push_back(child);
        }
    }
    Ok(Some(members))
}

/// The total of a data element over the given agencies for a period: the
/// values are read and summed exactly in the domain, never in SQL, so a sum
/// beyond 64 bits is an answerable error instead of a database failure.
#[tracing::instrument(name = "db.total", skip_all)]
pub async fn total(
    db: &DatabaseConnection,
    agencies: &[String],
    period: &PeriodCode,
    data_element: &DataElementCode,
) -> ServiceResult<Total> {
    // One row per agency: (agency, period, data element) is the key.
    let values: Vec<i64> = fact::Entity::find()
        .select_only()
        .column(fact::Column::Value)
        .filter(fact::Column::AgencyCode.is_in(agencies.iter().map(String::as_str)))
        .filter(fact::Column::Period.eq(period.to_string()))
        .filter(fact::Column::DataElement.eq(data_element.as_str()))
        .into_tuple()
        .all(db)
        .await?;
    let counts = values
        .into_iter()
        .map(Count::new)
        .collect::<Result<Vec<_>, _>>()
        .context("a stored fact is not a count")?;
    Ok(Total::of(counts))
}
