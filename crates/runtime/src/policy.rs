//! The one authorization policy. Every service asks it, in its api layer,
//! whether a caller may do an [`Action`] to a [`Resource`]; no service keeps
//! role lists or permission checks of its own, so a gRPC client that bypasses
//! the gateway gets exactly what REST would give it.
//!
//! The rules are one table ([`grant`]): for each role and action, how far the
//! caller reaches — nowhere, its own agency, its own province, or everywhere.

use std::{fmt, sync::Arc};

use chiso_domain::{AdminUnitCode, AgencyCode};
use tonic::Request;

use crate::{
    ServiceError,
    auth::{Principal, Role},
};

/// Something a caller asks to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Read the organisation tree: lists, subtrees.
    ReadTree,
    /// Read one agency's record and lineage.
    ReadAgency,
    /// Read where a change feed stands (`GetAgencyFeedHead`), without its entries.
    ReadFeedHead,
    /// Create agencies, reorganise, import.
    ChangeTree,
    /// List, approve and reject registration requests.
    ReviewRegistrations,
    /// Issue credentials to an agency.
    IssueCredentials,
    /// Rotate or revoke a client's credentials.
    ManageCredentials,
    /// Create province officers.
    CreateOfficers,
    /// Read an agency's signing keys.
    ReadSigningKeys,
    /// Register or revoke an agency's signing keys.
    ManageSigningKeys,
    /// Follow a change feed or read its head (other chiso services).
    FollowFeed,
    /// Read the catalogue: data elements and indicators.
    ReadCatalogue,
    /// Submit a report for an agency.
    SubmitReport,
    /// Read a report.
    ReadReport,
    /// Read aggregates.
    ReadAggregates,
    /// Create, change and retire data elements, indicators, rules and forms.
    ManageCatalogue,
    /// Accept or return a submitted report, or unlock a locked one.
    ReviewReport,
    /// Enter a report received on paper with the date it was received.
    EnterPaperReport,
    /// Check another client's id and secret (`VerifyCredentials`): an
    /// oracle for guessing secrets, so only for chiso's own services.
    VerifyCredentials,
    /// Exchange one's own live token for a fresh one (`RenewToken`): every
    /// role, since it only ever concerns the caller's own token.
    RenewOwnToken,
}

impl Action {
    /// Every action, for tables and tests.
    pub const ALL: [Action; 20] = [
        Action::ReadTree,
        Action::ReadAgency,
        Action::ReadFeedHead,
        Action::ChangeTree,
        Action::ReviewRegistrations,
        Action::IssueCredentials,
        Action::ManageCredentials,
        Action::CreateOfficers,
        Action::ReadSigningKeys,
        Action::ManageSigningKeys,
        Action::FollowFeed,
        Action::ReadCatalogue,
        Action::SubmitReport,
        Action::ReadReport,
        Action::ReadAggregates,
        Action::ManageCatalogue,
        Action::ReviewReport,
        Action::EnterPaperReport,
        Action::VerifyCredentials,
        Action::RenewOwnToken,
    ];

    /// What the action does, for messages ("may not {describe}").
    pub fn describe(self) -> &'static str {
        match self {
            Self::ReadTree => "read the organisation tree",
            Self::ReadAgency => "read this agency's record",
            Self::ReadFeedHead => "read where a change feed stands",
            Self::ChangeTree => "change the organisation tree",
            Self::ReviewRegistrations => "review registration requests",
            Self::IssueCredentials => "issue credentials",
            Self::ManageCredentials => "manage these credentials",
            Self::CreateOfficers => "create province officers",
            Self::ReadSigningKeys => "read these signing keys",
            Self::ManageSigningKeys => "manage these signing keys",
            Self::FollowFeed => "follow a change feed",
            Self::ReadCatalogue => "read the catalogue",
            Self::SubmitReport => "submit this report",
            Self::ReadReport => "read this report",
            Self::ReadAggregates => "read aggregates",
            Self::ManageCatalogue => "change the catalogue",
            Self::ReviewReport => "review this report",
            Self::EnterPaperReport => "enter a paper report for this agency",
            Self::VerifyCredentials => "check another client's credentials",
            Self::RenewOwnToken => "renew its own token",
        }
    }
}

