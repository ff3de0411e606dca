//! Client credentials: agencies and province officers authenticate with a
//! client id and a secret that is shown once and stored as an Argon2id hash.
//! A client may hold several secrets while a rotation's grace period runs.

use std::time::Duration;

use chiso_domain::{
    AdminUnitCode, AgencyCode, AgencyKind, FieldErrors,
    credentials::{ClientInfo, IssuedCredentials},
};
use chiso_runtime::{
    ServiceError, ServiceResult,
    auth::{Principal, Role},
};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait,
    DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, sea_query::Expr,
};

use super::{find_str, get, stored};
use crate::{
    entity::{agency, client, client_secret},
    secrets::{NewSecret, Turn},
};

/// Secrets a client may hold that work at once: the current one and one
/// being rotated in. Each login checks every live secret, at 19 MiB and
/// tens of milliseconds apiece, so without a cap a client rotating without
/// end made each wrong guess against it cost that many checks (31 live
/// secrets: 700 ms).
pub const MAX_LIVE_SECRETS: usize = 2;

/// A client row as the registry answers about it, with how many of its
/// secrets work now.
fn client_info(client: client::Model, active_secrets: usize) -> ServiceResult<ClientInfo> {
    let granted_provinces = grants_of(&client)?
        .iter()
        .map(ToString::to_string)
        .collect();
    Ok(ClientInfo {
        role: role_of(&client)?,
        client_id: client.client_id,
        agency_code: client.agency_code,
        province_code: client.province_code,
        label: client.label,
        created_at: client.created_at,
        revoked_at: client.revoked_at,
        active_secrets,
        granted_provinces,
    })
}

/// The provinces an integrator was granted, read back.
fn grants_of(client: &client::Model) -> ServiceResult<Vec<AdminUnitCode>> {
    client
        .grants
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .filter(|p| !p.is_empty())
        .map(|p| stored("granted province", AdminUnitCode::parse(p)))
        .collect()
}

/// Whose clients to list.
#[derive(Debug, Clone)]
pub enum ClientsOf {
    Agency(AgencyCode),
    /// A province's officers and viewers.
    Province(AdminUnitCode),
}

/// Whom staff credentials are for: a province's officer or viewer, or an
/// integrator reading the provinces it is granted.
#[derive(Debug, Clone)]
pub enum Staff {
    Officer(AdminUnitCode),
    Viewer(AdminUnitCode),
    Integrator(Vec<AdminUnitCode>),
}

/// A client's stored role, read back (an agency or a province officer).
pub fn role_of(client: &client::Model) -> ServiceResult<Role> {
    stored("client role", client.role.parse::<Role>())
}

/// New credentials for an agency; the caller has authorized it.
pub async fn issue_credentials<C: ConnectionTrait>(
    c: &C,
    agency_code: &AgencyCode,
    created_by: &str,
    secret: NewSecret,
) -> ServiceResult<IssuedCredentials> {
    let agency = get(c, agency_code).await?;
    if let Some(retired) = agency.valid_to {
        return Err(ServiceError::FailedPrecondition(format!(
            "agency {agency_code} was retired on {retired} and cannot get new credentials"
        )));
    }
    new_client(
        c,
        Role::AgencyReporter,
        Some(agency.code),
        None,
        None,
        None,
        created_by,
        secret,
    )
    .await
}

/// New credentials for an officer, a viewer or an integrator (admin only).
pub async fn issue_staff_credentials<C: ConnectionTrait>(
    c: &C,
    staff: &Staff,
    label: Option<String>,
    created_by: &str,
    secret: NewSecret,
) -> ServiceResult<IssuedCredentials> {
    let (role, province, grants) = match staff {
        Staff::Officer(p) => (Role::ProvinceOfficer, Some(p), &[][..]),
        Staff::Viewer(p) => (Role::Viewer, Some(p), &[][..]),
        Staff::Integrator(granted) => (Role::Integrator, None, &granted[..]),
    };
    let mut errors = FieldErrors::new();
    let named = province
        .map(|p| ("province_code", p))
        .into_iter()
        .chain(grants.iter().map(|p| ("granted_province_codes", p)));
    for (field, p) in named {
        let root = agency::Entity::find()
            .filter(agency::Column::AdminUnitCode.eq(p.as_str()))
            .filter(agency::Column::Kind.eq(AgencyKind::ProvincialCommittee.as_str()))
            .filter(agency::Column::ValidTo.is_null())
            .one(c)
            .await?;
        if root.is_none() {
            errors.push(
                field,
                format!("no province with code {p} is registered and active"),
            );
        }
    }
    if !errors.is_empty() {
        return Err(errors.into());
    }
    let grants = (!grants.is_empty()).then(|| {
        grants
            .iter()
            .map(AdminUnitCode::as_str)
            .collect::<Vec<_>>()
            .join(",")
    });
    new_client(
        c,
        role,
        None,
        province.map(ToString::to_string),
        grants,
        label,
        created_by,
        secret,
    )
    .await
}

