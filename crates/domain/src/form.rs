//! Report forms (biểu mẫu báo cáo; DHIS2 calls them data sets): which data
//! elements an agency reports, how often, who must report, and by when.

use std::collections::BTreeSet;

use chrono::{Datelike, Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::{
    AdminLevel, AdminUnitCode, AgencyCode, AgencyKind, DataElementCode, FieldErrors, VnName,
    catalogue::Catalogue,
    codes::FormCode,
    period::{PeriodCode, PeriodType},
};

/// Latest due day a Decree 09 deadline may name: 28 exists in every month.
pub const MAX_DUE_DAY: u8 = 28;

/// When reports of a period are due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum DeadlineRule {
    /// Due `days` days after the period's last day.
    DaysAfterEnd { days: u32 },
    /// Decree 09/2019/NĐ-CP (chế độ báo cáo của cơ quan hành chính nhà nước),
    /// Art. 12: figures are cut off on the 14th of the period's last month
    /// (data run from the 15th of the month before the period to the 14th of
    /// its last month, see [`Form::data_window`]), and the report is due on
    /// day `due_day` of the month after the period. Modelled this way because
    /// the decree leaves the exact due day to the agency that asks for the
    /// report; the provincial committee states it per form.
    Decree09 { due_day: u8 },
}

/// Which reports count in aggregates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AggregationBasis {
    /// Every submitted report, accepted or still waiting.
    SubmittedOrAccepted,
    /// Only reports a province officer accepted.
    AcceptedOnly,
}

impl AggregationBasis {
    /// Whether a report in this state counts.
    pub fn counts(self, submitted: bool, accepted: bool) -> bool {
        match self {
            Self::SubmittedOrAccepted => submitted || accepted,
            Self::AcceptedOnly => accepted,
        }
    }
}

/// Who must report: agencies of any listed kind, at any listed level, or
/// named explicitly (a union: an agency matching any of the three reports).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reporters {
    #[serde(default)]
    pub kinds: BTreeSet<AgencyKindKey>,
    #[serde(default)]
    pub levels: BTreeSet<AdminLevel>,
    #[serde(default)]
    pub agencies: BTreeSet<AgencyCode>,
}

/// `AgencyKind` with an order, so it can sit in a `BTreeSet` (`agency.rs`
/// gives the kind no `Ord`); serialised as the kind's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AgencyKindKey(u8);

impl AgencyKindKey {
    pub fn new(kind: AgencyKind) -> Self {
        Self(
            AgencyKind::ALL
                .iter()
                .position(|k| *k == kind)
                .expect("in ALL") as u8,
        )
    }

    pub fn kind(self) -> AgencyKind {
        AgencyKind::ALL[usize::from(self.0)]
    }
}

impl TryFrom<String> for AgencyKindKey {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse::<AgencyKind>()
            .map(Self::new)
            .map_err(|e| e.to_string())
    }
}

impl From<AgencyKindKey> for String {
    fn from(k: AgencyKindKey) -> String {
        k.kind().as_str().to_owned()
    }
}

impl Reporters {
    /// Whether an agency of this kind, level and code must report.
    pub fn expects(&self, kind: AgencyKind, level: AdminLevel, code: &AgencyCode) -> bool {
        self.kinds.contains(&AgencyKindKey::new(kind))
            || self.levels.contains(&level)
            || self.agencies.contains(code)
    }

    pub fn is_empty(&self) -> bool {
        self.kinds.is_empty() && self.levels.is_empty() && self.agencies.is_empty()
    }
}

/// A form as written, before any check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawForm {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub name_en: Option<String>,
    /// `yearly`, `six_monthly`, `quarterly` or `monthly`.
    pub period_type: String,
    /// The first period reported, e.g. `2018` or `2018Q1`.
    pub opens: String,
    pub sections: Vec<RawSection>,
    #[serde(default)]
    pub reporters: RawReporters,
    pub deadline: DeadlineRule,
    /// Days after the deadline when entry closes; absent: never locked.
    #[serde(default)]
    pub lock_after_days: Option<u32>,
    #[serde(default)]
    pub signature_required: bool,
    #[serde(default)]
    pub acceptance_required: bool,
    /// `submitted_or_accepted` or `accepted_only`.
    pub aggregation_basis: AggregationBasis,
}