/// How far a role reaches for one action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Not at all.
    None,
    /// Only the caller's own agency.
    OwnAgency,
    /// Only the caller's own province.
    OwnProvince,
    /// Everything.
    Everywhere,
}

/// The table: how far each role reaches for each action.
pub fn grant(role: Role, action: Action) -> Reach {
    use Action::*;
    use Reach::*;
    match (role, action) {
        (Role::Admin, _) => Everywhere,
        (_, RenewOwnToken) => Everywhere,

        (Role::ProvinceOfficer, ReadTree | ReadAgency | ReadFeedHead | ReadCatalogue) => Everywhere,
        // A province reads its own aggregates; an agency too, where a group
        // is large enough not to show another agency's counts (the
        // aggregation service applies that rule, knowing the group).
        (Role::ProvinceOfficer | Role::AgencyReporter, ReadAggregates) => OwnProvince,
        // An officer acts for the agencies of its own province only: it
        // reads, reviews and enters (paper) reports there, nowhere else.
        (
            Role::ProvinceOfficer,
            ChangeTree | ReviewRegistrations | IssueCredentials | ManageCredentials
            | ReadSigningKeys | ManageSigningKeys | SubmitReport | ReadReport | ReviewReport
            | EnterPaperReport,
        ) => OwnProvince,
        (
            Role::ProvinceOfficer,
            CreateOfficers | FollowFeed | ManageCatalogue | VerifyCredentials,
        ) => None,

        (Role::AgencyReporter, ReadFeedHead | ReadCatalogue) => Everywhere,
        // An agency reads only its own reports; the submission service answers
        // "not found" for another agency's, so ids reveal nothing.
        (
            Role::AgencyReporter,
            ReadAgency | ManageCredentials | ReadSigningKeys | ManageSigningKeys | SubmitReport
            | ReadReport,
        ) => OwnAgency,
        (
            Role::AgencyReporter,
            ReadTree | ChangeTree | ReviewRegistrations | IssueCredentials | CreateOfficers
            | FollowFeed | ManageCatalogue | ReviewReport | EnterPaperReport | VerifyCredentials,
        ) => None,

        // Leadership and other government systems read, and only read: the
        // tree and the catalogue like everyone, reports and aggregates in
        // their province (a viewer's own, an integrator's granted ones).
        (Role::Viewer | Role::Integrator, ReadTree | ReadAgency | ReadFeedHead | ReadCatalogue) => {
            Everywhere
        }
        (Role::Viewer | Role::Integrator, ReadReport | ReadAggregates) => OwnProvince,
        (
            Role::Viewer | Role::Integrator,
            ChangeTree | ReviewRegistrations | IssueCredentials | ManageCredentials
            | CreateOfficers | ReadSigningKeys | ManageSigningKeys | FollowFeed | SubmitReport
            | ManageCatalogue | ReviewReport | EnterPaperReport | VerifyCredentials,
        ) => None,

        (
            Role::Service,
            ReadTree | ReadAgency | ReadFeedHead | ReadSigningKeys | FollowFeed | ReadCatalogue
            | ReadReport | ReadAggregates | VerifyCredentials,
        ) => Everywhere,
        (
            Role::Service,
            ChangeTree | ReviewRegistrations | IssueCredentials | ManageCredentials
            | CreateOfficers | ManageSigningKeys | SubmitReport | ManageCatalogue | ReviewReport
            | EnterPaperReport,
        ) => None,
    }
}

