//! Who a caller is to chiso: the role a token carries.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

/// What a caller may do; the policy in `chiso-runtime` says where.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, everywhere.
    Admin,
    /// An officer of a province's Department of Information and Communications.
    ProvinceOfficer,
    /// Reads the reports and aggregates of its province, changes nothing:
    /// the province's leadership.
    Viewer,
    /// A reporting agency acting for itself (`agency_reporter`).
    AgencyReporter,
    /// Another government system: reads, over REST or gRPC, in the provinces
    /// an admin granted it.
    Integrator,
    /// Another chiso service (aggregation following the feeds).
    Service,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 6] = [
        Self::Admin,
        Self::ProvinceOfficer,
        Self::Viewer,
        Self::AgencyReporter,
        Self::Integrator,
        Self::Service,
    ];

    /// The role's name in tokens, columns and REST bodies.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::ProvinceOfficer => "province_officer",
            Self::Viewer => "viewer",
            Self::AgencyReporter => "agency_reporter",
            Self::Integrator => "integrator",
            Self::Service => "service",
        }
    }

    /// The role in a sentence: "an agency", "a province officer".
    pub fn with_article(self) -> &'static str {
        match self {
            Self::Admin => "an admin",
            Self::ProvinceOfficer => "a province officer",
            Self::Viewer => "a viewer",
            Self::AgencyReporter => "an agency",
            Self::Integrator => "an integrator",
            Self::Service => "a chiso service",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a role did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a role: admin, province_officer, viewer, agency_reporter, integrator or service"
)]
pub struct UnknownRole(String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_refused() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
            assert_eq!(
                serde_json::to_string(&role).unwrap(),
                format!("\"{}\"", role.as_str())
            );
        }
        assert_eq!(
            "officer".parse::<Role>().unwrap_err().to_string(),
            "`officer` is not a role: admin, province_officer, viewer, agency_reporter, integrator or service"
        );
    }
}
