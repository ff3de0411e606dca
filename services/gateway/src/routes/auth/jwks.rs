//! `GET /.well-known/jwks.json`: the public keys tokens are signed with, so
//! that other systems can verify chiso's tokens without asking chiso.

use axum::{
    Json,
    extract::State,
    http::header::CACHE_CONTROL,
    response::{IntoResponse, Response},
};
use chiso_runtime::auth::JwkSet;
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;

/// How long a JWKS may be cached: a rotation publishes the new key at
/// least this long before the registry signs with it (docs/SECURITY.md).
pub const MAX_AGE_SECS: u64 = 300;

/// The keys this gateway accepts, as a JWK Set (RFC 7517): the current
/// signing key and, during a rotation, the previous one. Needs no token.
#[utoipa::path(
    get, path = "/.well-known/jwks.json", tag = "auth",
    responses(
        (status = 200, body = JwkSetSchema,
         description = "the Ed25519 keys tokens may be signed with, by kid; cacheable for 5 minutes"),
    )
)]
pub async fn jwks(State(state): State<AppState>) -> Response {
    let keys: JwkSet = state.verifier.jwks();
    (
        [(CACHE_CONTROL, format!("public, max-age={MAX_AGE_SECS}"))],
        Json(keys),
    )
        .into_response()
}

/// A JWK Set (RFC 7517 §5).
#[derive(Serialize, ToSchema)]
#[schema(as = JwkSet)]
pub struct JwkSetSchema {
    pub keys: Vec<JwkSchema>,
}

/// An Ed25519 public key (RFC 8037).
#[derive(Serialize, ToSchema)]
#[schema(as = Jwk)]
pub struct JwkSchema {
    /// `OKP`
    pub kty: String,
    /// `Ed25519`
    pub crv: String,
    /// The public key, base64url.
    pub x: String,
    /// The key's RFC 7638 thumbprint, as in the `kid` of token headers.
    pub kid: String,
    /// `EdDSA`
    pub alg: String,
    /// `sig`
    #[serde(rename = "use")]
    pub key_use: String,
}
