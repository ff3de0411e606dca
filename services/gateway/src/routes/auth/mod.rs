//! `POST /api/v1/auth/token`: client credentials for a bearer token.

mod convert;
mod types;

use axum::{Json, Router, extract::State, routing::post};
use chiso_proto::registry::v1::credential_service_client::CredentialServiceClient;

pub use self::types::{TokenRequest, TokenResponse};
use crate::{AppState, error::ApiResult, extract::ApiJson};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/auth/token", post(issue_token))
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
    let issued = CredentialServiceClient::new(state.registry.clone())
        .issue_token(convert::token_request(body)?)
        .await?
        .into_inner();
    Ok(Json(issued.into()))
}
