//! `CredentialService`: client credentials and bearer tokens.

use std::time::Duration;

use chiso_domain::{AdminUnitCode, AgencyCode, FieldErrors, VnName};
use chiso_proto::registry::v1::{self as pb, credential_service_server::CredentialService};
use chiso_runtime::{
    ServiceError,
    auth::{Principal, scope_of},
    policy::{Action, Resource, authorize, caller, caller_in_scope},
};
use tonic::{Request, Response, Status};
use tracing::{info, instrument};

use super::{State, encode_principal, optional, parse_code};
use crate::{
    config::MAX_ROTATION_GRACE_SECS,
    store::{self, ClientsOf},
};

/// `CredentialService` implementation.
#[derive(Clone)]
pub struct CredentialApi(pub State);

#[tonic::async_trait]
impl CredentialService for CredentialApi {
    #[instrument(skip_all, fields(agency = %request.get_ref().agency_code))]
    async fn issue_credentials(
        &self,
        request: Request<pb::IssueCredentialsRequest>,
    ) -> Result<Response<pb::IssuedCredentials>, Status> {
        let (principal, scope) = caller_in_scope(&request, Action::IssueCredentials)?;
        let code = parse_code("agency_code", &request.get_ref().agency_code)?;
        let agency = store::get(&self.0.db, &code).await?;
        scope.check(
            Action::IssueCredentials,
            Resource::agency(code.as_str(), &agency.province_code),
        )?;
        let secret = self.0.hasher.new_secret().await?;
        let issued =
            store::issue_credentials(&self.0.db, &code, &principal.subject, secret).await?;
        info!(agency = %code, client_id = %issued.client.client_id, "credentials issued");
        Ok(Response::new(issued.into()))
    }

    #[instrument(skip_all, fields(province = %request.get_ref().province_code))]
    async fn issue_officer_credentials(
        &self,
        request: Request<pb::IssueOfficerCredentialsRequest>,
    ) -> Result<Response<pb::IssuedCredentials>, Status> {
        let principal = caller(&request)?;
        authorize(&principal, Action::CreateOfficers, Resource::Global)?;
        let req = request.get_ref();
        let mut errors = FieldErrors::new();
        let province = errors.check("province_code", AdminUnitCode::parse(&req.province_code));
        let province = province.filter(|p| {
            let ok = p.level() == chiso_domain::AdminLevel::Province;
            if !ok {
                errors.push(
                    "province_code",
                    format!("{p} is not a 2-digit province code"),
                );
            }
            ok
        });
        let label = optional(&req.label).and_then(|l| errors.check("label", VnName::parse(l)));
        let Some(province) = province.filter(|_| errors.is_empty()) else {
            return Err(ServiceError::from(errors).into());
        };
        let secret = self.0.hasher.new_secret().await?;
        let issued = store::issue_officer_credentials(
            &self.0.db,
            &province,
            label.map(String::from),
            &principal.subject,
            secret,
        )
        .await?;
        info!(%province, client_id = %issued.client.client_id, "officer credentials issued");
        Ok(Response::new(issued.into()))
    }

    #[instrument(skip_all, fields(client_id = %request.get_ref().client_id))]
    async fn rotate_credentials(
        &self,
        request: Request<pb::RotateCredentialsRequest>,
    ) -> Result<Response<pb::IssuedCredentials>, Status> {
        let (principal, scope) = caller_in_scope(&request, Action::ManageCredentials)?;
        let req = request.get_ref();
        let mut errors = FieldErrors::new();
        let client_id = required_client_id(&req.client_id, &mut errors);
        let grace = match req.grace_period_secs {
            None => Some(self.0.rotation_grace),
            Some(secs) if (0..=MAX_ROTATION_GRACE_SECS as i64).contains(&secs) => {
                Some(Duration::from_secs(secs as u64))
            }
            Some(secs) => {
                errors.push(
                    "grace_period_secs",
                    format!(
                        "must be between 0 and {MAX_ROTATION_GRACE_SECS} (30 days), got {secs}"
                    ),
                );
                None
            }
        };
        let (Some(client_id), Some(grace)) = (client_id, grace) else {
            return Err(ServiceError::from(errors).into());
        };
        let client = self.manageable(&scope, client_id).await?;
        let secret = self.0.hasher.new_secret().await?;
        let issued = store::rotate(&self.0.db, client, grace, secret).await?;
        info!(client_id, by = %principal.subject, grace_secs = grace.as_secs(), "credentials rotated");
        Ok(Response::new(issued.into()))
    }

    #[instrument(skip_all, fields(client_id = %request.get_ref().client_id))]
    async fn revoke_credentials(
        &self,
        request: Request<pb::RevokeCredentialsRequest>,
    ) -> Result<Response<pb::ClientInfo>, Status> {
        let (principal, scope) = caller_in_scope(&request, Action::ManageCredentials)?;
        let mut errors = FieldErrors::new();
        let Some(client_id) = required_client_id(&request.get_ref().client_id, &mut errors) else {
            return Err(ServiceError::from(errors).into());
        };
        let client = self.manageable(&scope, client_id).await?;
        let revoked = store::revoke(&self.0.db, client).await?;
        info!(client_id, by = %principal.subject, "credentials revoked");
        Ok(Response::new(revoked.into()))
    }

