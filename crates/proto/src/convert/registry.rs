//! `chiso.registry.v1` enums and their domain types.

use chiso_domain::{
    AdminLevel, AgencyCode, AgencyKind, AgencyVersion, AgencyView, Email, FieldErrors, LineageKind,
    LineageLink, NewAgency, RawAgency, RegistrationStatus, Role, VnName,
    credentials::{ClientInfo, IssuedCredentials, SigningKey},
    date::{format_date, parse_date},
    registration::{Filing, Registration, is_phone_number},
    reorganisation::{Operation, Plan, Successor},
    signature,
};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};

use super::Unspecified;
use crate::registry::v1 as pb;

const KINDS: &str = "provincial_committee, department, district_committee or commune_committee";
const LEVELS: &str = "province, district or commune";
const ROLES: &str = "admin, province_officer, viewer, agency_reporter, integrator or service";
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
            Role::Viewer => Self::Viewer,
            Role::AgencyReporter => Self::AgencyReporter,
            Role::Integrator => Self::Integrator,
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
            pb::Role::Viewer => Ok(Self::Viewer),
            pb::Role::AgencyReporter => Ok(Self::AgencyReporter),
            pb::Role::Integrator => Ok(Self::Integrator),
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

/// An instant on the wire: RFC 3339 in UTC, to the second.
fn instant(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl From<ClientInfo> for pb::ClientInfo {
    fn from(c: ClientInfo) -> Self {
        Self {
            client_id: c.client_id,
            role: pb::Role::from(c.role).into(),
            agency_code: c.agency_code.unwrap_or_default(),
            province_code: c.province_code.unwrap_or_default(),
            label: c.label.unwrap_or_default(),
            created_at: instant(c.created_at),
            revoked_at: c.revoked_at.map(instant).unwrap_or_default(),
            active_secrets: i32::try_from(c.active_secrets).unwrap_or(i32::MAX),
            granted_province_codes: c.granted_provinces,
        }
    }
}

impl From<IssuedCredentials> for pb::IssuedCredentials {
    fn from(issued: IssuedCredentials) -> Self {
        let c = issued.client;
        Self {
            client_id: c.client_id,
            client_secret: issued.secret,
            agency_code: c.agency_code.unwrap_or_default(),
            role: pb::Role::from(c.role).into(),
            province_code: c.province_code.unwrap_or_default(),
            previous_secret_expires_at: issued.previous_expire_at.map(instant).unwrap_or_default(),
            granted_province_codes: c.granted_provinces,
        }
    }
}

impl From<SigningKey> for pb::SigningKey {
    fn from(k: SigningKey) -> Self {
        // Key instants carry milliseconds: a signature's time is compared with them.
        let instant = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Millis, true);
        Self {
            key_id: k.key_id,
            agency_code: k.agency_code,
            algorithm: "ed25519".into(),
            public_key: k.public_key,
            label: k.label.unwrap_or_default(),
            registered_at: instant(k.registered_at),
            registered_by: k.registered_by,
            revoked_at: k.revoked_at.map(instant).unwrap_or_default(),
            revoked_by: k.revoked_by.unwrap_or_default(),
            revocation_reason: k.revocation_reason.unwrap_or_default(),
        }
    }
}

/// A signing key from the registry, as the signature check needs it. The
/// registry stored it after its own checks, so an error means a corrupt or
/// foreign answer.
pub fn decode_signing_key(k: &pb::SigningKey) -> Result<signature::SigningKey, FieldErrors> {
    use base64::{Engine, engine::general_purpose::STANDARD};
    let mut errors = FieldErrors::new();
    let agency = errors.check("agency_code", AgencyCode::parse(&k.agency_code));
    let public_key: Option<[u8; 32]> = STANDARD
        .decode(k.public_key.trim())
        .ok()
        .and_then(|b| b.try_into().ok());
    if public_key.is_none() {
        errors.push("public_key", "is not standard base64 of 32 bytes");
    }
    let instant = |raw: &str| DateTime::parse_from_rfc3339(raw).map(|t| t.with_timezone(&Utc));
    let registered_at = errors.check("registered_at", instant(&k.registered_at));
    let revoked_at = match k.revoked_at.trim() {
        "" => Some(None),
        raw => errors.check("revoked_at", instant(raw)).map(Some),
    };
    match (agency, public_key, registered_at, revoked_at) {
        (Some(agency), Some(public_key), Some(registered_at), Some(revoked_at))
            if errors.is_empty() =>
        {
            Ok(signature::SigningKey {
                key_id: k.key_id.clone(),
                agency,
                public_key,
                registered_at,
                revoked_at,
            })
        }
        _ => Err(errors),
    }
}

