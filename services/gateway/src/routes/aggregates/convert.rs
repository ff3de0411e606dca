//! Answers: JSON <-> `chiso.aggregation.v1` messages.

use chiso_proto::aggregation::v1 as pb;

use super::types::{
    AgencyAttainment, AgencyRef, Aggregate, AggregateQuery, Attainment, AttainmentQuery, Breakdown,
    Completeness, CompletenessQuery, ExportQuery, IndicatorBasis, InputValue, Plan,
    RankedIndicatorDefinition, RankingDefinition, RankingQuery, RankingResult, Score, Standing,
    SubIndexBasis, SubIndexDefinition, SubIndexScore, Target, TargetAttainment, TrendPoint,
    TrendQuery,
};
use crate::{error::ApiError, routes::common::convert_all};

fn some(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

/// `child_areas` or `agencies` as the wire enum; absent is unspecified.
pub fn breakdown(raw: Option<&str>) -> Result<i32, ApiError> {
    match raw.map(str::trim) {
        None | Some("") => Ok(pb::BreakdownBy::Unspecified.into()),
        Some("child_areas") => Ok(pb::BreakdownBy::ChildAreas.into()),
        Some("agencies") => Ok(pb::BreakdownBy::Agencies.into()),
        Some(other) => Err(ApiError::field(
            "breakdown",
            format!("`{other}` is not a breakdown: child_areas or agencies"),
        )),
    }
}

impl AggregateQuery {
    pub fn into_request(self) -> Result<pb::GetAggregateRequest, ApiError> {
        Ok(pb::GetAggregateRequest {
            breakdown: breakdown(self.breakdown.as_deref())?,
            indicator: self.indicator.unwrap_or_default(),
            data_element: self.data_element.unwrap_or_default(),
            area: self.area.unwrap_or_default(),
            agency: self.agency.unwrap_or_default(),
            period: self.period.unwrap_or_default(),
            as_of: self.as_of.unwrap_or_default(),
            group: self.group.unwrap_or_default(),
            comparable: self.comparable.unwrap_or(false),
        })
    }
}

impl From<TrendQuery> for pb::GetTrendRequest {
    fn from(q: TrendQuery) -> Self {
        Self {
            query: Some(pb::GetAggregateRequest {
                indicator: q.indicator.unwrap_or_default(),
                data_element: q.data_element.unwrap_or_default(),
                area: q.area.unwrap_or_default(),
                agency: q.agency.unwrap_or_default(),
                as_of: q.as_of.unwrap_or_default(),
                group: q.group.unwrap_or_default(),
                comparable: q.comparable.unwrap_or(false),
                ..Default::default()
            }),
            from: q.from,
            to: q.to,
        }
    }
}

impl From<CompletenessQuery> for pb::GetCompletenessRequest {
    fn from(q: CompletenessQuery) -> Self {
        Self {
            form: q.form,
            period: q.period,
            area: q.area.unwrap_or_default(),
            as_of: q.as_of.unwrap_or_default(),
            group: q.group.unwrap_or_default(),
        }
    }
}

impl From<AttainmentQuery> for pb::GetAttainmentRequest {
    fn from(q: AttainmentQuery) -> Self {
        Self {
            plan: q.plan,
            year: q.year.unwrap_or(0),
            period: q.period.unwrap_or_default(),
            as_of: q.as_of.unwrap_or_default(),
        }
    }
}

impl RankingQuery {
    pub fn into_request(self, ranking: String) -> pb::GetRankingRequest {
        pb::GetRankingRequest {
            ranking,
            area: self.area.unwrap_or_default(),
            period: self.period,
            as_of: self.as_of.unwrap_or_default(),
        }
    }
}

impl ExportQuery {
    /// The export request for `kind` (the path's answer).
    pub fn into_request(self, kind: &str) -> Result<pb::ExportRequest, ApiError> {
        use pb::export_request::What;
        let format = match self.format.trim() {
            "csv" => pb::ExportFormat::Csv,
            "xlsx" => pb::ExportFormat::Xlsx,
            "sdmx_csv" | "sdmx" => pb::ExportFormat::SdmxCsv,
            other => {
                return Err(ApiError::field(
                    "format",
                    format!("`{other}` is not an export format: csv, xlsx or sdmx_csv"),
                ));
            }
        };
        let values = |q: &Self| AggregateQuery {
            indicator: q.indicator.clone(),
            data_element: q.data_element.clone(),
            area: q.area.clone(),
            agency: q.agency.clone(),
            period: q.period.clone(),
            as_of: q.as_of.clone(),
            group: q.group.clone(),
            comparable: q.comparable,
            breakdown: q.breakdown.clone(),
        };
        let what = match kind {
            "aggregates" => What::Breakdown(values(&self).into_request()?),
            "trends" => What::Trend(
                TrendQuery {
                    indicator: self.indicator,
                    data_element: self.data_element,
                    area: self.area,
                    agency: self.agency,
                    group: self.group,
                    as_of: self.as_of,
                    comparable: self.comparable,
                    from: self.from.unwrap_or_default(),
                    to: self.to.unwrap_or_default(),
                }
                .into(),
            ),
            "completeness" => What::Completeness(
                CompletenessQuery {
                    form: self.form.unwrap_or_default(),
                    period: self.period.unwrap_or_default(),
                    area: self.area,
                    group: self.group,
                    as_of: self.as_of,
                }
                .into(),
            ),
            "attainment" => What::Attainment(
                AttainmentQuery {
                    plan: self.plan.unwrap_or_default(),
                    year: self.year,
                    period: self.period,
                    as_of: self.as_of,
                }
                .into(),
            ),
            "rankings" => What::Ranking(pb::GetRankingRequest {
                ranking: self.ranking.unwrap_or_default(),
                area: self.area.unwrap_or_default(),
                period: self.period.unwrap_or_default(),
                as_of: self.as_of.unwrap_or_default(),
            }),
            other => {
                return Err(ApiError::new(
                    tonic::Code::NotFound,
                    format!(
                        "no export of `{other}`: aggregates, trends, completeness, attainment or rankings"
                    ),
                ));
            }
        };
        Ok(pb::ExportRequest {
            format: format.into(),
            what: Some(what),
        })
    }
}

impl From<pb::Aggregate> for Aggregate {
    fn from(a: pb::Aggregate) -> Self {
        Self {
            indicator: some(a.indicator),
            data_element: some(a.data_element),
            area: some(a.area),
            agency: some(a.agency),
            name: a.name,
            period: a.period,
            group: a.group,
            value: a.value,
            value_text: some(a.value_text),
            numerator: a.numerator,
            denominator: a.denominator,
            numerator_exact: some(a.numerator_exact),
            denominator_exact: some(a.denominator_exact),
            agencies_reporting: a.agencies_reporting,
            agencies_expected: a.agencies_expected,
            factor: a.factor,
            decimals: a.decimals,
            unit: a.unit,
            as_of: a.as_of,
            comparable: a.comparable,
            error: some(a.error),
        }
    }
}

impl From<pb::Breakdown> for Breakdown {
    fn from(b: pb::Breakdown) -> Self {
        Self {
            total: b.total.unwrap_or_default().into(),
            rows: convert_all(b.rows),
        }
    }
}

impl From<pb::TrendPoint> for TrendPoint {
    fn from(p: pb::TrendPoint) -> Self {
        Self {
            aggregate: p.aggregate.unwrap_or_default().into(),
            change: p.change,
            change_year_on_year: p.change_year_on_year,
        }
    }
}

fn agency_ref(a: pb::AgencyRef, late: bool) -> AgencyRef {
    AgencyRef {
        code: a.code,
        name: a.name,
        days_late: late.then_some(a.days_late),
    }
}

impl From<pb::Completeness> for Completeness {
    fn from(c: pb::Completeness) -> Self {
        Self {
            form: c.form,
            period: c.period,
            area: c.area,
            group: c.group,
            deadline: c.deadline,
            as_of: c.as_of,
            expected: c.expected,
            received: c.received,
            on_time: c.on_time,
            late: c.late,
            missing_count: c.missing_count,
            returned_count: c.returned_count,
            reporting_rate: c.reporting_rate,
            on_time_rate: c.on_time_rate,
            missing: c
                .missing
                .into_iter()
                .map(|a| agency_ref(a, false))
                .collect(),
            late_agencies: c
                .late_agencies
                .into_iter()
                .map(|a| agency_ref(a, true))
                .collect(),
            returned: c
                .returned
                .into_iter()
                .map(|a| agency_ref(a, false))
                .collect(),
        }
    }
}

impl From<pb::Target> for Target {
    fn from(t: pb::Target) -> Self {
        Self {
            indicator: t.indicator,
            group: t.group,
            comparator: t.comparator,
            value: t.value,
            kind: t.kind,
            year: t.year,
            wording: t.wording,
        }
    }
}

impl From<pb::Plan> for Plan {
    fn from(p: pb::Plan) -> Self {
        Self {
            code: p.code,
            title: p.title,
            number: p.number,
            date: p.date,
            province: p.province,
            first_year: p.first_year,
            last_year: p.last_year,
            kind: p.kind,
            targets: convert_all(p.targets),
        }
    }
}

impl From<pb::AgencyAttainment> for AgencyAttainment {
    fn from(a: pb::AgencyAttainment) -> Self {
        Self {
            agency: a.agency,
            name: a.name,
            value: a.value,
            attained: a.attained,
            gap: a.gap,
        }
    }
}

impl From<pb::TargetAttainment> for TargetAttainment {
    fn from(t: pb::TargetAttainment) -> Self {
        Self {
            target: t.target.unwrap_or_default().into(),
            actual: t.actual.map(Into::into),
            attained: t.attained,
            gap: t.gap,
            gap_exact: some(t.gap_exact),
            agencies: convert_all(t.agencies),
            below: convert_all(t.below),
        }
    }
}

impl From<pb::Attainment> for Attainment {
    fn from(a: pb::Attainment) -> Self {
        Self {
            plan: a.plan.unwrap_or_default().into(),
            targets: convert_all(a.targets),
        }
    }
}

impl From<pb::RankingDefinition> for RankingDefinition {
    fn from(r: pb::RankingDefinition) -> Self {
        Self {
            code: r.code,
            name: r.name,
            version: r.version,
            group: r.group,
            description: r.description,
            sub_indexes: r
                .sub_indexes
                .into_iter()
                .map(|s| SubIndexDefinition {
                    code: s.code,
                    name: s.name,
                    weight: s.weight,
                    indicators: s
                        .indicators
                        .into_iter()
                        .map(|i| RankedIndicatorDefinition {
                            indicator: i.indicator,
                            weight: i.weight,
                            normalisation: i.normalisation,
                            target: some(i.target),
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

fn score(s: Option<pb::Score>) -> Option<Score> {
    s.map(|s| Score {
        exact: s.exact,
        value: s.value,
    })
}

impl From<pb::RankingResult> for RankingResult {
    fn from(r: pb::RankingResult) -> Self {
        Self {
            ranking: r.ranking,
            version: r.version,
            method: r.method,
            group: r.group,
            area: r.area,
            period: r.period,
            as_of: r.as_of,
            basis: r
                .basis
                .into_iter()
                .map(|b| SubIndexBasis {
                    code: b.code,
                    share: score(b.share),
                    indicators: b
                        .indicators
                        .into_iter()
                        .map(|i| IndicatorBasis {
                            indicator: i.indicator,
                            share: score(i.share),
                            higher_is_better: i.higher_is_better,
                            normalisation: i.normalisation,
                            min: i.min,
                            max: i.max,
                            target: i.target,
                        })
                        .collect(),
                })
                .collect(),
            agencies: r
                .agencies
                .into_iter()
                .map(|a| Standing {
                    agency: a.agency,
                    name: a.name,
                    rank: (a.rank > 0).then_some(a.rank),
                    total: score(a.total),
                    sub_indexes: a
                        .sub_indexes
                        .into_iter()
                        .map(|s| SubIndexScore {
                            code: s.code,
                            score: score(s.score),
                        })
                        .collect(),
                    inputs: a
                        .inputs
                        .into_iter()
                        .map(|i| InputValue {
                            indicator: i.indicator,
                            value: i.value,
                            score: score(i.score),
                        })
                        .collect(),
                    unranked_reason: some(a.unranked_reason),
                })
                .collect(),
        }
    }
}
