//! `POST /api/v1/auth/token`: client credentials for a bearer token.

mod convert;
mod types;

use axum::{Json, Router, extract::State, routing::post};

pub use self::types::{TokenRequest, TokenResponse};
use crate::{
    AppState,
    error::ApiResult,
    extract::{ApiJson, ClientAddress},
};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/auth/token", post(issue_token))
}

/// Exchanges client credentials for a bearer token. Failed attempts are
/// limited per client id and address (429 with `Retry-After` beyond that;
/// docs/SECURITY.md).
#[utoipa::path(
    post, path = "/api/v1/auth/token", tag = "auth",
    request_body = TokenRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, description = "unknown client or wrong secret", body = crate::error::ErrorBody),
        (status = 422, description = "a field is missing or invalid", body = crate::error::ErrorBody),
        (status = 429, description = "too many failed logins for this client id or from this address; see Retry-After", body = crate::error::ErrorBody),
    )
)]
pub async fn issue_token(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    ApiJson(body): ApiJson<TokenRequest>,
) -> ApiResult<Json<TokenResponse>> {
    let credentials = convert::token_request(body)?;
    let issued = state
        .limits
        .logins
        .issue_token(&state.registry, credentials, client)
        .await?;
    Ok(Json(issued.into()))
}
