//! `RegistrationService`: requests filed without a token, decided by officers.

use std::net::{IpAddr, Ipv4Addr};

use chiso_domain::{AdminUnitCode, FieldErrors, VnName, registration::Registration, today};
use chiso_proto::{
    convert::registry::{decode_filing, registration_status_filter},
    registry::v1::{self as pb, registration_service_server::RegistrationService},
};
use chiso_runtime::{
    ServiceError,
    limit::{TOO_MANY_REGISTRATIONS, refused},
    peer::grpc_client_address,
    policy::{Action, Resource, Scope, caller_in_scope},
};
use tonic::{Request, Response, Status};
use tracing::{info, instrument, warn};

use super::{State, optional};
use crate::store::{self, RegistrationView};

/// `RegistrationService` implementation.
#[derive(Clone)]
pub struct RegistrationApi(pub State);

#[tonic::async_trait]
impl RegistrationService for RegistrationApi {
    #[instrument(skip_all, fields(code = %request.get_ref().agency.as_ref().map(|a| a.code.as_str()).unwrap_or("")))]
    async fn file_registration(
        &self,
        request: Request<pb::FileRegistrationRequest>,
    ) -> Result<Response<pb::RegistrationRequest>, Status> {
        // Unknown only on an in-memory transport: every such caller shares one allowance.
        let from = grpc_client_address(&request, &self.0.trusted_proxies)
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        if let Err(wait) = self.0.registration_limit.take(&from) {
            warn!(%from, "registration request refused by the rate limit");
            return Err(refused(TOO_MANY_REGISTRATIONS, wait).into());
        }
        let filing = decode_filing(request.into_inner(), &from.to_string(), today())
            .map_err(ServiceError::from)?;
        let filed = store::file(&self.0.db, filing).await?;
        let r = &filed.request;
        info!(id = %r.id, agency = %r.code, province = %r.province_code, "registration requested");
        Ok(Response::new(encode_registration(filed)))
    }

    async fn list_registrations(
        &self,
        request: Request<pb::ListRegistrationsRequest>,
    ) -> Result<Response<pb::ListRegistrationsResponse>, Status> {
        let (_, scope) = caller_in_scope(&request, Action::ReviewRegistrations)?;
        let req = request.get_ref();
        let mut errors = FieldErrors::new();
        let status = errors.check("status", registration_status_filter(req.status));
        let province = optional(&req.province_code)
            .and_then(|p| errors.check("province_code", AdminUnitCode::parse(p)));
        let Some(status) = status.filter(|_| errors.is_empty()) else {
            return Err(ServiceError::from(errors).into());
        };
        // Without a province, an officer sees their own.
        let province = match province {
            Some(p) => {
                scope.check(Action::ReviewRegistrations, Resource::Province(p.as_str()))?;
                Some(p)
            }
            None => scope.province().cloned(),
        };
        let found = store::list_registrations(&self.0.db, status, province.as_ref()).await?;
        Ok(Response::new(pb::ListRegistrationsResponse {
            registrations: found.into_iter().map(encode_registration).collect(),
        }))
    }

    async fn get_registration(
        &self,
        request: Request<pb::GetRegistrationRequest>,
    ) -> Result<Response<pb::RegistrationRequest>, Status> {
        let (_, scope) = caller_in_scope(&request, Action::ReviewRegistrations)?;
        let id = required_id(&request.get_ref().id)?;
        let found = self.reviewable(&scope, id).await?;
        Ok(Response::new(encode_registration(found)))
    }

    #[instrument(skip_all, fields(id = %request.get_ref().id))]
    async fn approve_registration(
        &self,
        request: Request<pb::ApproveRegistrationRequest>,
    ) -> Result<Response<pb::ApprovedRegistration>, Status> {
        let (principal, scope) = caller_in_scope(&request, Action::ReviewRegistrations)?;
        let id = required_id(&request.get_ref().id)?;
        self.reviewable(&scope, id).await?;
        let secret = self.0.hasher.new_secret().await?;
        let (decided, agency, issued) =
            store::approve(&self.0.db, id, &scope, &principal.subject, secret).await?;
        info!(id, agency = %agency.code, by = %principal.subject, "registration approved");
        Ok(Response::new(pb::ApprovedRegistration {
            registration: Some(encode_registration(decided)),
            agency: Some(agency.into()),
            credentials: Some(issued.into()),
        }))
    }

    #[instrument(skip_all, fields(id = %request.get_ref().id))]
    async fn reject_registration(
        &self,
        request: Request<pb::RejectRegistrationRequest>,
    ) -> Result<Response<pb::RegistrationRequest>, Status> {
        let (principal, scope) = caller_in_scope(&request, Action::ReviewRegistrations)?;
        let req = request.get_ref();
        let mut errors = FieldErrors::new();
        if optional(&req.id).is_none() {
            errors.push("id", "is required");
        }
        let reason = match VnName::parse(&req.reason) {
            Ok(r) => Some(r),
            Err(chiso_domain::text::NameError::Empty) => {
                errors.push(
                    "reason",
                    "is required: say why, for the agency to correct it",
                );
                None
            }
            Err(e) => {
                errors.push("reason", e.to_string());
                None
            }
        };
        let Some(reason) = reason.filter(|_| errors.is_empty()) else {
            return Err(ServiceError::from(errors).into());
        };
        self.reviewable(&scope, req.id.trim()).await?;
        let decided = store::reject(
            &self.0.db,
            req.id.trim(),
            reason.as_str(),
            &principal.subject,
        )
        .await?;
        info!(id = %decided.request.id, by = %principal.subject, "registration rejected");
        Ok(Response::new(encode_registration(decided)))
    }
}

impl RegistrationApi {
    /// A request whose province `scope` reaches (its province never changes,
    /// so deciding on it later in a transaction stays authorized).
    async fn reviewable(&self, scope: &Scope, id: &str) -> Result<RegistrationView, ServiceError> {
        let found = store::get_registration(&self.0.db, id).await?;
        scope.check(
            Action::ReviewRegistrations,
            Resource::Province(&found.request.province_code),
        )?;
        Ok(found)
    }
}

fn required_id(raw: &str) -> Result<&str, ServiceError> {
    optional(raw).ok_or_else(|| ServiceError::field("id", "is required"))
}

fn encode_registration(view: RegistrationView) -> pb::RegistrationRequest {
    Registration::from(view).into()
}
