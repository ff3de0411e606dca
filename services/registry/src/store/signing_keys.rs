//! Signing keys: registered, listed with their history, revoked, never deleted.

use chiso_domain::credentials::SigningKey;
use chiso_runtime::{ServiceError, ServiceResult};
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder,
};

use super::{Problems, find_str};
use crate::{
    entity::{agency, signing_key},
    signing_keys::PublicKey,
};

impl From<signing_key::Model> for SigningKey {
    fn from(k: signing_key::Model) -> Self {
        Self {
            key_id: k.key_id,
            agency_code: k.agency_code,
            public_key: k.public_key,
            label: k.label,
            registered_at: k.registered_at,
            registered_by: k.registered_by,
            revoked_at: k.revoked_at,
            revoked_by: k.revoked_by,
            revocation_reason: k.revocation_reason,
        }
    }
}

/// Registers a public key for an agency (loaded with [`super::get`] and
/// authorized by the caller); a key is registered once, ever.
pub async fn register_key(
    db: &DatabaseConnection,
    agency: agency::Model,
    key: &PublicKey,
    label: Option<String>,
    registered_by: &str,
) -> ServiceResult<SigningKey> {
    let agency_code = &agency.code;
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
        // Another agency's key is its business: say only that the key is
        // taken, not by whom or under which id.
        let holder = if taken.agency_code == *agency_code {
            format!("as key {} of this agency", taken.key_id)
        } else {
            "to another agency".to_owned()
        };
        problems.conflict(
            "public_key",
            format!("is already registered {holder}{state}"),
        );
        return Err(problems.into_error());
    }
    Ok(signing_key::Entity::insert(signing_key::ActiveModel {
        key_id: Set(format!("key-{}", uuid::Uuid::now_v7().simple())),
        agency_code: Set(agency.code),
        public_key: Set(encoded),
        label: Set(label),
        registered_by: Set(registered_by.to_owned()),
        registered_at: Set(Utc::now()),
        revoked_at: Set(None),
        revoked_by: Set(None),
        revocation_reason: Set(None),
        ..Default::default()
    })
    .exec_with_returning(db)
    .await?
    .into())
}

/// Every key of an agency, revoked ones too, oldest first.
pub async fn list_keys(
    db: &DatabaseConnection,
    agency: &agency::Model,
) -> ServiceResult<Vec<SigningKey>> {
    Ok(signing_key::Entity::find()
        .filter(signing_key::Column::AgencyCode.eq(agency.code.as_str()))
        .order_by_asc(signing_key::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(SigningKey::from)
        .collect())
}

async fn find_key(db: &DatabaseConnection, key_id: &str) -> ServiceResult<signing_key::Model> {
    signing_key::Entity::find()
        .filter(signing_key::Column::KeyId.eq(key_id))
        .one(db)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("no signing key has id {key_id}")))
}

/// One key by id, with the agency it belongs to (for the caller to authorize).
pub async fn get_key(
    db: &DatabaseConnection,
    key_id: &str,
) -> ServiceResult<(SigningKey, agency::Model)> {
    let key = find_key(db, key_id).await?;
    let agency = find_str(db, &key.agency_code)
        .await?
        .ok_or_else(|| ServiceError::Internal(anyhow::anyhow!("key of unknown agency")))?;
    Ok((key.into(), agency))
}

/// Revokes a key of an agency; revoking again keeps the first revocation.
pub async fn revoke_key(
    db: &DatabaseConnection,
    agency: &agency::Model,
    key_id: &str,
    reason: Option<String>,
    revoked_by: &str,
) -> ServiceResult<SigningKey> {
    let agency_code = &agency.code;
    let key = find_key(db, key_id).await?;
    if key.agency_code != agency.code {
        return Err(ServiceError::NotFound(format!(
            "{agency_code} has no signing key {key_id}"
        )));
    }
    if key.revoked_at.is_some() {
        return Ok(key.into());
    }
    let mut row = key.into_active_model();
    row.revoked_at = Set(Some(Utc::now()));
    row.revoked_by = Set(Some(revoked_by.to_owned()));
    row.revocation_reason = Set(reason);
    Ok(row.update(db).await?.into())
}
