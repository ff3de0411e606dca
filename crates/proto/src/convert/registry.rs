//! `chiso.registry.v1` enums and their domain types.

use chiso_domain::{
    AdminLevel, AgencyKind, AgencyVersion, AgencyView, FieldErrors, LineageKind, LineageLink,
    NewAgency, RawAgency, RegistrationStatus, Role, date::format_date,
};
use chrono::NaiveDate;

use super::Unspecified;
use crate::registry::v1 as pb;

const KINDS: &str = "provincial_committee, department, district_committee or commune_committee";
const LEVELS: &str = "province, district or commune";
const ROLES: &str = "admin, province_officer, agency or service";
const STATUSES: &str = "pending, approved or rejected";

impl From<AgencyKind> for pb::AgencyKind {
    fn from(kind: AgencyKind) -> Self {
        match kind {
            AgencyKind::ProvincialCommittee => Self::ProvincialCommittee,
            AgencyKind::Department => Self::Department,
            AgencyKind::DistrictCommittee => Self::DistrictCommittee,
            AgencyKind::CommuneCommittee => Self::CommuneCommittee,
        }
    }
}

impl TryFrom<pb::AgencyKind> for AgencyKind {
    type Error = Unspecified;
    fn try_from(kind: pb::AgencyKind) -> Result<Self, Self::Error> {
        match kind {
            pb::AgencyKind::ProvincialCommittee => Ok(Self::ProvincialCommittee),
            pb::AgencyKind::Department => Ok(Self::Department),
            pb::AgencyKind::DistrictCommittee => Ok(Self::DistrictCommittee),
            pb::AgencyKind::CommuneCommittee => Ok(Self::CommuneCommittee),
            pb::AgencyKind::Unspecified => Err(Unspecified { expected: KINDS }),
        }
    }
}

/// A required agency kind from its wire number.
pub fn agency_kind(raw: i32) -> Result<AgencyKind, Unspecified> {
    pb::AgencyKind::try_from(raw)
        .map_err(|_| Unspecified { expected: KINDS })
        .and_then(AgencyKind::try_from)
}

/// An optional agency kind (a filter): `None` when unspecified.
pub fn agency_kind_filter(raw: i32) -> Result<Option<AgencyKind>, Unspecified> {
    match pb::AgencyKind::try_from(raw) {
        Ok(pb::AgencyKind::Unspecified) => Ok(None),
        _ => agency_kind(raw).map(Some),
    }
}

impl From<AdminLevel> for pb::AdminLevel {
    fn from(level: AdminLevel) -> Self {
        match level {
            AdminLevel::Province => Self::Province,
            AdminLevel::District => Self::District,
            AdminLevel::Commune => Self::Commune,
        }
    }
}

impl TryFrom<pb::AdminLevel> for AdminLevel {
    type Error = Unspecified;
    fn try_from(level: pb::AdminLevel) -> Result<Self, Self::Error> {
        match level {
            pb::AdminLevel::Province => Ok(Self::Province),
            pb::AdminLevel::District => Ok(Self::District),
            pb::AdminLevel::Commune => Ok(Self::Commune),
            pb::AdminLevel::Unspecified => Err(Unspecified { expected: LEVELS }),
        }
    }
}

/// A required administrative level from its wire number.
pub fn admin_level(raw: i32) -> Result<AdminLevel, Unspecified> {
    pb::AdminLevel::try_from(raw)
        .map_err(|_| Unspecified { expected: LEVELS })
        .and_then(AdminLevel::try_from)
}

/// An optional administrative level (a filter): `None` when unspecified.
pub fn admin_level_filter(raw: i32) -> Result<Option<AdminLevel>, Unspecified> {
    match pb::AdminLevel::try_from(raw) {
        Ok(pb::AdminLevel::Unspecified) => Ok(None),
        _ => admin_level(raw).map(Some),
    }
}

impl From<Role> for pb::Role {
    fn from(role: Role) -> Self {
        match role {
            Role::Admin => Self::Admin,
            Role::ProvinceOfficer => Self::ProvinceOfficer,
            Role::Agency => Self::Agency,
            Role::Service => Self::Service,
        }
    }
}

impl TryFrom<pb::Role> for Role {
    type Error = Unspecified;
    fn try_from(role: pb::Role) -> Result<Self, Self::Error> {
        match role {
            pb::Role::Admin => Ok(Self::Admin),
            pb::Role::ProvinceOfficer => Ok(Self::ProvinceOfficer),
            pb::Role::Agency => Ok(Self::Agency),
            pb::Role::Service => Ok(Self::Service),
            pb::Role::Unspecified => Err(Unspecified { expected: ROLES }),
        }
    }
}

/// A required role from its wire number.
pub fn role(raw: i32) -> Result<Role, Unspecified> {
    pb::Role::try_from(raw)
        .map_err(|_| Unspecified { expected: ROLES })
        .and_then(Role::try_from)
}

impl From<LineageKind> for pb::LineageKind {
    fn from(kind: LineageKind) -> Self {
        match kind {
            LineageKind::Merge => Self::Merge,
            LineageKind::Split => Self::Split,
        }
    }
}

impl From<RegistrationStatus> for pb::RegistrationStatus {
    fn from(status: RegistrationStatus) -> Self {
        match status {
            RegistrationStatus::Pending => Self::Pending,
            RegistrationStatus::Approved => Self::Approved,
            RegistrationStatus::Rejected => Self::Rejected,
        }
    }
}

