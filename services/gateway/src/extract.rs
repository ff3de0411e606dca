//! Extractors: the caller (`AuthUser`) and JSON bodies whose errors name the field.

use axum::{
    extract::{FromRef, FromRequest, FromRequestParts, Request},
    http::request::Parts,
};
use chiso_runtime::auth::{Principal, TokenVerifier};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// An authenticated caller and the token to forward to back services.
pub struct AuthUser {
    pub principal: Principal,
    pub token: String,
}

impl AuthUser {
    /// Wraps a gRPC message with this caller's token.
    pub fn request<T>(&self, message: T) -> Result<tonic::Request<T>, ApiError> {
        Ok(chiso_runtime::grpc::with_bearer(message, &self.token)?)
    }
}

impl<S> FromRequestParts<S> for AuthUser
where
    TokenVerifier: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(http::header::AUTHORIZATION)
            .ok_or_else(|| ApiError::unauthenticated("a bearer token is required"))?
            .to_str()
            .map_err(|_| ApiError::unauthenticated("authorization header is not ASCII"))?;
        let verifier = TokenVerifier::from_ref(state);
        let principal = verifier
            .verify_header(header)
            .map_err(|e| ApiError::unauthenticated(e.to_string()))?;
        let token = header[7..].trim().to_owned();
        Ok(Self { principal, token })
    }
}

/// A JSON body; a body that does not fit gets a 422 naming the offending field.
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/json"));
        if !is_json {
            return Err(ApiError::new(
                tonic::Code::InvalidArgument,
                "the body must be JSON (Content-Type: application/json)",
            ));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::new(tonic::Code::InvalidArgument, e.body_text()))?;
        let de = &mut serde_json::Deserializer::from_slice(&bytes);
        match serde_path_to_error::deserialize(de) {
            Ok(value) => Ok(Self(value)),
            Err(err) => {
                let path = err.path().to_string();
                let inner = err.into_inner();
                let message = inner.to_string();
                Err(ApiError::field(field_of(&path, &message), message))
            }
        }
    }
}

/// The field a JSON error is about. serde reports a missing or unknown field
/// at the enclosing object's path, naming the field only in its message.
fn field_of(path: &str, message: &str) -> String {
    let named = ["missing field `", "unknown field `"]
        .iter()
        .find_map(|prefix| message.strip_prefix(prefix))
        .and_then(|rest| rest.split('`').next());
    match (path, named) {
        (".", Some(name)) => name.to_owned(),
        (".", None) => "body".to_owned(),
        (path, Some(name)) => format!("{path}.{name}"),
        (path, None) => path.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::field_of;

    #[test]
    fn names_the_field() {
        assert_eq!(
            field_of(".", "missing field `period` at line 1 column 13"),
            "period"
        );
        assert_eq!(
            field_of("values[0]", "missing field `value` at line 1"),
            "values[0].value"
        );
        assert_eq!(
            field_of("values[0]", "unknown field `valu`, expected one of"),
            "values[0].valu"
        );
        assert_eq!(
            field_of("values[0].value", "invalid type: string"),
            "values[0].value"
        );
        assert_eq!(field_of(".", "EOF while parsing"), "body");
    }
}
