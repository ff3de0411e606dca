//! Client credentials: ids and Argon2id-hashed secrets.

use chiso_domain::{AdminUnitCode, AgencyCode};
use chiso_runtime::{
    ServiceResult,
    auth::{Principal, Role},
};
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use super::{get, stored};
use crate::{entity::credential, secrets};

/// A new client id and secret for an agency; only the secret's hash is kept.
#[tracing::instrument(name = "db.issue_credentials", skip_all)]
pub async fn issue_credentials(
    db: &DatabaseConnection,
    agency_code: &AgencyCode,
) -> ServiceResult<(String, String)> {
    let agency = get(db, agency_code).await?;
    let client_id = format!("agency-{}", uuid::Uuid::new_v4().simple());
    let secret = secrets::generate_secret();
    let hash = secrets::hash(secret.clone()).await?;
    credential::Entity::insert(credential::ActiveModel {
        client_id: Set(client_id.clone()),
        secret_hash: Set(hash),
        agency_code: Set(agency.code),
        created_at: Set(chrono::Utc::now()),
        revoked_at: Set(None),
        ..Default::default()
    })
    .exec(db)
    .await?;
    Ok((client_id, secret))
}

/// The agency principal for a client id and secret, if they match and are not revoked.
#[tracing::instrument(name = "db.verify_agency_credentials", skip_all)]
pub async fn verify_agency_credentials(
    db: &DatabaseConnection,
    client_id: &str,
    secret: &str,
) -> ServiceResult<Option<Principal>> {
    let Some(cred) = credential::Entity::find()
        .filter(credential::Column::ClientId.eq(client_id))
        .filter(credential::Column::RevokedAt.is_null())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if !secrets::verify(cred.secret_hash.clone(), secret.to_owned()).await? {
        return Ok(None);
    }
    let code = stored("agency code", AgencyCode::parse(&cred.agency_code))?;
    let agency = get(db, &code).await?;
    let province = stored("province code", AdminUnitCode::parse(&agency.province_code))?;
    Ok(Some(Principal {
        subject: cred.client_id,
        role: Role::Agency,
        agency: Some(code),
        province: Some(province),
    }))
}
