//! Extractors: the caller (`AuthUser`), where they call from
//! (`ClientAddress`), write preconditions (`WriteHeaders`), and JSON bodies
//! and query strings whose errors name the field.

use std::{
    net::{IpAddr, SocketAddr},
    sync::{Arc, OnceLock},
    time::{Duration, Instant},
};

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

use crate::{
    AppState, REQUEST_ID,
    error::{ApiError, Origin},
};

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

    /// The aggregation service, for a stream relayed to the client as it
    /// comes (exports): no deadline, since the stream lasts as long as the
    /// client takes to download it. The client going away ends it.
    pub fn aggregation_stream(&self) -> AggregationServiceClient<AsCaller> {
        let mut bearer = self.bearer.clone();
        bearer.budget = None;
        AggregationServiceClient::with_interceptor(self.state.aggregation.clone(), bearer)
    }
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // Without the header, the web app's session cookie stands in for
        // it, under the CSRF rule (crate::web::session).
        let from_cookie;
        let sent = match parts.headers.get(http::header::AUTHORIZATION) {
            Some(sent) => sent
                .to_str()
                .map_err(|_| ApiError::unauthenticated("authorization header is not ASCII"))?,
            None => {
                from_cookie = crate::web::session::token_from_cookie(parts)?
                    .map(|token| format!("Bearer {token}"))
                    .ok_or_else(|| ApiError::unauthenticated("a bearer token is required"))?;
                &from_cookie
            }
        };
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
        let bearer = Bearer::new(token, request_id(&parts.headers), client)?
            .with_budget(state.requests.call_timeout());
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

/// Puts the caller's token, the trace context, the request id, the
/// client's address (`x-forwarded-for`, believed by back services that
/// trust the gateway) and the deadline on every outgoing call: the one
/// place outgoing metadata is added.
#[derive(Clone)]
pub struct Bearer {
    authorization: MetadataValue<Ascii>,
    request_id: Option<MetadataValue<Ascii>>,
    client_address: Option<MetadataValue<Ascii>>,
    /// How long one REST request's calls to the back services may take
    /// together (`requests.call_timeout_secs`), counted from the first call
    /// (after the body has arrived: a slow upload is the body deadline's
    /// business). Each call carries what is left as its gRPC deadline, which
    /// the back service enforces and passes on to the calls it makes.
    budget: Option<Duration>,
    /// Shared by every client handed out for the same request.
    deadline: Arc<OnceLock<Instant>>,
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
            budget: None,
            deadline: Arc::default(),
        })
    }

    fn with_budget(mut self, budget: Duration) -> Self {
        self.budget = Some(budget);
        self
    }
}

impl Interceptor for Bearer {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(budget) = self.budget {
            let deadline = *self.deadline.get_or_init(|| Instant::now() + budget);
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(tonic::Status::deadline_exceeded(
                    "the request's time for calls to the back services is spent",
                ));
            }
            request.set_timeout(left);
        }
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
                .map_err(|message| ApiError::field(IF_MATCH, message).sent_in(Origin::Header))?,
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

/// A query string; one that does not fit gets a problem naming the
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
            .map_err(|err| serde_error(err).sent_in(Origin::Query))
    }
}

/// Path parameters; one that does not fit gets a problem naming it (axum's
/// `Path` answers a plain-text 400 naming Rust types).
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        use axum::extract::{Path, path::ErrorKind, rejection::PathRejection};
        let rejection = match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => return Ok(Self(value)),
            Err(rejection) => rejection,
        };
        let PathRejection::FailedToDeserializePathParams(failed) = rejection else {
            return Err(anyhow::anyhow!("path parameters missing: {rejection}").into());
        };
        let (field, message) = match failed.into_kind() {
            ErrorKind::ParseErrorAtKey {
                key,
                value,
                expected_type,
            } => (
                key,
                format!("`{value}` is not {}", plain_type(expected_type)),
            ),
            ErrorKind::InvalidUtf8InPathParam { key } => (key, "is not valid UTF-8".to_owned()),
            ErrorKind::DeserializeError {
                key,
                value,
                message,
            } => (key, format!("`{value}`: {}", client_message(&message))),
            other => ("path".to_owned(), client_message(&other.to_string())),
        };
        Err(ApiError::field(field, message).sent_in(Origin::Path))
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

