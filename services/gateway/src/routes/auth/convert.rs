//! Token requests: JSON <-> `chiso.registry.v1` messages.

use chiso_domain::Role;
use chiso_proto::{convert::registry::role, registry::v1 as pb};

use super::types::{TokenRequest, TokenResponse};
use crate::{
    error::{ApiError, ApiResult},
    routes::common::non_empty,
};

/// The gRPC request for a token; only the client-credentials grant exists.
pub fn token_request(body: TokenRequest) -> ApiResult<pb::IssueTokenRequest> {
    if let Some(grant) = body.grant_type.as_deref()
        && grant != "client_credentials"
    {
        return Err(ApiError::field(
            "grant_type",
            "only client_credentials is supported",
        ));
    }
    Ok(pb::IssueTokenRequest {
        client_id: body.client_id,
        client_secret: body.client_secret,
    })
}

impl From<pb::IssueTokenResponse> for TokenResponse {
    fn from(response: pb::IssueTokenResponse) -> Self {
        let principal = response.principal.unwrap_or_default();
        Self {
            access_token: response.access_token,
            token_type: response.token_type,
            expires_in: response.expires_in,
            role: role(principal.role)
                .map_or("unknown", Role::as_str)
                .to_owned(),
            agency_code: non_empty(principal.agency_code),
            province_code: non_empty(principal.province_code),
        }
    }
}
