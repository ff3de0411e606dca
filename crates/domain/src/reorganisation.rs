//! The rules of the organisation tree that need no database: where a new
//! agency may hang, and which moves, merges and splits (sáp nhập, chia
//! tách) make sense. The registry's store looks the agencies up and asks
//! these functions; each refusal is the message a client sees.

use chrono::NaiveDate;

use crate::{AdminLevel, AdminUnitCode, AgencyCode, AgencyKind, NewAgency, VnName};

/// A reorganisation decision, decoded and ready to apply.
#[derive(Debug, Clone)]
pub struct Plan {
    pub effective_date: NaiveDate,
    pub legal_basis: String,
    pub note: Option<String>,
    pub operations: Vec<Operation>,
}

/// One change a decision makes.
#[derive(Debug, Clone)]
pub enum Operation {
    Rename {
        code: AgencyCode,
        name: VnName,
        name_en: Option<VnName>,
    },
    Move {
        code: AgencyCode,
        parent_code: AgencyCode,
    },
    Merge {
        sources: Vec<AgencyCode>,
        into: Successor,
    },
    Split {
        code: AgencyCode,
        into: Vec<Successor>,
    },
    Dissolve {
        code: AgencyCode,
    },
}

/// Who takes over in a merge or split.
#[derive(Debug, Clone)]
pub enum Successor {
    Existing(AgencyCode),
    /// Valid from the effective date.
    New(NewAgency),
}
/// A refusal: the field it concerns (relative to the agency or operation)
/// and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub field: &'static str,
    pub message: String,
}

impl Refusal {
    fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

/// Where a new agency hangs, as far as it says itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement<'a> {
    /// The root of a province: a provincial People's Committee.
    Root { province: &'a AdminUnitCode },
    /// Under the named parent, still to be looked up.
    Under { parent: &'a AgencyCode },
}

/// Where `new` hangs: a provincial committee is a root with a province code,
/// everything else names its parent.
pub fn placement(new: &NewAgency) -> Result<Placement<'_>, Refusal> {
    match (new.kind, &new.parent_code) {
        (AgencyKind::ProvincialCommittee, None) => match &new.admin_unit_code {
            Some(code) if code.level() == AdminLevel::Province => {
                Ok(Placement::Root { province: code })
            }
            _ => Err(Refusal::new(
                "admin_unit_code",
                "a provincial People's Committee needs its 2-digit province code",
            )),
        },
        (AgencyKind::ProvincialCommittee, Some(_)) => Err(Refusal::new(
            "parent_code",
            "a provincial People's Committee is the root of its province and has no parent",
        )),
        (kind, None) => Err(Refusal::new(
            "parent_code",
            format!("a {kind} must name its parent agency"),
        )),
        (_, Some(parent)) => Ok(Placement::Under { parent }),
    }
}

/// What the rules need to know of a parent (or any existing agency).
#[derive(Debug, Clone, Copy)]
pub struct Existing<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub kind: AgencyKind,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
}

/// Whether `new` may hang under `parent`: the kinds fit, the parent is
/// active and existed when `new` begins.
pub fn check_parent(new: &NewAgency, parent: Existing<'_>) -> Result<(), Refusal> {
    let (kind, code) = (new.kind, parent.code);
    if !kind.may_sit_under(parent.kind) {
        return Err(Refusal::new(
            "parent_code",
            format!("a {kind} cannot sit under a {} ({code})", parent.kind),
        ));
    }
    if let Some(retired) = parent.valid_to {
        return Err(Refusal::new(
            "parent_code",
            format!("{code} ({}) was retired on {retired}", parent.name),
        ));
    }
    if parent.valid_from > new.valid_from {
        return Err(Refusal::new(
            "valid_from",
            format!(
                "{} is before the parent {code} existed (from {})",
                new.valid_from, parent.valid_from
            ),
        ));
    }
    Ok(())
}

