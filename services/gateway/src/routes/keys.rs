//! `/api/v1/agencies/{code}/keys`: the Ed25519 keys an agency signs reports with.

use axum::{
    Json, Router,
    extract::{Path, State},
    http::StatusCode,
    routing::{get, post},
};
use chiso_proto::registry::v1::{self as pb, signing_key_service_client::SigningKeyServiceClient};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::agencies::non_empty;
use crate::{
    AppState,
    error::ApiResult,
    extract::{ApiJson, AuthUser},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/agencies/{code}/keys",
            get(list_keys).post(register_key),
        )
        .route(
            "/api/v1/agencies/{code}/keys/{key_id}/revoke",
            post(revoke_key),
        )
}

/// An Ed25519 public key of an agency; revoked keys are kept for verifying
/// signatures made before the revocation.
#[derive(Debug, Serialize, ToSchema)]
pub struct SigningKey {
    pub key_id: String,
    pub agency_code: String,
    /// Always `ed25519`.
    pub algorithm: String,
    /// Standard base64 of the 32 key bytes.
    pub public_key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    pub registered_at: String,
    pub registered_by: String,
    /// Signatures made from this instant on are not accepted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revocation_reason: Option<String>,
}

/// A key to register.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    /// Base64 of the 32 raw bytes, or a PEM `PUBLIC KEY` (SPKI).
    pub public_key: String,
    #[serde(default)]
    pub label: Option<String>,
}

/// Why a key is revoked.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeKey {
    #[serde(default)]
    pub reason: Option<String>,
}

/// Every key of an agency, revoked ones too, oldest first (the agency itself,
/// an officer of its province, an admin or a chiso service).
#[utoipa::path(
    get, path = "/api/v1/agencies/{code}/keys", tag = "keys",
    params(("code" = String, Path, description = "QCVN 102 agency code")),
    responses((status = 200, body = Vec<SigningKey>), (status = 403, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn list_keys(
    State(state): State<AppState>,
    user: AuthUser,
    Path(code): Path<String>,
) -> ApiResult<Json<Vec<SigningKey>>> {
    let request = user.request(pb::ListSigningKeysRequest { agency_code: code })?;
    let keys = SigningKeyServiceClient::new(state.registry.clone())
        .list_signing_keys(request)
        .await?
        .into_inner();
    Ok(Json(keys.keys.into_iter().map(SigningKey::from).collect()))
}

/// Registers a public key for signing reports (the agency itself, an officer
/// of its province or an admin). A key is registered once, ever.
#[utoipa::path(
    post, path = "/api/v1/agencies/{code}/keys", tag = "keys",
    params(("code" = String, Path, description = "QCVN 102 agency code")),
    request_body = NewKey,
    responses(
        (status = 201, body = SigningKey),
        (status = 409, description = "the key is already registered", body = crate::error::ErrorBody),
        (status = 422, description = "not an Ed25519 public key", body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn register_key(
    State(state): State<AppState>,
    user: AuthUser,
    Path(code): Path<String>,
    ApiJson(body): ApiJson<NewKey>,
) -> ApiResult<(StatusCode, Json<SigningKey>)> {
    let request = user.request(pb::RegisterSigningKeyRequest {
        agency_code: code,
        public_key: body.public_key,
        label: body.label.unwrap_or_default(),
    })?;
    let key = SigningKeyServiceClient::new(state.registry.clone())
        .register_signing_key(request)
        .await?
        .into_inner();
    Ok((StatusCode::CREATED, Json(key.into())))
}

/// Revokes a key: signatures made from now on with it are not accepted.
#[utoipa::path(
    post, path = "/api/v1/agencies/{code}/keys/{key_id}/revoke", tag = "keys",
    params(
        ("code" = String, Path, description = "QCVN 102 agency code"),
        ("key_id" = String, Path, description = "key id"),
    ),
    request_body = RevokeKey,
    responses((status = 200, body = SigningKey), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn revoke_key(
    State(state): State<AppState>,
    user: AuthUser,
    Path((code, key_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<RevokeKey>,
) -> ApiResult<Json<SigningKey>> {
    let request = user.request(pb::RevokeSigningKeyRequest {
        agency_code: code,
        key_id,
        reason: body.reason.unwrap_or_default(),
    })?;
    let key = SigningKeyServiceClient::new(state.registry.clone())
        .revoke_signing_key(request)
        .await?
        .into_inner();
    Ok(Json(key.into()))
}

impl From<pb::SigningKey> for SigningKey {
    fn from(k: pb::SigningKey) -> Self {
        Self {
            key_id: k.key_id,
            agency_code: k.agency_code,
            algorithm: k.algorithm,
            public_key: k.public_key,
            label: non_empty(k.label),
            registered_at: k.registered_at,
            registered_by: k.registered_by,
            revoked_at: non_empty(k.revoked_at),
            revoked_by: non_empty(k.revoked_by),
            revocation_reason: non_empty(k.revocation_reason),
        }
    }
}
