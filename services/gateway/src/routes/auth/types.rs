//! The REST shapes of the token endpoint (RFC 6749 §4.4, §5).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An OAuth2 client-credentials token request (RFC 6749 §4.4.2), as a form
/// (`application/x-www-form-urlencoded`) or as JSON. The client may
/// authenticate with HTTP Basic instead of `client_id` and `client_secret`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// `client_credentials`; required in a form, optional in JSON.
    #[serde(default)]
    #[schema(format = "grant-type", example = "client_credentials")]
    pub grant_type: Option<String>,
    /// Required unless the client authenticates with HTTP Basic.
    #[serde(default)]
    #[schema(format = "oauth-text", example = "admin")]
    pub client_id: Option<String>,
    /// Required unless the client authenticates with HTTP Basic.
    #[serde(default)]
    #[schema(format = "oauth-text")]
    pub client_secret: Option<String>,
    /// Space-separated scopes; a client's only scope is its role
    /// (`admin`, `province_officer`, `agency`, `service`). Leave it out
    /// for the role's scope.
    #[serde(default)]
    #[schema(format = "scope", example = "admin")]
    pub scope: Option<String>,
}

/// A bearer token and whom it identifies (RFC 6749 §5.1, with chiso's
/// own members after `scope`).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the token expires, at most 900.
    pub expires_in: i64,
    /// The token's scope: the caller's role.
    pub scope: String,
    /// `admin`, `province_officer`, `agency` or `service`.
    pub role: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agency_code: Option<String>,
    /// The province the caller acts in (agencies and province officers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub province_code: Option<String>,
}

/// An RFC 6749 §5.2 error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct OAuthErrorBody {
    /// `invalid_request`, `invalid_client`, `unauthorized_client`,
    /// `unsupported_grant_type` or `invalid_scope`.
    pub error: &'static str,
    /// What was wrong, in printable ASCII.
    pub error_description: String,
}