/// A JSON body; a body that does not fit gets a 422 naming the offending
/// field. Strict: the media type is exactly `application/json` (a
/// `charset=utf-8` allowed), nothing may follow the value, and no object may
/// repeat a key (two readers could otherwise disagree on which one counts).
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

/// Whether a request's `Content-Type` is JSON: `application/json`, with at
/// most a `charset=utf-8` parameter (JSON has no other charset, RFC 8259).
pub fn is_json(headers: &HeaderMap) -> bool {
    let Some(content_type) = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let mut parts = content_type.split(';');
    let essence = parts.next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/json")
        && parts.all(|param| {
            let Some((name, value)) = param.split_once('=') else {
                return false;
            };
            name.trim().eq_ignore_ascii_case("charset")
                && value.trim().trim_matches('"').eq_ignore_ascii_case("utf-8")
        })
}

async fn body_bytes<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    use axum::extract::rejection::{BytesRejection, FailedToBufferBody};
    Bytes::from_request(req, state).await.map_err(|e| match e {
        BytesRejection::FailedToBufferBody(FailedToBufferBody::LengthLimitError(_)) => {
            ApiError::too_large("the body is larger than this route takes")
        }
        // A body cut short (the client went away, or the body deadline cut
        // it off: `limit::body_deadline` answers 408 for that) is unreadable.
        other => ApiError::http(
            http::StatusCode::BAD_REQUEST,
            "bad_request",
            format!("the body could not be read: {}", other.body_text()),
        ),
    })
}

fn decode_json<T: DeserializeOwned>(is_json: bool, bytes: &[u8]) -> Result<T, ApiError> {
    if !is_json {
        return Err(ApiError::not_json());
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut *de)
        .map_err(|err| serde_error(err).sent_in(Origin::Body))?;
    de.end().map_err(|_| {
        ApiError::field("body", "trailing data after the JSON value").sent_in(Origin::Body)
    })?;
    // Derived structs refuse a repeated field themselves; maps and free-form
    // values keep the last silently, so every body is checked once.
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize::<_, NoDuplicateKeys>(de)
        .map_err(|err| serde_error(err).sent_in(Origin::Body))?;
    Ok(value)
}

/// Any JSON value, refused when one of its objects repeats a key.
struct NoDuplicateKeys;

impl<'de> serde::Deserialize<'de> for NoDuplicateKeys {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        de.deserialize_any(NoDuplicateKeys)
    }
}

