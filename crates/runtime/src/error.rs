//! The one error type of the gRPC services, and the one mapping from gRPC
//! codes to HTTP statuses that the gateway uses everywhere.

use chiso_domain::FieldErrors;
use sea_orm::{DbErr, RuntimeErr, SqlErr};
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};
use tracing::error;

/// Result of a service-layer operation.
pub type ServiceResult<T> = Result<T, ServiceError>;

/// What can go wrong in a back service, as its callers need to tell apart.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    InvalidArgument(#[from] FieldErrors),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    AlreadyExists(String),
    /// Values that clash with stored ones (a taken code), each under its field.
    #[error("{0}")]
    Conflict(FieldErrors),
    #[error("{0}")]
    FailedPrecondition(String),
    /// The caller's copy is stale: `if_match` is not the current etag
    /// (gRPC ABORTED, REST 412).
    #[error("{0}")]
    StaleVersion(String),
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    PermissionDenied(String),
    /// Too many requests from one caller (gRPC RESOURCE_EXHAUSTED with a
    /// `RetryInfo`, REST 429 with `Retry-After`).
    #[error("{message}")]
    RateLimited {
        message: String,
        retry_after: std::time::Duration,
    },
    #[error("a dependency is unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ServiceError {
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::InvalidArgument(FieldErrors::single(field, message))
    }
}

impl From<DbErr> for ServiceError {
    fn from(err: DbErr) -> Self {
        if is_unavailable(&err) {
            return Self::Unavailable(format!("database: {err}"));
        }
        if let Some(SqlErr::UniqueConstraintViolation(detail)) = err.sql_err() {
            // The database's text names tables, columns and constraints, and
            // may quote another agency's row: it is for the log only. Stores
            // that can say which field clashes check first and answer
            // `Conflict` with the field; this is the backstop of a race.
            tracing::warn!(error = %detail, "unique constraint violated");
            return Self::AlreadyExists("already exists".into());
        }
        Self::Internal(anyhow::Error::new(err).context("database error"))
    }
}

/// Whether a database error means "try again later" rather than a bug.
fn is_unavailable(err: &DbErr) -> bool {
    use sea_orm::sqlx::Error as Sqlx;
    let sqlx = match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => return true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => e,
        _ => return false,
    };
    match sqlx.as_ref() {
        Sqlx::Io(_)
        | Sqlx::PoolTimedOut
        | Sqlx::PoolClosed
        | Sqlx::WorkerCrashed
        | Sqlx::Tls(_) => true,
        // 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now, 08xxx connection errors
        Sqlx::Database(db) => db
            .code()
            .is_some_and(|c| c.starts_with("57P") || c.starts_with("08")),
        _ => false,
    }
}

/// Violations a status carries at most: they travel in trailers, which
/// HTTP/2 peers limit to a few kilobytes. Longer lists belong in a body.
const MAX_VIOLATIONS: usize = 40;
/// Violations spelled out in a status message at most.
const MAX_IN_MESSAGE: usize = 8;

fn with_violations(code: Code, prefix: &str, fields: &FieldErrors) -> Status {
    let mut details = ErrorDetails::new();
    for f in fields.0.iter().take(MAX_VIOLATIONS) {
        details.add_bad_request_violation(f.field.clone(), f.message.clone());
    }
    let mut parts: Vec<String> = fields
        .0
        .iter()
        .take(MAX_IN_MESSAGE)
        .map(ToString::to_string)
        .collect();
    if fields.0.len() > MAX_IN_MESSAGE {
        parts.push(format!("and {} more", fields.0.len() - MAX_IN_MESSAGE));
    }
    Status::with_error_details(code, format!("{prefix}{}", parts.join("; ")), details)
}

impl From<ServiceError> for Status {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::InvalidArgument(fields) => {
                with_violations(Code::InvalidArgument, "invalid input: ", &fields)
            }
            ServiceError::Conflict(fields) => with_violations(Code::AlreadyExists, "", &fields),
            ServiceError::NotFound(m) => Status::not_found(m),
            ServiceError::AlreadyExists(m) => Status::already_exists(m),
            ServiceError::FailedPrecondition(m) => Status::failed_precondition(m),
            ServiceError::StaleVersion(m) => Status::aborted(m),
            ServiceError::Unauthenticated(m) => Status::unauthenticated(m),
            ServiceError::PermissionDenied(m) => Status::permission_denied(m),
            ServiceError::RateLimited {
                message,
                retry_after,
            } => Status::with_error_details(
                Code::ResourceExhausted,
                message,
                ErrorDetails::with_retry_info(Some(retry_after)),
            ),
            ServiceError::Unavailable(m) => {
                error!(error = %m, "dependency unavailable");
                Status::unavailable("service temporarily unavailable, try again")
            }
            ServiceError::Internal(e) => {
                error!(error = ?e, "internal error");
                Status::internal("internal error")
            }
        }
    }
}

