//! The aggregation service layer: applying feed events and summing facts.

use chiso_domain::{AdminUnitCode, PeriodCode};
use chiso_proto::submission::v1 as submission;
use chiso_runtime::ServiceResult;
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, TransactionTrait,
    sea_query::{Expr, OnConflict},
};

use crate::entity::{fact, feed_cursor};

/// Name of the submission feed in `feed_cursors`.
pub const SUBMISSION_FEED: &str = "submission";

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
    report: &submission::Report,
) -> ServiceResult<bool> {
    let txn = db.begin().await?;
    let current = feed_cursor::Entity::find_by_id(SUBMISSION_FEED.to_owned())
        .one(&txn)
        .await?
        .map_or(0, |c| c.last_seq);
    if seq <= current {
        return Ok(false);
    }
    fact::Entity::delete_many()
        .filter(fact::Column::AgencyCode.eq(&report.agency_code))
        .filter(fact::Column::Period.eq(&report.period))
        .exec(&txn)
        .await?;
    if !report.values.is_empty() {
        fact::Entity::insert_many(report.values.iter().map(|v| fact::ActiveModel {
            agency_code: Set(report.agency_code.clone()),
            period: Set(report.period.clone()),
            data_element: Set(v.data_element.clone()),
            province_code: Set(report.province_code.clone()),
            value: Set(v.value),
            report_id: Set(report.id.clone()),
            report_version: Set(report.version),
        }))
        .exec_without_returning(&txn)
        .await?;
    }
    feed_cursor::Entity::insert(feed_cursor::ActiveModel {
        feed: Set(SUBMISSION_FEED.to_owned()),
        last_seq: Set(seq),
    })
    .on_conflict(
        OnConflict::column(feed_cursor::Column::Feed)
            .update_column(feed_cursor::Column::LastSeq)
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    txn.commit().await?;
    Ok(true)
}

/// Sum of one data element and the number of agencies reporting it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sum {
    pub total: i64,
    pub agencies: i64,
}

/// Sums a data element over a province for a period.
#[tracing::instrument(name = "db.sum", skip_all)]
pub async fn sum(
    db: &DatabaseConnection,
    province: &AdminUnitCode,
    period: &PeriodCode,
    data_element: &str,
) -> ServiceResult<Sum> {
    let row: Option<(Option<i64>, i64)> = fact::Entity::find()
        .select_only()
        .column_as(
            Expr::cust("CAST(COALESCE(SUM(value), 0) AS BIGINT)"),
            "total",
        )
        .column_as(Expr::cust("COUNT(DISTINCT agency_code)"), "agencies")
        .filter(fact::Column::ProvinceCode.eq(province.as_str()))
        .filter(fact::Column::Period.eq(period.to_string()))
        .filter(fact::Column::DataElement.eq(data_element))
        .into_tuple()
        .one(db)
        .await?;
    Ok(row.map_or(Sum::default(), |(total, agencies)| Sum {
        total: total.unwrap_or(0),
        agencies,
    }))
}
