//! gRPC surface: decode the request into domain types, call the store, encode.

mod agencies;
mod credentials;
mod registrations;
mod signing_keys;

use std::sync::Arc;

use chiso_domain::{AdminLevel, AdminUnitCode, AgencyCode, AgencyKind, FieldErrors, VnName};
use chiso_proto::registry::v1 as pb;
use chiso_runtime::{
    ServiceError,
    auth::{Principal, Role, TokenSigner},
};
use chrono::NaiveDate;
use sea_orm::DatabaseConnection;

use crate::store::{AgencyView, NewAgency, Scope};

pub use agencies::AgencyApi;
pub use credentials::CredentialApi;
pub use registrations::RegistrationApi;
pub use signing_keys::SigningKeyApi;

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
    /// How long a rotated secret keeps working by default.
    pub rotation_grace: std::time::Duration,
    /// Limits registration requests per client address.
    pub registration_limit: crate::limit::RegistrationLimit,
    /// Whether the client address may come from `x-forwarded-for`.
    pub trust_forwarded_for: bool,
    /// Latest agency-feed sequence number written by this process.
    pub feed_head: tokio::sync::watch::Sender<i64>,
    /// What open `WatchAgencies` streams follow.
    pub follow: chiso_runtime::feed::Follow,
}

impl Registry {
    /// Wakes `WatchAgencies` streams after a write; they also poll, so a
    /// failure here only delays them.
    pub async fn feed_written(&self) {
        if let Ok(head) = crate::store::agency_feed_head(&self.db).await {
            self.feed_head.send_replace(head);
        }
    }
}

/// Anyone with a token may read the tree.
const READERS: &[Role] = &[
    Role::Admin,
    Role::ProvinceOfficer,
    Role::Agency,
    Role::Service,
];

/// Those who may change the tree: admins everywhere, officers in their province.
const WRITERS: &[Role] = &[Role::Admin, Role::ProvinceOfficer];

/// Where a writer may make changes.
fn scope_of(principal: &Principal) -> Result<Scope, ServiceError> {
    match (principal.role, &principal.province) {
        (Role::Admin, _) => Ok(Scope::Everywhere),
        (Role::ProvinceOfficer, Some(province)) => Ok(Scope::Province(province.clone())),
        _ => Err(ServiceError::PermissionDenied(format!(
            "a {} may not change the organisation tree",
            principal.role.as_str()
        ))),
    }
}

fn optional(s: &str) -> Option<&str> {
    let s = s.trim();
    (!s.is_empty()).then_some(s)
}

fn parse_code(field: &str, raw: &str) -> Result<AgencyCode, ServiceError> {
    AgencyCode::parse(raw).map_err(|e| ServiceError::field(field, e.to_string()))
}

fn parse_date(raw: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .map_err(|_| format!("`{}` is not a date of the form YYYY-MM-DD", raw.trim()))
}

/// An optional date field: `None` when empty.
fn optional_date(errors: &mut FieldErrors, field: &str, raw: &str) -> Option<NaiveDate> {
    optional(raw).and_then(|d| errors.check(field, parse_date(d)))
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

/// An optional kind filter: `None` when unspecified.
fn decode_kind_filter(kind: i32) -> Result<Option<AgencyKind>, String> {
    match pb::AgencyKind::try_from(kind) {
        Ok(pb::AgencyKind::Unspecified) => Ok(None),
        _ => decode_kind(kind).map(Some),
    }
}

fn decode_level_filter(level: i32) -> Result<Option<AdminLevel>, String> {
    match pb::AdminLevel::try_from(level) {
        Ok(pb::AdminLevel::Unspecified) => Ok(None),
        Ok(pb::AdminLevel::Province) => Ok(Some(AdminLevel::Province)),
        Ok(pb::AdminLevel::District) => Ok(Some(AdminLevel::District)),
        Ok(pb::AdminLevel::Commune) => Ok(Some(AdminLevel::Commune)),
        Err(_) => Err(format!(
            "{level} is not a level: province, district or commune"
        )),
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

/// Decodes a new agency, recording errors under `prefix`; `valid_from`
/// defaults to `default_from`.
fn decode_new_agency(
    req: &pb::CreateAgencyRequest,
    prefix: &str,
    default_from: NaiveDate,
    errors: &mut FieldErrors,
) -> Option<NewAgency> {
    let field = |f: &str| crate::store::at(prefix, f);
    let code = errors.check(field("code"), AgencyCode::parse(&req.code));
    let admin_unit_code = optional(&req.admin_unit_code)
        .and_then(|c| errors.check(field("admin_unit_code"), AdminUnitCode::parse(c)));
    let name = errors.check(field("name"), VnName::parse(&req.name));
    let name_en =
        optional(&req.name_en).and_then(|n| errors.check(field("name_en"), VnName::parse(n)));
    let kind = errors.check(field("kind"), decode_kind(req.kind));
    let parent_code = optional(&req.parent_code)
        .and_then(|c| errors.check(field("parent_code"), AgencyCode::parse(c)));
    let valid_from = match optional(&req.valid_from) {
        None => Some(default_from),
        Some(d) => errors.check(field("valid_from"), parse_date(d)),
    };
    Some(NewAgency {
        code: code?,
        admin_unit_code,
        name: name?,
        name_en,
        kind: kind?,
        parent_code,
        valid_from: valid_from?,
    })
}

fn date_string(d: Option<NaiveDate>) -> String {
    d.map(|d| d.to_string()).unwrap_or_default()
}

fn encode_agency(a: AgencyView) -> pb::Agency {
    pb::Agency {
        kind: encode_kind(&a.kind).into(),
        level: encode_level(&a.level).into(),
        code: a.code,
        admin_unit_code: a.admin_unit_code.unwrap_or_default(),
        name: a.name,
        name_en: a.name_en.unwrap_or_default(),
        parent_code: a.parent_code.unwrap_or_default(),
        province_code: a.province_code,
        valid_from: a.valid_from.to_string(),
        valid_to: date_string(a.valid_to),
    }
}

fn encode_role(role: Role) -> pb::Role {
    match role {
        Role::Admin => pb::Role::Admin,
        Role::ProvinceOfficer => pb::Role::ProvinceOfficer,
        Role::Agency => pb::Role::Agency,
        Role::Service => pb::Role::Service,
    }
}

fn encode_principal(p: &Principal) -> pb::Principal {
    pb::Principal {
        subject: p.subject.clone(),
        role: encode_role(p.role).into(),
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

/// Shared by every gRPC service of the registry.
type State = Arc<Registry>;