#[allow(clippy::too_many_arguments)] // one private constructor of a row
async fn new_client<C: ConnectionTrait>(
    c: &C,
    role: Role,
    agency_code: Option<String>,
    province_code: Option<String>,
    grants: Option<String>,
    label: Option<String>,
    created_by: &str,
    NewSecret { secret, hash }: NewSecret,
) -> ServiceResult<IssuedCredentials> {
    let prefix = match role {
        Role::AgencyReporter => "agency",
        Role::ProvinceOfficer => "officer",
        Role::Viewer => "viewer",
        Role::Integrator => "integrator",
        Role::Admin | Role::Service => {
            return Err(ServiceError::Internal(anyhow::anyhow!(
                "{role} clients are configured, never stored"
            )));
        }
    };
    let client_id = format!("{prefix}-{}", uuid::Uuid::new_v4().simple());
    let now = Utc::now();
    let client = client::Entity::insert(client::ActiveModel {
        client_id: Set(client_id.clone()),
        role: Set(role.as_str().to_owned()),
        agency_code: Set(agency_code),
        province_code: Set(province_code),
        label: Set(label),
        grants: Set(grants),
        created_by: Set(created_by.to_owned()),
        created_at: Set(now),
        revoked_at: Set(None),
        ..Default::default()
    })
    .exec_with_returning(c)
    .await?;
    client_secret::Entity::insert(client_secret::ActiveModel {
        client_id: Set(client_id),
        secret_hash: Set(hash),
        created_at: Set(now),
        expires_at: Set(None),
        ..Default::default()
    })
    .exec_without_returning(c)
    .await?;
    Ok(IssuedCredentials {
        client: client_info(client, 1)?,
        secret,
        previous_expire_at: None,
    })
}

/// The client named `client_id` and the province it acts in (none for an
/// integrator), for the caller to authorize before rotating or revoking it.
pub async fn client_to_manage<C: ConnectionTrait>(
    c: &C,
    client_id: &str,
) -> ServiceResult<(client::Model, Option<String>)> {
    let client = client::Entity::find()
        .filter(client::Column::ClientId.eq(client_id))
        .one(c)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("no client has id {client_id}")))?;
    let province = province_of(c, &client).await?;
    Ok((client, province))
}

/// The province a client acts in now: an agency's current province, an
/// officer's or viewer's own; none for an integrator, which reads where it
/// was granted.
async fn province_of<C: ConnectionTrait>(
    c: &C,
    client: &client::Model,
) -> ServiceResult<Option<String>> {
    match (&client.province_code, &client.agency_code) {
        (Some(province), _) => Ok(Some(province.clone())),
        (None, Some(code)) => Ok(Some(
            find_str(c, code)
                .await?
                .ok_or_else(|| {
                    ServiceError::Internal(anyhow::anyhow!("client of unknown agency {code}"))
                })?
                .province_code,
        )),
        (None, None) if role_of(client)? == Role::Integrator => Ok(None),
        (None, None) => Err(ServiceError::Internal(anyhow::anyhow!(
            "client {} has neither agency nor province",
            client.client_id
        ))),
    }
}

