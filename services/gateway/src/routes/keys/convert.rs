//! Signing keys as JSON from `chiso.registry.v1` messages.

use chiso_proto::registry::v1 as pb;

use super::types::SigningKey;
use crate::{error::RestNames, routes::common::non_empty};

/// Signing-key request fields the REST routes name differently: the agency
/// is the `{code}` of the path.
pub const NAMES: RestNames = &[("agency_code", "code")];

impl From<pb::SigningKey> for SigningKey {
    fn from(k: pb::SigningKey) -> Self {
        Self {
            key_id: k.key_id,
            agency_code: k.agency_code,
            algorithm: k.algorithm,
            public_key: k.public_key,
            label: non_empty(k.label),
            registered_at: k.registered_at,
            registered_by: k.registered_by,
            revoked_at: non_empty(k.revoked_at),
            revoked_by: non_empty(k.revoked_by),
            revocation_reason: non_empty(k.revocation_reason),
        }
    }
}
