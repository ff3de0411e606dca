//! Reporting periods and their codes (the DHIS2 forms): `2018` yearly,
//! `2018S1` six-monthly, `2018Q3` quarterly, `201807` monthly.

use std::{fmt, str::FromStr};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// How long a period lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodType {
    Yearly,
    SixMonthly,
    Quarterly,
    Monthly,
}

/// One reporting period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PeriodCode {
    year: u16,
    kind: PeriodType,
    /// Half (1-2), quarter (1-4) or month (1-12); 0 for a year.
    index: u8,
}

/// Why a period code did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a period code: use 2018 (year), 2018S1 (half), 2018Q3 (quarter) or 201807 (month), years 1900-2999"
)]
pub struct PeriodError(String);

impl PeriodCode {
    pub fn parse(raw: &str) -> Result<Self, PeriodError> {
        let err = || PeriodError(raw.to_owned());
        let s = raw.trim();
        if s.len() < 4 || !s.is_char_boundary(4) {
            return Err(err());
        }
        let (year, rest) = s.split_at(4);
        if !year.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err());
        }
        let year: u16 = year.parse().map_err(|_| err())?;
        if !(1900..=2999).contains(&year) {
            return Err(err());
        }
        let number = |digits: &str, max: u8| -> Result<u8, PeriodError> {
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err());
            }
            match digits.parse::<u8>() {
                Ok(n) if (1..=max).contains(&n) => Ok(n),
                _ => Err(err()),
            }
        };
        let (kind, index) = if rest.is_empty() {
            (PeriodType::Yearly, 0)
        } else if let Some(h) = rest.strip_prefix('S') {
            (PeriodType::SixMonthly, number(h, 2)?)
        } else if let Some(q) = rest.strip_prefix('Q') {
            (PeriodType::Quarterly, number(q, 4)?)
        } else if rest.len() == 2 {
            (PeriodType::Monthly, number(rest, 12)?)
        } else {
            return Err(err());
        };
        Ok(Self { year, kind, index })
    }

    pub fn year(&self) -> u16 {
        self.year
    }

    pub fn period_type(&self) -> PeriodType {
        self.kind
    }

    /// First day of the period.
    pub fn start(&self) -> NaiveDate {
        let month = match self.kind {
            PeriodType::Yearly => 1,
            PeriodType::SixMonthly => 1 + 6 * (u32::from(self.index) - 1),
            PeriodType::Quarterly => 1 + 3 * (u32::from(self.index) - 1),
            PeriodType::Monthly => u32::from(self.index),
        };
        NaiveDate::from_ymd_opt(i32::from(self.year), month, 1).expect("valid by construction")
    }

    /// Last day of the period.
    pub fn end(&self) -> NaiveDate {
        let months = match self.kind {
            PeriodType::Yearly => 12,
            PeriodType::SixMonthly => 6,
            PeriodType::Quarterly => 3,
            PeriodType::Monthly => 1,
        };
        let start = self.start();
        start
            .checked_add_months(chrono::Months::new(months))
            .and_then(|d| d.pred_opt())
            .expect("valid by construction")
    }
}

impl fmt::Display for PeriodCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            PeriodType::Yearly => write!(f, "{}", self.year),
            PeriodType::SixMonthly => write!(f, "{}S{}", self.year, self.index),
            PeriodType::Quarterly => write!(f, "{}Q{}", self.year, self.index),
            PeriodType::Monthly => write!(f, "{}{:02}", self.year, self.index),
        }
    }
}

impl FromStr for PeriodCode {
    type Err = PeriodError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for PeriodCode {
    type Error = PeriodError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<PeriodCode> for String {
    fn from(p: PeriodCode) -> String {
        p.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_each_form() {
        let y = PeriodCode::parse("2018").unwrap();
        assert_eq!(y.period_type(), PeriodType::Yearly);
        assert_eq!(y.start(), NaiveDate::from_ymd_opt(2018, 1, 1).unwrap());
        assert_eq!(y.end(), NaiveDate::from_ymd_opt(2018, 12, 31).unwrap());
        let h = PeriodCode::parse("2018S2").unwrap();
        assert_eq!(h.start(), NaiveDate::from_ymd_opt(2018, 7, 1).unwrap());
        let q = PeriodCode::parse("2024Q1").unwrap();
        assert_eq!(q.end(), NaiveDate::from_ymd_opt(2024, 3, 31).unwrap());
        let m = PeriodCode::parse("202402").unwrap();
        assert_eq!(m.end(), NaiveDate::from_ymd_opt(2024, 2, 29).unwrap());
        assert_eq!(m.to_string(), "202402");
    }

    #[test]
    fn rejects_malformed_codes() {
        for bad in [
            "", "18", "20x8", "2018S3", "2018Q0", "2018Q5", "201813", "201800", "2018W1", "1800",
            "2018-01", "2018S", "năm2018",
        ] {
            assert!(PeriodCode::parse(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn display_round_trips(year in 1900u16..3000, kind in 0u8..4, idx in 1u8..13) {
            let code = match kind {
                0 => format!("{year}"),
                1 => format!("{year}S{}", 1 + idx % 2),
                2 => format!("{year}Q{}", 1 + idx % 4),
                _ => format!("{year}{idx:02}"),
            };
            let parsed = PeriodCode::parse(&code).unwrap();
            prop_assert_eq!(parsed.to_string(), code);
            prop_assert!(parsed.start() <= parsed.end());
        }

        #[test]
        fn never_panics(s in "\\PC{0,12}") {
            let _ = PeriodCode::parse(&s);
        }
    }
}
