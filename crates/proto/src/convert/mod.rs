//! Protobuf <-> domain conversions: the one place each wire enum and message
//! meets its domain type. Services decode requests and encode replies through
//! these functions instead of matching on wire values themselves.
//!
//! An unspecified or unknown wire value is an error (with the valid names),
//! never a silent default.

pub mod aggregation;
pub mod catalogue;
pub mod registry;
pub mod submission;

/// A wire enum value that has no domain meaning (unspecified, or a number
/// this build does not know).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("is required: {expected}")]
pub struct Unspecified {
    /// The valid names, for the message.
    pub expected: &'static str,
}