/// People's Committees carry the administrative-unit code of their level;
/// departments carry none.
pub fn check_admin_unit(new: &NewAgency) -> Result<(), Refusal> {
    let field = "admin_unit_code";
    match (&new.admin_unit_code, new.kind.is_committee()) {
        (Some(code), true) if code.level() == new.kind.level() => Ok(()),
        (Some(code), true) => Err(Refusal::new(
            field,
            format!(
                "{code} is a {} code but a {} is at {} level",
                code.level(),
                new.kind,
                new.kind.level()
            ),
        )),
        (None, true) => Err(Refusal::new(
            field,
            format!("a {} needs its administrative-unit code", new.kind),
        )),
        (Some(_), false) => Err(Refusal::new(
            field,
            "only People's Committees have administrative-unit codes",
        )),
        (None, false) => Ok(()),
    }
}

/// Whether an agency (under `current_parent`) may move under `parent`;
/// cycles are for the caller, who can walk the tree.
pub fn check_move(
    agency: Existing<'_>,
    current_parent: Option<&str>,
    parent: Existing<'_>,
) -> Result<(), String> {
    if current_parent == Some(parent.code) {
        return Err(format!(
            "{} already sits under {}",
            agency.code, parent.code
        ));
    }
    if !agency.kind.may_sit_under(parent.kind) {
        return Err(format!(
            "a {} cannot sit under a {} ({})",
            agency.kind, parent.kind, parent.code
        ));
    }
    Ok(())
}

/// Whether `source` may merge into `successor`: another agency of its kind.
pub fn check_merge(source: Existing<'_>, successor: Existing<'_>) -> Result<(), String> {
    if source.code == successor.code {
        return Err(format!("{} cannot merge into itself", source.code));
    }
    if source.kind != successor.kind {
        return Err(format!(
            "a {} cannot merge into a {} ({})",
            source.kind, successor.kind, successor.code
        ));
    }
    Ok(())
}

/// Whether `source` may split into `successor`, given the successors
/// `taken` so far: another agency of its kind, named once.
pub fn check_split(
    source: Existing<'_>,
    successor: Existing<'_>,
    taken: &[&str],
) -> Result<(), String> {
    if source.code == successor.code {
        return Err(format!("{} cannot split into itself", successor.code));
    }
    if source.kind != successor.kind {
        return Err(format!(
            "a {} cannot split into a {} ({})",
            source.kind, successor.kind, successor.code
        ));
    }
    if taken.contains(&successor.code) {
        return Err(format!("{} is named twice", successor.code));
    }
    Ok(())
}

