//! Agencies: their kinds and administrative levels, where one may sit in
//! the tree, how a reorganisation links them, and a new agency as decoded
//! from any edge (protobuf, CSV).

use std::{fmt, str::FromStr};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::{AdminUnitCode, AgencyCode, FieldErrors, VnName, date::parse_date};

/// Administrative level (cấp): tỉnh, huyện, xã.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdminLevel {
    Province,
    District,
    Commune,
}

impl AdminLevel {
    /// Every level, from the top.
    pub const ALL: [AdminLevel; 3] = [Self::Province, Self::District, Self::Commune];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Province => "province",
            Self::District => "district",
            Self::Commune => "commune",
        }
    }
}

/// What an agency is; it fixes the agency's administrative level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgencyKind {
    /// UBND tỉnh: root of a province.
    ProvincialCommittee,
    /// Sở, ban, ngành.
    Department,
    /// UBND cấp huyện.
    DistrictCommittee,
    /// UBND cấp xã.
    CommuneCommittee,
}

impl AgencyKind {
    pub const ALL: [AgencyKind; 4] = [
        Self::ProvincialCommittee,
        Self::Department,
        Self::DistrictCommittee,
        Self::CommuneCommittee,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ProvincialCommittee => "provincial_committee",
            Self::Department => "department",
            Self::DistrictCommittee => "district_committee",
            Self::CommuneCommittee => "commune_committee",
        }
    }

    pub fn level(self) -> AdminLevel {
        match self {
            Self::ProvincialCommittee | Self::Department => AdminLevel::Province,
            Self::DistrictCommittee => AdminLevel::District,
            Self::CommuneCommittee => AdminLevel::Commune,
        }
    }

    /// People's Committees carry an administrative-unit code; departments do not.
    pub fn is_committee(self) -> bool {
        !matches!(self, Self::Department)
    }

    /// Whether an agency of this kind may sit directly under one of `parent`.
    pub fn may_sit_under(self, parent: AgencyKind) -> bool {
        match self {
            Self::Department | Self::DistrictCommittee => parent == Self::ProvincialCommittee,
            // Since the 2025 reform communes may sit directly under the province.
            Self::CommuneCommittee => {
                matches!(parent, Self::DistrictCommittee | Self::ProvincialCommittee)
            }
            Self::ProvincialCommittee => false,
        }
    }
}

impl fmt::Display for AgencyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for AdminLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a kind did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not an agency kind: provincial_committee, department, district_committee or commune_committee"
)]
pub struct UnknownKind(String);

impl FromStr for AgencyKind {
    type Err = UnknownKind;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownKind(s.to_owned()))
    }
}

/// Why a stored or submitted level did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an administrative level: province, district or commune")]
pub struct UnknownLevel(String);

impl FromStr for AdminLevel {
    type Err = UnknownLevel;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| UnknownLevel(s.to_owned()))
    }
}

/// How a predecessor passed to a successor in a reorganisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineageKind {
    /// Several agencies became one (sáp nhập).
    Merge,
    /// One agency became several (chia tách).
    Split,
}

impl LineageKind {
    pub const ALL: [LineageKind; 2] = [Self::Merge, Self::Split];

    /// The kind's name in columns and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Merge => "merge",
            Self::Split => "split",
        }
    }
}

impl fmt::Display for LineageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a lineage kind did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a lineage kind: merge or split")]
pub struct UnknownLineageKind(String);

impl FromStr for LineageKind {
    type Err = UnknownLineageKind;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownLineageKind(s.to_owned()))
    }
}

/// A checked request to register an agency (where it sits is checked
/// against the tree later).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAgency {
    pub code: AgencyCode,
    pub admin_unit_code: Option<AdminUnitCode>,
    pub name: VnName,
    pub name_en: Option<VnName>,
    pub kind: AgencyKind,
    pub parent_code: Option<AgencyCode>,
    pub valid_from: NaiveDate,
}

/// A new agency as an edge delivers it: text fields (blank means absent)
/// and a kind already read from the edge's own encoding.
#[derive(Debug, Clone)]
pub struct RawAgency<'a> {
    pub code: &'a str,
    pub admin_unit_code: &'a str,
    pub name: &'a str,
    pub name_en: &'a str,
    pub kind: Result<AgencyKind, String>,
    pub parent_code: &'a str,
    pub valid_from: &'a str,
}

/// A trimmed field, or `None` when blank.
fn present(s: &str) -> Option<&str> {
    Some(s.trim()).filter(|s| !s.is_empty())
}