impl From<Registration> for pb::RegistrationRequest {
    fn from(r: Registration) -> Self {
        Self {
            id: r.id,
            agency: Some(pb::CreateAgencyRequest {
                kind: pb::AgencyKind::from(r.kind).into(),
                code: r.code,
                admin_unit_code: r.admin_unit_code.unwrap_or_default(),
                name: r.name,
                name_en: r.name_en.unwrap_or_default(),
                parent_code: r.parent_code.unwrap_or_default(),
                valid_from: format_date(r.valid_from),
            }),
            province_code: r.province_code,
            contact: Some(pb::Contact {
                name: r.contact_name,
                email: r.contact_email,
                phone: r.contact_phone.unwrap_or_default(),
            }),
            note: r.note.unwrap_or_default(),
            status: pb::RegistrationStatus::from(r.status).into(),
            filed_at: instant(r.filed_at),
            decided_at: r.decided_at.map(instant).unwrap_or_default(),
            decided_by: r.decided_by.unwrap_or_default(),
            reason: r.reason.unwrap_or_default(),
            client_id: r.client_id.unwrap_or_default(),
        }
    }
}

/// A trimmed field, or `None` when blank.
fn optional(s: &str) -> Option<&str> {
    let s = s.trim();
    (!s.is_empty()).then_some(s)
}

/// Decodes a reorganisation decision, naming every bad field
/// (`operations[i].…`); successors exist from the effective date.
pub fn decode_plan(req: pb::ReorganiseRequest) -> Result<Plan, FieldErrors> {
    let mut errors = FieldErrors::new();
    let effective_date = match optional(&req.effective_date) {
        Some(d) => errors.check("effective_date", parse_date(d)),
        None => {
            errors.push("effective_date", "is required");
            None
        }
    };
    let legal_basis = errors.check(
        "legal_basis",
        VnName::parse(&req.legal_basis).map_err(|e| match e {
            chiso_domain::text::NameError::Empty => {
                "is required: the number of the decision, e.g. Nghị quyết 202/2025/QH15".to_owned()
            }
            e => e.to_string(),
        }),
    );
    let note = optional(&req.note).map(str::to_owned);
    if note.as_ref().is_some_and(|n| n.chars().count() > 2000) {
        errors.push("note", "must be at most 2000 characters");
    }
    if req.operations.is_empty() {
        errors.push(
            "operations",
            "at least one operation is required: rename, move, merge, split or dissolve",
        );
    }
    // Successors exist from the effective date; with a bad date, check the rest anyway.
    let date = effective_date.unwrap_or_default();
    let mut operations = Vec::new();
    for (i, op) in req.operations.iter().enumerate() {
        let prefix = format!("operations[{i}]");
        if let Some(op) = decode_operation(op, &prefix, date, effective_date.is_some(), &mut errors)
        {
            operations.push(op);
        }
    }
    match (effective_date, legal_basis) {
        (Some(effective_date), Some(legal_basis)) if errors.is_empty() => Ok(Plan {
            effective_date,
            legal_basis: legal_basis.to_string(),
            note,
            operations,
        }),
        _ => Err(errors),
    }
}

fn decode_operation(
    op: &pb::ReorganisationOperation,
    prefix: &str,
    date: NaiveDate,
    date_known: bool,
    errors: &mut FieldErrors,
) -> Option<Operation> {
    use pb::reorganisation_operation::Operation as Op;
    let field = |f: &str| format!("{prefix}.{f}");
    let code =
        |errors: &mut FieldErrors, f: String, raw: &str| errors.check(f, AgencyCode::parse(raw));
    match &op.operation {
        None => {
            errors.push(
                prefix,
                "names no operation: rename, move, merge, split or dissolve",
            );
            None
        }
        Some(Op::Rename(r)) => {
            let c = code(errors, field("code"), &r.code);
            let name = errors.check(field("name"), VnName::parse(&r.name));
            let name_en =
                optional(&r.name_en).and_then(|n| errors.check(field("name_en"), VnName::parse(n)));
            Some(Operation::Rename {
                code: c?,
                name: name?,
                name_en,
            })
        }
        Some(Op::Move(m)) => {
            let c = code(errors, field("code"), &m.code);
            let parent = code(errors, field("parent_code"), &m.parent_code);
            Some(Operation::Move {
                code: c?,
                parent_code: parent?,
            })
        }
        Some(Op::Merge(m)) => {
            if m.source_codes.is_empty() {
                errors.push(
                    field("source_codes"),
                    "at least one agency to merge is required",
                );
            }
            let sources: Vec<Option<AgencyCode>> = m
                .source_codes
                .iter()
                .enumerate()
                .map(|(j, raw)| code(errors, field(&format!("source_codes[{j}]")), raw))
                .collect();
            let into = match &m.into {
                Some(s) => decode_successor(s, &field("into"), date, date_known, errors),
                None => {
                    errors.push(
                        field("into"),
                        "is required: an existing_code or a new_agency",
                    );
                    None
                }
            };
            Some(Operation::Merge {
                sources: sources.into_iter().collect::<Option<_>>()?,
                into: into?,
            })
        }
        Some(Op::Split(s)) => {
            let c = code(errors, field("code"), &s.code);
            if s.into.len() < 2 {
                errors.push(field("into"), "a split needs at least two successors");
            }
            let into: Vec<Option<Successor>> = s
                .into
                .iter()
                .enumerate()
                .map(|(j, t)| {
                    decode_successor(t, &field(&format!("into[{j}]")), date, date_known, errors)
                })
                .collect();
            Some(Operation::Split {
                code: c?,
                into: into.into_iter().collect::<Option<_>>()?,
            })
        }
        Some(Op::Dissolve(d)) => Some(Operation::Dissolve {
            code: code(errors, field("code"), &d.code)?,
        }),
    }
}

