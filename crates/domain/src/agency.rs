//! Kinds of agencies and administrative levels.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

/// Administrative level (cấp): tỉnh, huyện, xã.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdminLevel {
    Province,
    District,
    Commune,
}

impl AdminLevel {
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
