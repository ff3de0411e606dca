//! The tree's change feed: every registration, new version and retirement,
//! numbered from a head row locked by the writing transaction, so events
//! become visible in sequence order and a consumer resumes after the last
//! sequence number it applied.

use std::collections::HashMap;

use chiso_runtime::{ServiceError, ServiceResult};
use chrono::NaiveDate;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Statement,
};

use super::AgencyView;
use crate::entity::{agency, agency_event, agency_version};

/// What happened to an agency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Created,
    Changed,
    Retired,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Changed => "changed",
            Self::Retired => "retired",
        }
    }
}

/// An event with the agency as it was from its effective date.
#[derive(Debug, Clone)]
pub struct FeedEvent {
    pub seq: i64,
    pub kind: String,
    pub agency: AgencyView,
    pub effective_date: NaiveDate,
    pub reorganisation_id: Option<i64>,
}

/// Appends an event to the feed, inside the caller's transaction.
pub(crate) async fn record<C: ConnectionTrait>(
    c: &C,
    kind: EventKind,
    version: &agency_version::Model,
    effective_date: NaiveDate,
    reorganisation_id: Option<i64>,
) -> ServiceResult<()> {
    let seq = next_seq(c).await?;
    agency_event::Entity::insert(agency_event::ActiveModel {
        seq: Set(seq),
        kind: Set(kind.as_str().to_owned()),
        code: Set(version.code.clone()),
        version_id: Set(version.id),
        effective_date: Set(effective_date),
        reorganisation_id: Set(reorganisation_id),
        created_at: Set(chrono::Utc::now()),
    })
    .exec_without_returning(c)
    .await?;
    Ok(())
}

async fn next_seq<C: ConnectionTrait>(c: &C) -> ServiceResult<i64> {
    let row = c
        .query_one_raw(Statement::from_string(
            c.get_database_backend(),
            "UPDATE agency_feed_head SET last_seq = last_seq + 1 WHERE id = 1 RETURNING last_seq",
        ))
        .await?
        .ok_or_else(|| {
            ServiceError::Internal(anyhow::anyhow!("agency_feed_head row is missing"))
        })?;
    Ok(row.try_get("", "last_seq")?)
}

/// The highest committed sequence number.
pub async fn feed_head(db: &DatabaseConnection) -> ServiceResult<i64> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT last_seq FROM agency_feed_head WHERE id = 1",
        ))
        .await?
        .ok_or_else(|| {
            ServiceError::Internal(anyhow::anyhow!("agency_feed_head row is missing"))
        })?;
    Ok(row.try_get("", "last_seq")?)
}

/// Events after `after_seq`, oldest first, at most `limit`.
pub async fn events_after(
    db: &DatabaseConnection,
    after_seq: i64,
    limit: u64,
) -> ServiceResult<Vec<FeedEvent>> {
    let events = agency_event::Entity::find()
        .filter(agency_event::Column::Seq.gt(after_seq))
        .order_by_asc(agency_event::Column::Seq)
        .limit(limit)
        .all(db)
        .await?;
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let version_ids: Vec<i64> = events.iter().map(|e| e.version_id).collect();
    let versions: HashMap<i64, agency_version::Model> = agency_version::Entity::find()
        .filter(agency_version::Column::Id.is_in(version_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|v| (v.id, v))
        .collect();
    let codes: Vec<&str> = events.iter().map(|e| e.code.as_str()).collect();
    let agencies: HashMap<String, agency::Model> = agency::Entity::find()
        .filter(agency::Column::Code.is_in(codes))
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.code.clone(), a))
        .collect();
    events
        .into_iter()
        .map(|e| {
            let missing =
                || ServiceError::Internal(anyhow::anyhow!("feed event {} is dangling", e.seq));
            let version = versions.get(&e.version_id).cloned().ok_or_else(missing)?;
            let agency = agencies.get(&e.code).ok_or_else(missing)?;
            let mut view = AgencyView::of_version(version, agency);
            // The agency as the event saw it: retired only from its retirement on.
            view.valid_to = (e.kind == EventKind::Retired.as_str()).then_some(e.effective_date);
            Ok(FeedEvent {
                seq: e.seq,
                kind: e.kind,
                agency: view,
                effective_date: e.effective_date,
                reorganisation_id: e.reorganisation_id,
            })
        })
        .collect()
}