    async fn list_credentials(
        &self,
        request: Request<pb::ListCredentialsRequest>,
    ) -> Result<Response<pb::ListCredentialsResponse>, Status> {
        // Listing credentials is for those who issue them, in their reach.
        let (_, scope) = caller_in_scope(&request, Action::IssueCredentials)?;
        let req = request.get_ref();
        let mut errors = FieldErrors::new();
        let of = match (optional(&req.agency_code), optional(&req.province_code)) {
            (Some(code), None) => errors
                .check("agency_code", AgencyCode::parse(code))
                .map(ClientsOf::Agency),
            (None, Some(province)) => errors
                .check("province_code", AdminUnitCode::parse(province))
                .map(ClientsOf::Province),
            _ => {
                errors.push(
                    "agency_code",
                    "give exactly one of agency_code and province_code",
                );
                None
            }
        };
        let Some(of) = of else {
            return Err(ServiceError::from(errors).into());
        };
        match &of {
            ClientsOf::Agency(code) => {
                let agency = store::get(&self.0.db, code).await?;
                scope.check(
                    Action::IssueCredentials,
                    Resource::agency(code.as_str(), &agency.province_code),
                )?;
            }
            ClientsOf::Province(province) => {
                scope.check(
                    Action::IssueCredentials,
                    Resource::Province(province.as_str()),
                )?;
            }
        }
        let clients = store::list_clients(&self.0.db, &of).await?;
        Ok(Response::new(pb::ListCredentialsResponse {
            clients: clients.into_iter().map(Into::into).collect(),
        }))
    }

    async fn verify_credentials(
        &self,
        request: Request<pb::VerifyCredentialsRequest>,
    ) -> Result<Response<pb::Principal>, Status> {
        // Unlike IssueToken, which the gateway rate-limits, this answers
        // whoever reaches the registry: without a caller it would be an
        // unlimited oracle for guessing secrets.
        authorize(
            &caller(&request)?,
            Action::VerifyCredentials,
            Resource::Global,
        )?;
        let req = request.into_inner();
        let principal = self.verify(&req.client_id, &req.client_secret).await?;
        Ok(Response::new(encode_principal(&principal)))
    }

    #[instrument(skip_all, fields(client_id = %request.get_ref().client_id))]
    async fn issue_token(
        &self,
        request: Request<pb::IssueTokenRequest>,
    ) -> Result<Response<pb::IssueTokenResponse>, Status> {
        let req = request.into_inner();
        let principal = self.verify(&req.client_id, &req.client_secret).await?;
        let (access_token, expires_in) =
            self.0.signer.sign(&principal).map_err(ServiceError::from)?;
        Ok(Response::new(pb::IssueTokenResponse {
            access_token,
            token_type: "Bearer".into(),
            expires_in,
            scope: scope_of(principal.role).to_owned(),
            principal: Some(encode_principal(&principal)),
        }))
    }
}

impl CredentialApi {
    /// The client named `client_id`, if it is within `scope` (to manage
    /// credentials): an agency's client in its province or itself, an
    /// officer in its province.
    async fn manageable(
        &self,
        scope: &chiso_runtime::policy::Scope,
        client_id: &str,
    ) -> Result<crate::entity::client::Model, ServiceError> {
        let (client, province) = store::client_to_manage(&self.0.db, client_id).await?;
        let resource = match &client.agency_code {
            Some(code) => Resource::agency(code, &province),
            None => Resource::Province(&province),
        };
        scope.check(Action::ManageCredentials, resource)?;
        Ok(client)
    }

    async fn verify(&self, client_id: &str, secret: &str) -> Result<Principal, ServiceError> {
        let mut errors = FieldErrors::new();
        if client_id.trim().is_empty() {
            errors.push("client_id", "is required");
        }
        if secret.is_empty() {
            errors.push("client_secret", "is required");
        }
        if !errors.is_empty() {
            return Err(errors.into());
        }
        let rejected = || ServiceError::Unauthenticated("unknown client id or wrong secret".into());
        let mut turn = self.0.hasher.turn().await?;
        if let Some(client) = self
            .0
            .static_clients
            .iter()
            .find(|c| c.client_id == client_id)
        {
            return if turn.verify(&client.secret_hash, secret).await? {
                Ok(Principal {
                    subject: client.client_id.clone(),
                    role: client.role,
                    agency: None,
                    province: None,
                })
            } else {
                Err(rejected())
            };
        }
        store::verify_client(&self.0.db, &mut turn, client_id, secret)
            .await?
            .ok_or_else(rejected)
    }
}

fn required_client_id<'a>(raw: &'a str, errors: &mut FieldErrors) -> Option<&'a str> {
    let id = optional(raw);
    if id.is_none() {
        errors.push("client_id", "is required");
    }
    id
}
