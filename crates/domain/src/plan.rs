//! Provincial IT plans (kế hoạch ứng dụng CNTT) and their targets (chỉ tiêu):
//! "số máy tính/cán bộ công chức đạt 0.9", "trên 90% văn bản … dưới dạng điện tử".
//! Aggregation compares computed indicator values with these targets.

use std::{fmt, str::FromStr};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::{
    AdminLevel, AdminUnitCode, AgencyKind, FieldErrors, IndicatorCode, VnName,
    catalogue::{Catalogue, Comparator, Ratio, RawNumber},
    codes::PlanCode,
    date::parse_date,
};

/// Which agencies' pooled figures a target is measured on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum TargetGroup {
    /// Every reporting agency of the province together.
    WholeProvince,
    /// Agencies of one kind, e.g. all district committees.
    Kind(AgencyKind),
    /// Agencies at one level (a department and the provincial committee are both provincial).
    Level(AdminLevel),
}

impl TargetGroup {
    /// Whether an agency of this kind and level belongs to the group.
    pub fn includes(self, kind: AgencyKind, level: AdminLevel) -> bool {
        match self {
            Self::WholeProvince => true,
            Self::Kind(k) => k == kind,
            Self::Level(l) => l == level,
        }
    }
}

impl fmt::Display for TargetGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WholeProvince => f.write_str("whole_province"),
            Self::Kind(k) => write!(f, "{k}"),
            Self::Level(l) => write!(f, "{l}_level"),
        }
    }
}

impl FromStr for TargetGroup {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s == "whole_province" {
            return Ok(Self::WholeProvince);
        }
        if let Ok(k) = s.parse::<AgencyKind>() {
            return Ok(Self::Kind(k));
        }
        match s {
            "province_level" => Ok(Self::Level(AdminLevel::Province)),
            "district_level" => Ok(Self::Level(AdminLevel::District)),
            "commune_level" => Ok(Self::Level(AdminLevel::Commune)),
            _ => Err(format!(
                "`{s}` is not a target group: whole_province, an agency kind (provincial_committee, department, district_committee, commune_committee) or a level (province_level, district_level, commune_level)"
            )),
        }
    }
}

impl TryFrom<String> for TargetGroup {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<TargetGroup> for String {
    fn from(g: TargetGroup) -> String {
        g.to_string()
    }
}

/// Whether a target is a percentage (compared with a % indicator) or an absolute figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    Percentage,
    Absolute,
}

/// A goal set by a plan, or a figure recorded by a baseline review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanKind {
    /// Targets to reach.
    Plan,
    /// Figures observed at the time (e.g. a steering-committee review); the
    /// "targets" are what was reached, kept to measure progress against.
    Baseline,
}

/// A target as written, before any check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTarget {
    pub indicator: String,
    pub group: String,
    pub comparator: String,
    /// A whole number, or a decimal as text (`"0.9"`).
    pub value: RawNumber,
    /// `percentage` or `absolute`.
    pub kind: TargetKind,
    /// The year the target applies to; defaults to the plan's last year.
    #[serde(default)]
    pub year: Option<u16>,
    /// The plan's own wording of the target.
    #[serde(default)]
    pub wording: String,
}

/// A plan as written, before any check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPlan {
    pub code: String,
    pub title: String,
    /// Document number, e.g. `399/KH-UBND`.
    #[serde(default)]
    pub number: String,
    /// Date signed, `YYYY-MM-DD`.
    pub date: String,
    /// Province administrative-unit code (2 digits).
    pub province: String,
    pub first_year: u16,
    pub last_year: u16,
    #[serde(default = "plan_kind")]
    pub kind: PlanKind,
    #[serde(default)]
    pub targets: Vec<RawTarget>,
}

fn plan_kind() -> PlanKind {
    PlanKind::Plan
}

/// A checked target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Target {
    pub indicator: IndicatorCode,
    pub group: TargetGroup,
    pub comparator: Comparator,
    /// The target value, exactly (0.9 is 9/10).
    pub value: Ratio,
    pub kind: TargetKind,
    pub year: u16,
    pub wording: String,
}

impl Target {
    /// Whether `actual` (the indicator's value, already × factor) meets the target.
    pub fn attained(&self, actual: Ratio) -> bool {
        self.comparator.holds(actual.compare(self.value))
    }

