//! The gateway's one error type, answered everywhere as RFC 9457 problem
//! details (`application/problem+json`), with the HTTP status taken from the
//! shared gRPC-code mapping.
//!
//! A handler's `ApiError` cannot see the request it fails, yet the answer
//! names the request (`instance`, `request_id`) and speaks the caller's
//! language. So `into_response` renders a context-free answer and leaves the
//! error on the response; [`problem_details`], one layer around every route,
//! renders it again with the request's context, and turns the framework's own
//! plain-text refusals (unknown route, wrong method, oversized body) into the
//! same shape.

mod catalogue;

use std::{sync::Arc, time::Duration};

use axum::{
    extract::{MatchedPath, Request},
    http::{
        HeaderMap, HeaderValue, StatusCode,
        header::{ACCEPT_LANGUAGE, CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER},
    },
    middleware::Next,
    response::{IntoResponse, Response},
};
use chiso_runtime::{
    error::{code_name, field_violations, http_status, retry_after},
    limit::whole_seconds,
};
use serde::Serialize;
use tonic::Code;
use utoipa::ToSchema;

pub use catalogue::Lang;

/// The media type of every error answer (RFC 9457).
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Prefix of each problem's `type`: `urn:chiso:problem:<code>`. A URN rather
/// than a web address because no page is served for it; the codes are listed
/// in the README's "Errors" section and never change meaning.
pub const PROBLEM_TYPE: &str = "urn:chiso:problem:";

/// What a client sees of an error inside the gateway or a back service.
const INTERNAL: &str = "internal error";
/// What a client sees when a back service cannot be reached.
const UNAVAILABLE: &str = "service temporarily unavailable, try again";

/// An error answer: RFC 9457 problem details.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:chiso:problem:invalid_argument",
    "title": "Invalid input",
    "status": 422,
    "code": "invalid_argument",
    "detail": "invalid input: period: `2026Q5` is not a period; values[3].value: a count must be zero or more, got -1",
    "instance": "/api/v1/reports",
    "request_id": "0b6c4b6e-8f0e-4a43-9c1e-6c1f0f7e6a52",
    "errors": [
        {"field": "period", "pointer": "/period", "detail": "`2026Q5` is not a period"},
        {"field": "values[3].value", "pointer": "/values/3/value", "detail": "a count must be zero or more, got -1"}
    ]
}))]
pub struct ErrorBody {
    /// `urn:chiso:problem:<code>`, one per code.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the code, in the negotiated language.
    pub title: String,
    /// The HTTP status, repeated.
    pub status: u16,
    /// Machine-readable code, e.g. `invalid_argument`, `not_found`.
    pub code: &'static str,
    /// What went wrong with this request, in the negotiated language.
    pub detail: String,
    /// The path of the request that failed.
    pub instance: String,
    /// The request's `x-request-id`, for finding it in the logs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The invalid fields, when the request had any.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldViolation>,
}

/// One invalid field.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldViolation {
    /// The field as the client sent it: a JSON path such as
    /// `values[3].value`, a query or path parameter, or a header.
    pub field: String,
    /// JSON pointer into the body (RFC 6901), when the field came from a JSON body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    pub detail: String,
}

/// Where an invalid field was sent: only a body field has a JSON pointer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Body,
    Query,
    Path,
    Header,
    /// Named by a back service: in the body when the request had a JSON body.
    Service,
}

#[derive(Debug, Clone)]
struct Violation {
    field: String,
    origin: Origin,
    message: String,
}

/// Anything a handler can fail with.
#[derive(Debug, Clone)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    /// The specific English text: shown to English readers.
    message: String,
    /// The gateway's own Vietnamese text for this very error, when it has one;
    /// otherwise Vietnamese readers get the catalogue's text for `code`.
    message_vi: Option<String>,
    fields: Vec<Violation>,
    /// When the client may try again (`Retry-After`).
    retry_after: Option<Duration>,
}

