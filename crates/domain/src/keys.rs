//! Codes of the things this crate defines beyond `codes.rs`: validation
//! rules, report forms, plans. Same form as data-element codes, so every
//! catalogue key reads alike in URLs, TOML and logs.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

/// Why a key did not parse; the message shows the valid form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{raw}` is not a {what} code: lower-case letters, digits and `_`, starting with a letter, at most 64 characters"
)]
pub struct KeyError {
    raw: String,
    what: &'static str,
}

fn parse_key(raw: &str, what: &'static str) -> Result<String, KeyError> {
    let s = raw.trim();
    let valid = !s.is_empty()
        && s.len() <= 64
        && s.as_bytes()[0].is_ascii_lowercase()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if valid {
        Ok(s.to_owned())
    } else {
        Err(KeyError {
            raw: raw.to_owned(),
            what,
        })
    }
}

macro_rules! key {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(raw: &str) -> Result<Self, KeyError> {
                parse_key(raw, $what).map(Self)
            }

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
            type Err = KeyError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = KeyError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(code: $name) -> String {
                code.0
            }
        }
    };
}

key! {
    /// Code of a validation rule between data elements, e.g. `computers_within_officials`.
    RuleCode, "validation rule"
}

key! {
    /// Code of a report form (DHIS2: data set), e.g. `it_application_yearly`.
    FormCode, "report form"
}

key! {
    /// Code of a provincial IT plan, e.g. `quang_ngai_2018`.
    PlanCode, "plan"
}

#[cfg(test)]
mod tests {
    use super::*;

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