impl<'de> serde::de::Visitor<'de> for NoDuplicateKeys {
    type Value = Self;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self, E> {
        Ok(Self)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self, E> {
        Ok(Self)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self, E> {
        Ok(Self)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self, E> {
        Ok(Self)
    }
    fn visit_str<E>(self, _: &str) -> Result<Self, E> {
        Ok(Self)
    }
    fn visit_unit<E>(self) -> Result<Self, E> {
        Ok(Self)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self, A::Error> {
        while seq.next_element::<Self>()?.is_some() {}
        Ok(Self)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self, A::Error> {
        let mut seen = std::collections::HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if seen.contains(&key) {
                return Err(serde::de::Error::custom(format!("duplicate key `{key}`")));
            }
            map.next_value::<Self>()?;
            seen.insert(key);
        }
        Ok(Self)
    }
}

/// A problem naming the field a serde error is about, in words a client
/// knows: no Rust type names, each field named once.
fn serde_error<E: std::fmt::Display>(err: serde_path_to_error::Error<E>) -> ApiError {
    let path = err.path().to_string();
    let message = err.into_inner().to_string();
    let field = field_of(&path, &message);
    let message = if message.starts_with("missing field `") {
        "is required".to_owned()
    } else if let Some(rest) = message.strip_prefix("unknown field `") {
        // "unknown field `x`, expected one of `a`, `b`": the field is named
        // already; keep what it could have been.
        let expected = rest.split_once("`, ").map(|(_, e)| e);
        match expected {
            Some(expected) => format!("is not a field of this request; {expected}"),
            None => "is not a field of this request".to_owned(),
        }
    } else if let Some(rest) = message
        .strip_prefix("duplicate key `")
        .or(message.strip_prefix("duplicate field `"))
    {
        let key = rest.split('`').next().unwrap_or_default();
        format!("duplicate key `{key}`: each key may appear once")
    } else {
        client_message(&message)
    };
    let field = match (field.as_str(), message.starts_with("duplicate key")) {
        // A repeated key is reported at its object, which the key then names.
        (_, true) => {
            let key = message.split('`').nth(1).unwrap_or_default();
            match path.as_str() {
                "." | "?" => key.to_owned(),
                path if path == key || path.ends_with(&format!(".{key}")) => path.to_owned(),
                path => format!("{path}.{key}"),
            }
        }
        _ => field,
    };
    ApiError::field(field, message)
}

/// A serde message with the Rust type names it may carry replaced by what a
/// client sent or should send (`expected struct SubmitReport` says nothing
/// to a client and tells an attacker the code's names).
pub fn client_message(message: &str) -> String {
    use std::sync::LazyLock;
    static RUST_NAMES: LazyLock<[(regex::Regex, &str); 5]> = LazyLock::new(|| {
        let re = |r: &str| regex::Regex::new(r).expect("static regex");
        [
            (
                re(r"data did not match any variant of untagged enum \w+"),
                "does not match any accepted form",
            ),
            (
                re(r"(tuple |unit |newtype )?struct \w+( with \d+ elements?)?"),
                "a JSON object",
            ),
            (
                re(r"(internally tagged |adjacently tagged )?enum \w+"),
                "one of the documented values",
            ),
            (
                re(r"\b[ui](8|16|32|64|128|size)\b"),
                "a whole number in range",
            ),
            (re(r"\bf(32|64)\b"), "a number"),
        ]
    });
    let mut message = message.to_owned();
    for (pattern, plain) in RUST_NAMES.iter() {
        message = pattern.replace_all(&message, *plain).into_owned();
    }
    message
}

/// What an axum path parameter's expected type means to a client.
fn plain_type(rust_type: &str) -> &'static str {
    match rust_type {
        t if t.starts_with('u') || t.starts_with('i') => "a whole number in range",
        t if t.starts_with('f') => "a number",
        "bool" => "true or false",
        _ => "valid here",
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
    use super::{client_message, decode_json, field_of};

    #[test]
    fn repeated_keys_are_refused_where_serde_would_keep_the_last() {
        let refused = |body: &str| {
            decode_json::<serde_json::Value>(true, body.as_bytes())
                .map(|_| ())
                .unwrap_err()
        };
        let err = refused(r#"{"a": {"x": 1, "y": [{"x": 1}], "x": 2}}"#);
        assert_eq!(err.field_names(), ["a.x"]);
        let err = refused(r#"{"list": [{}, {"k": 1, "k": 1}]}"#);
        assert_eq!(err.field_names(), ["list[1].k"]);
        let err = refused(r#"{"k": 1, "k": 2}"#);
        assert_eq!(err.field_names(), ["k"]);
        // The same key in different objects is no repeat.
        assert!(
            decode_json::<serde_json::Value>(true, br#"{"a": {"k": 1}, "b": {"k": 1}}"#).is_ok()
        );
        let err = refused("{} []");
        assert_eq!(err.field_names(), ["body"]);
        let not_json = decode_json::<serde_json::Value>(false, b"{}").unwrap_err();
        assert_eq!(not_json.code(), "unsupported_media_type");
    }

    #[test]
    fn rust_type_names_are_put_in_a_clients_words() {
        for (serde, client) in [
            (
                "invalid type: integer `1`, expected struct DataValueInput",
                "invalid type: integer `1`, expected a JSON object",
            ),
            (
                "invalid value: integer `-1`, expected u32",
                "invalid value: integer `-1`, expected a whole number in range",
            ),
            (
                "invalid type: string \"x\", expected f64",
                "invalid type: string \"x\", expected a number",
            ),
            (
                "data did not match any variant of untagged enum ValueText",
                "does not match any accepted form",
            ),
            (
                "invalid type: map, expected tuple struct Pair with 2 elements",
                "invalid type: map, expected a JSON object",
            ),
            (
                "unknown variant `none`, expected one of `HS256`, `EdDSA`",
                "unknown variant `none`, expected one of `HS256`, `EdDSA`",
            ),
        ] {
            assert_eq!(client_message(serde), client);
        }
    }

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
