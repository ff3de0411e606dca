//! The aggregation service layer: applying feed events and summing facts.

use std::collections::{HashMap, HashSet, VecDeque};

use anyhow::Context;
use chiso_domain::{
    AdminUnitCode, AgencyHistory, Count, DataElement, PeriodCode, ReportVersion, Totals, Value,
    catalogue::{Decimal, ValueType},
};
use chiso_runtime::ServiceResult;
use chrono::NaiveDate;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, QuerySelect, sea_query::OnConflict,
};

use crate::entity::{agency_tree, catalogue_definition, fact, feed_cursor};

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

/// What one report event does to the facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactChange {
    /// The version's values now count: they replace the agency's facts of
    /// the same form and period.
    Replace,
    /// The report stopped counting (returned): its facts go.
    Remove,
    /// Nothing changes what counts (a draft revision, an unlock).
    Keep,
}

/// Applies one report event and moves the cursor, in one transaction. An
/// event at or below the cursor was applied before and is skipped.
#[tracing::instrument(name = "db.apply", skip_all)]
pub async fn apply(
    db: &DatabaseConnection,
    seq: i64,
    report: &ReportVersion,
    change: FactChange,
) -> ServiceResult<bool> {
    let txn = chiso_runtime::db::begin_write(db).await?;
    if !advance(&txn, SUBMISSION_FEED, seq).await? {
        return Ok(false);
    }
    let period = report.period.to_string();
    if change != FactChange::Keep {
        fact::Entity::delete_many()
            .filter(fact::Column::AgencyCode.eq(report.agency.as_str()))
            .filter(fact::Column::Period.eq(&period))
            .filter(fact::Column::Form.eq(report.form.as_str()))
            .exec(&txn)
            .await?;
    }
    if change == FactChange::Replace && !report.values.is_empty() {
        fact::Entity::insert_many(report.values.iter().map(|(code, value)| fact::ActiveModel {
            agency_code: Set(report.agency.to_string()),
            period: Set(period.clone()),
            data_element: Set(code.to_string()),
            form: Set(report.form.to_string()),
            province_code: Set(report.province.to_string()),
            value: Set(value.as_integer()),
            report_id: Set(report.id.clone()),
            report_version: Set(report.version),
        }))
        .exec_without_returning(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(true)
}

/// Stores one catalogue definition from the feed and moves the cursor, in
/// one transaction; returns whether it was new to this follower.
#[tracing::instrument(name = "db.apply_definition", skip_all)]
pub async fn apply_definition(
    db: &DatabaseConnection,
    seq: i64,
    kind: &str,
    code: &str,
    payload: Vec<u8>,
) -> ServiceResult<bool> {
    let txn = chiso_runtime::db::begin_write(db).await?;
    if !advance(&txn, SUBMISSION_FEED, seq).await? {
        return Ok(false);
    }
    catalogue_definition::Entity::insert(catalogue_definition::ActiveModel {
        kind: Set(kind.to_owned()),
        code: Set(code.to_owned()),
        payload: Set(payload),
    })
    .on_conflict(
        OnConflict::columns([
            catalogue_definition::Column::Kind,
            catalogue_definition::Column::Code,
        ])
        .update_column(catalogue_definition::Column::Payload)
        .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    txn.commit().await?;
    Ok(true)
}

/// Every catalogue definition learned from the feed.
#[tracing::instrument(name = "db.definitions", skip_all)]
pub async fn definitions(
    db: &DatabaseConnection,
) -> ServiceResult<Vec<catalogue_definition::Model>> {
    Ok(catalogue_definition::Entity::find().all(db).await?)
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

/// Moves `feed`'s cursor past an entry that changes nothing here.
pub async fn skip(db: &DatabaseConnection, feed: &str, seq: i64) -> ServiceResult<()> {
    let txn = chiso_runtime::db::begin_write(db).await?;
    advance(&txn, feed, seq).await?;
    txn.commit().await?;
    Ok(())
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

/// The totals of `elements` over the given agencies for a period, and how
/// many of the agencies reported any of them. Values are read and summed
/// exactly in the domain (i128), never in SQL, so no sum can overflow.
#[tracing::instrument(name = "db.totals", skip_all)]
pub async fn totals(
    db: &DatabaseConnection,
    agencies: &[String],
    period: &PeriodCode,
    elements: &[&DataElement],
) -> ServiceResult<(Totals, i64)> {
    let rows: Vec<(String, String, i64)> = fact::Entity::find()
        .select_only()
        .column(fact::Column::AgencyCode)
        .column(fact::Column::DataElement)
        .column(fact::Column::Value)
        .filter(fact::Column::AgencyCode.is_in(agencies.iter().map(String::as_str)))
        .filter(fact::Column::Period.eq(period.to_string()))
        .filter(fact::Column::DataElement.is_in(elements.iter().map(|e| e.code.as_str())))
        .into_tuple()
        .all(db)
        .await?;
    let mut totals = Totals::new();
    let mut reporting = HashSet::new();
    for (agency, code, stored) in rows {
        let element = elements
            .iter()
            .find(|e| e.code.as_str() == code)
            .context("a fact of an element not asked for")?;
        let value = stored_value(element.value_type, stored)
            .with_context(|| format!("the stored fact {code} = {stored} is not a valid value"))?;
        totals.add(&element.code, &value);
        reporting.insert(agency);
    }
    Ok((totals, i64::try_from(reporting.len()).unwrap_or(i64::MAX)))
}

/// A stored integer back to the value it was, by the element's type.
fn stored_value(value_type: ValueType, stored: i64) -> Option<Value> {
    match value_type {
        ValueType::Count => Count::new(stored).ok().map(Value::Count),
        ValueType::Decimal { decimals } => Decimal::new(stored, decimals).map(Value::Decimal),
        ValueType::YesNo => match stored {
            0 => Some(Value::YesNo(false)),
            1 => Some(Value::YesNo(true)),
            _ => None,
        },
    }
}
