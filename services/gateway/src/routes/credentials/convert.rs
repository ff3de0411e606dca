//! Client credentials as JSON from `chiso.registry.v1` messages.

use chiso_proto::registry::v1 as pb;

use super::types::{ClientInfo, Credentials};
use crate::{
    error::RestNames,
    routes::common::{non_empty, role_name},
};

/// `ListCredentialsRequest` fields that `/api/v1/officers` names differently.
pub const OFFICER_LIST_NAMES: RestNames = &[("province_code", "province")];

/// `*CredentialsRequest` fields that `/api/v1/agencies/{code}/credentials`
/// names differently.
pub const AGENCY_NAMES: RestNames = &[("agency_code", "code")];

impl From<pb::IssuedCredentials> for Credentials {
    fn from(c: pb::IssuedCredentials) -> Self {
        Self {
            role: role_name(c.role).to_owned(),
            client_id: c.client_id,
            client_secret: c.client_secret,
            agency_code: non_empty(c.agency_code),
            province_code: non_empty(c.province_code),
            granted_province_codes: c.granted_province_codes,
            previous_secret_expires_at: non_empty(c.previous_secret_expires_at),
        }
    }
}

impl From<pb::ClientInfo> for ClientInfo {
    fn from(c: pb::ClientInfo) -> Self {
        Self {
            role: role_name(c.role).to_owned(),
            client_id: c.client_id,
            agency_code: non_empty(c.agency_code),
            province_code: non_empty(c.province_code),
            granted_province_codes: c.granted_province_codes,
            label: non_empty(c.label),
            created_at: c.created_at,
            revoked_at: non_empty(c.revoked_at),
            active_secrets: c.active_secrets,
        }
    }
}