    /// How far `actual` is from the target, in the indicator's unit: positive
    /// when short of it (below a ≥/> target, above a ≤/< one, off an = one),
    /// zero or negative when beyond it. A strict target (>, <) met exactly
    /// has gap zero and is still not attained.
    pub fn gap(&self, actual: Ratio) -> Ratio {
        match self.comparator {
            Comparator::Ge | Comparator::Gt => self.value.minus(actual),
            Comparator::Le | Comparator::Lt => actual.minus(self.value),
            Comparator::Eq => {
                let d = actual.minus(self.value);
                Ratio::new(d.numerator.abs(), d.denominator).expect("non-zero denominator")
            }
        }
    }
}

/// A checked plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub code: PlanCode,
    pub title: VnName,
    pub number: String,
    pub date: NaiveDate,
    pub province: AdminUnitCode,
    pub first_year: u16,
    pub last_year: u16,
    pub kind: PlanKind,
    pub targets: Vec<Target>,
}

/// Parses a non-negative integer or decimal text exactly.
fn parse_ratio(raw: &RawNumber) -> Result<Ratio, String> {
    parse_number(raw, "a target value")
}

/// Parses a non-negative integer or decimal text exactly; `what` names the
/// field in the error ("a target value", "a weight").
pub(crate) fn parse_number(raw: &RawNumber, what: &str) -> Result<Ratio, String> {
    let bad = || format!("`{raw}` is not {what}: a number zero or more, e.g. 90 or \"0.9\"");
    match raw {
        RawNumber::Integer(n) if *n >= 0 => Ok(Ratio::integer(i128::from(*n))),
        RawNumber::Integer(_) => Err(bad()),
        RawNumber::Text(t) => {
            let t = t.trim();
            let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
            let digits_ok = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
            if t.is_empty()
                || !digits_ok(whole)
                || !digits_ok(frac)
                || frac.len() > 6
                || whole.len() > 15
            {
                return Err(bad());
            }
            let n: i128 = format!("{whole}{frac}").parse().map_err(|_| bad())?;
            Ratio::new(n, 10i128.pow(frac.len() as u32)).ok_or_else(bad)
        }
    }
}

