//! Registration requests (đăng ký): filed by an agency without a token,
//! decided by an officer of its province.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use chrono::{DateTime, NaiveDate, Utc};

use crate::{AgencyKind, Email, NewAgency, VnName};

/// Where a registration request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegistrationStatus {
    /// Waiting for a decision.
    Pending,
    /// The agency was registered and given credentials.
    Approved,
    /// Turned down, with a reason.
    Rejected,
}

impl RegistrationStatus {
    pub const ALL: [RegistrationStatus; 3] = [Self::Pending, Self::Approved, Self::Rejected];

    /// The status's name in columns and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
        }
    }
}

impl fmt::Display for RegistrationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a status did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a registration status: pending, approved or rejected")]
pub struct UnknownStatus(String);

impl FromStr for RegistrationStatus {
    type Err = UnknownStatus;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| UnknownStatus(s.to_owned()))
    }
}

/// A decoded request to register an agency.
#[derive(Debug, Clone)]
pub struct Filing {
    pub agency: NewAgency,
    pub contact_name: VnName,
    pub contact_email: Email,
    pub contact_phone: Option<String>,
    pub note: Option<String>,
    /// The client address the request came from (the one the rate limit charged).
    pub filed_from: String,
}

/// A stored registration request, as the registry answers about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub id: String,
    pub code: String,
    pub admin_unit_code: Option<String>,
    pub name: String,
    pub name_en: Option<String>,
    pub kind: AgencyKind,
    pub parent_code: Option<String>,
    pub valid_from: NaiveDate,
    /// The province the agency would join: who may decide.
    pub province_code: String,
    pub contact_name: String,
    pub contact_email: String,
    pub contact_phone: Option<String>,
    pub note: Option<String>,
    pub status: RegistrationStatus,
    /// Why it was rejected.
    pub reason: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    /// The client issued on approval.
    pub client_id: Option<String>,
    pub filed_at: DateTime<Utc>,
}

/// Whether `raw` looks like a telephone number: digits and the usual
/// separators, at least six digits, at most 32 characters.
pub fn is_phone_number(raw: &str) -> bool {
    raw.len() <= 32
        && raw.chars().filter(char::is_ascii_digit).count() >= 6
        && raw
            .chars()
            .all(|c| c.is_ascii_digit() || " +-.()".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_refused() {
        for status in RegistrationStatus::ALL {
            assert_eq!(status.as_str().parse::<RegistrationStatus>(), Ok(status));
        }
        assert_eq!(
            "done"
                .parse::<RegistrationStatus>()
                .unwrap_err()
                .to_string(),
            "`done` is not a registration status: pending, approved or rejected"
        );
    }

    #[test]
    fn telephone_numbers_in_local_and_international_form() {
        assert!(is_phone_number("0255 3822 123"));
        assert!(is_phone_number("+84 (255) 3822-123"));
        assert!(!is_phone_number("12345"));
        assert!(!is_phone_number("call 0255 3822 123"));
        assert!(!is_phone_number(&"1".repeat(33)));
    }
}
