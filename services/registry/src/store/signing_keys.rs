//! Signing keys: registered, listed with their history, revoked, never deleted.

use chiso_domain::AgencyCode;
use chiso_runtime::{
    ServiceError, ServiceResult,
    auth::{Principal, Role},
};
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder,
};

use super::{Problems, get};
use crate::{
    entity::{agency, signing_key},
    signing_keys::PublicKey,
};

/// Whether `actor` may act for `agency`: itself, an officer of its province,
/// an admin, and (reading only) another chiso service.
fn may_act_for(actor: &Principal, agency: &agency::Model, reading: bool) -> ServiceResult<()> {
    let allowed = match actor.role {
        Role::Admin => true,
        Role::ProvinceOfficer => actor
            .province
            .as_ref()
            .is_some_and(|p| p.as_str() == agency.province_code),
        Role::Agency => actor
            .agency
            .as_ref()
            .is_some_and(|a| a.as_str() == agency.code),
        Role::Service => reading,
    };
    if allowed {
        Ok(())
    } else {
        Err(ServiceError::PermissionDenied(format!(
            "the signing keys of {} are not yours to {}",
            agency.code,
            if reading { "read" } else { "manage" }
        )))
    }
}

/// Registers a public key for an agency; a key is registered once, ever.
pub async fn register_key(
    db: &DatabaseConnection,
    agency_code: &AgencyCode,
    key: &PublicKey,
    label: Option<String>,
    actor: &Principal,
) -> ServiceResult<signing_key::Model> {
    let agency = get(db, agency_code).await?;
    may_act_for(actor, &agency, false)?;
    if let Some(retired) = agency.valid_to {
        return Err(ServiceError::FailedPrecondition(format!(
            "agency {agency_code} was retired on {retired} and cannot register keys"
        )));
    }
    let encoded = key.to_base64();
    if let Some(taken) = signing_key::Entity::find()
        .filter(signing_key::Column::PublicKey.eq(encoded.as_str()))
        .one(db)
        .await?
    {
        let mut problems = Problems::default();
        let state = if taken.revoked_at.is_some() {
            ", since revoked; a revoked key is never registered again"
        } else {
            ""
        };
        problems.conflict(
            "public_key",
            format!(
                "is already registered as key {} of {}{state}",
                taken.key_id, taken.agency_code
            ),
        );
        return Err(problems.into_error());
    }
    Ok(signing_key::Entity::insert(signing_key::ActiveModel {
        key_id: Set(format!("key-{}", uuid::Uuid::now_v7().simple())),
        agency_code: Set(agency.code),
        public_key: Set(encoded),
        label: Set(label),
        registered_by: Set(actor.subject.clone()),
        registered_at: Set(Utc::now()),
        revoked_at: Set(None),
        revoked_by: Set(None),
        revocation_reason: Set(None),
        ..Default::default()
    })
    .exec_with_returning(db)
    .await?)
}

/// Every key of an agency, revoked ones too, oldest first.
pub async fn list_keys(
    db: &DatabaseConnection,
    agency_code: &AgencyCode,
    actor: &Principal,
) -> ServiceResult<Vec<signing_key::Model>> {
    let agency = get(db, agency_code).await?;
    may_act_for(actor, &agency, true)?;
    Ok(signing_key::Entity::find()
        .filter(signing_key::Column::AgencyCode.eq(agency_code.as_str()))
        .order_by_asc(signing_key::Column::Id)
        .all(db)
        .await?)
}

async fn find_key(db: &DatabaseConnection, key_id: &str) -> ServiceResult<signing_key::Model> {
    signing_key::Entity::find()
        .filter(signing_key::Column::KeyId.eq(key_id))
        .one(db)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("no signing key has id {key_id}")))
}

/// One key by id.
pub async fn get_key(
    db: &DatabaseConnection,
    key_id: &str,
    actor: &Principal,
) -> ServiceResult<signing_key::Model> {
    let key = find_key(db, key_id).await?;
    let agency = super::find_str(db, &key.agency_code)
        .await?
        .ok_or_else(|| ServiceError::Internal(anyhow::anyhow!("key of unknown agency")))?;
    may_act_for(actor, &agency, true)?;
    Ok(key)
}

/// Revokes a key of an agency; revoking again keeps the first revocation.
pub async fn revoke_key(
    db: &DatabaseConnection,
    agency_code: &AgencyCode,
    key_id: &str,
    reason: Option<String>,
    actor: &Principal,
) -> ServiceResult<signing_key::Model> {
    let agency = get(db, agency_code).await?;
    may_act_for(actor, &agency, false)?;
    let key = find_key(db, key_id).await?;
    if key.agency_code != agency.code {
        return Err(ServiceError::NotFound(format!(
            "{agency_code} has no signing key {key_id}"
        )));
    }
    if key.revoked_at.is_some() {
        return Ok(key);
    }
    let mut row = key.into_active_model();
    row.revoked_at = Set(Some(Utc::now()));
    row.revoked_by = Set(Some(actor.subject.clone()));
    row.revocation_reason = Set(reason);
    Ok(row.update(db).await?)
}
