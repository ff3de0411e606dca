//! Extractors: the caller (`AuthUser`), where they call from
//! (`ClientAddress`), write preconditions (`WriteHeaders`), and JSON bodies
//! and query strings whose errors name the field.

use std::net::{IpAddr, SocketAddr};

use axum::{
    body::Bytes,
    extract::{ConnectInfo, FromRequest, FromRequestParts, Request},
    http::{HeaderMap, request::Parts},
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
        catalogue_service_client::CatalogueServiceClient, form_service_client::FormServiceClient,
        report_service_client::ReportServiceClient,
    },
};
use chiso_runtime::{
    auth::Principal,
    peer::{self, FORWARDED_FOR},
};
use serde::de::DeserializeOwned;
use tonic::{
    metadata::{Ascii, MetadataValue},
    service::{Interceptor, interceptor::InterceptedService},
    transport::Channel,
};

use crate::{AppState, REQUEST_ID, error::ApiError};

/// A channel whose every call carries the caller's bearer token.
pub type AsCaller = InterceptedService<Channel, Bearer>;

/// gRPC metadata naming the REST request a call is made for.
pub const REQUEST_ID_METADATA: &str = "x-request-id";

/// An authenticated caller, and the back services as that caller: every
/// gRPC client it hands out forwards the caller's token, the request id and
/// the client's address, so handlers never attach credentials or audit
/// metadata themselves.
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

    /// The submission service's data elements, indicators and validation rules.
    pub fn catalogue(&self) -> CatalogueServiceClient<AsCaller> {
        CatalogueServiceClient::with_interceptor(self.state.submission.clone(), self.bearer.clone())
    }

    /// The submission service's report forms and periods.
    pub fn forms(&self) -> FormServiceClient<AsCaller> {
        FormServiceClient::with_interceptor(self.state.submission.clone(), self.bearer.clone())
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
        let sent = parts
            .headers
            .get(http::header::AUTHORIZATION)
            .ok_or_else(|| ApiError::unauthenticated("a bearer token is required"))?
            .to_str()
            .map_err(|_| ApiError::unauthenticated("authorization header is not ASCII"))?;
        let ClientAddress(client) = ClientAddress::of(parts, state);
        // DHIS2 clients send client credentials as HTTP Basic: exchanged
        // (and briefly remembered) for a token, then treated as a bearer.
        let header = match crate::basic::credentials(sent) {
            Some(encoded) => {
                let token = state
                    .basic
                    .token(&state.limits.logins, &state.registry, encoded, client)
                    .await?;
                format!("Bearer {token}")
            }
            None => sent.to_owned(),
        };
        let principal = state
            .verifier
            .verify_header(&header)
            .map_err(|e| ApiError::unauthenticated(e.to_string()))?;
        // Verified, so the header holds a bearer token, whatever the
        // scheme's case.
        let token = chiso_runtime::auth::bearer_token(&header).unwrap_or_default();
        let bearer = Bearer::new(token, request_id(&parts.headers), client)?;
        Ok(Self {
            principal,
            bearer,
            state: state.clone(),
        })
    }
}

/// The request id the request-id layer set, as metadata. The layer keeps
/// only ids that are visible ASCII, so this fails only without the layer.
fn request_id(headers: &HeaderMap) -> Option<MetadataValue<Ascii>> {
    headers
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

/// The client's address: the TCP peer, or, behind a trusted proxy, the
/// address the proxies forwarded ([`peer::client_address`]). `None` when
/// the server was not started with connection info (router tests).
pub struct ClientAddress(pub Option<IpAddr>);

impl ClientAddress {
    fn of(parts: &Parts, state: &AppState) -> Self {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        let forwarded = parts
            .headers
            .get_all(FORWARDED_FOR)
            .iter()
            .filter_map(|value| value.to_str().ok());
        Self(peer.map(|peer| peer::client_address(peer, forwarded, &state.trusted_proxies)))
    }
}

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self::of(parts, state))
    }
}

/// Puts the caller's token, the trace context, the request id and the
/// client's address (`x-forwarded-for`, believed by back services that
/// trust the gateway) on every outgoing call: the one place outgoing
/// metadata is added.
#[derive(Clone)]
pub struct Bearer {
    authorization: MetadataValue<Ascii>,
    request_id: Option<MetadataValue<Ascii>>,
    client_address: Option<MetadataValue<Ascii>>,
}