/// Who must report, as written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReporters {
    #[serde(default)]
    pub kinds: Vec<String>,
    #[serde(default)]
    pub levels: Vec<String>,
    #[serde(default)]
    pub agencies: Vec<String>,
}

/// A section of a form as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSection {
    pub name: String,
    #[serde(default)]
    pub name_en: Option<String>,
    pub elements: Vec<RawFormElement>,
}

/// An element of a section: its code alone (compulsory), or with `compulsory`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RawFormElement {
    Code(String),
    Detailed {
        code: String,
        #[serde(default = "compulsory_default")]
        compulsory: bool,
    },
}

fn compulsory_default() -> bool {
    true
}

/// One element on a form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FormElement {
    pub code: DataElementCode,
    /// A report cannot be submitted without it.
    pub compulsory: bool,
}

/// One titled section of a form, its elements in display order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Section {
    pub name: VnName,
    pub name_en: Option<VnName>,
    pub elements: Vec<FormElement>,
}

/// A checked report form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Form {
    pub code: FormCode,
    pub name: VnName,
    pub name_en: Option<VnName>,
    pub period_type: PeriodType,
    pub opens: PeriodCode,
    pub sections: Vec<Section>,
    pub reporters: Reporters,
    pub deadline: DeadlineRule,
    pub lock_after_days: Option<u32>,
    pub signature_required: bool,
    pub acceptance_required: bool,
    pub aggregation_basis: AggregationBasis,
}

/// One version of an agency as the registry held it: valid from
/// `valid_from` (inclusive) to `valid_to` (exclusive, `None` while current).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportingAgency {
    pub code: AgencyCode,
    pub kind: AgencyKind,
    pub level: AdminLevel,
    pub province: AdminUnitCode,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
}

impl ReportingAgency {
    /// Whether the version existed on at least one day of `period`.
    pub fn existed_during(&self, period: &PeriodCode) -> bool {
        self.valid_from <= period.end() && self.valid_to.is_none_or(|to| to > period.start())
    }
}

