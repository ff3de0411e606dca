//! The REST shapes of agencies' signing keys.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An Ed25519 public key of an agency; revoked keys are kept for verifying
/// signatures made before the revocation.
#[derive(Debug, Serialize, ToSchema)]
pub struct SigningKey {
    pub key_id: String,
    pub agency_code: String,
    /// Always `ed25519`.
    pub algorithm: String,
    /// Standard base64 of the 32 key bytes.
    pub public_key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    pub registered_at: String,
    pub registered_by: String,
    /// Signatures made from this instant on are not accepted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revocation_reason: Option<String>,
}

/// A key to register.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    /// Base64 of the 32 raw bytes, or a PEM `PUBLIC KEY` (SPKI).
    #[schema(
        format = "public-key",
        example = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
    )]
    pub public_key: String,
    #[serde(default)]
    #[schema(format = "name", example = "Khóa ký báo cáo 2026")]
    pub label: Option<String>,
}

/// Why a key is revoked.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeKey {
    #[serde(default)]
    #[schema(format = "name", example = "Thay khóa định kỳ")]
    pub reason: Option<String>,
}
