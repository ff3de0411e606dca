//! `CredentialService`: client credentials and bearer tokens.

use std::time::Duration;

use chiso_domain::{AdminUnitCode, AgencyCode, FieldErrors, VnName};
use chiso_proto::registry::v1::{self as pb, credential_service_server::CredentialService};
use chiso_runtime::{
    ServiceError,
    auth::{Principal, Role, scope_of},
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
        let province = |errors: &mut FieldErrors, field: &str, raw: &str| {
            let p = errors.check(field, AdminUnitCode::parse(raw))?;
            if p.level() != chiso_domain::AdminLevel::Province {
                errors.push(field, format!("{p} is not a 2-digit province code"));
                return None;
            }
            Some(p)
        };
        let role = match pb::Role::try_from(req.role) {
            Ok(pb::Role::Unspecified | pb::Role::ProvinceOfficer) => Some(Role::ProvinceOfficer),
            Ok(pb::Role::Viewer) => Some(Role::Viewer),
            Ok(pb::Role::Integrator) => Some(Role::Integrator),
            _ => {
                errors.push(
                    "role",
                    "must be province_officer, viewer or integrator: agencies get credentials \
                     of their own, admins and services are configured",
                );
                None
            }
        };
        let staff = match role {
            Some(Role::Integrator) => {
                if !req.province_code.is_empty() {
                    errors.push(
                        "province_code",
                        "an integrator reads the provinces in granted_province_codes, not one \
                         province of its own",
                    );
                }
                if req.granted_province_codes.is_empty() {
                    errors.push(
                        "granted_province_codes",
                        "an integrator needs at least one province",
                    );
                }
                let mut granted = Vec::new();
                for (i, raw) in req.granted_province_codes.iter().enumerate() {
                    let field = format!("granted_province_codes[{i}]");
                    if let Some(p) = province(&mut errors, &field, raw) {
                        if granted.contains(&p) {
                            errors.push(field, format!("province {p} is listed twice"));
                        } else {
                            granted.push(p);
                        }
                    }
                }
                Some(store::Staff::Integrator(granted))
            }
            Some(role) => {
                if !req.granted_province_codes.is_empty() {
                    errors.push(
                        "granted_province_codes",
                        "only an integrator is granted provinces; an officer or a viewer acts in \
                         province_code",
                    );
                }
                province(&mut errors, "province_code", &req.province_code).map(|p| {
                    if role == Role::Viewer {
                        store::Staff::Viewer(p)
                    } else {
                        store::Staff::Officer(p)
                    }
                })
            }
            None => None,
        };
        let label = optional(&req.label).and_then(|l| errors.check("label", VnName::parse(l)));
        let Some(staff) = staff.filter(|_| errors.is_empty()) else {
            return Err(ServiceError::from(errors).into());
        };
        let secret = self.0.hasher.new_secret().await?;
        let issued = store::issue_staff_credentials(
            &self.0.db,
            &staff,
            label.map(String::from),
            &principal.subject,
            secret,
        )
        .await?;
        info!(?staff, client_id = %issued.client.client_id, "staff credentials issued");
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
        if let Some(at) = revoked.revoked_at {
            self.0.revocations.add([(revoked.client_id.clone(), at)]);
        }
        info!(client_id, by = %principal.subject, "credentials revoked");
        Ok(Response::new(revoked.into()))
    }

    async fn list_credentials(
        &self,
        request: Request<pb::ListCredentialsRequest>,
    ) -> Result<Response<pb::ListCredentialsResponse>, Status> {
        // An agency's clients are listed by whoever manages them (the agency
        // itself, its province's officers); a province's staff by those who
        // issue credentials there.
        let (principal, manage) = caller_in_scope(&request, Action::ManageCredentials)?;
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
                manage.precheck_agency(Action::ManageCredentials, code.as_str())?;
                let agency = store::get(&self.0.db, code).await?;
                manage.check(
                    Action::ManageCredentials,
                    Resource::agency(code.as_str(), &agency.province_code),
                )?;
            }
            ClientsOf::Province(province) => {
                chiso_runtime::policy::authorize(
                    &principal,
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

    async fn list_revoked_clients(
        &self,
        request: Request<pb::ListRevokedClientsRequest>,
    ) -> Result<Response<pb::ListRevokedClientsResponse>, Status> {
        // chiso's services poll this to refuse revoked clients' tokens.
        authorize(&caller(&request)?, Action::FollowFeed, Resource::Global)?;
        let as_of = chrono::Utc::now();
        let since = match optional(&request.get_ref().revoked_since) {
            Some(raw) => chrono::DateTime::parse_from_rfc3339(raw)
                .map(|t| t.with_timezone(&chrono::Utc))
                .map_err(|_| {
                    ServiceError::field(
                        "revoked_since",
                        format!("`{raw}` is not an RFC 3339 instant"),
                    )
                })?,
            // Older revocations end no token: every token they could
            // concern has expired.
            None => {
                as_of
                    - chrono::Duration::from_std(self.0.signer.ttl()).unwrap_or_default()
                    - chrono::Duration::minutes(1)
            }
        };
        let clients = store::revoked_since(&self.0.db, since).await?;
        let instant = |t: chrono::DateTime<chrono::Utc>| {
            t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
        };
        Ok(Response::new(pb::ListRevokedClientsResponse {
            clients: clients
                .into_iter()
                .map(|(client_id, at)| pb::RevokedClient {
                    client_id,
                    revoked_at: instant(at),
                })
                .collect(),
            as_of: instant(as_of),
        }))
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
            session_expires_in: i64::try_from(self.0.session_cap.as_secs()).unwrap_or(i64::MAX),
        }))
    }

    async fn renew_token(
        &self,
        request: Request<pb::RenewTokenRequest>,
    ) -> Result<Response<pb::IssueTokenResponse>, Status> {
        // The interceptor verified the token and refused a revoked client's
        // (a dissolved agency's clients are revoked with it), so what is
        // left is the session's age: a renewal carries the start over, and a
        // session ends however often it is renewed.
        let principal = caller(&request)?;
        authorize(&principal, Action::RenewOwnToken, Resource::Global)?;
        let token = request
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(chiso_runtime::auth::bearer_token)
            .ok_or_else(|| ServiceError::Unauthenticated("a bearer token is required".into()))?;
        let started = self.0.verifier.session_start(token)?;
        let cap = i64::try_from(self.0.session_cap.as_secs()).unwrap_or(i64::MAX);
        let left = started.saturating_add(cap) - chrono::Utc::now().timestamp();
        if left <= 0 {
            return Err(ServiceError::Unauthenticated(
                "the session has ended: sign in again with the secret".into(),
            )
            .into());
        }
        let (access_token, expires_in) = self
            .0
            .signer
            .sign_session(&principal, started)
            .map_err(ServiceError::from)?;
        Ok(Response::new(pb::IssueTokenResponse {
            access_token,
            token_type: "Bearer".into(),
            // The last token of a session may outlive it by its own
            // lifetime (15 minutes at most); it cannot be renewed again.
            expires_in,
            scope: scope_of(principal.role).to_owned(),
            principal: Some(encode_principal(&principal)),
            session_expires_in: left,
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
        // An integrator reads across provinces: only an admin manages it.
        let resource = match (&client.agency_code, &province) {
            (Some(code), Some(province)) => Resource::agency(code, province),
            (None, Some(province)) => Resource::Province(province),
            (_, None) => Resource::Global,
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
                    grants: std::sync::Arc::from([]),
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
