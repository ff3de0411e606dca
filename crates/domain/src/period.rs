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

/// Why a period type did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a period type: yearly, six_monthly, quarterly or monthly")]
pub struct PeriodTypeError(String);

impl PeriodType {
    /// Every type, coarsest first (the order of `Ord`).
    pub const ALL: [PeriodType; 4] = [
        Self::Yearly,
        Self::SixMonthly,
        Self::Quarterly,
        Self::Monthly,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Yearly => "yearly",
            Self::SixMonthly => "six_monthly",
            Self::Quarterly => "quarterly",
            Self::Monthly => "monthly",
        }
    }

    /// Length of one period in months.
    pub fn months(self) -> u32 {
        match self {
            Self::Yearly => 12,
            Self::SixMonthly => 6,
            Self::Quarterly => 3,
            Self::Monthly => 1,
        }
    }

    /// Number of periods of this type in a year.
    pub fn per_year(self) -> u8 {
        (12 / self.months()) as u8
    }

    /// True when every period of `finer` lies inside exactly one period of `self`
    /// (a type is coarser-or-equal to itself).
    pub fn is_coarser_or_equal(self, finer: PeriodType) -> bool {
        // Month counts 12, 6, 3, 1 each divide the previous one, so nesting is divisibility.
        self.months() >= finer.months()
    }
}

impl fmt::Display for PeriodType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PeriodType {
    type Err = PeriodTypeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == s.trim())
            .ok_or_else(|| PeriodTypeError(s.to_owned()))
    }
}

/// One reporting period.
///
/// Periods order chronologically by start date; when two start together the
/// longer one comes first (`2018` < `2018S1` < `2018Q1` < `201801` < `201802`).
/// Within one type this is plain calendar order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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

/// First and last year a period code may name (four digits, and chrono-safe).
pub const MIN_YEAR: u16 = 1900;
/// See [`MIN_YEAR`].
pub const MAX_YEAR: u16 = 2999;

