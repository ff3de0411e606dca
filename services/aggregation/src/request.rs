//! Requests parsed into what they ask, every bad field named at once.

use chiso_domain::{
    AdminUnitCode, AgencyCode, DataElementCode, FieldErrors, FormCode, IndicatorCode, PeriodCode,
    codes::{PlanCode, RankingCode},
    date::parse_date,
    plan::TargetGroup,
};
use chiso_proto::aggregation::v1 as pb;
use chrono::NaiveDate;

/// An indicator or a data element, by code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubjectCode {
    Indicator(IndicatorCode),
    Element(DataElementCode),
}

/// Whose figures: the country, an area, or one agency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    Country,
    Area(AdminUnitCode),
    Agency(AgencyCode),
}

/// How a breakdown splits the group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    ChildAreas,
    Agencies,
}

/// A value question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueQuery {
    pub subject: SubjectCode,
    pub place: Place,
    pub period: PeriodCode,
    pub as_of: Option<NaiveDate>,
    pub group: Option<TargetGroup>,
    pub comparable: bool,
    pub split: Option<Split>,
}

fn as_of(raw: &str, errors: &mut FieldErrors) -> Option<Option<NaiveDate>> {
    match raw.trim() {
        "" => Some(None),
        raw => errors.check("as_of", parse_date(raw)).map(Some),
    }
}

/// "" or "VN" for the country, else an administrative-unit code.
fn area(raw: &str, errors: &mut FieldErrors) -> Option<Option<AdminUnitCode>> {
    match raw.trim() {
        "" | "VN" | "vn" => Some(None),
        raw => errors.check("area", AdminUnitCode::parse(raw)).map(Some),
    }
}

/// "" or "all" for every agency, else a kind or a level.
pub fn group(raw: &str, errors: &mut FieldErrors) -> Option<Option<TargetGroup>> {
    match raw.trim() {
        "" | "all" | "whole_province" => Some(None),
        raw => errors.check("group", raw.parse::<TargetGroup>()).map(Some),
    }
}

fn period(field: &str, raw: &str, errors: &mut FieldErrors) -> Option<PeriodCode> {
    errors.check(field, PeriodCode::parse(raw))
}

impl ValueQuery {
    pub fn decode(r: &pb::GetAggregateRequest, needs_period: bool) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let (indicator, element) = (r.indicator.trim(), r.data_element.trim());
        let subject = match (indicator.is_empty(), element.is_empty()) {
            (true, true) => {
                errors.push("indicator", "give an indicator or a data_element");
                None
            }
            (false, true) => errors
                .check("indicator", IndicatorCode::parse(indicator))
                .map(SubjectCode::Indicator),
            (true, false) => errors
                .check("data_element", DataElementCode::parse(element))
                .map(SubjectCode::Element),
            (false, false) => {
                errors.push(
                    "data_element",
                    "give an indicator or a data_element, not both",
                );
                None
            }
        };
        let agency = r.agency.trim();
        let place = match (agency.is_empty(), r.area.trim().is_empty()) {
            (false, false) => {
                errors.push("agency", "give an area or an agency, not both");
                None
            }
            (false, true) => errors
                .check("agency", AgencyCode::parse(agency))
                .map(Place::Agency),
            (true, _) => area(&r.area, &mut errors).map(|a| a.map_or(Place::Country, Place::Area)),
        };
        let period = if needs_period {
            period("period", &r.period, &mut errors)
        } else {
            // A trend's periods come from its range.
            Some(PeriodCode::parse("2000").expect("a valid period"))
        };
        let as_of = as_of(&r.as_of, &mut errors);
        let group = group(&r.group, &mut errors);
        if matches!(place, Some(Place::Agency(_))) && matches!(group, Some(Some(_))) {
            errors.push(
                "group",
                "a group is chosen inside an area, not for one agency",
            );
        }
        let split = match pb::BreakdownBy::try_from(r.breakdown).unwrap_or_default() {
            pb::BreakdownBy::Unspecified => None,
            pb::BreakdownBy::ChildAreas => Some(Split::ChildAreas),
            pb::BreakdownBy::Agencies => Some(Split::Agencies),
        };
        match (subject, place, period, as_of, group) {
            (Some(subject), Some(place), Some(period), Some(as_of), Some(group))
                if errors.is_empty() =>
            {
                Ok(Self {
                    subject,
                    place,
                    period,
                    as_of,
                    group,
                    comparable: r.comparable,
                    split,
                })
            }
            _ => Err(errors),
        }
    }
}

/// A series question: the value question over a range of periods.
#[derive(Debug, Clone)]
pub struct TrendQuery {
    pub query: ValueQuery,
    pub periods: Vec<PeriodCode>,
}

/// Most points in one series (20 years of months).
pub const MAX_POINTS: usize = 240;

