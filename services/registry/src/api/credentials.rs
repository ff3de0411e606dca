//! `CredentialService`: client credentials and bearer tokens.

use chiso_domain::FieldErrors;
use chiso_proto::registry::v1::{self as pb, credential_service_server::CredentialService};
use chiso_runtime::{
    ServiceError,
    auth::{Principal, Role, require},
};
use tonic::{Request, Response, Status};
use tracing::{info, instrument};

use super::{State, encode_principal, parse_code};
use crate::{secrets, store};

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
        require(&request, &[Role::Admin])?;
        let code = parse_code("agency_code", &request.get_ref().agency_code)?;
        let (client_id, client_secret) = store::issue_credentials(&self.0.db, &code).await?;
        info!(agency = %code, client_id, "credentials issued");
        Ok(Response::new(pb::IssuedCredentials {
            client_id,
            client_secret,
            agency_code: code.to_string(),
        }))
    }

    async fn verify_credentials(
        &self,
        request: Request<pb::VerifyCredentialsRequest>,
    ) -> Result<Response<pb::Principal>, Status> {
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
            principal: Some(encode_principal(&principal)),
        }))
    }
}

impl CredentialApi {
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
        if let Some(client) = self
            .0
            .static_clients
            .iter()
            .find(|c| c.client_id == client_id)
        {
            return if secrets::verify(client.secret_hash.clone(), secret.to_owned()).await? {
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
        store::verify_agency_credentials(&self.0.db, client_id, secret)
            .await?
            .ok_or_else(rejected)
    }
}
