//! `SigningKeyService`: agencies' Ed25519 report-signing keys.

use chiso_domain::{AgencyCode, FieldErrors, VnName};
use chiso_proto::registry::v1::{self as pb, signing_key_service_server::SigningKeyService};
use chiso_runtime::{
    ServiceError,
    policy::{Action, Resource, Scope, caller_in_scope},
};
use tonic::{Request, Response, Status};
use tracing::{info, instrument};

use super::{State, optional, parse_code};
use crate::{entity::agency, signing_keys::PublicKey, store};

/// `SigningKeyService` implementation.
#[derive(Clone)]
pub struct SigningKeyApi(pub State);

#[tonic::async_trait]
impl SigningKeyService for SigningKeyApi {
    #[instrument(skip_all, fields(agency = %request.get_ref().agency_code))]
    async fn register_signing_key(
        &self,
        request: Request<pb::RegisterSigningKeyRequest>,
    ) -> Result<Response<pb::SigningKey>, Status> {
        let (principal, scope) = caller_in_scope(&request, Action::ManageSigningKeys)?;
        let req = request.get_ref();
        let mut errors = FieldErrors::new();
        let code = errors.check("agency_code", AgencyCode::parse(&req.agency_code));
        let key = errors.check("public_key", PublicKey::parse(&req.public_key));
        let label = optional(&req.label).and_then(|l| errors.check("label", VnName::parse(l)));
        let (Some(code), Some(key)) = (code, key) else {
            return Err(ServiceError::from(errors).into());
        };
        if !errors.is_empty() {
            return Err(ServiceError::from(errors).into());
        }
        let agency = self.owner(&scope, Action::ManageSigningKeys, &code).await?;
        let stored = store::register_key(
            &self.0.db,
            agency,
            &key,
            label.map(String::from),
            &principal.subject,
        )
        .await?;
        info!(agency = %code, key_id = %stored.key_id, "signing key registered");
        Ok(Response::new(stored.into()))
    }

    async fn list_signing_keys(
        &self,
        request: Request<pb::ListSigningKeysRequest>,
    ) -> Result<Response<pb::ListSigningKeysResponse>, Status> {
        let (_, scope) = caller_in_scope(&request, Action::ReadSigningKeys)?;
        let code = parse_code("agency_code", &request.get_ref().agency_code)?;
        let agency = self.owner(&scope, Action::ReadSigningKeys, &code).await?;
        let keys = store::list_keys(&self.0.db, &agency).await?;
        Ok(Response::new(pb::ListSigningKeysResponse {
            keys: keys.into_iter().map(Into::into).collect(),
        }))
    }

    async fn get_signing_key(
        &self,
        request: Request<pb::GetSigningKeyRequest>,
    ) -> Result<Response<pb::SigningKey>, Status> {
        let (_, scope) = caller_in_scope(&request, Action::ReadSigningKeys)?;
        let key_id = optional(&request.get_ref().key_id)
            .ok_or_else(|| ServiceError::field("key_id", "is required"))?;
        let (key, agency) = store::get_key(&self.0.db, key_id).await?;
        scope.check(
            Action::ReadSigningKeys,
            Resource::agency(&agency.code, &agency.province_code),
        )?;
        Ok(Response::new(key.into()))
    }

    #[instrument(skip_all, fields(agency = %request.get_ref().agency_code, key_id = %request.get_ref().key_id))]
    async fn revoke_signing_key(
        &self,
        request: Request<pb::RevokeSigningKeyRequest>,
    ) -> Result<Response<pb::SigningKey>, Status> {
        let (principal, scope) = caller_in_scope(&request, Action::ManageSigningKeys)?;
        let req = request.get_ref();
        let mut errors = FieldErrors::new();
        let code = errors.check("agency_code", AgencyCode::parse(&req.agency_code));
        let key_id = optional(&req.key_id);
        if key_id.is_none() {
            errors.push("key_id", "is required");
        }
        let reason = optional(&req.reason).and_then(|r| errors.check("reason", VnName::parse(r)));
        let (Some(code), Some(key_id)) = (code, key_id) else {
            return Err(ServiceError::from(errors).into());
        };
        if !errors.is_empty() {
            return Err(ServiceError::from(errors).into());
        }
        let agency = self.owner(&scope, Action::ManageSigningKeys, &code).await?;
        let revoked = store::revoke_key(
            &self.0.db,
            &agency,
            key_id,
            reason.map(String::from),
            &principal.subject,
        )
        .await?;
        info!(agency = %code, key_id, by = %principal.subject, "signing key revoked");
        Ok(Response::new(revoked.into()))
    }
}

impl SigningKeyApi {
    /// The agency whose keys the caller asks about, if `scope` reaches it.
    async fn owner(
        &self,
        scope: &Scope,
        action: Action,
        code: &AgencyCode,
    ) -> Result<agency::Model, ServiceError> {
        scope.precheck_agency(action, code.as_str())?;
        let agency = store::get(&self.0.db, code).await?;
        scope.check(
            action,
            Resource::agency(code.as_str(), &agency.province_code),
        )?;
        Ok(agency)
    }
}
