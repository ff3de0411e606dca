//! Identifiers: agency codes (QCVN 102:2016/BTTTT), administrative-unit codes
//! (QĐ 124/2004/QĐ-TTg), and catalogue codes (data elements, indicators,
//! validation rules, report forms, plans, rankings), which all read alike in URLs, TOML and logs.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::agency::AdminLevel;

/// Why a code did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CodeError(String);

/// Refuses a code containing a character that cannot be shown (control,
/// direction-changing or zero-width) by naming it, rather than quoting the
/// code: quoted, `000.00.00.H51` with a U+200B inside looks valid, and an
/// override would turn the message around.
fn hidden_characters(raw: &str, what: &str) -> Result<(), CodeError> {
    match raw
        .chars()
        .find(|c| c.is_control() || crate::text::is_invisible_or_bidi(*c))
    {
        Some(c) => Err(CodeError(format!(
            "is not {what}: it contains the invisible character {}",
            crate::text::codepoint(c)
        ))),
        None => Ok(()),
    }
}

macro_rules! string_code {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl FromStr for $name {
            type Err = CodeError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = CodeError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(code: $name) -> String {
                code.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

/// The codes [`AgencyCode::parse`] accepts (once trimmed), as a regular
/// expression for API contracts (OpenAPI `pattern`, ECMA 262 and Rust
/// `regex` alike).
pub const AGENCY_CODE_PATTERN: &str = r"^[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[A-Z][0-9]{2}$";

/// The codes [`AdminUnitCode::parse`] accepts (once trimmed).
pub const ADMIN_UNIT_CODE_PATTERN: &str = "^([0-9]{2}|[0-9]{3}|[0-9]{5})$";

/// The province codes among administrative-unit codes: two digits.
pub const PROVINCE_CODE_PATTERN: &str = "^[0-9]{2}$";

/// Longest catalogue code (data elements, indicators, rules, forms, plans, rankings).
pub const MAX_CATALOGUE_CODE_LEN: usize = 64;

/// The catalogue codes [`DataElementCode::parse`] and its siblings accept
/// (once trimmed), up to [`MAX_CATALOGUE_CODE_LEN`] characters.
pub const CATALOGUE_CODE_PATTERN: &str = "^[a-z][a-z0-9_]*$";

string_code! {
    /// Agency identifier in the QCVN 102:2016/BTTTT form `NNN.NN.NN.XNN`,
    /// e.g. `000.00.00.H51` (UBND tỉnh Quảng Ngãi).
    AgencyCode
}

impl AgencyCode {
    pub fn parse(raw: &str) -> Result<Self, CodeError> {
        hidden_characters(raw.trim(), "an agency code")?;
        let s = raw.trim();
        let parts: Vec<&str> = s.split('.').collect();
        let digits = |p: &str, n: usize| p.len() == n && p.bytes().all(|b| b.is_ascii_digit());
        let ok = parts.len() == 4
            && digits(parts[0], 3)
            && digits(parts[1], 2)
            && digits(parts[2], 2)
            && parts[3].len() == 3
            && parts[3].as_bytes()[0].is_ascii_uppercase()
            && digits(&parts[3][1..], 2);
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(CodeError(format!(
                "`{raw}` is not an agency code of the form NNN.NN.NN.XNN (QCVN 102:2016), e.g. 000.00.00.H51"
            )))
        }
    }
}

string_code! {
    /// Administrative-unit code (QĐ 124/2004/QĐ-TTg): 2 digits for a province,
    /// 3 for a district, 5 for a commune.
    AdminUnitCode
}

impl AdminUnitCode {
    pub fn parse(raw: &str) -> Result<Self, CodeError> {
        hidden_characters(raw.trim(), "an administrative-unit code")?;
        let s = raw.trim();
        if matches!(s.len(), 2 | 3 | 5) && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(s.to_owned()))
        } else {
            Err(CodeError(format!(
                "`{raw}` is not an administrative-unit code: 2 digits (province), 3 (district) or 5 (commune)"
            )))
        }
    }

    /// The level the code's length denotes.
    pub fn level(&self) -> AdminLevel {
        match self.0.len() {
            2 => AdminLevel::Province,
            3 => AdminLevel::District,
            _ => AdminLevel::Commune,
        }
    }
}

