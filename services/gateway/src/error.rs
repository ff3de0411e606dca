//! The gateway's one error type: every failure becomes the same JSON shape,
//! with the HTTP status taken from the shared gRPC-code mapping.

use axum::{
    Json,
    response::{IntoResponse, Response},
};
use chiso_runtime::error::{code_name, field_violations, http_status};
use serde::Serialize;
use tonic::Code;
use utoipa::ToSchema;

/// What a client sees of an error inside the gateway.
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
}

impl ApiError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            fields: Vec::new(),
        }
    }

    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        let field = field.into();
        let message = message.into();
        Self {
            code: Code::InvalidArgument,
            message: format!("invalid input: {field}: {message}"),
            fields: vec![FieldViolation { field, message }],
        }
    }

    /// An error of `code` naming several fields.
    pub fn with_fields(
        code: Code,
        message: impl Into<String>,
        violations: Vec<(String, String)>,
    ) -> Self {
        Self {
            code,
            message: message.into(),
            fields: violations
                .into_iter()
                .map(|(field, message)| FieldViolation { field, message })
                .collect(),
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
            code: Code::InvalidArgument,
            message: format!("invalid input: {message}"),
            fields: violations
                .into_iter()
                .map(|(field, message)| FieldViolation { field, message })
                .collect(),
        }
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
            // A transport failure's message describes our network, not the request.
            Code::Unavailable | Code::Unknown if status.message().contains("transport") => {
                tracing::warn!(error = %status, "back service unreachable");
                UNAVAILABLE.to_owned()
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

/// Turns a back service's error into the REST error of a route named by `names`.
pub fn rest_error(names: RestNames) -> impl Fn(tonic::Status) -> ApiError {
    move |status| ApiError::from(status).with_rest_names(names)
}

impl From<anyhow::Error> for ApiError {
    fn from(err: anyhow::Error) -> Self {
        tracing::error!(error = format!("{err:#}"), "internal error");
        Self::new(Code::Internal, INTERNAL)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = http_status(self.code);
        let body = ErrorBody {
            code: code_name(self.code),
            message: self.message,
            fields: self.fields,
        };
        (status, Json(body)).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