/// What an action is done to: who owns it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource<'a> {
    /// Owned by no province: the catalogue, the whole tree, a feed.
    Global,
    /// Everything in one province (by administrative-unit code).
    Province(&'a str),
    /// One agency, in its province.
    Agency { code: &'a str, province: &'a str },
}

impl<'a> Resource<'a> {
    /// One agency, in its province.
    pub fn agency(code: &'a str, province: &'a str) -> Self {
        Self::Agency { code, province }
    }
}

impl fmt::Display for Resource<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Global => f.write_str("the whole system"),
            Self::Province(p) => write!(f, "province {p}"),
            Self::Agency { code, .. } => write!(f, "agency {code}"),
        }
    }
}

/// Where a caller may do one action: the result of [`scope`], used to filter
/// lists and to check each item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Anywhere.
    Everywhere,
    /// In one province.
    Province(AdminUnitCode),
    /// In the provinces an integrator was granted (at least one).
    Provinces(Arc<[AdminUnitCode]>),
    /// For one agency.
    Agency(AgencyCode),
}

impl Scope {
    /// Whether the scope covers `resource`.
    pub fn covers(&self, resource: Resource<'_>) -> bool {
        match (self, resource) {
            (Self::Everywhere, _) => true,
            (Self::Province(own), Resource::Province(p)) => own.as_str() == p,
            (Self::Province(own), Resource::Agency { province, .. }) => own.as_str() == province,
            (
                Self::Provinces(granted),
                Resource::Province(p) | Resource::Agency { province: p, .. },
            ) => granted.iter().any(|g| g.as_str() == p),
            (Self::Agency(own), Resource::Agency { code, .. }) => own.as_str() == code,
            _ => false,
        }
    }

