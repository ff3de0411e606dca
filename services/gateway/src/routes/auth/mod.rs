//! `POST /api/v1/auth/token`: an OAuth2 client-credentials exchange
//! (RFC 6749 §4.4), and `GET /.well-known/jwks.json`: the keys that verify
//! its tokens.

mod convert;
mod error;
pub mod jwks;
mod request;
mod types;

use axum::{
    Json, Router,
    extract::State,
    response::{IntoResponse, Response},
    routing::{get, post},
};

pub use self::types::{OAuthErrorBody, TokenRequest, TokenResponse};
use self::{
    error::{TokenError, no_store},
    request::{TokenExchange, check_scope},
};
use crate::{AppState, extract::ClientAddress};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/auth/token", post(issue_token))
        .route("/.well-known/jwks.json", get(jwks::jwks))
}

/// Exchanges client credentials for a bearer token (OAuth2 client
/// credentials, RFC 6749 §4.4): a form or JSON body, the client
/// authenticated by HTTP Basic or by `client_id` and `client_secret` in the
/// body. Errors are RFC 6749 §5.2 bodies, but for 429 (failed logins
/// limited per client id and address, with `Retry-After`; docs/SECURITY.md)
/// and 5xx, which have the usual error body.
#[utoipa::path(
    post, path = "/api/v1/auth/token", tag = "auth",
    request_body(content(
        (TokenRequest = "application/x-www-form-urlencoded", example = json!({
            "grant_type": "client_credentials",
            "client_id": "agency-5f0c2b6e8d1a4c3fa7e9b2d4c6a8e0f1",
            "client_secret": "the secret shown when the credentials were issued"
        })),
        (TokenRequest = "application/json", example = json!({
            "client_id": "agency-5f0c2b6e8d1a4c3fa7e9b2d4c6a8e0f1",
            "client_secret": "the secret shown when the credentials were issued"
        })),
    )),
    responses(
        (status = 200, body = TokenResponse, description = "a token; Cache-Control: no-store"),
        (status = 400, body = OAuthErrorBody,
         description = "invalid_request, unauthorized_client, unsupported_grant_type or invalid_scope"),
        (status = 401, body = OAuthErrorBody,
         description = "invalid_client: unknown client, wrong secret or no client authentication; WWW-Authenticate: Basic"),
        (status = 413, description = "the body is too large", body = crate::error::ErrorBody),
        (status = 429, description = "too many failed logins for this client id or from this address; see Retry-After", body = crate::error::ErrorBody),
    )
)]
pub async fn issue_token(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    exchange: TokenExchange,
) -> Result<Response, TokenError> {
    let TokenExchange { credentials, scope } = exchange;
    let issued = state
        .limits
        .logins
        .issue_token(&state.registry, credentials, client)
        .await
        .map_err(TokenError::from_login)?;
    // Checked once the registry knows the client: the scope a client may
    // have is its role's.
    check_scope(&scope, &issued.scope)?;
    let mut response = Json(TokenResponse::from(issued)).into_response();
    no_store(&mut response);
    Ok(response)
}

#[cfg(test)]
mod tests;