impl ApiError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        let message = message.into();
        // A handler's internal failure says what broke inside (a library's
        // error, a path): for the log, never for the client.
        let message = if matches!(code, Code::Internal | Code::DataLoss) {
            if message != INTERNAL {
                tracing::error!(error = %message, "internal error");
            }
            INTERNAL.to_owned()
        } else {
            message
        };
        Self::http(http_status(code), code_name(code), message)
    }

    /// An answer no gRPC code stands for (413, 415, 405…), with its code.
    pub fn http(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            message_vi: None,
            fields: Vec::new(),
            retry_after: None,
        }
    }

    /// The gateway's own Vietnamese wording of this error.
    pub fn vi(mut self, message: impl Into<String>) -> Self {
        self.message_vi = Some(message.into());
        self
    }

    /// Asks the client to come back after `wait` (`Retry-After`).
    pub fn retry_after(mut self, wait: Duration) -> Self {
        self.retry_after = Some(wait);
        self
    }

    /// 413: the body is larger than the route takes.
    pub fn too_large(message: impl Into<String>) -> Self {
        Self::http(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", message)
    }

    /// 415: a JSON route was sent something else.
    pub fn not_json() -> Self {
        Self::http(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "the body must be JSON (Content-Type: application/json)",
        )
        .vi("Nội dung phải là JSON (Content-Type: application/json).")
    }

    /// 408: the client did not finish sending its body in time.
    pub fn request_timeout() -> Self {
        Self::http(
            StatusCode::REQUEST_TIMEOUT,
            "request_timeout",
            "the request body was not received in time",
        )
    }

    /// 503: the gateway is at its concurrency limit and sheds this request.
    pub fn overloaded(wait: Duration) -> Self {
        Self::http(
            StatusCode::SERVICE_UNAVAILABLE,
            "overloaded",
            "the gateway is busy, try again shortly",
        )
        .retry_after(wait)
    }

    /// The message and wait of a rate-limit refusal.
    #[cfg(test)]
    pub fn rate_limit(&self) -> Option<(String, Duration)> {
        self.retry_after.map(|wait| (self.message.clone(), wait))
    }

    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::fields(vec![(field.into(), message.into())])
    }

    /// An error of `code` naming several fields.
    pub fn with_fields(
        code: Code,
        message: impl Into<String>,
        violations: Vec<(String, String)>,
    ) -> Self {
        Self {
            fields: violations.into_iter().map(Violation::service).collect(),
            ..Self::new(code, message)
        }
    }

    /// Several invalid fields at once.
    pub fn fields(violations: Vec<(String, String)>) -> Self {
        let message = violations
            .iter()
            .map(|(f, m)| format!("{f}: {m}"))
            .collect::<Vec<_>>()
            .join("; ");
        Self::with_fields(
            Code::InvalidArgument,
            format!("invalid input: {message}"),
            violations,
        )
    }

    /// Says where the named fields were sent (query string, path, header,
    /// body), for those not placed already.
    pub fn sent_in(mut self, origin: Origin) -> Self {
        for violation in &mut self.fields {
            if violation.origin == Origin::Service {
                violation.origin = origin;
            }
        }
        self
    }

    /// The fields the error names, in order (for tests and logs).
    pub fn field_names(&self) -> Vec<String> {
        self.fields.iter().map(|f| f.field.clone()).collect()
    }

    /// The machine-readable code (`invalid_argument`, `payload_too_large`…).
    pub fn code(&self) -> &'static str {
        self.code
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(Code::Unauthenticated, message)
    }

    /// The answer for a framework refusal that came without a problem body
    /// (axum's 404, 405, 413…): the status kept, a code and text for it.
    fn for_status(status: StatusCode) -> Self {
        let code = catalogue::code_for_status(status);
        Self::http(status, code, catalogue::generic_en(code))
    }
}

impl Violation {
    fn service((field, message): (String, String)) -> Self {
        Self {
            field,
            origin: Origin::Service,
            message,
        }
    }
}

impl From<tonic::Status> for ApiError {
    fn from(status: tonic::Status) -> Self {
        let fields = field_violations(&status)
            .into_iter()
            .map(Violation::service)
            .collect();
        let message = match status.code() {
            // A transport failure's message describes our network, not the
            // request: connection refused, a reset, a timed-out connect and a
            // lost stream all arrive as UNAVAILABLE or UNKNOWN (a proxy or
            // an HTTP/2 error without a gRPC status), never from a chiso
            // service's own logic, so none of them becomes a 500.
            Code::Unavailable => {
                tracing::warn!(error = %status, "back service unavailable");
                UNAVAILABLE.to_owned()
            }
            Code::Unknown => {
                tracing::warn!(error = %status, "back service answered no gRPC status");
                UNAVAILABLE.to_owned()
            }
            // The gateway is the one waiting: a missed deadline (or tonic's
            // client-side timeout, which it reports as CANCELLED) means the
            // service did not answer, as good as down for this request.
            Code::DeadlineExceeded | Code::Cancelled => {
                tracing::warn!(error = %status, "back service did not answer in time");
                UNAVAILABLE.to_owned()
            }
            // What broke inside a service is for its log, not for the client.
            Code::Internal | Code::DataLoss => {
                tracing::error!(error = %status, "back service failed");
                INTERNAL.to_owned()
            }
            _ => status.message().to_owned(),
        };
        let (code, wait) = match status.code() {
            // A down service is worth retrying soon: say when.
            Code::Unknown | Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled => (
                Code::Unavailable,
                Some(retry_after(&status).unwrap_or(UNAVAILABLE_RETRY)),
            ),
            c => (c, retry_after(&status)),
        };
        Self {
            fields,
            retry_after: wait,
            ..Self::new(code, message)
        }
    }
}

