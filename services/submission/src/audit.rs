//! The audit log: every write records, in its own transaction, who did what
//! from where, and what the report looked like before and after.

use std::collections::BTreeMap;

use chiso_domain::{ReportStatus, ReportValues, Role};
use chiso_proto::{convert::submission::timestamp, submission::v1 as pb};
use chiso_runtime::{ServiceError, ServiceResult, auth::Principal};
use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};

use crate::entity::audit;

/// Who is writing, from where, under which request id.
#[derive(Debug, Clone)]
pub struct Actor {
    pub principal: Principal,
    /// The caller's address: the gRPC peer, or the client a trusted proxy
    /// (the gateway) names in `x-forwarded-for`.
    pub address: String,
    /// `x-request-id`, else the idempotency key, else a fresh id.
    pub request_id: String,
}

impl Actor {
    pub fn subject(&self) -> &str {
        &self.principal.subject
    }

    pub fn role(&self) -> Role {
        self.principal.role
    }
}

/// What one write did.
#[derive(Debug, Clone, Default)]
pub struct Entry<'a> {
    pub report_id: Option<&'a str>,
    /// For catalogue changes: `data_element/officials`.
    pub item: String,
    pub form: &'a str,
    pub period: &'a str,
    pub agency: &'a str,
    pub province: &'a str,
    pub action: &'a str,
    pub version: i32,
    pub status_before: Option<ReportStatus>,
    pub status_after: Option<ReportStatus>,
    pub values_before: Option<&'a ReportValues>,
    pub values_after: Option<&'a ReportValues>,
    pub comment: &'a str,
}

fn values_json(values: &ReportValues) -> String {
    let shown: BTreeMap<&str, String> = values
        .iter()
        .map(|(c, v)| (c.as_str(), v.to_string()))
        .collect();
    serde_json::to_string(&shown).unwrap_or_default()
}

/// Records `entry` in the writer's transaction.
pub async fn record(
    txn: &impl ConnectionTrait,
    actor: &Actor,
    at: DateTime<Utc>,
    entry: Entry<'_>,
) -> ServiceResult<()> {
    audit::Entity::insert(row(actor, at, entry))
        .exec_without_returning(txn)
        .await?;
    Ok(())
}

/// The row `entry` is stored as, for writers that insert many at once.
pub fn row(actor: &Actor, at: DateTime<Utc>, entry: Entry<'_>) -> audit::ActiveModel {
    audit::ActiveModel {
        report_id: Set(entry.report_id.map(str::to_owned)),
        item: Set(entry.item),
        form: Set(entry.form.to_owned()),
        period: Set(entry.period.to_owned()),
        agency_code: Set(entry.agency.to_owned()),
        province_code: Set(entry.province.to_owned()),
        action: Set(entry.action.to_owned()),
        actor: Set(actor.subject().to_owned()),
        actor_role: Set(actor.role().as_str().to_owned()),
        address: Set(actor.address.clone()),
        request_id: Set(actor.request_id.clone()),
        at: Set(at),
        version: Set(entry.version),
        status_before: Set(entry.status_before.map(|s| s.as_str().to_owned())),
        status_after: Set(entry.status_after.map(|s| s.as_str().to_owned())),
        values_before: Set(entry.values_before.map(values_json)),
        values_after: Set(entry.values_after.map(values_json)),
        comment: Set(entry.comment.to_owned()),
        ..Default::default()
    }
}

fn status(stored: &Option<String>) -> ServiceResult<i32> {
    match stored {
        None => Ok(pb::ReportStatus::Unspecified.into()),
        Some(s) => s
            .parse::<ReportStatus>()
            .map(|s| pb::ReportStatus::from(s).into())
            .map_err(|e| ServiceError::Internal(anyhow::anyhow!("audit entry: stored {e}"))),
    }
}

fn values(stored: &Option<String>) -> ServiceResult<Vec<pb::DataValue>> {
    let Some(json) = stored else {
        return Ok(Vec::new());
    };
    let shown: BTreeMap<String, String> = serde_json::from_str(json)
        .map_err(|e| ServiceError::Internal(anyhow::anyhow!("audit entry: stored values: {e}")))?;
    Ok(shown
        .into_iter()
        .map(|(c, v)| pb::DataValue::new(c, v))
        .collect())
}

/// A stored entry on the wire.
pub fn encode(e: &audit::Model) -> ServiceResult<pb::AuditEntry> {
    Ok(pb::AuditEntry {
        id: e.id,
        report_id: e.report_id.clone().unwrap_or_default(),
        form: e.form.clone(),
        period: e.period.clone(),
        agency_code: e.agency_code.clone(),
        action: e.action.clone(),
        actor: e.actor.clone(),
        actor_role: e.actor_role.clone(),
        address: e.address.clone(),
        request_id: e.request_id.clone(),
        at: Some(timestamp(e.at)),
        version: e.version,
        status_before: status(&e.status_before)?,
        status_after: status(&e.status_after)?,
        values_before: values(&e.values_before)?,
        values_after: values(&e.values_after)?,
        comment: e.comment.clone(),
    })
}