    /// Refuses `action` on `resource` outside the scope, saying why.
    pub fn check(&self, action: Action, resource: Resource<'_>) -> Result<(), ServiceError> {
        if self.covers(resource) {
            return Ok(());
        }
        let reach = match self {
            Self::Everywhere => unreachable!("everywhere covers every resource"),
            Self::Province(own) => {
                format!("a province officer of {own} acts only in that province")
            }
            Self::Provinces(granted) => format!(
                "this client was granted province{} {} only",
                if granted.len() == 1 { "" } else { "s" },
                granted
                    .iter()
                    .map(AdminUnitCode::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Self::Agency(own) => format!("agency {own} acts only for itself"),
        };
        let owner = match resource {
            Resource::Agency { code, province } => format!("agency {code} of province {province}"),
            other => other.to_string(),
        };
        Err(ServiceError::PermissionDenied(format!(
            "may not {} for {owner}: {reach}",
            action.describe()
        )))
    }

    /// Refuses at once, before the agency is loaded, what the scope can never
    /// cover: for a scope of one agency, every other code. Without it, "not
    /// found" for an unknown code and "denied" for a known one would tell an
    /// agency which codes exist. Province scopes still need the agency's
    /// province, so they are checked with [`Scope::check`] once it is loaded.
    pub fn precheck_agency(&self, action: Action, code: &str) -> Result<(), ServiceError> {
        match self {
            Self::Agency(own) if own.as_str() != code => {
                Err(ServiceError::PermissionDenied(format!(
                    "may not {} for agency {code}: agency {own} acts only for itself",
                    action.describe()
                )))
            }
            _ => Ok(()),
        }
    }

    /// The province the scope is limited to, if it is one province.
    pub fn province(&self) -> Option<&AdminUnitCode> {
        match self {
            Self::Province(p) => Some(p),
            Self::Provinces(granted) if granted.len() == 1 => granted.first(),
            _ => None,
        }
    }

    /// The provinces the scope is limited to, if it is limited to provinces.
    pub fn provinces(&self) -> Option<&[AdminUnitCode]> {
        match self {
            Self::Province(p) => Some(std::slice::from_ref(p)),
            Self::Provinces(granted) => Some(granted),
            _ => None,
        }
    }
}

/// The widest scope in which `principal` may do `action`, or why it may not
/// do it at all.
pub fn scope(principal: &Principal, action: Action) -> Result<Scope, ServiceError> {
    let denied = || {
        ServiceError::PermissionDenied(format!(
            "{} may not {}",
            principal.role.with_article(),
            action.describe()
        ))
    };
    match grant(principal.role, action) {
        Reach::None => Err(denied()),
        Reach::Everywhere => Ok(Scope::Everywhere),
        // A token of the role without the claim that scopes it reaches nothing.
        Reach::OwnProvince if principal.role == Role::Integrator => {
            if principal.grants.is_empty() {
                Err(denied())
            } else {
                Ok(Scope::Provinces(principal.grants.clone()))
            }
        }
        Reach::OwnProvince => principal
            .province
            .clone()
            .map(Scope::Province)
            .ok_or_else(denied),
        Reach::OwnAgency => principal
            .agency
            .clone()
            .map(Scope::Agency)
            .ok_or_else(denied),
    }
}

/// Whether `principal` may do `action` to `resource`.
pub fn authorize(
    principal: &Principal,
    action: Action,
    resource: Resource<'_>,
) -> Result<(), ServiceError> {
    scope(principal, action)?.check(action, resource)
}

/// The authenticated caller of a gRPC request (the interceptor put it there).
pub fn caller<T>(request: &Request<T>) -> Result<Principal, ServiceError> {
    request
        .extensions()
        .get::<Principal>()
        .cloned()
        .ok_or_else(|| ServiceError::Unauthenticated("a bearer token is required".into()))
}

/// The caller of a gRPC request, if it may do `action` somewhere; its scope
/// is checked against each resource afterwards.
pub fn caller_in_scope<T>(
    request: &Request<T>,
    action: Action,
) -> Result<(Principal, Scope), ServiceError> {
    let principal = caller(request)?;
    let scope = scope(&principal, action)?;
    Ok((principal, scope))
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWN_PROVINCE: &str = "51";
    const OTHER_PROVINCE: &str = "44";
    const OWN_AGENCY: &str = "000.00.15.H51";
    const SAME_PROVINCE_AGENCY: &str = "000.00.16.H51";
    const OTHER_PROVINCE_AGENCY: &str = "000.00.15.H44";

    fn principal(role: Role) -> Principal {
        Principal {
            subject: "c1".into(),
            role,
            agency: (role == Role::AgencyReporter).then(|| AgencyCode::parse(OWN_AGENCY).unwrap()),
            province: matches!(
                role,
                Role::AgencyReporter | Role::ProvinceOfficer | Role::Viewer
            )
            .then(|| AdminUnitCode::parse(OWN_PROVINCE).unwrap()),
            // An integrator granted its "own" province and a third one, never
            // the other province the table tries.
            grants: if role == Role::Integrator {
                Arc::from([
                    AdminUnitCode::parse(OWN_PROVINCE).unwrap(),
                    AdminUnitCode::parse("01").unwrap(),
                ])
            } else {
                Arc::from([])
            },
        }
    }

    /// The resources every action is tried against, and their names in the table.
    fn resources() -> [(&'static str, Resource<'static>); 5] {
        [
            ("global", Resource::Global),
            ("own province", Resource::Province(OWN_PROVINCE)),
            ("other province", Resource::Province(OTHER_PROVINCE)),
            ("own agency", Resource::agency(OWN_AGENCY, OWN_PROVINCE)),
            (
                "same-province agency",
                Resource::agency(SAME_PROVINCE_AGENCY, OWN_PROVINCE),
            ),
        ]
    }

    /// What each reach allows, resource by resource (in the order of
    /// [`resources`], then an agency of another province).
    fn expected(reach: Reach) -> [bool; 6] {
        match reach {
            Reach::None => [false; 6],
            Reach::OwnAgency => [false, false, false, true, false, false],
            Reach::OwnProvince => [false, true, false, true, true, false],
            Reach::Everywhere => [true; 6],
        }
    }

    /// The whole table, written out role by role, so a change to [`grant`]
    /// must be made here too.
    fn table(role: Role) -> Vec<(Action, Reach)> {
        use Action::*;
        use Reach::*;
        let rows: &[(Action, Reach)] = match role {
            Role::Admin => &[
                (ReadTree, Everywhere),
                (ReadAgency, Everywhere),
                (ReadFeedHead, Everywhere),
                (ChangeTree, Everywhere),
                (ReviewRegistrations, Everywhere),
                (IssueCredentials, Everywhere),
                (ManageCredentials, Everywhere),
                (CreateOfficers, Everywhere),
                (ReadSigningKeys, Everywhere),
                (ManageSigningKeys, Everywhere),
                (FollowFeed, Everywhere),
                (ReadCatalogue, Everywhere),
                (SubmitReport, Everywhere),
                (ReadReport, Everywhere),
                (ReadAggregates, Everywhere),
                (ManageCatalogue, Everywhere),
                (ReviewReport, Everywhere),
                (EnterPaperReport, Everywhere),
                (VerifyCredentials, Everywhere),
                (RenewOwnToken, Everywhere),
            ],
            Role::ProvinceOfficer => &[
                (ReadTree, Everywhere),
                (ReadAgency, Everywhere),
                (ReadFeedHead, Everywhere),
                (ChangeTree, OwnProvince),
                (ReviewRegistrations, OwnProvince),
                (IssueCredentials, OwnProvince),
                (ManageCredentials, OwnProvince),
                (CreateOfficers, None),
                (ReadSigningKeys, OwnProvince),
                (ManageSigningKeys, OwnProvince),
                (FollowFeed, None),
                (ReadCatalogue, Everywhere),
                (SubmitReport, OwnProvince),
                (ReadReport, OwnProvince),
                (ReadAggregates, OwnProvince),
                (ManageCatalogue, None),
                (ReviewReport, OwnProvince),
                (EnterPaperReport, OwnProvince),
                (VerifyCredentials, None),
                (RenewOwnToken, Everywhere),
            ],
            Role::AgencyReporter => &[
                (ReadTree, None),
                (ReadAgency, OwnAgency),
                (ReadFeedHead, Everywhere),
                (ChangeTree, None),
                (ReviewRegistrations, None),
                (IssueCredentials, None),
                (ManageCredentials, OwnAgency),
                (CreateOfficers, None),
                (ReadSigningKeys, OwnAgency),
                (ManageSigningKeys, OwnAgency),
                (FollowFeed, None),
                (ReadCatalogue, Everywhere),
                (SubmitReport, OwnAgency),
                (ReadReport, OwnAgency),
                (ReadAggregates, OwnProvince),
                (ManageCatalogue, None),
                (ReviewReport, None),
                (EnterPaperReport, None),
                (VerifyCredentials, None),
                (RenewOwnToken, Everywhere),
            ],
            Role::Viewer | Role::Integrator => &[
                (ReadTree, Everywhere),
                (ReadAgency, Everywhere),
                (ReadFeedHead, Everywhere),
                (ChangeTree, None),
                (ReviewRegistrations, None),
                (IssueCredentials, None),
                (ManageCredentials, None),
                (CreateOfficers, None),
                (ReadSigningKeys, None),
                (ManageSigningKeys, None),
                (FollowFeed, None),
                (ReadCatalogue, Everywhere),
                (SubmitReport, None),
                (ReadReport, OwnProvince),
                (ReadAggregates, OwnProvince),
                (ManageCatalogue, None),
                (ReviewReport, None),
                (EnterPaperReport, None),
                (VerifyCredentials, None),
                (RenewOwnToken, Everywhere),
            ],
            Role::Service => &[
                (ReadTree, Everywhere),
                (ReadAgency, Everywhere),
                (ReadFeedHead, Everywhere),
                (ChangeTree, None),
                (ReviewRegistrations, None),
                (IssueCredentials, None),
                (ManageCredentials, None),
                (CreateOfficers, None),
                (ReadSigningKeys, Everywhere),
                (ManageSigningKeys, None),
                (FollowFeed, Everywhere),
                (ReadCatalogue, Everywhere),
                (SubmitReport, None),
                (ReadReport, Everywhere),
                (ReadAggregates, Everywhere),
                (ManageCatalogue, None),
                (ReviewReport, None),
                (EnterPaperReport, None),
                (VerifyCredentials, Everywhere),
                (RenewOwnToken, Everywhere),
            ],
        };
        rows.to_vec()
    }

    #[test]
    fn every_role_against_every_action_inside_and_outside_its_scope() {
        for role in Role::ALL {
            let rows = table(role);
            assert_eq!(
                rows.len(),
                Action::ALL.len(),
                "{role:?}: one row per action"
            );
            let who = principal(role);
            for (action, reach) in rows {
                assert_eq!(grant(role, action), reach, "{role:?} {action:?}");
                let mut tried: Vec<(&str, Resource<'_>)> = resources().to_vec();
                tried.push((
                    "other-province agency",
                    Resource::agency(OTHER_PROVINCE_AGENCY, OTHER_PROVINCE),
                ));
                for ((name, resource), allowed) in tried.into_iter().zip(expected(reach)) {
                    let result = authorize(&who, action, resource);
                    assert_eq!(
                        result.is_ok(),
                        allowed,
                        "{role:?} {action:?} on {name}: {result:?}"
                    );
                    if let Err(e) = result {
                        assert!(
                            matches!(e, ServiceError::PermissionDenied(_)),
                            "{role:?} {action:?} on {name}: {e:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn a_scoped_role_without_its_claim_reaches_nothing() {
        let mut officer = principal(Role::ProvinceOfficer);
        officer.province = None;
        assert!(scope(&officer, Action::ChangeTree).is_err());
        let mut integrator = principal(Role::Integrator);
        integrator.grants = Arc::from([]);
        assert!(scope(&integrator, Action::ReadReport).is_err());
        let mut agency = principal(Role::AgencyReporter);
        agency.agency = None;
        assert!(scope(&agency, Action::SubmitReport).is_err());
        // Reading what everyone reads needs no claim.
        assert_eq!(
            scope(&agency, Action::ReadCatalogue).unwrap(),
            Scope::Everywhere
        );
    }

    #[test]
    fn one_agency_is_refused_other_codes_before_anything_is_loaded() {
        let agency = scope(&principal(Role::AgencyReporter), Action::ReadAgency).unwrap();
        assert!(
            agency
                .precheck_agency(Action::ReadAgency, OWN_AGENCY)
                .is_ok()
        );
        let err = agency
            .precheck_agency(Action::ReadAgency, "000.00.99.H51")
            .unwrap_err();
        assert!(matches!(err, ServiceError::PermissionDenied(_)), "{err:?}");
        // Wider scopes decide once the agency's province is known.
        let officer = scope(&principal(Role::ProvinceOfficer), Action::ChangeTree).unwrap();
        assert!(
            officer
                .precheck_agency(Action::ChangeTree, OTHER_PROVINCE_AGENCY)
                .is_ok()
        );
    }

    #[test]
    fn denials_say_who_may_act_where() {
        let officer = principal(Role::ProvinceOfficer);
        let err = authorize(
            &officer,
            Action::ChangeTree,
            Resource::agency(OTHER_PROVINCE_AGENCY, OTHER_PROVINCE),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "may not change the organisation tree for agency 000.00.15.H44 of province 44: \
             a province officer of 51 acts only in that province"
        );
        let err = authorize(
            &principal(Role::AgencyReporter),
            Action::ChangeTree,
            Resource::Global,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "an agency may not change the organisation tree"
        );
    }
}
