//! Token answers: `chiso.registry.v1` messages -> REST.

use chiso_domain::Role;
use chiso_proto::{convert::registry::role, registry::v1 as pb};

use super::types::TokenResponse;
use crate::routes::common::non_empty;

impl From<pb::IssueTokenResponse> for TokenResponse {
    fn from(response: pb::IssueTokenResponse) -> Self {
        let principal = response.principal.unwrap_or_default();
        Self {
            access_token: response.access_token,
            token_type: response.token_type,
            expires_in: response.expires_in,
            scope: response.scope,
            role: role(principal.role)
                .map_or("unknown", Role::as_str)
                .to_owned(),
            agency_code: non_empty(principal.agency_code),
            province_code: non_empty(principal.province_code),
        }
    }
}