fn parse_catalogue_code(raw: &str, what: &str) -> Result<String, CodeError> {
    hidden_characters(raw.trim(), &format!("a {what} code"))?;
    let s = raw.trim();
    let valid = !s.is_empty()
        && s.len() <= MAX_CATALOGUE_CODE_LEN
        && s.as_bytes()[0].is_ascii_lowercase()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if valid {
        Ok(s.to_owned())
    } else {
        Err(CodeError(format!(
            "`{raw}` is not a {what} code: lower-case letters, digits and `_`, starting with a letter, at most 64 characters"
        )))
    }
}

macro_rules! catalogue_code {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        string_code! {
            $(#[$doc])*
            $name
        }

        impl $name {
            pub fn parse(raw: &str) -> Result<Self, CodeError> {
                parse_catalogue_code(raw, $what).map(Self)
            }
        }
    };
}

catalogue_code! {
    /// Code of a raw count agencies report, e.g. `officials`.
    DataElementCode, "data element"
}

catalogue_code! {
    /// Code of a computed indicator, e.g. `computer_equipment_rate`.
    IndicatorCode, "indicator"
}

catalogue_code! {
    /// Code of a validation rule between data elements, e.g. `computers_within_officials`.
    RuleCode, "validation rule"
}

catalogue_code! {
    /// Code of a report form (DHIS2: data set), e.g. `it_application_yearly`.
    FormCode, "report form"
}

catalogue_code! {
    /// Code of a provincial IT plan, e.g. `quang_ngai_2018`.
    PlanCode, "plan"
}

catalogue_code! {
    /// Code of a ranking definition, e.g. `district_committees`.
    RankingCode, "ranking"
}

catalogue_code! {
    /// Code of a ranking's sub-index (chỉ số thành phần), e.g. `online_services`.
    SubIndexCode, "sub-index"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agency_codes() {
        assert!(AgencyCode::parse("000.00.00.H51").is_ok());
        assert!(AgencyCode::parse(" 000.00.15.H51 ").is_ok());
        for bad in [
            "",
            "000.00.00.h51",
            "000.00.00.H5",
            "00.00.00.H51",
            "000-00-00-H51",
            "000.00.00.H51.1",
        ] {
            assert!(AgencyCode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn admin_unit_codes() {
        assert_eq!(
            AdminUnitCode::parse("51").unwrap().level(),
            AdminLevel::Province
        );
        assert_eq!(
            AdminUnitCode::parse("523").unwrap().level(),
            AdminLevel::District
        );
        assert_eq!(
            AdminUnitCode::parse("21025").unwrap().level(),
            AdminLevel::Commune
        );
        for bad in ["5", "5100", "51a", "", "123456"] {
            assert!(AdminUnitCode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn catalogue_codes() {
        assert!(DataElementCode::parse("officials_with_computer").is_ok());
        for bad in ["", "Officials", "1x", "a-b", "cán_bộ"] {
            assert!(DataElementCode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn codes_with_hidden_characters_are_refused_by_naming_the_character() {
        for (hidden, named) in [
            ('\u{200B}', "U+200B"),
            ('\u{FEFF}', "U+FEFF"),
            ('\u{202E}', "U+202E"),
            ('\u{2066}', "U+2066"),
            ('\u{200F}', "U+200F"),
            ('\u{61C}', "U+061C"),
            ('\u{1}', "U+0001"),
        ] {
            let agency = AgencyCode::parse(&format!("000.00.00{hidden}.H51")).unwrap_err();
            assert_eq!(
                agency.to_string(),
                format!("is not an agency code: it contains the invisible character {named}")
            );
            assert!(!agency.to_string().contains(hidden));
            let unit = AdminUnitCode::parse(&format!("{hidden}51")).unwrap_err();
            assert!(unit.to_string().ends_with(named), "{unit}");
            let element = DataElementCode::parse(&format!("officials{hidden}")).unwrap_err();
            assert_eq!(
                element.to_string(),
                format!("is not a data element code: it contains the invisible character {named}")
            );
        }
    }

    #[test]
    fn keys_parse_and_name_their_kind() {
        assert_eq!(
            FormCode::parse(" it_yearly ").unwrap().as_str(),
            "it_yearly"
        );
        let err = PlanCode::parse("Quảng Ngãi").unwrap_err().to_string();
        assert!(err.starts_with("`Quảng Ngãi` is not a plan code"), "{err}");
        assert!(RuleCode::parse("1rule").is_err());
        assert!(serde_json::from_str::<RuleCode>("\"a-b\"").is_err());
    }
}
