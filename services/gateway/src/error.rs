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
                "service temporarily unavailable, try again".to_owned()
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

impl From<anyhow::Error> for ApiError {
    fn from(err: anyhow::Error) -> Self {
        tracing::error!(error = format!("{err:#}"), "internal error");
        Self::new(Code::Internal, "internal error")
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
