//! The registry's service layer: agencies, their history, credentials and
//! the rest, over the registry's own tables. Every function takes the
//! connection (or a transaction) it works on.

mod agencies;
mod credentials;
pub(crate) mod feed;
mod import;
mod lineage;
mod registrations;
mod reorganise;
mod signing_keys;

pub use agencies::*;
pub use credentials::*;
pub use feed::*;
pub use import::*;
pub use lineage::*;
pub use registrations::*;
pub use reorganise::*;
pub use signing_keys::*;

use chiso_domain::{FieldError, FieldErrors};
use chiso_runtime::ServiceError;

/// Everything wrong with one request, collected so the caller sees all of it:
/// invalid fields and taken codes, each under its field.
#[derive(Debug, Default)]
pub struct Problems {
    errors: FieldErrors,
    /// Parallel to `errors`: whether each clashes with stored data.
    conflicts: Vec<bool>,
    invalid: usize,
}

impl Problems {
    /// A field whose value is invalid.
    pub fn invalid(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(field, message);
        self.conflicts.push(false);
        self.invalid += 1;
    }

    /// A field whose value clashes with what is stored (a taken code).
    pub fn conflict(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(field, message);
        self.conflicts.push(true);
    }

    pub fn len(&self) -> usize {
        self.errors.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// 409 when every problem is a taken code, else 422; both name every field.
    pub fn into_error(self) -> ServiceError {
        if self.invalid == 0 {
            ServiceError::Conflict(self.errors)
        } else {
            ServiceError::InvalidArgument(self.errors)
        }
    }

    /// Each error and whether it is a conflict, in the order of the lines
    /// they name (`lines[N]`), file-wide ones first.
    pub fn into_sorted_by_line(self) -> Vec<(FieldError, bool)> {
        let mut entries: Vec<(FieldError, bool)> =
            self.errors.0.into_iter().zip(self.conflicts).collect();
        entries.sort_by_key(|(e, _)| line_of(&e.field));
        entries
    }

    /// `Ok(())` when nothing was recorded.
    pub fn into_result(self) -> Result<(), ServiceError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self.into_error())
        }
    }
}

/// The line a `lines[N]…` field names; 0 for anything else.
pub fn line_of(field: &str) -> u64 {
    field
        .strip_prefix("lines[")
        .and_then(|rest| rest.split(']').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// `prefix.field`, or `field` without a prefix.
pub fn at(prefix: &str, field: &str) -> String {
    if prefix.is_empty() {
        field.to_owned()
    } else {
        format!("{prefix}.{field}")
    }
}

/// A stored value that should have parsed; failing means the database was changed behind our back.
pub(crate) fn stored<T, E: std::fmt::Display>(
    what: &str,
    r: Result<T, E>,
) -> Result<T, ServiceError> {
    r.map_err(|e| ServiceError::Internal(anyhow::anyhow!("stored {what} is invalid: {e}")))
}