impl Form {
    /// Checks a raw form against the catalogue, reporting every problem.
    pub fn build(raw: &RawForm, catalogue: &Catalogue) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let code = errors.check("code", FormCode::parse(&raw.code));
        let name = errors.check("name", VnName::parse(&raw.name));
        let name_en = match &raw.name_en {
            Some(n) => errors.check("name_en", VnName::parse(n)).map(Some),
            None => Some(None),
        };
        let period_type = errors.check("period_type", raw.period_type.parse::<PeriodType>());
        let opens = errors.check("opens", PeriodCode::parse(&raw.opens));
        if let (Some(t), Some(o)) = (period_type, opens)
            && o.period_type() != t
        {
            errors.push(
                "opens",
                format!("`{o}` is not a {t} period, the form's period type"),
            );
        }
        let mut seen = BTreeSet::new();
        let mut sections = Vec::new();
        if raw.sections.is_empty() {
            errors.push("sections", "a form needs at least one section");
        }
        for (i, s) in raw.sections.iter().enumerate() {
            let path = format!("sections[{i}]");
            let name = errors.check(format!("{path}.name"), VnName::parse(&s.name));
            let name_en = match &s.name_en {
                Some(n) => errors
                    .check(format!("{path}.name_en"), VnName::parse(n))
                    .map(Some),
                None => Some(None),
            };
            let mut elements = Vec::new();
            for (j, e) in s.elements.iter().enumerate() {
                let field = format!("{path}.elements[{j}]");
                let (raw_code, compulsory) = match e {
                    RawFormElement::Code(c) => (c, true),
                    RawFormElement::Detailed { code, compulsory } => (code, *compulsory),
                };
                let Some(code) = errors.check(field.clone(), DataElementCode::parse(raw_code))
                else {
                    continue;
                };
                if catalogue.element(&code).is_none() {
                    errors.push(field, format!("unknown data element `{code}`"));
                } else if !seen.insert(code.clone()) {
                    errors.push(field, format!("`{code}` is already on the form"));
                } else {
                    elements.push(FormElement { code, compulsory });
                }
            }
            if let (Some(name), Some(name_en)) = (name, name_en) {
                sections.push(Section {
                    name,
                    name_en,
                    elements,
                });
            }
        }
        let mut reporters = Reporters::default();
        for (i, k) in raw.reporters.kinds.iter().enumerate() {
            if let Some(k) = errors.check(format!("reporters.kinds[{i}]"), k.parse::<AgencyKind>())
            {
                reporters.kinds.insert(AgencyKindKey::new(k));
            }
        }
        for (i, l) in raw.reporters.levels.iter().enumerate() {
            let level = [
                AdminLevel::Province,
                AdminLevel::District,
                AdminLevel::Commune,
            ]
            .into_iter()
            .find(|x| x.as_str() == l.trim());
            match level {
                Some(level) => {
                    reporters.levels.insert(level);
                }
                None => errors.push(
                    format!("reporters.levels[{i}]"),
                    format!("`{l}` is not a level: province, district or commune"),
                ),
            }
        }
        for (i, a) in raw.reporters.agencies.iter().enumerate() {
            if let Some(a) = errors.check(format!("reporters.agencies[{i}]"), AgencyCode::parse(a))
            {
                reporters.agencies.insert(a);
            }
        }
        if reporters.is_empty() && errors.is_empty() {
            errors.push(
                "reporters",
                "name the kinds, levels or agencies that must report",
            );
        }
        match raw.deadline {
            DeadlineRule::Decree09 { due_day } if !(1..=MAX_DUE_DAY).contains(&due_day) => errors
                .push(
                    "deadline.due_day",
                    format!("must be 1 to {MAX_DUE_DAY}, a day every month has"),
                ),
            DeadlineRule::DaysAfterEnd { days } if days > 366 => {
                errors.push("deadline.days", "must be at most 366")
            }
            _ => {}
        }
        if raw.lock_after_days.is_some_and(|d| d == 0 || d > 3660) {
            errors.push(
                "lock_after_days",
                "must be 1 to 3660 days, or absent for never",
            );
        }
        if raw.aggregation_basis == AggregationBasis::AcceptedOnly && !raw.acceptance_required {
            errors.push(
                "aggregation_basis",
                "accepted_only needs acceptance_required = true, or no report would ever count",
            );
        }
        errors.into_result(|| Self {
            code: code.expect("no errors"),
            name: name.expect("no errors"),
            name_en: name_en.expect("no errors"),
            period_type: period_type.expect("no errors"),
            opens: opens.expect("no errors"),
            sections,
            reporters,
            deadline: raw.deadline,
            lock_after_days: raw.lock_after_days,
            signature_required: raw.signature_required,
            acceptance_required: raw.acceptance_required,
            aggregation_basis: raw.aggregation_basis,
        })
    }

    /// The elements of every section, in order.
    pub fn elements(&self) -> impl Iterator<Item = &FormElement> {
        self.sections.iter().flat_map(|s| s.elements.iter())
    }

    /// The compulsory elements a report lacks, given the codes it has.
    pub fn missing_compulsory<'a>(
        &'a self,
        present: &BTreeSet<DataElementCode>,
    ) -> Vec<&'a DataElementCode> {
        self.elements()
            .filter(|e| e.compulsory && !present.contains(&e.code))
            .map(|e| &e.code)
            .collect()
    }

    /// Whether `period` is of the form's type and not before it opened.
    pub fn covers(&self, period: &PeriodCode) -> bool {
        period.period_type() == self.period_type && *period >= self.opens
    }

    /// The last day a report for `period` is on time.
    pub fn deadline(&self, period: &PeriodCode) -> NaiveDate {
        match self.deadline {
            DeadlineRule::DaysAfterEnd { days } => period.end() + Days::new(u64::from(days)),
            DeadlineRule::Decree09 { due_day } => {
                let next_month = period.end() + Days::new(1);
                next_month
                    .with_day(u32::from(due_day.clamp(1, MAX_DUE_DAY)))
                    .expect("day 1-28 exists in every month")
            }
        }
    }

    /// The days whose data a report covers: the period itself, or under
    /// Decree 09 from the 15th of the month before the period to the 14th of
    /// its last month (so `2018Q3` covers 2018-06-15 to 2018-09-14).
    pub fn data_window(&self, period: &PeriodCode) -> (NaiveDate, NaiveDate) {
        match self.deadline {
            DeadlineRule::DaysAfterEnd { .. } => (period.start(), period.end()),
            DeadlineRule::Decree09 { .. } => {
                let first = period.start() - Months::new(1) + Days::new(14);
                let last_month = period.end().with_day(1).expect("day 1 exists");
                (first, last_month + Days::new(13))
            }
        }
    }

    /// The first day entry for `period` is closed, if the form locks at all.
    pub fn lock_date(&self, period: &PeriodCode) -> Option<NaiveDate> {
        self.lock_after_days
            .map(|d| self.deadline(period) + Days::new(u64::from(d)))
    }

    /// Whether entry for `period` is closed on `today`.
    pub fn is_locked(&self, period: &PeriodCode, today: NaiveDate) -> bool {
        self.lock_date(period).is_some_and(|lock| today >= lock)
    }

    /// Days late of a report submitted on `submitted_on` (a date in Vietnam),
    /// `None` when on time.
    pub fn lateness(&self, period: &PeriodCode, submitted_on: NaiveDate) -> Option<u32> {
        let late = (submitted_on - self.deadline(period)).num_days();
        (late > 0).then(|| u32::try_from(late).unwrap_or(u32::MAX))
    }

    /// Days late of a report submitted at `submitted_at`, judged by the date
    /// in Vietnam (UTC+7): a report sent at 23:30 on the due day is on time.
    pub fn lateness_at(
        &self,
        period: &PeriodCode,
        submitted_at: chrono::DateTime<chrono::Utc>,
    ) -> Option<u32> {
        let local = submitted_at
            .with_timezone(&crate::date::vietnam_offset())
            .date_naive();
        self.lateness(period, local)
    }

    /// Whether agencies may enter data for `period` on `today`: a period of
    /// the form's type, not before the form opened, already begun, not locked.
    pub fn is_open_for(&self, period: &PeriodCode, today: NaiveDate) -> bool {
        self.covers(period) && period.start() <= today && !self.is_locked(period, today)
    }

    /// Whether an agency of this kind, level and code must report on this form.
    pub fn expects(&self, kind: AgencyKind, level: AdminLevel, code: &AgencyCode) -> bool {
        self.reporters.expects(kind, level, code)
    }

    /// The agencies that must report `period`: those the form expects that
    /// existed on at least one day of it, optionally in one province. An
    /// agency merged away mid-period is still expected for that period (it
    /// worked part of it), and its successor is expected from the period it
    /// starts in. Sorted, without duplicates; empty when the form does not
    /// cover the period.
    pub fn expected_reporters<'a>(
        &self,
        period: &PeriodCode,
        province: Option<&AdminUnitCode>,
        versions: impl IntoIterator<Item = &'a ReportingAgency>,
    ) -> Vec<AgencyCode> {
        if !self.covers(period) {
            return Vec::new();
        }
        let codes: BTreeSet<AgencyCode> = versions
            .into_iter()
            .filter(|v| province.is_none_or(|p| &v.province == p))
            .filter(|v| v.existed_during(period))
            .filter(|v| self.expects(v.kind, v.level, &v.code))
            .map(|v| v.code.clone())
            .collect();
        codes.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::{RawCatalogue, RawDataElement};

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
        Catalogue::build(&RawCatalogue {
            elements: vec![
                el("documents_sent"),
                el("documents_sent_electronic"),
                el("online_meetings"),
            ],
            ..Default::default()
        })
        .unwrap()
    }

    fn raw() -> RawForm {
        RawForm {
            code: "it_quarterly".into(),
            name: "Báo cáo nhanh ứng dụng CNTT hằng quý".into(),
            name_en: Some("Quarterly IT report".into()),
            period_type: "quarterly".into(),
            opens: "2018Q1".into(),
            sections: vec![RawSection {
                name: "Văn bản điện tử".into(),
                name_en: None,
                elements: vec![
                    RawFormElement::Code("documents_sent".into()),
                    RawFormElement::Detailed {
                        code: "documents_sent_electronic".into(),
                        compulsory: false,
                    },
                ],
            }],
            reporters: RawReporters {
                kinds: vec!["department".into()],
                levels: vec!["district".into()],
                agencies: vec!["000.00.00.H51".into()],
            },
            deadline: DeadlineRule::DaysAfterEnd { days: 15 },
            lock_after_days: Some(30),
            signature_required: true,
            acceptance_required: true,
            aggregation_basis: AggregationBasis::AcceptedOnly,
        }
    }

    fn p(s: &str) -> PeriodCode {
        PeriodCode::parse(s).unwrap()
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn a(s: &str) -> AgencyCode {
        AgencyCode::parse(s).unwrap()
    }

    #[test]
    fn deadlines_locks_and_lateness() {
        let f = Form::build(&raw(), &catalogue()).unwrap();
        let q3 = p("2018Q3");
        assert_eq!(f.deadline(&q3), d(2018, 10, 15));
        assert_eq!(f.lock_date(&q3), Some(d(2018, 11, 14)));
        assert_eq!(f.lateness(&q3, d(2018, 10, 15)), None);
        assert_eq!(f.lateness(&q3, d(2018, 10, 18)), Some(3));
        assert!(!f.is_locked(&q3, d(2018, 11, 13)));
        assert!(f.is_locked(&q3, d(2018, 11, 14)));
        assert!(f.is_open_for(&q3, d(2018, 7, 1)));
        assert!(
            !f.is_open_for(&q3, d(2018, 6, 30)),
            "not before the period starts"
        );
        assert!(
            !f.is_open_for(&p("2017Q4"), d(2018, 1, 5)),
            "not before the form opens"
        );
        assert!(
            !f.is_open_for(&p("2018"), d(2019, 1, 5)),
            "not another period type"
        );
        assert!(!f.is_open_for(&q3, d(2019, 1, 1)), "locked");
    }

    #[test]
    fn decree_09_cut_off_and_due_day() {
        let mut r = raw();
        r.deadline = DeadlineRule::Decree09 { due_day: 20 };
        r.lock_after_days = None;
        let f = Form::build(&r, &catalogue()).unwrap();
        assert_eq!(f.deadline(&p("2018Q4")), d(2019, 1, 20));
        assert_eq!(
            f.data_window(&p("2018Q3")),
            (d(2018, 6, 15), d(2018, 9, 14))
        );
        assert_eq!(
            f.data_window(&p("2018Q1")),
            (d(2017, 12, 15), d(2018, 3, 14))
        );
        assert_eq!(f.lock_date(&p("2018Q4")), None);
        assert!(!f.is_locked(&p("2018Q4"), d(2030, 1, 1)));
    }

    #[test]
    fn who_reports() {
        let f = Form::build(&raw(), &catalogue()).unwrap();
        let other = a("000.00.01.H51");
        assert!(f.expects(AgencyKind::Department, AdminLevel::Province, &other));
        assert!(f.expects(AgencyKind::DistrictCommittee, AdminLevel::District, &other));
        assert!(!f.expects(AgencyKind::CommuneCommittee, AdminLevel::Commune, &other));
        assert!(f.expects(
            AgencyKind::ProvincialCommittee,
            AdminLevel::Province,
            &a("000.00.00.H51")
        ));
        assert!(AggregationBasis::AcceptedOnly.counts(true, true));
        assert!(!AggregationBasis::AcceptedOnly.counts(true, false));
        assert!(AggregationBasis::SubmittedOrAccepted.counts(true, false));
        let missing = f.missing_compulsory(&BTreeSet::new());
        assert_eq!(missing.len(), 1);
        assert_eq!(missing[0].as_str(), "documents_sent");
    }

    #[test]
    fn a_merger_across_periods() {
        let f = Form::build(&raw(), &catalogue()).unwrap();
        let v = |code: &str,
                 kind: AgencyKind,
                 from: NaiveDate,
                 to: Option<NaiveDate>,
                 province: &str| ReportingAgency {
            code: a(code),
            kind,
            level: kind.level(),
            province: AdminUnitCode::parse(province).unwrap(),
            valid_from: from,
            valid_to: to,
        };
        // Two districts merge into a new one on 2018-08-01 (valid_to exclusive).
        let merge = d(2018, 8, 1);
        let versions = vec![
            v(
                "000.00.01.H51",
                AgencyKind::DistrictCommittee,
                d(2000, 1, 1),
                Some(merge),
                "51",
            ),
            v(
                "000.00.02.H51",
                AgencyKind::DistrictCommittee,
                d(2000, 1, 1),
                Some(merge),
                "51",
            ),
            v(
                "000.00.03.H51",
                AgencyKind::DistrictCommittee,
                merge,
                None,
                "51",
            ),
            v(
                "000.00.04.H51",
                AgencyKind::CommuneCommittee,
                d(2000, 1, 1),
                None,
                "51",
            ),
            v(
                "000.00.05.H45",
                AgencyKind::Department,
                d(2000, 1, 1),
                None,
                "45",
            ),
            // A department renamed in 2015: two versions, one agency.
            v(
                "000.00.06.H51",
                AgencyKind::Department,
                d(2000, 1, 1),
                Some(d(2015, 1, 1)),
                "51",
            ),
            v(
                "000.00.06.H51",
                AgencyKind::Department,
                d(2015, 1, 1),
                None,
                "51",
            ),
        ];
        let province = AdminUnitCode::parse("51").unwrap();
        let expected = |period: &str| -> Vec<String> {
            f.expected_reporters(&p(period), Some(&province), &versions)
                .into_iter()
                .map(String::from)
                .collect()
        };
        assert_eq!(
            expected("2018Q2"),
            ["000.00.01.H51", "000.00.02.H51", "000.00.06.H51"]
        );
        assert_eq!(
            expected("2018Q3"),
            [
                "000.00.01.H51",
                "000.00.02.H51",
                "000.00.03.H51",
                "000.00.06.H51"
            ]
        );
        assert_eq!(expected("2018Q4"), ["000.00.03.H51", "000.00.06.H51"]);
        assert!(
            expected("2017").is_empty(),
            "a yearly period is not this form's"
        );
        let everywhere = f.expected_reporters(&p("2018Q4"), None, &versions);
        assert!(everywhere.contains(&a("000.00.05.H45")));
    }

    #[test]
    fn lateness_uses_the_date_in_vietnam() {
        use chrono::TimeZone;
        let f = Form::build(&raw(), &catalogue()).unwrap();
        let q3 = p("2018Q3");
        // 2018-10-15 16:30 UTC is 23:30 on the due day in Vietnam; 17:30 UTC is the next day.
        let on_time = chrono::Utc
            .with_ymd_and_hms(2018, 10, 15, 16, 30, 0)
            .unwrap();
        let late = chrono::Utc
            .with_ymd_and_hms(2018, 10, 15, 17, 30, 0)
            .unwrap();
        assert_eq!(f.lateness_at(&q3, on_time), None);
        assert_eq!(f.lateness_at(&q3, late), Some(1));
    }

    fn any_quarter() -> impl proptest::strategy::Strategy<Value = PeriodCode> {
        use proptest::strategy::Strategy;
        (1950u16..2900, 1u8..=4)
            .prop_map(|(y, q)| PeriodCode::new(y, PeriodType::Quarterly, q).unwrap())
    }

    proptest::proptest! {
        #[test]
        fn lateness_counts_days_after_the_deadline(q in any_quarter(), k in -400i64..400, due in 1u8..=28) {
            for deadline in [DeadlineRule::DaysAfterEnd { days: 15 }, DeadlineRule::Decree09 { due_day: due }] {
                let mut r = raw();
                r.deadline = deadline;
                let f = Form::build(&r, &catalogue()).unwrap();
                let due_on = f.deadline(&q);
                proptest::prop_assert!(due_on > q.end());
                let day = due_on + chrono::Duration::days(k);
                let expected = if k > 0 { Some(k as u32) } else { None };
                proptest::prop_assert_eq!(f.lateness(&q, day), expected);
                let lock = f.lock_date(&q).unwrap();
                proptest::prop_assert_eq!(f.is_locked(&q, day), day >= lock);
                let (from, to) = f.data_window(&q);
                proptest::prop_assert!(from < to && to <= q.end());
                if let DeadlineRule::Decree09 { .. } = deadline {
                    // Consecutive windows meet without gap or overlap.
                    let (next_from, _) = f.data_window(&q.next().unwrap());
                    proptest::prop_assert_eq!(next_from, to + chrono::Duration::days(1));
                }
            }
        }

        #[test]
        fn an_agency_is_expected_exactly_when_it_existed(
            q in any_quarter(), from_off in -400i64..400, len in 1i64..800, open_ended in proptest::bool::ANY
        ) {
            let f = Form::build(&raw(), &catalogue()).unwrap();
            let valid_from = q.start() + chrono::Duration::days(from_off);
            let valid_to = (!open_ended).then(|| valid_from + chrono::Duration::days(len));
            let v = ReportingAgency {
                code: a("000.00.09.H51"),
                kind: AgencyKind::Department,
                level: AdminLevel::Province,
                province: AdminUnitCode::parse("51").unwrap(),
                valid_from,
                valid_to,
            };
            let existed = (q.start()..=q.end()).contains(&valid_from)
                || (valid_from < q.start() && valid_to.is_none_or(|t| t > q.start()));
            let got = f.expected_reporters(&q, None, [&v]);
            proptest::prop_assert_eq!(got.len() == 1, existed && q >= p("2018Q1"));
        }
    }

    #[test]
    fn bad_forms_name_every_field() {
        let mut r = raw();
        r.opens = "2018".into();
        r.sections[0]
            .elements
            .push(RawFormElement::Code("nope".into()));
        r.sections[0]
            .elements
            .push(RawFormElement::Code("documents_sent".into()));
        r.reporters.kinds.push("ministry".into());
        r.deadline = DeadlineRule::Decree09 { due_day: 31 };
        r.acceptance_required = false;
        let err = Form::build(&r, &catalogue()).unwrap_err();
        let fields: Vec<&str> = err.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "opens",
                "sections[0].elements[2]",
                "sections[0].elements[3]",
                "reporters.kinds[1]",
                "deadline.due_day",
                "aggregation_basis"
            ]
        );
        assert!(err.0[0].message.contains("not a quarterly period"));
        assert!(err.0[1].message.contains("unknown data element `nope`"));
        assert!(err.0[2].message.contains("already on the form"));
    }

    #[test]
    fn raw_forms_deserialise_from_toml_shapes() {
        let json = r#"{"code":"f","name":"Biểu","period_type":"yearly","opens":"2018",
            "sections":[{"name":"A","elements":["documents_sent",{"code":"online_meetings","compulsory":false}]}],
            "reporters":{"kinds":["department"]},
            "deadline":{"rule":"decree09","due_day":20},
            "aggregation_basis":"submitted_or_accepted"}"#;
        let r: RawForm = serde_json::from_str(json).unwrap();
        let f = Form::build(&r, &catalogue()).unwrap();
        assert_eq!(f.elements().count(), 2);
        assert!(!f.elements().nth(1).unwrap().compulsory);
        let out = serde_json::to_string(&f).unwrap();
        assert!(out.contains(r#""kinds":["department"]"#), "{out}");
    }
}
