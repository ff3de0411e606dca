//! Who may sign in: clients (an agency or a province officer) with their
//! credentials, and the Ed25519 keys agencies sign reports with, as the
//! registry answers about them.

use chrono::{DateTime, Utc};

use crate::Role;

/// A client and how many of its secrets work now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientInfo {
    pub client_id: String,
    /// An agency, a province officer, a viewer or an integrator.
    pub role: Role,
    /// The agency an agency client acts for.
    pub agency_code: Option<String>,
    /// The province an officer acts in.
    pub province_code: Option<String>,
    pub label: Option<String>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub active_secrets: usize,
    /// The provinces an integrator reads (2-digit codes).
    pub granted_provinces: Vec<String>,
}

/// Credentials just issued or rotated: the secret is in clear text only here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedCredentials {
    pub client: ClientInfo,
    pub secret: String,
    /// When the previous secrets stop working, after a rotation.
    pub previous_expire_at: Option<DateTime<Utc>>,
}

/// An Ed25519 public key an agency signs its reports with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKey {
    pub key_id: String,
    pub agency_code: String,
    /// Standard base64 of the 32 key bytes.
    pub public_key: String,
    pub label: Option<String>,
    pub registered_at: DateTime<Utc>,
    pub registered_by: String,
    /// Signatures made from this instant on are not accepted.
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<String>,
    pub revocation_reason: Option<String>,
}
