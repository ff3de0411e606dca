//! The token endpoint's one error type: RFC 6749 §5.2 answers for what
//! OAuth2 clients must understand, the gateway's usual answer for the rest
//! (429 with `Retry-After`, a back service away, an internal failure),
//! which RFC 6749 gives no error code for.

use axum::{
    Json,
    http::{
        HeaderValue, StatusCode,
        header::{CACHE_CONTROL, PRAGMA, WWW_AUTHENTICATE},
    },
    response::{IntoResponse, Response},
};
use tonic::Code;

use super::types::OAuthErrorBody;
use crate::{error::ApiError, limit::LoginError};

/// The error codes of RFC 6749 §5.2 the token endpoint answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthCode {
    /// Missing, repeated or malformed parameters, or two ways of client
    /// authentication at once.
    InvalidRequest,
    /// Unknown client, wrong secret, or no (or unusable) client
    /// authentication: 401 with `WWW-Authenticate`.
    InvalidClient,
    /// The client authenticated but may not have a token now.
    UnauthorizedClient,
    /// A grant other than `client_credentials`.
    UnsupportedGrantType,
    /// A malformed scope, or one beyond the client's role.
    InvalidScope,
}

impl OAuthCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
        }
    }
}

/// Why the token endpoint gave no token.
#[derive(Debug)]
pub enum TokenError {
    OAuth {
        code: OAuthCode,
        description: String,
    },
    /// Not an OAuth2 refusal: answered as everywhere else in the gateway.
    Other(ApiError),
}

impl TokenError {
    pub fn new(code: OAuthCode, description: impl Into<String>) -> Self {
        Self::OAuth {
            code,
            description: description.into(),
        }
    }

    /// The registry's or the limits' refusal of a login.
    pub fn from_login(error: LoginError) -> Self {
        match error {
            LoginError::Limited(error) => Self::Other(error),
            LoginError::Refused(status) => {
                let code = match status.code() {
                    Code::Unauthenticated => OAuthCode::InvalidClient,
                    Code::InvalidArgument => OAuthCode::InvalidRequest,
                    Code::PermissionDenied => OAuthCode::UnauthorizedClient,
                    _ => return Self::Other(status.into()),
                };
                Self::new(code, status.message())
            }
        }
    }
}

impl From<ApiError> for TokenError {
    fn from(error: ApiError) -> Self {
        Self::Other(error)
    }
}

/// `error_description` may hold only printable ASCII but `"` and `\`
/// (RFC 6749 §5.2); the registry's messages and echoed parameter names
/// could hold anything else.
fn printable(description: &str) -> String {
    description
        .chars()
        .map(|c| match c {
            ' '..='~' if c != '"' && c != '\\' => c,
            _ => '?',
        })
        .collect()
}

impl IntoResponse for TokenError {
    fn into_response(self) -> Response {
        let mut response = match self {
            Self::OAuth { code, description } => {
                let status = match code {
                    OAuthCode::InvalidClient => StatusCode::UNAUTHORIZED,
                    _ => StatusCode::BAD_REQUEST,
                };
                let body = OAuthErrorBody {
                    error: code.as_str(),
                    error_description: printable(&description),
                };
                let mut response = (status, Json(body)).into_response();
                // A 401 names the scheme to authenticate with (RFC 7235),
                // the one a client using the Authorization header must use
                // (RFC 6749 §5.2).
                if status == StatusCode::UNAUTHORIZED {
                    response.headers_mut().insert(
                        WWW_AUTHENTICATE,
                        HeaderValue::from_static(r#"Basic realm="chiso""#),
                    );
                }
                response
            }
            Self::Other(error) => error.into_response(),
        };
        no_store(&mut response);
        response
    }
}

/// Token responses must not be cached anywhere (RFC 6749 §5.1).
pub fn no_store(response: &mut Response) {
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_are_printable_ascii_only() {
        assert_eq!(
            printable("unknown parameter: \"sc\\ope\" é\n"),
            "unknown parameter: ?sc?ope? ??"
        );
        assert_eq!(
            printable("unknown client id or wrong secret"),
            "unknown client id or wrong secret"
        );
    }
}