/// The HTTP status for a gRPC code; the gateway answers every gRPC error with it.
pub fn http_status(code: Code) -> http::StatusCode {
    use http::StatusCode as S;
    match code {
        Code::Ok => S::OK,
        Code::InvalidArgument | Code::OutOfRange => S::UNPROCESSABLE_ENTITY,
        Code::FailedPrecondition => S::CONFLICT,
        Code::NotFound => S::NOT_FOUND,
        Code::AlreadyExists => S::CONFLICT,
        // Only a stale `if_match` aborts: the REST precondition failed.
        Code::Aborted => S::PRECONDITION_FAILED,
        Code::Unauthenticated => S::UNAUTHORIZED,
        Code::PermissionDenied => S::FORBIDDEN,
        Code::ResourceExhausted => S::TOO_MANY_REQUESTS,
        Code::Unavailable => S::SERVICE_UNAVAILABLE,
        Code::DeadlineExceeded => S::GATEWAY_TIMEOUT,
        Code::Unimplemented => S::NOT_IMPLEMENTED,
        Code::Cancelled => S::from_u16(499).unwrap_or(S::BAD_REQUEST),
        Code::Unknown | Code::Internal | Code::DataLoss => S::INTERNAL_SERVER_ERROR,
    }
}

/// A short machine-readable name for a gRPC code, used in JSON errors.
pub fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "ok",
        Code::Cancelled => "cancelled",
        Code::Unknown => "unknown",
        Code::InvalidArgument => "invalid_argument",
        Code::DeadlineExceeded => "deadline_exceeded",
        Code::NotFound => "not_found",
        Code::AlreadyExists => "already_exists",
        Code::PermissionDenied => "permission_denied",
        Code::ResourceExhausted => "resource_exhausted",
        Code::FailedPrecondition => "failed_precondition",
        // Only a stale `if_match` aborts (see `http_status`): say what REST
        // clients know it as, the 412's name.
        Code::Aborted => "precondition_failed",
        Code::OutOfRange => "out_of_range",
        Code::Unimplemented => "unimplemented",
        Code::Internal => "internal",
        Code::Unavailable => "unavailable",
        Code::DataLoss => "data_loss",
        Code::Unauthenticated => "unauthenticated",
    }
}

/// The field violations a status carries, as (field, description) pairs.
pub fn field_violations(status: &Status) -> Vec<(String, String)> {
    status
        .get_details_bad_request()
        .map(|br| {
            br.field_violations
                .into_iter()
                .map(|v| (v.field, v.description))
                .collect()
        })
        .unwrap_or_default()
}

/// How long a rate-limited status asks the caller to wait, if it says.
pub fn retry_after(status: &Status) -> Option<std::time::Duration> {
    status.get_details_retry_info()?.retry_delay
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limits_carry_their_wait() {
        let status = Status::from(ServiceError::RateLimited {
            message: "too many registration requests from this address".into(),
            retry_after: std::time::Duration::from_secs(360),
        });
        assert_eq!(status.code(), Code::ResourceExhausted);
        assert_eq!(
            status.message(),
            "too many registration requests from this address"
        );
        assert_eq!(
            retry_after(&status),
            Some(std::time::Duration::from_secs(360))
        );
        assert_eq!(retry_after(&Status::resource_exhausted("told")), None);
        assert_eq!(
            http_status(status.code()),
            http::StatusCode::TOO_MANY_REQUESTS
        );
    }

    #[test]
    fn field_errors_survive_the_status() {
        let mut errors = FieldErrors::new();
        errors.push("period", "bad period");
        errors.push("values[0].value", "negative");
        let status = Status::from(ServiceError::InvalidArgument(errors));
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(
            field_violations(&status),
            vec![
                ("period".to_owned(), "bad period".to_owned()),
                ("values[0].value".to_owned(), "negative".to_owned())
            ]
        );
        assert_eq!(
            http_status(status.code()),
            http::StatusCode::UNPROCESSABLE_ENTITY
        );
    }

    #[test]
    fn long_lists_are_capped_to_fit_trailers() {
        let mut errors = FieldErrors::new();
        for i in 0..100 {
            errors.push(format!("lines[{i}].code"), "is taken");
        }
        let status = Status::from(ServiceError::Conflict(errors));
        assert_eq!(status.code(), Code::AlreadyExists);
        assert_eq!(field_violations(&status).len(), MAX_VIOLATIONS);
        assert!(
            status.message().ends_with("and 92 more"),
            "{}",
            status.message()
        );
    }

    #[test]
    fn internal_errors_are_not_shown() {
        let status = Status::from(ServiceError::Internal(anyhow::anyhow!("secret detail")));
        assert_eq!(status.code(), Code::Internal);
        assert!(!status.message().contains("secret"));
    }
}
