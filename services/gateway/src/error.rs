//! The gateway's one error type: every failure becomes the same JSON shape,
//! with the HTTP status taken from the shared gRPC-code mapping.

use std::time::Duration;

use axum::{
    Json,
    http::{HeaderValue, header::RETRY_AFTER},
    response::{IntoResponse, Response},
};
use chiso_runtime::{
    error::{code_name, field_violations, http_status, retry_after},
    limit::whole_seconds,
};
use serde::Serialize;
use tonic::Code;
use utoipa::ToSchema;

/// What a client sees of an error inside the gateway or a back service.
const INTERNAL: &str = "internal error";
/// What a client sees when a back service cannot be reached.
const UNAVAILABLE: &str = "service temporarily unavailable, try again";

/// An error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Machine-readable code, e.g. `invalid_argument`, `not_found`.
    pub code: &'static str,
    pub message: String,
    /// The invalid fields, when the request had any.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldViolation>,
}

/// One invalid field.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldViolation {
    /// Path of the field in the request, e.g. `values[0].value`.
    pub field: String,
    pub message: String,
}

/// Anything a handler can fail with.
#[derive(Debug)]
pub struct ApiError {
    code: Code,
    message: String,
    fields: Vec<FieldViolation>,
    /// When a rate-limited client may try again (`Retry-After`).
    retry_after: Option<Duration>,
    /// An HTTP answer no gRPC code stands for (413), with its JSON code.
    http: Option<(axum::http::StatusCode, &'static str)>,
}

impl ApiError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            fields: Vec::new(),
            retry_after: None,
            http: None,
        }
    }

    /// 413: the body is larger than the route takes.
    pub fn too_large(message: impl Into<String>) -> Self {
        Self {
            http: Some((
                axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
            )),
            ..Self::new(Code::InvalidArgument, message)
        }
    }

    /// The message and wait of a rate-limit refusal.
    #[cfg(test)]
    pub fn rate_limit(&self) -> Option<(String, Duration)> {
        self.retry_after.map(|wait| (self.message.clone(), wait))
    }

    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        let field = field.into();
        let message = message.into();
        Self {
            fields: vec![FieldViolation {
                field: field.clone(),
                message: message.clone(),
            }],
            ..Self::new(
                Code::InvalidArgument,
                format!("invalid input: {field}: {message}"),
            )
        }
    }

    /// An error of `code` naming several fields.
    pub fn with_fields(
        code: Code,
        message: impl Into<String>,
        violations: Vec<(String, String)>,
    ) -> Self {
        Self {
            fields: violations
                .into_iter()
                .map(|(field, message)| FieldViolation { field, message })
                .collect(),
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
        Self {
            fields: violations
                .into_iter()
                .map(|(field, message)| FieldViolation { field, message })
                .collect(),
            ..Self::new(Code::InvalidArgument, format!("invalid input: {message}"))
        }
    }

    /// The fields the error names, in order (for tests and logs).
    pub fn field_names(&self) -> Vec<String> {
        self.fields.iter().map(|f| f.field.clone()).collect()
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(Code::Unauthenticated, message)
    }
}

impl From<tonic::Status> for ApiError {
    fn from(status: tonic::Status) -> Self {
        let fields = field_violations(&status)
            .into_iter()
            .map(|(field, message)| FieldViolation { field, message })
            .collect();
        let message = match status.code() {
            // A transport failure's message describes our network, not the
            // request; an unknown code comes from the transport too, never
            // from a chiso service.
            Code::Unavailable if status.message().contains("transport") => {
                tracing::warn!(error = %status, "back service unreachable");
                UNAVAILABLE.to_owned()
            }
            Code::Unknown => {
                tracing::warn!(error = %status, "back service answered no gRPC status");
                UNAVAILABLE.to_owned()
            }
            // What broke inside a service is for its log, not for the client.
            Code::Internal | Code::DataLoss => {
                tracing::error!(error = %status, "back service failed");
                INTERNAL.to_owned()
            }
            _ => status.message().to_owned(),
        };
        let code = match status.code() {
            Code::Unknown => Code::Unavailable,
            c => c,
        };
        Self {
            code,
            message,
            fields,
            retry_after: retry_after(&status),
            http: None,
        }
    }
}

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

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self
            .http
            .unwrap_or_else(|| (http_status(self.code), code_name(self.code)));
        let body = ErrorBody {
            code,
            message: self.message,
            fields: self.fields,
        };
        let mut response = (status, Json(body)).into_response();
        if let Some(wait) = self.retry_after {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(whole_seconds(wait)));
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;
    use serde_json::{Value, json};
    use tonic::Status;

    use super::*;

    async fn answer(error: ApiError) -> (StatusCode, Value) {
        let response = error.into_response();
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, serde_json::from_slice(&body).unwrap())
    }

    #[tokio::test]
    async fn every_grpc_code_has_its_http_status_and_json_code() {
        let promised = [
            (Code::Ok, 200, "ok"),
            (Code::Cancelled, 499, "cancelled"),
            (Code::Unknown, 503, "unavailable"),
            (Code::InvalidArgument, 422, "invalid_argument"),
            (Code::DeadlineExceeded, 504, "deadline_exceeded"),
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
            assert!(body.get("fields").is_none(), "{code:?}: {body}");
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
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        assert_eq!(
            serde_json::from_slice::<Value>(&body).unwrap(),
            json!({"code": "resource_exhausted",
                   "message": "too many registration requests from this address; try again in 360 seconds"})
        );
        // Other errors say nothing of retrying.
        let response = ApiError::unauthenticated("no").into_response();
        assert!(response.headers().get(RETRY_AFTER).is_none());
    }

    #[tokio::test]
    async fn client_errors_keep_the_services_message() {
        let (_, body) = answer(Status::not_found("agency 000.00.99.H51 not found").into()).await;
        assert_eq!(body["message"], json!("agency 000.00.99.H51 not found"));
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
        assert_eq!(
            body,
            json!({"code": "internal", "message": "internal error"})
        );
        let unreachable = Status::unavailable("transport error: connection refused to 10.0.0.7");
        let (status, body) = answer(unreachable.into()).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            body,
            json!({"code": "unavailable", "message": "service temporarily unavailable, try again"})
        );
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
        let (status, body) = answer(error).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            body,
            json!({
                "code": "invalid_argument",
                "message": "invalid input: parent: `H51` is not an agency code; as_of: `x` is not a date",
                "fields": [
                    {"field": "parent", "message": "`H51` is not an agency code"},
                    {"field": "as_of", "message": "`x` is not a date"},
                ],
            })
        );
    }
}