impl TrendQuery {
    pub fn decode(r: &pb::GetTrendRequest) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let query = match &r.query {
            Some(q) => ValueQuery::decode(q, false).map_err(|e| {
                for fe in e.0 {
                    errors.push(format!("query.{}", fe.field), fe.message);
                }
            }),
            None => {
                errors.push("query", "is required");
                Err(())
            }
        };
        let from = period("from", &r.from, &mut errors);
        let to = period("to", &r.to, &mut errors);
        let mut periods = Vec::new();
        if let (Some(from), Some(to)) = (from, to) {
            if from.period_type() != to.period_type() {
                errors.push(
                    "to",
                    format!("`{to}` is not of the same period type as `{from}`"),
                );
            } else if to < from {
                errors.push("to", format!("`{to}` comes before `{from}`"));
            } else {
                let mut p = Some(from);
                while let Some(at) = p.filter(|p| *p <= to) {
                    if periods.len() == MAX_POINTS {
                        errors.push("to", format!("a series has at most {MAX_POINTS} periods"));
                        break;
                    }
                    periods.push(at);
                    p = at.next();
                }
            }
        }
        match query {
            Ok(query) if errors.is_empty() => Ok(Self { query, periods }),
            _ => Err(errors),
        }
    }
}

/// A completeness question.
#[derive(Debug, Clone)]
pub struct CompletenessQuery {
    pub form: FormCode,
    pub period: PeriodCode,
    pub area: Option<AdminUnitCode>,
    pub as_of: Option<NaiveDate>,
    pub group: Option<TargetGroup>,
}

impl CompletenessQuery {
    pub fn decode(r: &pb::GetCompletenessRequest) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let form = errors.check("form", FormCode::parse(&r.form));
        let period = period("period", &r.period, &mut errors);
        let area = area(&r.area, &mut errors);
        let as_of = as_of(&r.as_of, &mut errors);
        let group = group(&r.group, &mut errors);
        match (form, period, area, as_of, group) {
            (Some(form), Some(period), Some(area), Some(as_of), Some(group)) => Ok(Self {
                form,
                period,
                area,
                as_of,
                group,
            }),
            _ => Err(errors),
        }
    }
}

/// A ranking question.
#[derive(Debug, Clone)]
pub struct RankingQuery {
    pub ranking: RankingCode,
    pub area: Option<AdminUnitCode>,
    pub period: PeriodCode,
    pub as_of: Option<NaiveDate>,
}

impl RankingQuery {
    pub fn decode(r: &pb::GetRankingRequest) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let ranking = errors.check("ranking", RankingCode::parse(&r.ranking));
        let area = area(&r.area, &mut errors);
        let period = period("period", &r.period, &mut errors);
        let as_of = as_of(&r.as_of, &mut errors);
        match (ranking, area, period, as_of) {
            (Some(ranking), Some(area), Some(period), Some(as_of)) => Ok(Self {
                ranking,
                area,
                period,
                as_of,
            }),
            _ => Err(errors),
        }
    }
}

/// An attainment question.
#[derive(Debug, Clone)]
pub struct AttainmentQuery {
    pub plan: PlanCode,
    pub year: Option<u16>,
    pub period: Option<PeriodCode>,
    pub as_of: Option<NaiveDate>,
}

impl AttainmentQuery {
    pub fn decode(r: &pb::GetAttainmentRequest) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let plan = errors.check("plan", PlanCode::parse(&r.plan));
        let year = match r.year {
            0 => Some(None),
            y @ 1900..=2999 => Some(Some(y as u16)),
            y => {
                errors.push("year", format!("{y} is not a year within 1900-2999"));
                None
            }
        };
        let period = match r.period.trim() {
            "" => Some(None),
            raw => period("period", raw, &mut errors).map(Some),
        };
        let as_of = as_of(&r.as_of, &mut errors);
        match (plan, year, period, as_of) {
            (Some(plan), Some(year), Some(period), Some(as_of)) => Ok(Self {
                plan,
                year,
                period,
                as_of,
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bad_field_is_named() {
        let r = pb::GetAggregateRequest {
            indicator: "x".into(),
            data_element: "y".into(),
            area: "5".into(),
            period: "2025Q5".into(),
            as_of: "1/1/2025".into(),
            group: "districts".into(),
            ..Default::default()
        };
        let err = ValueQuery::decode(&r, true).unwrap_err();
        let fields: Vec<&str> = err.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["data_element", "area", "period", "as_of", "group"]);
    }

    #[test]
    fn places_and_groups() {
        let mut r = pb::GetAggregateRequest {
            data_element: "documents_sent".into(),
            period: "2025".into(),
            group: "district_committee".into(),
            ..Default::default()
        };
        let q = ValueQuery::decode(&r, true).unwrap();
        assert_eq!(q.place, Place::Country);
        assert!(q.group.is_some());
        r.agency = "000.00.15.H51".into();
        let err = ValueQuery::decode(&r, true).unwrap_err();
        assert_eq!(err.0[0].field, "group");
        r.group.clear();
        r.area = "51".into();
        assert_eq!(
            ValueQuery::decode(&r, true).unwrap_err().0[0].field,
            "agency"
        );
    }

    #[test]
    fn a_trend_lists_its_periods() {
        let r = pb::GetTrendRequest {
            query: Some(pb::GetAggregateRequest {
                indicator: "online_application_rate".into(),
                ..Default::default()
            }),
            from: "202511".into(),
            to: "202602".into(),
        };
        let t = TrendQuery::decode(&r).unwrap();
        let got: Vec<String> = t.periods.iter().map(ToString::to_string).collect();
        assert_eq!(got, ["202511", "202512", "202601", "202602"]);
        let bad = pb::GetTrendRequest {
            to: "2026Q1".into(),
            ..r
        };
        assert_eq!(TrendQuery::decode(&bad).unwrap_err().0[0].field, "to");
    }
}