/// The codes [`PeriodCode::parse`] accepts (once trimmed), years
/// [`MIN_YEAR`] to [`MAX_YEAR`], as a regular expression for API contracts.
pub const PERIOD_CODE_PATTERN: &str = "^(19[0-9]{2}|2[0-9]{3})(S[12]|Q[1-4]|0[1-9]|1[0-2])?$";

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
        // One spelling per period, as DHIS2 writes it: `2018Q3`, never
        // `2018Q03` (found by the period_code fuzz target: two codes for one
        // period would print differently from what the client sent).
        let number = |digits: &str, max: u8| -> Result<u8, PeriodError> {
            let width = if max > 9 { 2 } else { 1 };
            if digits.len() != width || !digits.bytes().all(|b| b.is_ascii_digit()) {
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

    /// Builds a period from its parts; `index` is the half (1-2), quarter (1-4)
    /// or month (1-12), and is ignored for a year.
    pub fn new(year: u16, kind: PeriodType, index: u8) -> Result<Self, PeriodError> {
        let index = if kind == PeriodType::Yearly { 0 } else { index };
        let valid = (MIN_YEAR..=MAX_YEAR).contains(&year)
            && (kind == PeriodType::Yearly || (1..=kind.per_year()).contains(&index));
        if valid {
            Ok(Self { year, kind, index })
        } else {
            Err(PeriodError(format!("{year}/{kind}/{index}")))
        }
    }

    /// The year of `year`.
    pub fn yearly(year: u16) -> Result<Self, PeriodError> {
        Self::new(year, PeriodType::Yearly, 0)
    }

    /// Half (1-2), quarter (1-4) or month (1-12) within the year; 0 for a year.
    pub fn index(&self) -> u8 {
        self.index
    }

    /// Months since January of year 0 of the first month, so periods of any
    /// type can be compared and nested with integer arithmetic.
    fn first_month(&self) -> u32 {
        let month0 = match self.kind {
            PeriodType::Yearly => 0,
            kind => (u32::from(self.index) - 1) * kind.months(),
        };
        u32::from(self.year) * 12 + month0
    }

    /// Months since January of year 0 of the last month.
    fn last_month(&self) -> u32 {
        self.first_month() + self.kind.months() - 1
    }

    /// The period of `kind` that contains the month `month` (counted as in
    /// `first_month`), or `None` outside the supported years.
    fn from_month(kind: PeriodType, month: u32) -> Option<Self> {
        let year = u16::try_from(month / 12).ok()?;
        let index = match kind {
            PeriodType::Yearly => 0,
            kind => (month % 12 / kind.months() + 1) as u8,
        };
        Self::new(year, kind, index).ok()
    }

    /// The period of `kind` that contains `date`, or `None` for a date outside
    /// the years 1900-2999.
    pub fn containing(kind: PeriodType, date: NaiveDate) -> Option<Self> {
        use chrono::Datelike;
        let year = u32::try_from(date.year()).ok()?;
        Self::from_month(kind, year * 12 + date.month0())
    }

    /// True when `other` lies wholly inside this period (a period contains itself).
    pub fn contains(&self, other: &PeriodCode) -> bool {
        self.first_month() <= other.first_month() && other.last_month() <= self.last_month()
    }

    /// True when `date` falls inside this period.
    pub fn contains_date(&self, date: NaiveDate) -> bool {
        self.start() <= date && date <= self.end()
    }

    /// The period of the coarser-or-equal type `kind` that contains this one
    /// (`201807` → `2018Q3`, `2018S2`, `2018`), or `None` when `kind` is finer.
    pub fn parent(&self, kind: PeriodType) -> Option<Self> {
        if !kind.is_coarser_or_equal(self.kind) {
            return None;
        }
        Self::from_month(kind, self.first_month())
    }

    /// The periods of `kind` inside this one, in order (`2018Q3` → `201807`..`201809`);
    /// empty when `kind` is coarser.
    pub fn children(&self, kind: PeriodType) -> Vec<Self> {
        if !self.kind.is_coarser_or_equal(kind) {
            return Vec::new();
        }
        (self.first_month()..=self.last_month())
            .step_by(kind.months() as usize)
            .filter_map(|m| Self::from_month(kind, m))
            .collect()
    }

    /// The following period of the same type, `None` after 2999.
    pub fn next(&self) -> Option<Self> {
        Self::from_month(self.kind, self.first_month() + self.kind.months())
    }

    /// The preceding period of the same type, `None` before 1900.
    pub fn previous(&self) -> Option<Self> {
        let month = self.first_month().checked_sub(self.kind.months())?;
        Self::from_month(self.kind, month)
    }

    /// True when the two periods share at least one day.
    pub fn overlaps(&self, other: &PeriodCode) -> bool {
        self.first_month() <= other.last_month() && other.first_month() <= self.last_month()
    }

    /// The periods of `kind` that share at least one day with `from..=to`, in
    /// order, each following the last without gap or overlap. Dates outside
    /// 1900-2999 are clamped to that range; `from > to` gives none.
    pub fn between(kind: PeriodType, from: NaiveDate, to: NaiveDate) -> Vec<Self> {
        let first_day = NaiveDate::from_ymd_opt(i32::from(MIN_YEAR), 1, 1).expect("valid date");
        let last_day = NaiveDate::from_ymd_opt(i32::from(MAX_YEAR), 12, 31).expect("valid date");
        let (from, to) = (from.max(first_day), to.min(last_day));
        if from > to {
            return Vec::new();
        }
        let mut out = Vec::new();
        let mut current = Self::containing(kind, from);
        while let Some(p) = current {
            if p.start() > to {
                break;
            }
            out.push(p);
            current = p.next();
        }
        out
    }
}

impl Ord for PeriodCode {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.first_month()
            .cmp(&other.first_month())
            .then(self.kind.cmp(&other.kind))
    }
}