impl Plan {
    /// Checks a raw plan against the catalogue, reporting every problem.
    pub fn build(raw: &RawPlan, catalogue: &Catalogue) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let code = errors.check("code", PlanCode::parse(&raw.code));
        let title = errors.check("title", VnName::parse(&raw.title));
        let date = errors.check("date", parse_date(&raw.date));
        let province = errors.check("province", AdminUnitCode::parse(&raw.province));
        if province
            .as_ref()
            .is_some_and(|p| p.level() != AdminLevel::Province)
        {
            errors.push(
                "province",
                format!(
                    "`{}` is not a province code: use 2 digits, e.g. 51",
                    raw.province
                ),
            );
        }
        let years_ok = (1900..=2999).contains(&raw.first_year)
            && raw.first_year <= raw.last_year
            && raw.last_year <= 2999;
        if !years_ok {
            errors.push(
                "last_year",
                format!(
                    "years {}-{} are not a range within 1900-2999",
                    raw.first_year, raw.last_year
                ),
            );
        }
        let mut targets = Vec::new();
        for (i, t) in raw.targets.iter().enumerate() {
            let path = format!("targets[{i}]");
            let indicator = errors
                .check(
                    format!("{path}.indicator"),
                    IndicatorCode::parse(&t.indicator),
                )
                .and_then(|code| match catalogue.indicator(&code) {
                    Some(ind) => Some((code, ind)),
                    None => {
                        errors.push(
                            format!("{path}.indicator"),
                            format!("unknown indicator `{code}`"),
                        );
                        None
                    }
                });
            let group = errors.check(format!("{path}.group"), t.group.parse::<TargetGroup>());
            let comparator = errors.check(
                format!("{path}.comparator"),
                Comparator::parse(&t.comparator),
            );
            let value = errors.check(format!("{path}.value"), parse_ratio(&t.value));
            if let Some((code, ind)) = &indicator {
                let is_percent = ind.factor == 100;
                if (t.kind == TargetKind::Percentage) != is_percent {
                    errors.push(
                        format!("{path}.kind"),
                        format!(
                            "`{code}` is {} indicator (factor {}), so the target must be {}",
                            if is_percent {
                                "a percentage"
                            } else {
                                "an absolute"
                            },
                            ind.factor,
                            if is_percent { "percentage" } else { "absolute" }
                        ),
                    );
                }
                if t.kind == TargetKind::Percentage
                    && value.is_some_and(|v| v.compare(Ratio::integer(100)).is_gt())
                {
                    errors.push(format!("{path}.value"), "a percentage is at most 100");
                }
            }
            let year = t.year.unwrap_or(raw.last_year);
            if years_ok && !(raw.first_year..=raw.last_year).contains(&year) {
                errors.push(
                    format!("{path}.year"),
                    format!(
                        "{year} is outside the plan's years {}-{}",
                        raw.first_year, raw.last_year
                    ),
                );
            }
            if let (Some((indicator, _)), Some(group), Some(comparator), Some(value)) =
                (indicator, group, comparator, value)
            {
                targets.push(Target {
                    indicator,
                    group,
                    comparator,
                    value,
                    kind: t.kind,
                    year,
                    wording: t.wording.trim().to_owned(),
                });
            }
        }
        errors.into_result(|| Self {
            code: code.expect("no errors"),
            title: title.expect("no errors"),
            number: raw.number.trim().to_owned(),
            date: date.expect("no errors"),
            province: province.expect("no errors"),
            first_year: raw.first_year,
            last_year: raw.last_year,
            kind: raw.kind,
            targets,
        })
    }

    /// Targets on one indicator, for one group, in one year.
    pub fn targets_for(
        &self,
        indicator: &IndicatorCode,
        group: TargetGroup,
        year: u16,
    ) -> impl Iterator<Item = &Target> {
        let indicator = indicator.clone();
        self.targets
            .iter()
            .filter(move |t| t.indicator == indicator && t.group == group && t.year == year)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::{RawCatalogue, RawDataElement, RawIndicator};

    fn catalogue() -> Catalogue {
        let el = |code: &str| RawDataElement {
            code: code.into(),
            name: code.into(),
            name_en: None,
            description: "đếm".into(),
            category: "internal_use".into(),
            value_type: "count".into(),
            decimals: None,
            min: None,
            max: None,
            unit: String::new(),
            period_rule: None,
        };
        let ind = |code: &str, num: &str, den: Option<&str>, factor: i64| RawIndicator {
            code: code.into(),
            name: code.into(),
            name_en: None,
            description: String::new(),
            numerator: num.into(),
            denominator: den.map(Into::into),
            factor,
            decimals: 1,
            unit: String::new(),
            category: "internal_use".into(),
            higher_is_better: true,
        };
        Catalogue::build(&RawCatalogue {
            elements: vec![el("computers"), el("officials"), el("online_meetings")],
            indicators: vec![
                ind("computers_per_official", "computers", Some("officials"), 1),
                ind("computer_rate", "computers", Some("officials"), 100),
                ind("online_meetings_held", "online_meetings", None, 1),
            ],
            rules: vec![],
        })
        .unwrap()
    }

    fn raw() -> RawPlan {
        RawPlan {
            code: "quang_ngai_2018".into(),
            title: "Kế hoạch 399/KH-UBND ứng dụng CNTT năm 2018, tỉnh Quảng Ngãi".into(),
            number: "399/KH-UBND".into(),
            date: "2017-12-18".into(),
            province: "51".into(),
            first_year: 2018,
            last_year: 2018,
            kind: PlanKind::Plan,
            targets: vec![
                RawTarget {
                    indicator: "computers_per_official".into(),
                    group: "whole_province".into(),
                    comparator: ">=".into(),
                    value: RawNumber::Text("0.9".into()),
                    kind: TargetKind::Absolute,
                    year: None,
                    wording: "số máy tính/cán bộ công chức đạt 0.9 máy/cán bộ công chức".into(),
                },
                RawTarget {
                    indicator: "online_meetings_held".into(),
                    group: "provincial_committee".into(),
                    comparator: "≥".into(),
                    value: RawNumber::Integer(10),
                    kind: TargetKind::Absolute,
                    year: Some(2018),
                    wording: "Có ít nhất 10 cuộc họp … bằng hình thức họp trực tuyến".into(),
                },
                RawTarget {
                    indicator: "computer_rate".into(),
                    group: "district_level".into(),
                    comparator: ">".into(),
                    value: RawNumber::Integer(90),
                    kind: TargetKind::Percentage,
                    year: None,
                    wording: String::new(),
                },
            ],
        }
    }

    fn r(n: i128, d: i128) -> Ratio {
        Ratio::new(n, d).unwrap()
    }

    #[test]
    fn targets_attained_and_gaps() {
        let plan = Plan::build(&raw(), &catalogue()).unwrap();
        assert_eq!(plan.date, NaiveDate::from_ymd_opt(2017, 12, 18).unwrap());
        let per = &plan.targets[0];
        assert_eq!(per.value, r(9, 10));
        assert!(per.attained(r(9, 10)));
        assert!(!per.attained(r(89, 100)));
        assert_eq!(per.gap(r(85, 100)), r(5, 100));
        assert_eq!(per.gap(r(1, 1)), r(-1, 10));
        let meetings = &plan.targets[1];
        assert_eq!(
            meetings.group,
            TargetGroup::Kind(AgencyKind::ProvincialCommittee)
        );
        assert!(meetings.attained(Ratio::integer(10)));
        assert_eq!(meetings.gap(Ratio::integer(7)), Ratio::integer(3));
        let strict = &plan.targets[2];
        assert_eq!(strict.group, TargetGroup::Level(AdminLevel::District));
        assert!(!strict.attained(Ratio::integer(90)));
        assert_eq!(strict.gap(Ratio::integer(90)), Ratio::integer(0));
        assert!(strict.attained(r(1801, 20)));
        let code = IndicatorCode::parse("computers_per_official").unwrap();
        assert_eq!(
            plan.targets_for(&code, TargetGroup::WholeProvince, 2018)
                .count(),
            1
        );
        assert_eq!(
            plan.targets_for(&code, TargetGroup::WholeProvince, 2019)
                .count(),
            0
        );
    }

    #[test]
    fn at_most_and_exact_targets() {
        let t = |cmp: Comparator| Target {
            indicator: IndicatorCode::parse("x").unwrap(),
            group: TargetGroup::WholeProvince,
            comparator: cmp,
            value: Ratio::integer(5),
            kind: TargetKind::Absolute,
            year: 2020,
            wording: String::new(),
        };
        assert!(t(Comparator::Le).attained(Ratio::integer(5)));
        assert!(!t(Comparator::Lt).attained(Ratio::integer(5)));
        assert_eq!(t(Comparator::Le).gap(Ratio::integer(7)), Ratio::integer(2));
        assert!(t(Comparator::Eq).attained(Ratio::integer(5)));
        assert_eq!(t(Comparator::Eq).gap(Ratio::integer(3)), Ratio::integer(2));
    }

    proptest::proptest! {
        #[test]
        fn gap_agrees_with_attained(
            cmp in 0usize..5, tn in 0i128..10_000, td in 1i128..100, an in -10_000i128..10_000, ad in 1i128..100
        ) {
            let comparator = [Comparator::Lt, Comparator::Le, Comparator::Eq, Comparator::Ge, Comparator::Gt][cmp];
            let t = Target {
                indicator: IndicatorCode::parse("x").unwrap(),
                group: TargetGroup::WholeProvince,
                comparator,
                value: r(tn, td),
                kind: TargetKind::Absolute,
                year: 2020,
                wording: String::new(),
            };
            let actual = r(an, ad);
            let gap = t.gap(actual).compare(Ratio::integer(0));
            let expected = match comparator {
                Comparator::Le | Comparator::Ge => gap.is_le(),
                Comparator::Lt | Comparator::Gt => gap.is_lt(),
                Comparator::Eq => gap.is_eq(),
            };
            proptest::prop_assert_eq!(t.attained(actual), expected);
        }
    }

    #[test]
    fn groups_parse_and_include() {
        for g in [
            TargetGroup::WholeProvince,
            TargetGroup::Kind(AgencyKind::Department),
            TargetGroup::Level(AdminLevel::Commune),
        ] {
            assert_eq!(g.to_string().parse::<TargetGroup>(), Ok(g));
            let json = serde_json::to_string(&g).unwrap();
            assert_eq!(serde_json::from_str::<TargetGroup>(&json).unwrap(), g);
        }
        assert!(
            "province"
                .parse::<TargetGroup>()
                .unwrap_err()
                .contains("whole_province")
        );
        assert!(
            TargetGroup::Level(AdminLevel::Province)
                .includes(AgencyKind::Department, AdminLevel::Province)
        );
        assert!(
            !TargetGroup::Kind(AgencyKind::Department)
                .includes(AgencyKind::ProvincialCommittee, AdminLevel::Province)
        );
    }

    #[test]
    fn bad_plans_name_every_field() {
        let mut p = raw();
        p.province = "523".into();
        p.date = "18/12/2017".into();
        p.targets[0].indicator = "nope".into();
        p.targets[1].kind = TargetKind::Percentage;
        p.targets[1].year = Some(2020);
        p.targets[2].value = RawNumber::Integer(120);
        p.targets[2].comparator = "=>".into();
        let err = Plan::build(&p, &catalogue()).unwrap_err();
        let fields: Vec<&str> = err.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "date",
                "province",
                "targets[0].indicator",
                "targets[1].kind",
                "targets[1].year",
                "targets[2].comparator",
                "targets[2].value"
            ]
        );
        assert!(err.0[0].message.contains("YYYY-MM-DD"));
        assert!(err.0[3].message.contains("absolute"));
        assert!(parse_ratio(&RawNumber::Text("1,5".into())).is_err());
        assert!(parse_ratio(&RawNumber::Integer(-1)).is_err());
    }
}