/// How long a client is asked to wait when a back service is down: long
/// enough for a restart under `chiso up`, short enough not to be noticed.
const UNAVAILABLE_RETRY: Duration = Duration::from_secs(5);

impl ApiError {
    /// Names the fields as the REST client sent them: back services name
    /// their gRPC request's fields, and `names` lists the (gRPC, REST) pairs
    /// of a route whose query, path or body calls a field differently.
    pub fn with_rest_names(mut self, names: RestNames) -> Self {
        for violation in &mut self.fields {
            let Some(&(_, rest)) = names.iter().find(|(grpc, _)| *grpc == violation.field) else {
                continue;
            };
            // The message spells each violation as `field: message`.
            let grpc = format!("{}: {}", violation.field, violation.message);
            let renamed = format!("{rest}: {}", violation.message);
            self.message = self.message.replace(&grpc, &renamed);
            violation.field = rest.to_owned();
            if names == WRITE_HEADERS {
                violation.origin = Origin::Header;
            }
        }
        self
    }
}

/// (gRPC field, REST name) pairs of one route, for [`ApiError::with_rest_names`].
pub type RestNames = &'static [(&'static str, &'static str)];

/// The fields every write takes from headers rather than the body.
pub const WRITE_HEADERS: RestNames = &[
    ("request_id", crate::extract::IDEMPOTENCY_KEY),
    ("if_match", crate::extract::IF_MATCH),
];

/// Turns a back service's error into the REST error of a route named by `names`.
pub fn rest_error(names: RestNames) -> impl Fn(tonic::Status) -> ApiError {
    move |status| ApiError::from(status).with_rest_names(names)
}

