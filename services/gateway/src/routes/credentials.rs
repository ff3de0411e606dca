//! Client credentials: officers of a province, and rotating or revoking any
//! client's secrets. Agencies' credentials are issued under `/api/v1/agencies`.

use axum::{
    Json, Router,
    extract::{Path, Query, State},
    http::StatusCode,
    routing::post,
};
use chiso_proto::registry::v1::{self as pb, credential_service_client::CredentialServiceClient};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::agencies::non_empty;
use crate::{
    AppState,
    error::ApiResult,
    extract::{ApiJson, AuthUser},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/officers",
            post(issue_officer_credentials).get(list_officers),
        )
        .route(
            "/api/v1/credentials/{client_id}/rotate",
            post(rotate_credentials),
        )
        .route(
            "/api/v1/credentials/{client_id}/revoke",
            post(revoke_credentials),
        )
}

/// Client credentials; the secret is shown only in this answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Credentials {
    pub client_id: String,
    pub client_secret: String,
    /// The agency the client acts for; absent for an officer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agency_code: Option<String>,
    /// `agency` or `province_officer`.
    pub role: String,
    /// The province an officer acts in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub province_code: Option<String>,
    /// After a rotation: when the previous secrets stop working (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_secret_expires_at: Option<String>,
}

/// A client, without its secrets.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientInfo {
    pub client_id: String,
    /// `agency` or `province_officer`.
    pub role: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agency_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub province_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
    /// Secrets that work now (two during a rotation's grace period).
    pub active_secrets: i32,
}

/// Credentials for an officer of a province.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOfficer {
    /// 2-digit administrative-unit code of the province.
    pub province_code: String,
    /// Whom the credentials are for.
    #[serde(default)]
    pub label: Option<String>,
}

/// Whose officers to list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct OfficerQuery {
    /// 2-digit administrative-unit code of the province.
    pub province: String,
}

/// How long the previous secrets keep working.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RotateQuery {
    /// Seconds; the configured grace period when absent, 0 to end them now.
    pub grace_period_secs: Option<i64>,
}

/// Issues credentials for a province officer (admin). The secret is shown once.
#[utoipa::path(
    post, path = "/api/v1/officers", tag = "credentials",
    request_body = NewOfficer,
    responses((status = 201, body = Credentials), (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn issue_officer_credentials(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(body): ApiJson<NewOfficer>,
) -> ApiResult<(StatusCode, Json<Credentials>)> {
    let request = user.request(pb::IssueOfficerCredentialsRequest {
        province_code: body.province_code,
        label: body.label.unwrap_or_default(),
    })?;
    let issued = CredentialServiceClient::new(state.registry.clone())
        .issue_officer_credentials(request)
        .await?
        .into_inner();
    Ok((StatusCode::CREATED, Json(issued.into())))
}

/// A province's officers, revoked ones too (admin, or an officer of that province).
#[utoipa::path(
    get, path = "/api/v1/officers", tag = "credentials",
    params(OfficerQuery),
    responses((status = 200, body = Vec<ClientInfo>)),
    security(("bearer" = []))
)]
pub async fn list_officers(
    State(state): State<AppState>,
    user: AuthUser,
    Query(query): Query<OfficerQuery>,
) -> ApiResult<Json<Vec<ClientInfo>>> {
    list(
        &state,
        &user,
        pb::ListCredentialsRequest {
            province_code: query.province,
            ..Default::default()
        },
    )
    .await
}

/// An agency's clients, revoked ones too (admin, or an officer of its province).
#[utoipa::path(
    get, path = "/api/v1/agencies/{code}/credentials", tag = "credentials",
    params(("code" = String, Path, description = "QCVN 102 agency code")),
    responses((status = 200, body = Vec<ClientInfo>), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn list_agency_credentials(
    State(state): State<AppState>,
    user: AuthUser,
    Path(code): Path<String>,
) -> ApiResult<Json<Vec<ClientInfo>>> {
    list(
        &state,
        &user,
        pb::ListCredentialsRequest {
            agency_code: code,
            ..Default::default()
        },
    )
    .await
}

async fn list(
    state: &AppState,
    user: &AuthUser,
    request: pb::ListCredentialsRequest,
) -> ApiResult<Json<Vec<ClientInfo>>> {
    let response = CredentialServiceClient::new(state.registry.clone())
        .list_credentials(user.request(request)?)
        .await?
        .into_inner();
    Ok(Json(
        response.clients.into_iter().map(ClientInfo::from).collect(),
    ))
}

/// A new secret for a client, shown once; the previous ones keep working for
/// a grace period. The agency itself, an officer of its province or an admin
/// may rotate.
#[utoipa::path(
    post, path = "/api/v1/credentials/{client_id}/rotate", tag = "credentials",
    params(("client_id" = String, Path, description = "client id"), RotateQuery),
    responses(
        (status = 201, body = Credentials),
        (status = 403, body = crate::error::ErrorBody),
        (status = 409, description = "the client was revoked", body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn rotate_credentials(
    State(state): State<AppState>,
    user: AuthUser,
    Path(client_id): Path<String>,
    Query(query): Query<RotateQuery>,
) -> ApiResult<(StatusCode, Json<Credentials>)> {
    let request = user.request(pb::RotateCredentialsRequest {
        client_id,
        grace_period_secs: query.grace_period_secs,
    })?;
    let issued = CredentialServiceClient::new(state.registry.clone())
        .rotate_credentials(request)
        .await?
        .into_inner();
    Ok((StatusCode::CREATED, Json(issued.into())))
}

/// Ends a client's credentials at once: none of its secrets works again.
#[utoipa::path(
    post, path = "/api/v1/credentials/{client_id}/revoke", tag = "credentials",
    params(("client_id" = String, Path, description = "client id")),
    responses((status = 200, body = ClientInfo), (status = 403, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn revoke_credentials(
    State(state): State<AppState>,
    user: AuthUser,
    Path(client_id): Path<String>,
) -> ApiResult<Json<ClientInfo>> {
    let request = user.request(pb::RevokeCredentialsRequest { client_id })?;
    let info = CredentialServiceClient::new(state.registry.clone())
        .revoke_credentials(request)
        .await?
        .into_inner();
    Ok(Json(info.into()))
}

fn role_name(role: pb::Role) -> &'static str {
    match role {
        pb::Role::Admin => "admin",
        pb::Role::ProvinceOfficer => "province_officer",
        pb::Role::Agency => "agency",
        pb::Role::Service => "service",
        pb::Role::Unspecified => "unspecified",
    }
}

impl From<pb::IssuedCredentials> for Credentials {
    fn from(c: pb::IssuedCredentials) -> Self {
        Self {
            role: role_name(c.role()).to_owned(),
            client_id: c.client_id,
            client_secret: c.client_secret,
            agency_code: non_empty(c.agency_code),
            province_code: non_empty(c.province_code),
            previous_secret_expires_at: non_empty(c.previous_secret_expires_at),
        }
    }
}

impl From<pb::ClientInfo> for ClientInfo {
    fn from(c: pb::ClientInfo) -> Self {
        Self {
            role: role_name(c.role()).to_owned(),
            client_id: c.client_id,
            agency_code: non_empty(c.agency_code),
            province_code: non_empty(c.province_code),
            label: non_empty(c.label),
            created_at: c.created_at,
            revoked_at: non_empty(c.revoked_at),
            active_secrets: c.active_secrets,
        }
    }
}