impl Bearer {
    fn new(
        token: &str,
        request_id: Option<MetadataValue<Ascii>>,
        client: Option<IpAddr>,
    ) -> Result<Self, ApiError> {
        let authorization = format!("Bearer {token}")
            .parse()
            .map_err(|e| anyhow::anyhow!("token is not a valid header value: {e}"))?;
        let client_address = client
            .map(|ip| ip.to_string().parse())
            .transpose()
            .map_err(|e| anyhow::anyhow!("an address is not a header value: {e}"))?;
        Ok(Self {
            authorization,
            request_id,
            client_address,
        })
    }
}

impl Interceptor for Bearer {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        let metadata = request.metadata_mut();
        chiso_runtime::telemetry::inject_trace_context(metadata);
        metadata.insert("authorization", self.authorization.clone());
        if let Some(id) = &self.request_id {
            metadata.insert(REQUEST_ID_METADATA, id.clone());
        }
        if let Some(address) = &self.client_address {
            metadata.insert(FORWARDED_FOR, address.clone());
        }
        Ok(request)
    }
}

/// The `Idempotency-Key` of a write (gRPC `request_id`), empty when absent.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(pub String);

/// The headers of a report write: `Idempotency-Key` (gRPC `request_id`) and
/// `If-Match` (gRPC `if_match`), each empty when absent.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct WriteHeaders {
    pub request_id: String,
    pub if_match: String,
}

/// REST name of the idempotency header.
pub const IDEMPOTENCY_KEY: &str = "Idempotency-Key";
/// REST name of the precondition header.
pub const IF_MATCH: &str = "If-Match";

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        // The service checks the key's length and characters, so its
        // message is the same over REST and gRPC; bytes that are not UTF-8
        // reach it as replacement characters and are refused there.
        Ok(Self(
            parts
                .headers
                .get(IDEMPOTENCY_KEY)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                .unwrap_or_default(),
        ))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for WriteHeaders {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let IdempotencyKey(request_id) = IdempotencyKey::from_request_parts(parts, state).await?;
        let if_match = match parts.headers.get(http::header::IF_MATCH) {
            None => String::new(),
            Some(value) => parse_if_match(value.as_bytes())
                .map_err(|message| ApiError::field(IF_MATCH, message))?,
        };
        Ok(Self {
            request_id,
            if_match,
        })
    }
}

/// The etag an `If-Match` header names: `"abc"` or `abc`; `*` (any current
/// report) is no precondition, so empty. A weak tag (`W/"abc"`) is passed on
/// as written: If-Match compares strongly, so it never matches and the
/// service answers 412, as RFC 9110 says it must.
fn parse_if_match(raw: &[u8]) -> Result<String, String> {
    let text = std::str::from_utf8(raw)
        .map_err(|_| "must be one entity tag, e.g. \"3f2a\", or *".to_owned())?
        .trim();
    if text == "*" {
        return Ok(String::new());
    }
    let (weak, tag) = match text.strip_prefix("W/") {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let tag = tag
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(tag);
    // Empty would mean no precondition at all, which only `*` may say. One
    // report has one current etag, so a list could only ever be compared
    // against one of its members: refuse rather than pick.
    if tag.is_empty() || tag.contains(['"', ',']) {
        return Err("must be one entity tag, e.g. \"3f2a\", or *".to_owned());
    }
    Ok(if weak {
        text.to_owned()
    } else {
        tag.to_owned()
    })
}

/// A query string; one that does not fit gets a JSON 422 naming the
/// parameter (axum's `Query` answers a plain-text 400).
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(Self)
            .map_err(|err| {
                let path = err.path().to_string();
                let message = err.into_inner().to_string();
                ApiError::field(field_of(&path, &message), message)
            })
    }
}

/// A JSON body that may be left out: an empty body is `T::default()`. For
/// actions whose every field is optional (accept, revise, submit a draft).
pub struct MaybeJson<T>(pub T);

impl<T, S> FromRequest<S> for MaybeJson<T>
where
    T: DeserializeOwned + Default,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = is_json(req.headers());
        let bytes = body_bytes(req, state).await?;
        if bytes.is_empty() {
            return Ok(Self(T::default()));
        }
        decode_json(is_json, &bytes).map(Self)
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
        let is_json = is_json(req.headers());
        let bytes = body_bytes(req, state).await?;
        decode_json(is_json, &bytes).map(Self)
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"))
}

async fn body_bytes<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state)
        .await
        .map_err(|e| ApiError::new(tonic::Code::InvalidArgument, e.body_text()))
}

fn decode_json<T: DeserializeOwned>(is_json: bool, bytes: &[u8]) -> Result<T, ApiError> {
    if !is_json {
        return Err(ApiError::new(
            tonic::Code::InvalidArgument,
            "the body must be JSON (Content-Type: application/json)",
        ));
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let message = err.into_inner().to_string();
        ApiError::field(field_of(&path, &message), message)
    })
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
