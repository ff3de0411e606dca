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
                let field = if path == "." { "body".to_owned() } else { path };
                Err(ApiError::field(field, err.into_inner().to_string()))
            }
        }
    }
}
