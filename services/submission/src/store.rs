//! The submission service layer: catalogue lookups, report versions and the
//! ordered change feed, over the service's own tables.

use std::collections::{BTreeMap, HashSet};

use chiso_domain::{AdminUnitCode, AgencyCode, IndicatorCode, ReportContent, ReportStatus};
use chiso_runtime::{ServiceError, ServiceResult, feed};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::entity::{change, data_element, indicator, report, report_value};

/// A report that passed decoding, ready to store.
#[derive(Debug, Clone)]
pub struct NewReport {
    pub agency: AgencyCode,
    pub province: AdminUnitCode,
    pub content: ReportContent,
    pub submitted_by: String,
}

/// A stored report version with its values.
#[derive(Debug, Clone)]
pub struct StoredReport {
    pub report: report::Model,
    /// `report.status`, parsed where the row is read.
    pub status: ReportStatus,
    pub values: Vec<report_value::Model>,
}

impl StoredReport {
    /// A report row and its values; a status this build does not know is an
    /// error, never a default.
    fn new(report: report::Model, values: Vec<report_value::Model>) -> ServiceResult<Self> {
        let status = report.status.parse::<ReportStatus>().map_err(|e| {
            ServiceError::Internal(anyhow::anyhow!("report {}: stored {e}", report.id))
        })?;
        Ok(Self {
            report,
            status,
            values,
        })
    }
}

#[tracing::instrument(name = "db.data_elements", skip_all)]
pub async fn data_elements(db: &DatabaseConnection) -> ServiceResult<Vec<data_element::Model>> {
    Ok(data_element::Entity::find()
        .order_by_asc(data_element::Column::Code)
        .all(db)
        .await?)
}

#[tracing::instrument(name = "db.indicators", skip_all)]
pub async fn indicators(db: &DatabaseConnection) -> ServiceResult<Vec<indicator::Model>> {
    Ok(indicator::Entity::find()
        .order_by_asc(indicator::Column::Code)
        .all(db)
        .await?)
}

#[tracing::instrument(name = "db.indicator", skip_all)]
pub async fn indicator(
    db: &DatabaseConnection,
    code: &IndicatorCode,
) -> ServiceResult<indicator::Model> {
    indicator::Entity::find_by_id(code.to_string())
        .one(db)
        .await?
        .ok_or_else(|| no_indicator(code.as_str()))
}

/// The answer for an indicator code the catalogue does not have.
pub fn no_indicator(code: &str) -> ServiceError {
    ServiceError::NotFound(format!("no indicator has code {code}"))
}

/// Codes of the data elements the catalogue knows, to check a report against.
#[tracing::instrument(name = "db.data_element_codes", skip_all)]
pub async fn data_element_codes(db: &DatabaseConnection) -> ServiceResult<HashSet<String>> {
    Ok(data_element::Entity::find()
        .select_only()
        .column(data_element::Column::Code)
        .into_tuple()
        .all(db)
        .await?
        .into_iter()
        .collect())
}

/// Stores a new version of the agency's report for the period and appends it
/// to the change feed, all in one transaction.
#[tracing::instrument(name = "db.submit", skip_all)]
pub async fn submit(db: &DatabaseConnection, new: NewReport) -> ServiceResult<StoredReport> {
    let txn = chiso_runtime::db::begin_write(db).await?;
    // Taking the next sequence number first locks the feed head row until
    // commit, so feed entries become visible in sequence order.
    let seq = feed::next_seq(&txn, FEED_HEAD).await?;
    let latest: Option<i32> = report::Entity::find()
        .select_only()
        .column(report::Column::Version)
        .filter(report::Column::AgencyCode.eq(new.agency.as_str()))
        .filter(report::Column::Period.eq(new.content.period.to_string()))
        .order_by_desc(report::Column::Version)
        .into_tuple()
        .one(&txn)
        .await?;
    let now = chrono::Utc::now();
    let id = uuid::Uuid::now_v7().to_string();
    let model = report::Model {
        id: id.clone(),
        agency_code: new.agency.to_string(),
        province_code: new.province.to_string(),
        period: new.content.period.to_string(),
        version: latest.unwrap_or(0) + 1,
        status: ReportStatus::Submitted.as_str().into(),
        submitted_by: new.submitted_by,
        submitted_at: now,
    };
    report::Entity::insert(report::ActiveModel::from(model.clone()))
        .exec_without_returning(&txn)
        .await?;
    let values: Vec<report_value::Model> = new
        .content
        .values
        .iter()
        .map(|(code, count)| report_value::Model {
            report_id: id.clone(),
            data_element: code.to_string(),
            province_code: new.province.to_string(),
            value: count.get(),
        })
        .collect();
    report_value::Entity::insert_many(values.iter().cloned().map(report_value::ActiveModel::from))
        .exec_without_returning(&txn)
        .await?;
    change::Entity::insert(change::ActiveModel {
        seq: Set(seq),
        kind: Set("report_submitted".into()),
        report_id: Set(id),
        created_at: Set(now),
    })
    .exec_without_returning(&txn)
    .await?;
    txn.commit().await?;
    StoredReport::new(model, values)
}

#[tracing::instrument(name = "db.report", skip_all)]
pub async fn report(db: &DatabaseConnection, id: &str) -> ServiceResult<StoredReport> {
    let report = report::Entity::find_by_id(id.to_owned())
        .one(db)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("no report has id {id}")))?;
    let values = report_value::Entity::find()
        .filter(report_value::Column::ReportId.eq(id))
        .order_by_asc(report_value::Column::DataElement)
        .all(db)
        .await?;
    StoredReport::new(report, values)
}

/// Feed entries after `after_seq`, oldest first, with their reports.
#[tracing::instrument(name = "db.changes_after", skip_all)]
pub async fn changes_after(
    db: &DatabaseConnection,
    after_seq: i64,
    limit: u64,
) -> ServiceResult<Vec<(i64, StoredReport)>> {
    let entries = change::Entity::find()
        .filter(change::Column::Seq.gt(after_seq))
        .order_by_asc(change::Column::Seq)
        .limit(limit)
        .all(db)
        .await?;
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = entries.iter().map(|e| e.report_id.clone()).collect();
    let reports: BTreeMap<String, report::Model> = report::Entity::find()
        .filter(report::Column::Id.is_in(ids.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.id.clone(), r))
        .collect();
    let mut values: BTreeMap<String, Vec<report_value::Model>> = BTreeMap::new();
    for v in report_value::Entity::find()
        .filter(report_value::Column::ReportId.is_in(ids))
        .order_by_asc(report_value::Column::DataElement)
        .all(db)
        .await?
    {
        values.entry(v.report_id.clone()).or_default().push(v);
    }
    entries
        .into_iter()
        .map(|e| {
            let report = reports.get(&e.report_id).cloned().ok_or_else(|| {
                ServiceError::Internal(anyhow::anyhow!("feed entry {} has no report", e.seq))
            })?;
            let values = values.remove(&e.report_id).unwrap_or_default();
            Ok((e.seq, StoredReport::new(report, values)?))
        })
        .collect()
}

/// Table whose one row holds the feed's last sequence number.
pub const FEED_HEAD: &str = "feed_head";

/// The highest committed sequence number.
pub async fn head(db: &DatabaseConnection) -> ServiceResult<i64> {
    feed::head(db, FEED_HEAD).await
}