/// Why an agency with sub-agencies cannot be split or dissolved yet.
pub fn still_has_children(code: &str, children: &[&str]) -> String {
    format!(
        "{code} still has {} sub-agencies ({}); move them first, in an earlier operation",
        children.len(),
        children.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn new(kind: AgencyKind, unit: Option<&str>, parent: Option<&str>) -> NewAgency {
        NewAgency {
            code: AgencyCode::parse("000.00.15.H51").unwrap(),
            admin_unit_code: unit.map(|u| AdminUnitCode::parse(u).unwrap()),
            name: VnName::parse("Sở Thông tin").unwrap(),
            name_en: None,
            kind,
            parent_code: parent.map(|p| AgencyCode::parse(p).unwrap()),
            valid_from: date(2025, 7, 1),
        }
    }

    fn existing(code: &'static str, kind: AgencyKind) -> Existing<'static> {
        Existing {
            code,
            name: "UBND",
            kind,
            valid_from: date(1989, 7, 1),
            valid_to: None,
        }
    }

    #[test]
    fn a_province_is_a_root_and_everything_else_names_a_parent() {
        use AgencyKind::*;
        let root = new(ProvincialCommittee, Some("51"), None);
        assert!(matches!(placement(&root), Ok(Placement::Root { .. })));
        let field = |n: &NewAgency| placement(n).unwrap_err().field;
        assert_eq!(
            field(&new(ProvincialCommittee, Some("524"), None)),
            "admin_unit_code"
        );
        assert_eq!(
            field(&new(ProvincialCommittee, Some("51"), Some("000.00.00.H51"))),
            "parent_code"
        );
        assert_eq!(field(&new(Department, None, None)), "parent_code");
        let dept = new(Department, None, Some("000.00.00.H51"));
        assert!(matches!(placement(&dept), Ok(Placement::Under { .. })));
    }

    #[test]
    fn a_parent_must_fit_be_active_and_be_older() {
        use AgencyKind::*;
        let dept = new(Department, None, Some("000.00.00.H51"));
        let province = existing("000.00.00.H51", ProvincialCommittee);
        assert_eq!(check_parent(&dept, province), Ok(()));
        let district = existing("000.00.24.H51", DistrictCommittee);
        assert!(
            check_parent(&dept, district)
                .unwrap_err()
                .message
                .contains("cannot sit under")
        );
        let retired = Existing {
            valid_to: Some(date(2025, 1, 1)),
            ..province
        };
        assert!(
            check_parent(&dept, retired)
                .unwrap_err()
                .message
                .contains("retired")
        );
        let younger = Existing {
            valid_from: date(2026, 1, 1),
            ..province
        };
        assert_eq!(
            check_parent(&dept, younger).unwrap_err().field,
            "valid_from"
        );
    }

    #[test]
    fn committees_carry_unit_codes_of_their_level_and_departments_none() {
        use AgencyKind::*;
        assert_eq!(check_admin_unit(&new(Department, None, None)), Ok(()));
        assert!(check_admin_unit(&new(Department, Some("51"), None)).is_err());
        assert!(check_admin_unit(&new(DistrictCommittee, None, None)).is_err());
        assert!(check_admin_unit(&new(DistrictCommittee, Some("51"), None)).is_err());
        assert_eq!(
            check_admin_unit(&new(DistrictCommittee, Some("524"), None)),
            Ok(())
        );
    }

    #[test]
    fn moves_merges_and_splits() {
        use AgencyKind::*;
        let commune = existing("000.01.24.H51", CommuneCommittee);
        let district = existing("000.00.24.H51", DistrictCommittee);
        let province = existing("000.00.00.H51", ProvincialCommittee);
        assert_eq!(check_move(commune, Some(district.code), province), Ok(()));
        assert!(
            check_move(commune, Some(district.code), district)
                .unwrap_err()
                .contains("already sits under")
        );
        assert!(check_move(district, Some(province.code), commune).is_err());

        let other = existing("000.02.24.H51", CommuneCommittee);
        assert_eq!(check_merge(commune, other), Ok(()));
        assert!(
            check_merge(commune, commune)
                .unwrap_err()
                .contains("itself")
        );
        assert!(
            check_merge(commune, district)
                .unwrap_err()
                .contains("cannot merge")
        );

        assert_eq!(check_split(commune, other, &[]), Ok(()));
        assert!(
            check_split(commune, other, &[other.code])
                .unwrap_err()
                .contains("twice")
        );
        assert!(
            check_split(commune, commune, &[])
                .unwrap_err()
                .contains("itself")
        );
        assert_eq!(
            still_has_children("000.00.24.H51", &["a", "b"]),
            "000.00.24.H51 still has 2 sub-agencies (a, b); move them first, in an earlier operation"
        );
    }

    proptest! {
        /// Merging is allowed exactly between different agencies of one kind.
        #[test]
        fn merge_needs_another_agency_of_the_same_kind(a in 0usize..4, b in 0usize..4, same_code: bool) {
            let (ka, kb) = (AgencyKind::ALL[a], AgencyKind::ALL[b]);
            let source = existing("000.01.24.H51", ka);
            let successor = existing(if same_code { "000.01.24.H51" } else { "000.02.24.H51" }, kb);
            prop_assert_eq!(check_merge(source, successor).is_ok(), !same_code && ka == kb);
        }
    }
}