/// [`rest_error`] for a write: the idempotency and precondition fields are
/// named as the headers the client sent them in.
pub fn write_error(names: RestNames) -> impl Fn(tonic::Status) -> ApiError {
    move |status| {
        ApiError::from(status)
            .with_rest_names(WRITE_HEADERS)
            .with_rest_names(names)
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(err: anyhow::Error) -> Self {
        tracing::error!(error = format!("{err:#}"), "internal error");
        Self::new(Code::Internal, INTERNAL)
    }
}

/// What an answer says about the request it answers.
#[derive(Debug, Clone, Default)]
pub struct RequestContext {
    pub lang: Lang,
    pub instance: String,
    pub request_id: Option<String>,
    /// The request carried a JSON body, so fields named by a back service
    /// are places in it and get a JSON pointer…
    pub json_body: bool,
    /// …unless they are named as one of the route's path parameters or a
    /// query parameter of the request.
    pub not_in_body: Vec<String>,
}

impl RequestContext {
    fn of(request: &Request) -> Self {
        let headers = request.headers();
        let lang = Lang::negotiate(
            headers
                .get(ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default(),
        );
        Self {
            lang,
            instance: request.uri().path().to_owned(),
            request_id: headers
                .get(&crate::REQUEST_ID)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            json_body: crate::extract::is_json(headers),
            not_in_body: form_urlencoded::parse(
                request.uri().query().unwrap_or_default().as_bytes(),
            )
            .map(|(name, _)| name.into_owned())
            .collect(),
        }
    }

    /// Learns the path parameters of the route that answered.
    fn answered_by(&mut self, route: Option<&MatchedPath>) {
        let Some(route) = route else { return };
        self.not_in_body.extend(
            route
                .as_str()
                .split('/')
                .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
                .map(|s| s.trim_start_matches('*').to_owned()),
        );
    }
}

/// Keeps the matched route on the response, for [`problem_details`] (which
/// wraps the router, so never sees the request the router matched).
pub async fn remember_route(request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().cloned();
    let mut response = next.run(request).await;
    if let Some(route) = route {
        response.extensions_mut().insert(route);
    }
    response
}

impl ApiError {
    /// The problem document for this error, as the request's reader sees it.
    pub fn body(&self, context: &RequestContext) -> ErrorBody {
        let lang = context.lang;
        // Messages built from a library's error (serde's above all) may
        // name Rust types; scrubbed here, once, whoever wrote them.
        let detail = match lang {
            Lang::En => crate::extract::client_message(&self.message),
            Lang::Vi => self
                .message_vi
                .clone()
                .unwrap_or_else(|| catalogue::generic_vi(self.code).to_owned()),
        };
        let errors = self
            .fields
            .iter()
            .map(|v| {
                let in_body = v.origin == Origin::Body
                    || (v.origin == Origin::Service
                        && context.json_body
                        && !context.not_in_body.contains(&v.field));
                FieldViolation {
                    field: v.field.clone(),
                    pointer: in_body.then(|| json_pointer(&v.field)),
                    detail: match lang {
                        Lang::En => crate::extract::client_message(&v.message),
                        Lang::Vi => {
                            catalogue::field_vi(&crate::extract::client_message(&v.message))
                        }
                    },
                }
            })
            .collect();
        ErrorBody {
            kind: format!("{PROBLEM_TYPE}{}", self.code),
            title: catalogue::title(self.code, lang).to_owned(),
            status: self.status.as_u16(),
            code: self.code,
            detail,
            instance: context.instance.clone(),
            request_id: context.request_id.clone(),
            errors,
        }
    }

    fn render(&self, context: &RequestContext) -> Response {
        let body = match serde_json::to_vec(&self.body(context)) {
            Ok(body) => body,
            Err(err) => {
                tracing::error!(error = %err, "problem not serialisable");
                Vec::new()
            }
        };
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        headers.insert(
            axum::http::header::CONTENT_LANGUAGE,
            HeaderValue::from_static(context.lang.tag()),
        );
        if let Some(wait) = self.retry_after {
            headers.insert(RETRY_AFTER, HeaderValue::from(whole_seconds(wait)));
        }
        response
    }
}

/// The error behind a response, for [`problem_details`] to render with the
/// request's context.
#[derive(Clone)]
struct Pending(Arc<ApiError>);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // Rendered once without context, so an answer is complete even
        // outside the gateway's layers (unit tests); rendered again there.
        let mut response = self.render(&RequestContext::default());
        response.extensions_mut().insert(Pending(Arc::new(self)));
        response
    }
}

/// The JSON pointer (RFC 6901) of a field named like `values[3].value`.
fn json_pointer(field: &str) -> String {
    let mut pointer = String::with_capacity(field.len() + 1);
    for part in field.split('.') {
        let mut rest = part;
        // `values[3]` is `values`, then index 3; `[0][1]` nests.
        let (name, indices) = match rest.find('[') {
            Some(at) => rest.split_at(at),
            None => (rest, ""),
        };
        pointer.push('/');
        pointer.push_str(&name.replace('~', "~0").replace('/', "~1"));
        rest = indices;
        while let Some(index) = rest.strip_prefix('[').and_then(|r| r.split_once(']')) {
            pointer.push('/');
            pointer.push_str(index.0);
            rest = index.1;
        }
    }
    pointer
}

/// Every error answer of the gateway as problem details in the request's
/// language: a handler's [`ApiError`] with the request's path, id and
/// language, and the framework's own bodiless or plain-text refusals (no
/// route, wrong method with its `Allow`, a body over its limit) given the
/// same shape. JSON error bodies a route chose on purpose (DHIS2 import
/// summaries) pass untouched.
pub async fn problem_details(request: Request, next: Next) -> Response {
    let mut context = RequestContext::of(&request);
    let response = next.run(request).await;
    context.answered_by(response.extensions().get::<MatchedPath>());
    let error = match response.extensions().get::<Pending>() {
        Some(Pending(error)) => error.clone(),
        None if is_framework_refusal(&response) => {
            Arc::new(ApiError::for_status(response.status()))
        }
        None => return response,
    };
    let (mut parts, _) = response.into_parts();
    let (fresh, body) = error.render(&context).into_parts();
    parts.status = fresh.status;
    parts.headers.remove(CONTENT_LENGTH);
    copy_headers(&fresh.headers, &mut parts.headers);
    parts.extensions.remove::<Pending>();
    Response::from_parts(parts, body)
}

fn copy_headers(from: &HeaderMap, to: &mut HeaderMap) {
    for (name, value) in from {
        to.insert(name, value.clone());
    }
}