fn decode_successor(
    s: &pb::Successor,
    prefix: &str,
    date: NaiveDate,
    date_known: bool,
    errors: &mut FieldErrors,
) -> Option<Successor> {
    use pb::successor::Target;
    match &s.target {
        Some(Target::ExistingCode(c)) => errors
            .check(format!("{prefix}.existing_code"), AgencyCode::parse(c))
            .map(Successor::Existing),
        Some(Target::NewAgency(new)) => {
            let new_prefix = format!("{prefix}.new_agency");
            let decoded = decode_new_agency(new, &new_prefix, date, errors)?;
            if date_known && decoded.valid_from != date {
                errors.push(
                    format!("{new_prefix}.valid_from"),
                    format!(
                        "a successor exists from the effective date {date}; leave valid_from empty"
                    ),
                );
                return None;
            }
            Some(Successor::New(decoded))
        }
        None => {
            errors.push(prefix, "is required: an existing_code or a new_agency");
            None
        }
    }
}

/// Decodes a registration request filed from `from`; the agency's
/// `valid_from` defaults to `today`.
pub fn decode_filing(
    req: pb::FileRegistrationRequest,
    from: &str,
    today: NaiveDate,
) -> Result<Filing, FieldErrors> {
    let mut errors = FieldErrors::new();
    let agency = match &req.agency {
        Some(a) => decode_new_agency(a, "agency", today, &mut errors),
        None => {
            errors.push("agency", "is required");
            None
        }
    };
    let contact = req.contact.unwrap_or_default();
    let name = errors.check("contact.name", VnName::parse(&contact.name));
    let email = errors.check("contact.email", Email::parse(&contact.email));
    let phone = optional(&contact.phone).map(str::to_owned);
    if let Some(p) = &phone
        && !is_phone_number(p)
    {
        errors.push(
            "contact.phone",
            format!("`{p}` is not a telephone number like 0255 3822 123 or +84 255 3822 123"),
        );
    }
    let note = optional(&req.note).map(str::to_owned);
    if note.as_ref().is_some_and(|n| n.chars().count() > 2000) {
        errors.push("note", "must be at most 2000 characters");
    }
    match (agency, name, email) {
        (Some(agency), Some(contact_name), Some(contact_email)) if errors.is_empty() => {
            Ok(Filing {
                agency,
                contact_name,
                contact_email,
                contact_phone: phone,
                note,
                filed_from: from.to_owned(),
            })
        }
        _ => Err(errors),
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

    #[test]
    fn a_plan_names_every_missing_part_and_each_bad_operation() {
        let errors = decode_plan(pb::ReorganiseRequest {
            operations: vec![pb::ReorganisationOperation::default()],
            ..Default::default()
        })
        .unwrap_err();
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["effective_date", "legal_basis", "operations[0]"]);
        let plan = decode_plan(pb::ReorganiseRequest {
            effective_date: "2025-07-01".into(),
            legal_basis: "Nghị quyết 202/2025/QH15".into(),
            operations: vec![pb::ReorganisationOperation {
                operation: Some(pb::reorganisation_operation::Operation::Dissolve(
                    pb::DissolveOperation {
                        code: "000.00.24.H51".into(),
                    },
                )),
            }],
            ..Default::default()
        })
        .unwrap();
        assert_eq!(
            plan.effective_date,
            NaiveDate::from_ymd_opt(2025, 7, 1).unwrap()
        );
        assert!(matches!(&plan.operations[..], [Operation::Dissolve { .. }]));
    }

    #[test]
    fn a_client_keeps_its_role_and_instants_are_utc_seconds() {
        let at = DateTime::parse_from_rfc3339("2025-07-01T08:30:00.250+07:00")
            .unwrap()
            .with_timezone(&Utc);
        for r in Role::ALL {
            let info = pb::ClientInfo::from(ClientInfo {
                client_id: "c1".into(),
                role: r,
                agency_code: None,
                province_code: Some("51".into()),
                label: None,
                created_at: at,
                revoked_at: None,
                active_secrets: 2,
                granted_provinces: vec!["51".into(), "44".into()],
            });
            assert_eq!(info.granted_province_codes, ["51", "44"]);
            assert_eq!(info.role, pb::Role::from(r) as i32, "{r}");
            assert_eq!(info.created_at, "2025-07-01T01:30:00Z");
            assert_eq!(info.revoked_at, "");
        }
    }
}