impl PartialOrd for PeriodCode {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
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
            "2018-01", "2018S", "năm2018", "2036Q03", "2018S01", "2018Q+3",
        ] {
            assert!(PeriodCode::parse(bad).is_err(), "{bad}");
        }
    }

    fn p(code: &str) -> PeriodCode {
        PeriodCode::parse(code).unwrap()
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn a_month_sits_in_its_quarter_half_and_year() {
        let july = p("201807");
        assert_eq!(july.parent(PeriodType::Quarterly), Some(p("2018Q3")));
        assert_eq!(july.parent(PeriodType::SixMonthly), Some(p("2018S2")));
        assert_eq!(july.parent(PeriodType::Yearly), Some(p("2018")));
        assert_eq!(july.parent(PeriodType::Monthly), Some(july));
        assert_eq!(p("2018Q3").parent(PeriodType::Monthly), None);
        assert!(p("2018Q3").contains(&july));
        assert!(p("2018S2").contains(&p("2018Q4")));
        assert!(!p("2018S1").contains(&july));
        assert!(!july.contains(&p("2018Q3")));
        assert!(!p("2019").contains(&july));
        assert_eq!(
            p("2018Q3").children(PeriodType::Monthly),
            vec![p("201807"), p("201808"), p("201809")]
        );
        assert!(p("201807").children(PeriodType::Yearly).is_empty());
    }

    #[test]
    fn next_and_previous_cross_years() {
        assert_eq!(p("201812").next(), Some(p("201901")));
        assert_eq!(p("2018Q4").next(), Some(p("2019Q1")));
        assert_eq!(p("2019S1").previous(), Some(p("2018S2")));
        assert_eq!(p("2018").next(), Some(p("2019")));
        assert_eq!(p("2999Q4").next(), None);
        assert_eq!(p("190001").previous(), None);
    }

    #[test]
    fn periods_between_two_dates() {
        let qs = PeriodCode::between(PeriodType::Quarterly, d(2018, 2, 15), d(2018, 7, 1));
        assert_eq!(qs, vec![p("2018Q1"), p("2018Q2"), p("2018Q3")]);
        assert!(PeriodCode::between(PeriodType::Monthly, d(2018, 3, 1), d(2018, 2, 1)).is_empty());
        assert_eq!(
            PeriodCode::between(PeriodType::Yearly, d(2017, 12, 31), d(2018, 1, 1)),
            vec![p("2017"), p("2018")]
        );
        assert_eq!(
            PeriodCode::containing(PeriodType::SixMonthly, d(2020, 6, 30)),
            Some(p("2020S1"))
        );
    }

    #[test]
    fn order_is_chronological() {
        let mut ps = vec![
            p("201802"),
            p("2018Q1"),
            p("2017Q4"),
            p("2018"),
            p("201801"),
            p("2018S1"),
        ];
        ps.sort();
        assert_eq!(
            ps,
            vec![
                p("2017Q4"),
                p("2018"),
                p("2018S1"),
                p("2018Q1"),
                p("201801"),
                p("201802")
            ]
        );
    }

    #[test]
    fn period_types_parse_and_serialise() {
        for t in PeriodType::ALL {
            assert_eq!(t.as_str().parse::<PeriodType>(), Ok(t));
            assert_eq!(serde_json::to_string(&t).unwrap(), format!("\"{t}\""));
        }
        let err = "weekly".parse::<PeriodType>().unwrap_err().to_string();
        assert!(err.contains("quarterly"), "{err}");
        assert_eq!(serde_json::to_string(&p("2018Q3")).unwrap(), "\"2018Q3\"");
        assert!(serde_json::from_str::<PeriodCode>("\"2018Q5\"").is_err());
    }

    fn any_period() -> impl Strategy<Value = PeriodCode> {
        (1900u16..3000, 0usize..4, 1u8..13).prop_map(|(year, kind, idx)| {
            let kind = PeriodType::ALL[kind];
            let index = 1 + (idx - 1) % kind.per_year();
            PeriodCode::new(year, kind, index).unwrap()
        })
    }

    fn any_date() -> impl Strategy<Value = NaiveDate> {
        (1890i32..3010, 1u32..=366).prop_map(|(y, ord)| {
            NaiveDate::from_yo_opt(y, ord)
                .unwrap_or_else(|| NaiveDate::from_yo_opt(y, 365).unwrap())
        })
    }

    proptest! {
        #[test]
        fn containment_agrees_with_dates(a in any_period(), b in any_period()) {
            let by_dates = a.start() <= b.start() && b.end() <= a.end();
            prop_assert_eq!(a.contains(&b), by_dates);
            let overlap = a.start() <= b.end() && b.start() <= a.end();
            prop_assert_eq!(a.overlaps(&b), overlap);
            prop_assert_eq!(a.cmp(&b) == std::cmp::Ordering::Equal, a == b);
        }

        #[test]
        fn parents_contain_their_children(a in any_period(), k in 0usize..4) {
            let kind = PeriodType::ALL[k];
            match a.parent(kind) {
                Some(parent) => {
                    prop_assert_eq!(parent.period_type(), kind);
                    prop_assert!(parent.contains(&a));
                    prop_assert!(parent.children(a.period_type()).contains(&a));
                }
                None => prop_assert!(!kind.is_coarser_or_equal(a.period_type())),
            }
        }

        #[test]
        fn next_follows_without_gap(a in any_period()) {
            if let Some(n) = a.next() {
                prop_assert_eq!(n.start(), a.end().succ_opt().unwrap());
                prop_assert_eq!(n.previous(), Some(a));
                prop_assert!(a < n);
            }
            prop_assert_eq!(PeriodCode::containing(a.period_type(), a.start()), Some(a));
            prop_assert_eq!(PeriodCode::containing(a.period_type(), a.end()), Some(a));
            prop_assert_eq!(PeriodCode::new(a.year(), a.period_type(), a.index()), Ok(a));
        }

        #[test]
        fn between_covers_the_range(k in 0usize..4, x in any_date(), span in 0i64..2000) {
            let kind = PeriodType::ALL[k];
            let y = x + chrono::Duration::days(span);
            let ps = PeriodCode::between(kind, x, y);
            let lo = x.max(d(1900, 1, 1));
            let hi = y.min(d(2999, 12, 31));
            if lo > hi {
                prop_assert!(ps.is_empty());
            } else {
                prop_assert!(!ps.is_empty());
                prop_assert!(ps[0].contains_date(lo));
                prop_assert!(ps[ps.len() - 1].contains_date(hi));
                for w in ps.windows(2) {
                    prop_assert_eq!(w[1].start(), w[0].end().succ_opt().unwrap());
                }
                for q in &ps {
                    prop_assert_eq!(q.period_type(), kind);
                }
            }
        }

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