impl RawAgency<'_> {
    /// Parses every field, recording each error under `prefix.field` (or
    /// `field` without a prefix); `valid_from` defaults to `default_from`.
    pub fn decode(
        self,
        prefix: &str,
        default_from: NaiveDate,
        errors: &mut FieldErrors,
    ) -> Option<NewAgency> {
        let field = |f: &str| {
            if prefix.is_empty() {
                f.to_owned()
            } else {
                format!("{prefix}.{f}")
            }
        };
        let code = errors.check(field("code"), AgencyCode::parse(self.code));
        let admin_unit_code = present(self.admin_unit_code)
            .and_then(|c| errors.check(field("admin_unit_code"), AdminUnitCode::parse(c)));
        let name = errors.check(field("name"), VnName::parse(self.name));
        let name_en =
            present(self.name_en).and_then(|n| errors.check(field("name_en"), VnName::parse(n)));
        let kind = errors.check(field("kind"), self.kind);
        let parent_code = present(self.parent_code)
            .and_then(|c| errors.check(field("parent_code"), AgencyCode::parse(c)));
        let valid_from = match present(self.valid_from) {
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
}

/// An agency as it was on some date, or in its latest state, as the
/// registry answers about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgencyView {
    pub code: String,
    pub admin_unit_code: Option<String>,
    pub name: String,
    pub name_en: Option<String>,
    pub kind: AgencyKind,
    pub level: AdminLevel,
    pub parent_code: Option<String>,
    pub province_code: String,
    /// When the agency came into existence (not when this version began).
    pub valid_from: NaiveDate,
    /// When the agency ceased to exist, if it has.
    pub valid_to: Option<NaiveDate>,
}

/// One span of an agency's life with the same name, parent and province,
/// with the decision that started it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgencyVersion {
    pub name: String,
    pub name_en: Option<String>,
    pub parent_code: Option<String>,
    pub province_code: String,
    pub valid_from: NaiveDate,
    /// Exclusive end; `None` while the version is current.
    pub valid_to: Option<NaiveDate>,
    /// The reorganisation that started it; `None` when the agency was registered.
    pub reorganisation_id: Option<i64>,
    pub legal_basis: Option<String>,
}

/// A predecessor handed over to a successor, with the decision that did it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineageLink {
    pub predecessor_code: String,
    pub successor_code: String,
    pub kind: LineageKind,
    pub effective_date: NaiveDate,
    pub legal_basis: String,
    pub reorganisation_id: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_refused() {
        for kind in AgencyKind::ALL {
            assert_eq!(kind.as_str().parse::<AgencyKind>(), Ok(kind));
        }
        for level in AdminLevel::ALL {
            assert_eq!(level.as_str().parse::<AdminLevel>(), Ok(level));
        }
        for kind in LineageKind::ALL {
            assert_eq!(kind.as_str().parse::<LineageKind>(), Ok(kind));
        }
        assert!("ministry".parse::<AgencyKind>().is_err());
        assert!("ward".parse::<AdminLevel>().is_err());
        assert_eq!(
            "absorb".parse::<LineageKind>().unwrap_err().to_string(),
            "`absorb` is not a lineage kind: merge or split"
        );
    }

    #[test]
    fn placement_rules() {
        use AgencyKind::*;
        assert!(Department.may_sit_under(ProvincialCommittee));
        assert!(CommuneCommittee.may_sit_under(DistrictCommittee));
        assert!(CommuneCommittee.may_sit_under(ProvincialCommittee));
        assert!(!DistrictCommittee.may_sit_under(DistrictCommittee));
        assert!(!CommuneCommittee.may_sit_under(Department));
        for parent in AgencyKind::ALL {
            assert!(!ProvincialCommittee.may_sit_under(parent));
        }
    }

    fn raw(kind: Result<AgencyKind, String>) -> RawAgency<'static> {
        RawAgency {
            code: "000.00.15.H51",
            admin_unit_code: "",
            name: "Sở Thông tin",
            name_en: " ",
            kind,
            parent_code: "000.00.00.H51",
            valid_from: "",
        }
    }

    #[test]
    fn a_raw_agency_decodes_with_defaults_or_names_every_bad_field() {
        let default_from = NaiveDate::from_ymd_opt(2025, 7, 1).unwrap();
        let mut errors = FieldErrors::new();
        let new = raw(Ok(AgencyKind::Department))
            .decode("", default_from, &mut errors)
            .unwrap();
        assert!(errors.is_empty(), "{errors}");
        assert_eq!(new.valid_from, default_from);
        assert_eq!(new.name_en, None);
        assert_eq!(new.parent_code.unwrap().as_str(), "000.00.00.H51");

        let bad = RawAgency {
            code: "51",
            valid_from: "1/7/2025",
            ..raw(Err("is required".into()))
        };
        assert!(bad.decode("agency", default_from, &mut errors).is_none());
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["agency.code", "agency.kind", "agency.valid_from"]);
    }
}