/// The status a listing asks for: pending when unspecified.
pub fn registration_status_filter(raw: i32) -> Result<RegistrationStatus, Unspecified> {
    match pb::RegistrationStatus::try_from(raw) {
        Ok(pb::RegistrationStatus::Unspecified | pb::RegistrationStatus::Pending) => {
            Ok(RegistrationStatus::Pending)
        }
        Ok(pb::RegistrationStatus::Approved) => Ok(RegistrationStatus::Approved),
        Ok(pb::RegistrationStatus::Rejected) => Ok(RegistrationStatus::Rejected),
        Err(_) => Err(Unspecified { expected: STATUSES }),
    }
}

/// Decodes a new agency, recording errors under `prefix` (see
/// [`RawAgency::decode`]); `valid_from` defaults to `default_from`.
pub fn decode_new_agency(
    req: &pb::CreateAgencyRequest,
    prefix: &str,
    default_from: NaiveDate,
    errors: &mut FieldErrors,
) -> Option<NewAgency> {
    RawAgency {
        code: &req.code,
        admin_unit_code: &req.admin_unit_code,
        name: &req.name,
        name_en: &req.name_en,
        kind: agency_kind(req.kind).map_err(|e| e.to_string()),
        parent_code: &req.parent_code,
        valid_from: &req.valid_from,
    }
    .decode(prefix, default_from, errors)
}

/// An optional date on the wire: empty when absent.
fn optional_date(d: Option<NaiveDate>) -> String {
    d.map(format_date).unwrap_or_default()
}

impl From<AgencyView> for pb::Agency {
    fn from(a: AgencyView) -> Self {
        Self {
            kind: pb::AgencyKind::from(a.kind).into(),
            level: pb::AdminLevel::from(a.level).into(),
            code: a.code,
            admin_unit_code: a.admin_unit_code.unwrap_or_default(),
            name: a.name,
            name_en: a.name_en.unwrap_or_default(),
            parent_code: a.parent_code.unwrap_or_default(),
            province_code: a.province_code,
            valid_from: format_date(a.valid_from),
            valid_to: optional_date(a.valid_to),
        }
    }
}

impl From<AgencyVersion> for pb::AgencyVersion {
    fn from(v: AgencyVersion) -> Self {
        Self {
            name: v.name,
            name_en: v.name_en.unwrap_or_default(),
            parent_code: v.parent_code.unwrap_or_default(),
            province_code: v.province_code,
            valid_from: format_date(v.valid_from),
            valid_to: optional_date(v.valid_to),
            reorganisation_id: v.reorganisation_id.unwrap_or_default(),
            legal_basis: v.legal_basis.unwrap_or_default(),
        }
    }
}

impl From<LineageLink> for pb::LineageLink {
    fn from(l: LineageLink) -> Self {
        Self {
            predecessor_code: l.predecessor_code,
            successor_code: l.successor_code,
            kind: pb::LineageKind::from(l.kind).into(),
            effective_date: format_date(l.effective_date),
            legal_basis: l.legal_basis,
            reorganisation_id: l.reorganisation_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_domain_value_round_trips_through_the_wire() {
        for kind in AgencyKind::ALL {
            assert_eq!(agency_kind(pb::AgencyKind::from(kind) as i32), Ok(kind));
        }
        for level in [
            AdminLevel::Province,
            AdminLevel::District,
            AdminLevel::Commune,
        ] {
            assert_eq!(admin_level(pb::AdminLevel::from(level) as i32), Ok(level));
        }
        for r in Role::ALL {
            assert_eq!(role(pb::Role::from(r) as i32), Ok(r));
        }
        for status in RegistrationStatus::ALL {
            assert_eq!(
                registration_status_filter(pb::RegistrationStatus::from(status) as i32),
                Ok(status)
            );
        }
        for kind in LineageKind::ALL {
            assert_ne!(pb::LineageKind::from(kind), pb::LineageKind::Unspecified);
        }
    }

    #[test]
    fn a_new_agency_decodes_with_its_fields_named_under_the_prefix() {
        let from = NaiveDate::from_ymd_opt(2025, 7, 1).unwrap();
        let mut errors = FieldErrors::new();
        let req = pb::CreateAgencyRequest {
            code: "000.00.15.H51".into(),
            name: "Sở Thông tin".into(),
            kind: pb::AgencyKind::Department as i32,
            parent_code: "000.00.00.H51".into(),
            ..Default::default()
        };
        let new = decode_new_agency(&req, "", from, &mut errors).unwrap();
        assert_eq!((new.kind, new.valid_from), (AgencyKind::Department, from));
        let bad = pb::CreateAgencyRequest { kind: 0, ..req };
        assert!(decode_new_agency(&bad, "agency", from, &mut errors).is_none());
        assert_eq!(errors.0[0].field, "agency.kind");
        assert_eq!(
            registration_status_filter(0),
            Ok(RegistrationStatus::Pending)
        );
        assert!(registration_status_filter(9).is_err());
    }

    #[test]
    fn unspecified_and_unknown_numbers_are_errors_naming_the_choices() {
        assert_eq!(
            agency_kind(0).unwrap_err().to_string(),
            "is required: provincial_committee, department, district_committee or commune_committee"
        );
        assert!(agency_kind(99).is_err());
        assert_eq!(agency_kind_filter(0), Ok(None));
        assert!(agency_kind_filter(99).is_err());
        assert_eq!(admin_level_filter(0), Ok(None));
        assert!(role(0).is_err());
        assert!(role(7).is_err());
    }
}
