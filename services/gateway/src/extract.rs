//! Extractors: the caller (`AuthUser`) and JSON bodies whose errors name the field.

use axum::{
    extract::{FromRequest, FromRequestParts, Request},
    http::request::Parts,
};
use chiso_proto::{
    aggregation::v1::aggregation_service_client::AggregationServiceClient,
    registry::v1::{
        agency_service_client::AgencyServiceClient,
        credential_service_client::CredentialServiceClient,
        registration_service_client::RegistrationServiceClient,
        signing_key_service_client::SigningKeyServiceClient,
    },
    submission::v1::{
        catalogue_service_client::CatalogueServiceClient,
        report_service_client::ReportServiceClient,
    },
};
use chiso_runtime::auth::Principal;
use serde::de::DeserializeOwned;
use tonic::{
    metadata::{Ascii, MetadataValue},
    service::{Interceptor, interceptor::InterceptedService},
    transport::Channel,
};

use crate::{AppState, error::ApiError};

/// A channel whose every call carries the caller's bearer token.
pub type AsCaller = InterceptedService<Channel, Bearer>;

/// An authenticated caller, and the back services as that caller: every
/// gRPC client it hands out forwards the caller's token, so handlers never
/// attach credentials themselves.
pub struct AuthUser {
    pub principal: Principal,
    bearer: Bearer,
    state: AppState,
}

impl AuthUser {
    /// The registry's organisation tree.
    pub fn agencies(&self) -> AgencyServiceClient<AsCaller> {
        AgencyServiceClient::with_interceptor(self.state.registry.clone(), self.bearer.clone())
    }

    /// The registry's client credentials and tokens.
    pub fn credentials(&self) -> CredentialServiceClient<AsCaller> {
        CredentialServiceClient::with_interceptor(self.state.registry.clone(), self.bearer.clone())
    }

    /// The registry's registration requests.
    pub fn registrations(&self) -> RegistrationServiceClient<AsCaller> {
        RegistrationServiceClient::with_interceptor(
            self.state.registry.clone(),
            self.bearer.clone(),
        )
    }

    /// The registry's agency signing keys.
    pub fn signing_keys(&self) -> SigningKeyServiceClient<AsCaller> {
        SigningKeyServiceClient::with_interceptor(self.state.registry.clone(), self.bearer.clone())
    }

    /// The submission service's reports.
    pub fn reports(&self) -> ReportServiceClient<AsCaller> {
        ReportServiceClient::with_interceptor(self.state.submission.clone(), self.bearer.clone())
    }

    /// The submission service's data elements and indicators.
    pub fn catalogue(&self) -> CatalogueServiceClient<AsCaller> {
        CatalogueServiceClient::with_interceptor(self.state.submission.clone(), self.bearer.clone())
    }

    /// The aggregation service.
    pub fn aggregation(&self) -> AggregationServiceClient<AsCaller> {
        AggregationServiceClient::with_interceptor(
            self.state.aggregation.clone(),
            self.bearer.clone(),
        )
    }
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(http::header::AUTHORIZATION)
            .ok_or_else(|| ApiError::unauthenticated("a bearer token is required"))?
            .to_str()
            .map_err(|_| ApiError::unauthenticated("authorization header is not ASCII"))?;
        let principal = state
            .verifier
            .verify_header(header)
            .map_err(|e| ApiError::unauthenticated(e.to_string()))?;
        let bearer = Bearer::new(header[7..].trim())?;
        Ok(Self {
            principal,
            bearer,
            state: state.clone(),
        })
    }
}

/// Puts the caller's token, and the trace context, on every outgoing call.
#[derive(Clone)]
pub struct Bearer(MetadataValue<Ascii>);

impl Bearer {
    fn new(token: &str) -> Result<Self, ApiError> {
        let value = format!("Bearer {token}")
            .parse()
            .map_err(|e| anyhow::anyhow!("token is not a valid header value: {e}"))?;
        Ok(Self(value))
    }
}

impl Interceptor for Bearer {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        chiso_runtime::telemetry::inject_trace_context(request.metadata_mut());
        request
            .metadata_mut()
            .insert("authorization", self.0.clone());
        Ok(request)
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

/// The field a JSON error is about. serde reports a missing field at the
/// enclosing object's path, naming the field only in its message; an
/// unknown field's path already ends with it.
fn field_of(path: &str, message: &str) -> String {
    let named = ["missing field `", "unknown field `"]
        .iter()
        .find_map(|prefix| message.strip_prefix(prefix))
        .and_then(|rest| rest.split('`').next());
    match (path, named) {
        // `?`: the body broke off before serde knew where it was.
        ("." | "?", Some(name)) => name.to_owned(),
        ("." | "?", None) => "body".to_owned(),
        (path, Some(name)) if path == name || path.ends_with(&format!(".{name}")) => {
            path.to_owned()
        }
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
        assert_eq!(field_of("?", "EOF while parsing an object"), "body");
        // serde_path_to_error puts an unknown field in the path already.
        assert_eq!(
            field_of("scope", "unknown field `scope`, expected one of"),
            "scope"
        );
        assert_eq!(
            field_of("values[0].valu", "unknown field `valu`, expected one of"),
            "values[0].valu"
        );
    }
}