/// A new secret for a client; its other secrets keep working for `grace`.
/// Refused while the client already holds [`MAX_LIVE_SECRETS`] live secrets,
/// unless the rotation ends the others at once (no grace).
pub async fn rotate(
    db: &DatabaseConnection,
    client: client::Model,
    grace: Duration,
    NewSecret { secret, hash }: NewSecret,
) -> ServiceResult<IssuedCredentials> {
    let client_id = client.client_id.clone();
    let client_id = client_id.as_str();
    let revoked = |at: DateTime<Utc>| {
        ServiceError::FailedPrecondition(format!(
            "client {client_id} was revoked at {}; issue new credentials instead",
            at.to_rfc3339()
        ))
    };
    if let Some(at) = client.revoked_at {
        return Err(revoked(at));
    }
    let now = Utc::now();
    let expire_at = now
        + chrono::Duration::from_std(grace)
            .map_err(|e| ServiceError::Internal(anyhow::anyhow!("grace period: {e}")))?;
    let txn = chiso_runtime::db::begin_write(db).await?;
    // Writing the client row (unchanged) locks it until commit, so that two
    // rotations at once count the live secrets one after the other
    // (PostgreSQL; SQLite's write transactions already take turns), and
    // finds it still not revoked.
    let locked = client::Entity::update_many()
        .col_expr(
            client::Column::RevokedAt,
            Expr::col(client::Column::RevokedAt),
        )
        .filter(client::Column::ClientId.eq(client_id))
        .filter(client::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?;
    if locked.rows_affected == 0 {
        return Err(revoked(now));
    }
    let live = live_secrets(&txn, client_id, now).await?;
    if !grace.is_zero() && live.len() >= MAX_LIVE_SECRETS {
        let until = live
            .iter()
            .filter_map(|s| s.expires_at)
            .min()
            .map(|at| {
                let at = at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                format!(" (the older works until {at})")
            })
            .unwrap_or_default();
        return Err(ServiceError::Conflict(FieldErrors::single(
            "grace_period_secs",
            format!(
                "client {client_id} already has {} live secrets, the most it may hold: the \
                 current one and one being rotated in{until}; rotate with \
                 grace_period_secs=0 to end the others now",
                live.len()
            ),
        )));
    }
    // A secret already on its way out keeps the earlier of its two deadlines.
    client_secret::Entity::update_many()
        .col_expr(client_secret::Column::ExpiresAt, Expr::value(expire_at))
        .filter(client_secret::Column::ClientId.eq(client_id))
        .filter(
            Condition::any()
                .add(client_secret::Column::ExpiresAt.is_null())
                .add(client_secret::Column::ExpiresAt.gt(expire_at)),
        )
        .exec(&txn)
        .await?;
    client_secret::Entity::insert(client_secret::ActiveModel {
        client_id: Set(client_id.to_owned()),
        secret_hash: Set(hash),
        created_at: Set(now),
        expires_at: Set(None),
        ..Default::default()
    })
    .exec_without_returning(&txn)
    .await?;
    txn.commit().await?;
    Ok(IssuedCredentials {
        client: client_info(client, 1)?,
        secret,
        previous_expire_at: Some(expire_at),
    })
}

/// Ends a client's credentials at once. Revoking twice changes nothing.
pub async fn revoke(db: &DatabaseConnection, client: client::Model) -> ServiceResult<ClientInfo> {
    let client = if client.revoked_at.is_none() {
        let mut row = client.into_active_model();
        row.revoked_at = Set(Some(Utc::now()));
        row.update(db).await?
    } else {
        client
    };
    client_info(client, 0)
}

/// Revokes every live client of an agency (it has ended).
pub async fn revoke_agency_clients<C: ConnectionTrait>(c: &C, code: &str) -> ServiceResult<()> {
    client::Entity::update_many()
        .col_expr(client::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(client::Column::AgencyCode.eq(code))
        .filter(client::Column::RevokedAt.is_null())
        .exec(c)
        .await?;
    Ok(())
}

/// Clients revoked at or after `since`, oldest first.
pub async fn revoked_since(
    db: &DatabaseConnection,
    since: DateTime<Utc>,
) -> ServiceResult<Vec<(String, DateTime<Utc>)>> {
    Ok(client::Entity::find()
        .filter(client::Column::RevokedAt.gte(since))
        .order_by_asc(client::Column::RevokedAt)
        .all(db)
        .await?
        .into_iter()
        .filter_map(|c| Some((c.client_id, c.revoked_at?)))
        .collect())
}

/// Clients of an agency, or a province's officers and viewers, oldest first.
pub async fn list_clients(
    db: &DatabaseConnection,
    of: &ClientsOf,
) -> ServiceResult<Vec<ClientInfo>> {
    let query = match of {
        ClientsOf::Agency(code) => {
            client::Entity::find().filter(client::Column::AgencyCode.eq(code.as_str()))
        }
        ClientsOf::Province(province) => client::Entity::find()
            .filter(
                client::Column::Role.is_in([Role::ProvinceOfficer.as_str(), Role::Viewer.as_str()]),
            )
            .filter(client::Column::ProvinceCode.eq(province.as_str())),
    };
    let clients = query.order_by_asc(client::Column::Id).all(db).await?;
    let now = Utc::now();
    let mut out = Vec::with_capacity(clients.len());
    for client in clients {
        let active_secrets = if client.revoked_at.is_some() {
            0
        } else {
            live_secrets(db, &client.client_id, now).await?.len()
        };
        out.push(client_info(client, active_secrets)?);
    }
    Ok(out)
}

/// Secrets of a client that work at `now`, newest first.
async fn live_secrets<C: ConnectionTrait>(
    c: &C,
    client_id: &str,
    now: DateTime<Utc>,
) -> ServiceResult<Vec<client_secret::Model>> {
    Ok(client_secret::Entity::find()
        .filter(client_secret::Column::ClientId.eq(client_id))
        .filter(
            Condition::any()
                .add(client_secret::Column::ExpiresAt.is_null())
                .add(client_secret::Column::ExpiresAt.gt(now)),
        )
        .order_by_desc(client_secret::Column::Id)
        .all(c)
        .await?)
}

/// The principal for a client id and secret, if they match a live secret of
/// a client that is not revoked, checked in `turn`. Only the newest
/// [`MAX_LIVE_SECRETS`] are checked, so that what one login costs is
/// bounded even for a client that rotated more often before the cap.
pub async fn verify_client(
    db: &DatabaseConnection,
    turn: &mut Turn<'_>,
    client_id: &str,
    secret: &str,
) -> ServiceResult<Option<Principal>> {
    let Some(client) = client::Entity::find()
        .filter(client::Column::ClientId.eq(client_id))
        .filter(client::Column::RevokedAt.is_null())
        .one(db)
        .await?
    else {
        turn.verify_unknown(secret).await?;
        return Ok(None);
    };
    let mut matched = false;
    let live = live_secrets(db, client_id, Utc::now()).await?;
    for candidate in live.iter().take(MAX_LIVE_SECRETS) {
        if turn.verify(&candidate.secret_hash, secret).await? {
            matched = true;
            break;
        }
    }
    if !matched {
        return Ok(None);
    }
    let role = role_of(&client)?;
    if role == Role::AgencyReporter
        && let Some(code) = &client.agency_code
        && let Some(ended) = find_str(db, code)
            .await?
            .and_then(|a| a.valid_to)
            .filter(|ended| *ended <= Utc::now().date_naive())
    {
        // Dissolution revokes an agency's clients; this catches one whose
        // agency ended in a database written before that rule.
        return Err(ServiceError::FailedPrecondition(format!(
            "agency {code} ended on {ended}: its credentials no longer work"
        )));
    }
    let province = province_of(db, &client)
        .await?
        .map(|p| stored("province code", AdminUnitCode::parse(&p)))
        .transpose()?;
    let principal = match role {
        Role::AgencyReporter | Role::ProvinceOfficer | Role::Viewer | Role::Integrator => {
            Principal {
                agency: client
                    .agency_code
                    .as_deref()
                    .map(|c| stored("agency code", AgencyCode::parse(c)))
                    .transpose()?,
                grants: grants_of(&client)?.into(),
                subject: client.client_id,
                role,
                province,
            }
        }
        other => {
            return Err(ServiceError::Internal(anyhow::anyhow!(
                "client {client_id} has role {other}, which no stored client may have"
            )));
        }
    };
    Ok(Some(principal))
}
