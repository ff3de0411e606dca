//! `/api/v1/agencies/{code}/keys`: the Ed25519 keys an agency signs reports with.

mod convert;
mod types;

use axum::{
    Json, Router,
    http::StatusCode,
    routing::{get, post},
};
use chiso_proto::registry::v1 as pb;

use self::convert::NAMES;
pub use self::types::{NewKey, RevokeKey, SigningKey};
use super::common::{Object, convert_all, created};
use crate::{
    AppState,
    error::{ApiResult, rest_error},
    extract::{ApiJson, ApiPath, AuthUser},
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

/// Every key of an agency, revoked ones too, oldest first (the agency itself,
/// an officer of its province, an admin or a chiso service).
#[utoipa::path(
    get, path = "/api/v1/agencies/{code}/keys", tag = "keys",
    params(("code" = String, Path, format = "agency-code", example = "000.00.02.H51", description = "QCVN 102 agency code")),
    responses((status = 200, body = Vec<SigningKey>), (status = 403, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn list_keys(
    user: AuthUser,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Json<Vec<SigningKey>>> {
    let listed = user
        .signing_keys()
        .list_signing_keys(pb::ListSigningKeysRequest { agency_code: code })
        .await
        .map_err(rest_error(NAMES))?
        .into_inner();
    Ok(Json(convert_all(listed.keys)))
}

/// Registers a public key for signing reports (the agency itself, an officer
/// of its province or an admin). A key is registered once, ever.
#[utoipa::path(
    post, path = "/api/v1/agencies/{code}/keys", tag = "keys",
    params(("code" = String, Path, format = "agency-code", example = "000.00.02.H51", description = "QCVN 102 agency code")),
    request_body(content = NewKey, example = json!({"public_key": "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=", "label": "Khóa ký báo cáo 2026"})),
    responses(
        (status = 201, body = SigningKey),
        (status = 409, description = "the key is already registered", body = crate::error::ErrorBody),
        (status = 422, description = "not an Ed25519 public key", body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn register_key(
    user: AuthUser,
    ApiPath(code): ApiPath<String>,
    ApiJson(Object(body)): ApiJson<Object<NewKey>>,
) -> ApiResult<(StatusCode, Json<SigningKey>)> {
    let key = user
        .signing_keys()
        .register_signing_key(pb::RegisterSigningKeyRequest {
            agency_code: code,
            public_key: body.public_key,
            label: body.label.unwrap_or_default(),
        })
        .await
        .map_err(rest_error(NAMES))?
        .into_inner();
    Ok(created(key.into()))
}

/// Revokes a key: signatures made from now on with it are not accepted.
#[utoipa::path(
    post, path = "/api/v1/agencies/{code}/keys/{key_id}/revoke", tag = "keys",
    params(
        ("code" = String, Path, format = "agency-code", example = "000.00.02.H51", description = "QCVN 102 agency code"),
        ("key_id" = String, Path, format = "key-id", example = "key-01a2044d01567218b6131e9059ed607b", description = "key id"),
    ),
    request_body(content = RevokeKey, example = json!({"reason": "Thay khóa định kỳ"})),
    responses((status = 200, body = SigningKey), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn revoke_key(
    user: AuthUser,
    ApiPath((code, key_id)): ApiPath<(String, String)>,
    ApiJson(Object(body)): ApiJson<Object<RevokeKey>>,
) -> ApiResult<Json<SigningKey>> {
    let key = user
        .signing_keys()
        .revoke_signing_key(pb::RevokeSigningKeyRequest {
            agency_code: code,
            key_id,
            reason: body.reason.unwrap_or_default(),
        })
        .await
        .map_err(rest_error(NAMES))?
        .into_inner();
    Ok(Json(key.into()))
}