/// An error status whose body is not JSON: axum's rejections and fallbacks.
fn is_framework_refusal(response: &Response) -> bool {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return false;
    }
    let json = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            let essence = ct.split(';').next().unwrap_or_default().trim();
            essence.eq_ignore_ascii_case("application/json") || essence.ends_with("+json")
        });
    !json
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;
    use serde_json::{Value, json};
    use tonic::Status;

    use super::*;

    async fn answer(error: ApiError) -> (StatusCode, Value) {
        answer_in(error, Lang::En).await
    }

    async fn answer_in(error: ApiError, lang: Lang) -> (StatusCode, Value) {
        let context = RequestContext {
            lang,
            instance: "/api/v1/reports".into(),
            request_id: Some("r-1".into()),
            json_body: true,
            not_in_body: Vec::new(),
        };
        let response = error.render(&context);
        let status = response.status();
        assert_eq!(response.headers()[CONTENT_TYPE], PROBLEM_JSON);
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, serde_json::from_slice(&body).unwrap())
    }

    #[tokio::test]
    async fn every_grpc_code_has_its_http_status_and_json_code() {
        let promised = [
            (Code::Ok, 200, "ok"),
            (Code::Cancelled, 503, "unavailable"),
            (Code::Unknown, 503, "unavailable"),
            (Code::InvalidArgument, 422, "invalid_argument"),
            (Code::DeadlineExceeded, 503, "unavailable"),
            (Code::NotFound, 404, "not_found"),
            (Code::AlreadyExists, 409, "already_exists"),
            (Code::PermissionDenied, 403, "permission_denied"),
            (Code::ResourceExhausted, 429, "resource_exhausted"),
            (Code::FailedPrecondition, 409, "failed_precondition"),
            (Code::Aborted, 412, "precondition_failed"),
            (Code::OutOfRange, 422, "out_of_range"),
            (Code::Unimplemented, 501, "unimplemented"),
            (Code::Internal, 500, "internal"),
            (Code::Unavailable, 503, "unavailable"),
            (Code::DataLoss, 500, "data_loss"),
            (Code::Unauthenticated, 401, "unauthenticated"),
        ];
        for (code, http, name) in promised {
            let (status, body) = answer(Status::new(code, "told").into()).await;
            assert_eq!(status.as_u16(), http, "{code:?}");
            assert_eq!(body["code"], json!(name), "{code:?}");
            assert_eq!(body["status"], json!(http), "{code:?}");
            assert_eq!(
                body["type"],
                json!(format!("urn:chiso:problem:{name}")),
                "{code:?}"
            );
            assert!(body.get("errors").is_none(), "{code:?}: {body}");
        }
    }

    #[tokio::test]
    async fn rate_limits_answer_429_with_retry_after() {
        let status = Status::from(chiso_runtime::limit::refused(
            "too many registration requests from this address",
            Duration::from_millis(359_200),
        ));
        let response = ApiError::from(status).into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[RETRY_AFTER], "360");
        let context = RequestContext {
            lang: Lang::En,
            instance: "/api/v1/registrations".into(),
            request_id: Some("abc".into()),
            json_body: true,
            not_in_body: Vec::new(),
        };
        let Some(Pending(error)) = response.extensions().get::<Pending>() else {
            panic!("no error kept for the problem layer");
        };
        assert_eq!(
            serde_json::to_value(error.body(&context)).unwrap(),
            json!({"type": "urn:chiso:problem:resource_exhausted",
                   "title": "Too many requests",
                   "status": 429,
                   "code": "resource_exhausted",
                   "detail": "too many registration requests from this address; try again in 360 seconds",
                   "instance": "/api/v1/registrations",
                   "request_id": "abc"})
        );
        // Other errors say nothing of retrying.
        let response = ApiError::unauthenticated("no").into_response();
        assert!(response.headers().get(RETRY_AFTER).is_none());
    }

    #[tokio::test]
    async fn client_errors_keep_the_services_message_in_english() {
        let error = || ApiError::from(Status::not_found("agency 000.00.99.H51 not found"));
        let (_, body) = answer(error()).await;
        assert_eq!(body["detail"], json!("agency 000.00.99.H51 not found"));
        assert_eq!(body["title"], json!("Not found"));
        let (_, body) = answer_in(error(), Lang::Vi).await;
        assert_eq!(body["title"], json!("Không tìm thấy"));
        assert_eq!(
            body["detail"],
            json!("Không tìm thấy tài nguyên được yêu cầu.")
        );
    }

    #[tokio::test]
    async fn internal_details_are_never_shown() {
        for code in [Code::Internal, Code::DataLoss, Code::Unknown] {
            let status = Status::new(code, "secret detail: /var/lib/chiso/db.sqlite");
            let (_, body) = answer(status.into()).await;
            assert!(!body.to_string().contains("secret"), "{code:?}: {body}");
        }
        let (status, body) = answer(anyhow::anyhow!("secret detail").into()).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body["code"], json!("internal"));
        assert_eq!(body["detail"], json!("internal error"));
    }

    #[tokio::test]
    async fn no_message_names_a_rust_type_or_an_internal_detail() {
        let serde = ApiError::field(
            "body",
            "not a DHIS2 data value set: invalid type: integer `1`, expected struct DataValueSet at line 1 column 1",
        );
        let (_, body) = answer(serde).await;
        assert_eq!(
            body["errors"][0]["detail"],
            json!(
                "not a DHIS2 data value set: invalid type: integer `1`, expected a JSON object at line 1 column 1"
            )
        );
        assert!(!body.to_string().contains("struct"), "{body}");
        let handler = ApiError::new(Code::Internal, "building the template: zip error at /tmp/x");
        let (status, body) = answer(handler).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body["detail"], json!("internal error"));
    }

    #[tokio::test]
    async fn a_service_that_is_down_is_a_503_with_retry_after_never_a_500() {
        let down = || {
            [
                Status::unavailable("transport error: connection refused to 10.0.0.7"),
                Status::unavailable("tcp connect error: 10.0.0.7"),
                Status::unknown("h2 protocol error: broken pipe to 10.0.0.7"),
                Status::deadline_exceeded("after 30s at 10.0.0.7"),
                Status::cancelled("Timeout expired at 10.0.0.7"),
            ]
        };
        for status in down() {
            let response = ApiError::from(status).into_response();
            assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(response.headers()[RETRY_AFTER], "5");
        }
        for status in down() {
            let (_, body) = answer(ApiError::from(status)).await;
            assert_eq!(body["code"], json!("unavailable"));
            assert_eq!(
                body["detail"],
                json!("service temporarily unavailable, try again")
            );
            assert!(!body.to_string().contains("10.0.0.7"), "{body}");
        }
    }

    #[tokio::test]
    async fn violations_are_named_as_the_rest_client_sent_them() {
        let mut details = tonic_types::ErrorDetails::new();
        details.add_bad_request_violation("parent_code", "`H51` is not an agency code");
        details.add_bad_request_violation("as_of", "`x` is not a date");
        let status = <Status as tonic_types::StatusExt>::with_error_details(
            Code::InvalidArgument,
            "invalid input: parent_code: `H51` is not an agency code; as_of: `x` is not a date",
            details,
        );
        let error = rest_error(&[("parent_code", "parent"), ("query", "q")])(status);
        let (status, body) = answer(error.sent_in(Origin::Query)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            body,
            json!({
                "type": "urn:chiso:problem:invalid_argument",
                "title": "Invalid input",
                "status": 422,
                "code": "invalid_argument",
                "detail": "invalid input: parent: `H51` is not an agency code; as_of: `x` is not a date",
                "instance": "/api/v1/reports",
                "request_id": "r-1",
                "errors": [
                    {"field": "parent", "detail": "`H51` is not an agency code"},
                    {"field": "as_of", "detail": "`x` is not a date"},
                ],
            })
        );
    }

    #[tokio::test]
    async fn body_fields_get_json_pointers_and_headers_do_not() {
        let error = ApiError::fields(vec![
            ("values[3].value".into(), "must be zero or more".into()),
            (
                "Idempotency-Key".into(),
                "was used for another request".into(),
            ),
        ]);
        let error = ApiError {
            fields: vec![
                error.fields[0].clone(),
                Violation {
                    origin: Origin::Header,
                    ..error.fields[1].clone()
                },
            ],
            ..error
        };
        let (_, body) = answer(error).await;
        assert_eq!(body["errors"][0]["pointer"], json!("/values/3/value"));
        assert!(body["errors"][1].get("pointer").is_none(), "{body}");
    }

    #[test]
    fn pointers_escape_and_nest() {
        assert_eq!(json_pointer("period"), "/period");
        assert_eq!(json_pointer("values[3].value"), "/values/3/value");
        assert_eq!(json_pointer("signature.key_id"), "/signature/key_id");
        assert_eq!(json_pointer("grid[0][2]"), "/grid/0/2");
        assert_eq!(json_pointer("a/b~c"), "/a~1b~0c");
    }
}
