//! The aggregation service layer: applying feed events and summing facts.

use std::collections::{HashMap, VecDeque};

use anyhow::Context;
use chiso_domain::{
    AdminUnitCode, AgencyHistory, Count, DataElementCode, PeriodCode, ReportVersion, Total,
};
use chiso_runtime::ServiceResult;
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
    history: &AgencyHistory,
) -> ServiceResult<bool> {
    let txn = chiso_runtime::db::begin_write(db).await?;
    if !advance(&txn, REGISTRY_FEED, seq).await? {
        return Ok(false);
    }
    agency_tree::Entity::delete_many()
        .filter(agency_tree::Column::Code.eq(history.code.as_str()))
        .exec(&txn)
        .await?;
    let rows: Vec<agency_tree::ActiveModel> = history
        .versions
        .iter()
        .map(|v| agency_tree::ActiveModel {
            code: Set(history.code.to_string()),
            valid_from: Set(v.valid_from),
            valid_to: Set(v.valid_to),
            parent_code: Set(v.parent.as_ref().map(ToString::to_string)),
            province_code: Set(v.province.to_string()),
            admin_unit_code: Set(history.admin_unit.as_ref().map(ToString::to_string)),
        })
        .collect();
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
