//! `POST /api/v1/auth/token`: client credentials for a bearer token.

use axum::{Json, Router, extract::State, routing::post};
use chiso_proto::registry::v1::{self as pb, credential_service_client::CredentialServiceClient};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{AppState, error::ApiResult, extract::ApiJson};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/auth/token", post(issue_token))
}

/// OAuth2-style client credentials.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    pub client_id: String,
    pub client_secret: String,
    /// Accepted for OAuth2 clients; only `client_credentials` is supported.
    #[serde(default)]
    pub grant_type: Option<String>,
}

/// A bearer token and whom it identifies.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: String,
    /// Seconds until the token expires.
    pub expires_in: i64,
    /// `admin`, `province_officer`, `agency` or `service`.
    pub role: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agency_code: Option<String>,
    /// The province the caller acts in (agencies and province officers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub province_code: Option<String>,
}

/// Exchanges client credentials for a bearer token.
#[utoipa::path(
    post, path = "/api/v1/auth/token", tag = "auth",
    request_body = TokenRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, description = "unknown client or wrong secret", body = crate::error::ErrorBody),
        (status = 422, description = "a field is missing or invalid", body = crate::error::ErrorBody),
    )
)]
pub async fn issue_token(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<TokenRequest>,
) -> ApiResult<Json<TokenResponse>> {
    if let Some(grant) = body.grant_type.as_deref()
        && grant != "client_credentials"
    {
        return Err(crate::error::ApiError::field(
            "grant_type",
            "only client_credentials is supported",
        ));
    }
    let response = CredentialServiceClient::new(state.registry.clone())
        .issue_token(pb::IssueTokenRequest {
            client_id: body.client_id,
            client_secret: body.client_secret,
        })
        .await?
        .into_inner();
    let principal = response.principal.unwrap_or_default();
    let role = match pb::Role::try_from(principal.role) {
        Ok(pb::Role::Admin) => "admin",
        Ok(pb::Role::ProvinceOfficer) => "province_officer",
        Ok(pb::Role::Agency) => "agency",
        Ok(pb::Role::Service) => "service",
        _ => "unknown",
    };
    Ok(Json(TokenResponse {
        access_token: response.access_token,
        token_type: response.token_type,
        expires_in: response.expires_in,
        role: role.to_owned(),
        agency_code: Some(principal.agency_code).filter(|c| !c.is_empty()),
        province_code: Some(principal.province_code).filter(|c| !c.is_empty()),
    }))
}
