//! The REST shapes of token requests.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

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
