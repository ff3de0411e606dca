//! gRPC surface: decode the request into domain types, call the store, encode.

use std::sync::Arc;

use chiso_domain::{AdminUnitCode, AgencyCode, AgencyKind, FieldErrors, VnName};
use chiso_proto::registry::v1::{
    self as pb, agency_service_server::AgencyService, credential_service_server::CredentialService,
};
use chiso_runtime::{
    ServiceError,
    auth::{Principal, Role, TokenSigner, require},
};
use chrono::NaiveDate;
use sea_orm::DatabaseConnection;
use tonic::{Request, Response, Status};
use tracing::{info, instrument};

use crate::{
    entity::agency,
    secrets,
    store::{self, AgencyFilter, NewAgency},
};

/// A configured non-agency client (the bootstrap admin or a service account).
pub struct StaticClient {
    pub client_id: String,
    pub secret_hash: String,
    pub role: Role,
}

/// State shared by the registry's gRPC services.
pub struct Registry {
    pub db: DatabaseConnection,
    pub signer: TokenSigner,
    pub static_clients: Vec<StaticClient>,
}

/// `AgencyService` implementation.
#[derive(Clone)]
pub struct AgencyApi(pub Arc<Registry>);

/// `CredentialService` implementation.
#[derive(Clone)]
pub struct CredentialApi(pub Arc<Registry>);

const READERS: &[Role] = &[
    Role::Admin,
    Role::ProvinceOfficer,
    Role::Agency,
    Role::Service,
];

#[tonic::async_trait]
impl AgencyService for AgencyApi {
    #[instrument(skip_all, fields(code = %request.get_ref().code))]
    async fn create_agency(
        &self,
        request: Request<pb::CreateAgencyRequest>,
    ) -> Result<Response<pb::Agency>, Status> {
        require(&request, &[Role::Admin])?;
        let new = decode_new_agency(request.into_inner())?;
        let created = store::create_agency(&self.0.db, new).await?;
        info!(agency = %created.code, province = %created.province_code, "agency registered");
        Ok(Response::new(encode_agency(created)))
    }

    async fn get_agency(
        &self,
        request: Request<pb::GetAgencyRequest>,
    ) -> Result<Response<pb::Agency>, Status> {
        require(&request, READERS)?;
        let code = parse_code("code", &request.get_ref().code)?;
        let found = store::get(&self.0.db, &code).await?;
        Ok(Response::new(encode_agency(found)))
    }

    async fn list_agencies(
        &self,
        request: Request<pb::ListAgenciesRequest>,
    ) -> Result<Response<pb::ListAgenciesResponse>, Status> {
        require(&request, READERS)?;
        let req = request.into_inner();
        let mut errors = FieldErrors::new();
        let filter = AgencyFilter {
            parent_code: optional(&req.parent_code)
                .and_then(|c| errors.check("parent_code", AgencyCode::parse(c))),
            province_code: optional(&req.province_code)
                .and_then(|c| errors.check("province_code", AdminUnitCode::parse(c))),
        };
        if !errors.is_empty() {
            return Err(ServiceError::from(errors).into());
        }
        let agencies = store::list(&self.0.db, &filter).await?;
        Ok(Response::new(pb::ListAgenciesResponse {
            agencies: agencies.into_iter().map(encode_agency).collect(),
        }))
    }
}

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

fn optional(s: &str) -> Option<&str> {
    let s = s.trim();
    (!s.is_empty()).then_some(s)
}

fn parse_code(field: &str, raw: &str) -> Result<AgencyCode, ServiceError> {
    AgencyCode::parse(raw).map_err(|e| ServiceError::field(field, e.to_string()))
}

fn decode_kind(kind: i32) -> Result<AgencyKind, String> {
    match pb::AgencyKind::try_from(kind) {
        Ok(pb::AgencyKind::ProvincialCommittee) => Ok(AgencyKind::ProvincialCommittee),
        Ok(pb::AgencyKind::Department) => Ok(AgencyKind::Department),
        Ok(pb::AgencyKind::DistrictCommittee) => Ok(AgencyKind::DistrictCommittee),
        Ok(pb::AgencyKind::CommuneCommittee) => Ok(AgencyKind::CommuneCommittee),
        _ => Err("is required: provincial_committee, department, district_committee or commune_committee".into()),
    }
}

fn encode_kind(kind: &str) -> pb::AgencyKind {
    match kind.parse() {
        Ok(AgencyKind::ProvincialCommittee) => pb::AgencyKind::ProvincialCommittee,
        Ok(AgencyKind::Department) => pb::AgencyKind::Department,
        Ok(AgencyKind::DistrictCommittee) => pb::AgencyKind::DistrictCommittee,
        Ok(AgencyKind::CommuneCommittee) => pb::AgencyKind::CommuneCommittee,
        Err(_) => pb::AgencyKind::Unspecified,
    }
}

fn encode_level(level: &str) -> pb::AdminLevel {
    match level {
        "province" => pb::AdminLevel::Province,
        "district" => pb::AdminLevel::District,
        "commune" => pb::AdminLevel::Commune,
        _ => pb::AdminLevel::Unspecified,
    }
}

fn decode_new_agency(req: pb::CreateAgencyRequest) -> Result<NewAgency, ServiceError> {
    let mut errors = FieldErrors::new();
    let code = errors.check("code", AgencyCode::parse(&req.code));
    let admin_unit_code = optional(&req.admin_unit_code)
        .and_then(|c| errors.check("admin_unit_code", AdminUnitCode::parse(c)));
    let name = errors.check("name", VnName::parse(&req.name));
    let name_en = optional(&req.name_en).and_then(|n| errors.check("name_en", VnName::parse(n)));
    let kind = errors.check("kind", decode_kind(req.kind));
    let parent_code =
        optional(&req.parent_code).and_then(|c| errors.check("parent_code", AgencyCode::parse(c)));
    let valid_from = match optional(&req.valid_from) {
        None => Some(chrono::Utc::now().date_naive()),
        Some(d) => errors.check(
            "valid_from",
            NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .map_err(|_| format!("`{d}` is not a date of the form YYYY-MM-DD")),
        ),
    };
    match (code, name, kind, valid_from) {
        (Some(code), Some(name), Some(kind), Some(valid_from)) if errors.is_empty() => {
            Ok(NewAgency {
                code,
                admin_unit_code,
                name,
                name_en,
                kind,
                parent_code,
                valid_from,
            })
        }
        _ => Err(errors.into()),
    }
}

fn encode_agency(m: agency::Model) -> pb::Agency {
    pb::Agency {
        kind: encode_kind(&m.kind).into(),
        level: encode_level(&m.level).into(),
        code: m.code,
        admin_unit_code: m.admin_unit_code.unwrap_or_default(),
        name: m.name,
        name_en: m.name_en.unwrap_or_default(),
        parent_code: m.parent_code.unwrap_or_default(),
        province_code: m.province_code,
        valid_from: m.valid_from.to_string(),
        valid_to: m.valid_to.map(|d| d.to_string()).unwrap_or_default(),
    }
}

fn encode_principal(p: &Principal) -> pb::Principal {
    let role = match p.role {
        Role::Admin => pb::Role::Admin,
        Role::ProvinceOfficer => pb::Role::ProvinceOfficer,
        Role::Agency => pb::Role::Agency,
        Role::Service => pb::Role::Service,
    };
    pb::Principal {
        subject: p.subject.clone(),
        role: role.into(),
        agency_code: p
            .agency
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        province_code: p
            .province
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
    }
}
