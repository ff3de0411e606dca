//! The REST shapes of the province's answers.

use chiso_domain::period::{MAX_YEAR, MIN_YEAR};
use serde::{Deserialize, Deserializer, Serialize, de::Error as _};
use utoipa::{IntoParams, ToSchema};

/// A plan year: absent for every year. The aggregation service reads 0 as
/// absent too, but a client writing `year=0` means something else, so it is
/// refused with every other year outside the periods' range.
fn plan_year<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u32>, D::Error> {
    let year = u32::deserialize(deserializer)?;
    if (u32::from(MIN_YEAR)..=u32::from(MAX_YEAR)).contains(&year) {
        Ok(Some(year))
    } else {
        Err(D::Error::custom(format!(
            "{year} is not a year within {MIN_YEAR}-{MAX_YEAR}"
        )))
    }
}

/// What to compute, over whom and when.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AggregateQuery {
    /// Indicator code, e.g. `computer_equipment_rate`: give it or
    /// `data_element`, not both.
    #[param(format = "catalogue-code", example = "electronic_document_rate")]
    pub indicator: Option<String>,
    /// Data element code, e.g. `documents_sent`: give it or `indicator`, not both.
    #[param(format = "catalogue-code")]
    pub data_element: Option<String>,
    /// Administrative-unit code of the area (`51` a province, `524` a
    /// district); `VN` or absent for the whole country. Not with `agency`.
    #[param(format = "area", example = "51")]
    pub area: Option<String>,
    /// One agency instead of an area.
    #[param(format = "agency-code")]
    pub agency: Option<String>,
    /// Period code, e.g. `2018`, `2025Q1`, `202503`; a coarser period than
    /// the form's rolls the finer ones up.
    #[param(format = "period-code", required = true, example = "2025")]
    pub period: Option<String>,
    /// Whose organisation tree decides membership; by default the period's
    /// last day (today for a period not over).
    #[param(format = Date, example = "2025-12-31")]
    pub as_of: Option<String>,
    /// Agencies of one kind (`district_committee`, `department`, …) or one
    /// level (`district_level`, …) inside the area; not for one agency.
    #[param(format = "target-group", example = "department")]
    pub group: Option<String>,
    /// Count merged agencies under their successor (today's tree).
    #[param(example = false)]
    pub comparable: Option<bool>,
    /// For breakdowns: per child area (default) or per agency.
    #[param(format = "breakdown", example = "agencies")]
    pub breakdown: Option<String>,
}

/// A value with the exact totals it came from and how complete it is.
#[derive(Debug, Serialize, ToSchema)]
pub struct Aggregate {
    pub indicator: Option<String>,
    pub data_element: Option<String>,
    /// The row's area (administrative-unit code), for area rows.
    pub area: Option<String>,
    /// The row's agency, for agency rows.
    pub agency: Option<String>,
    /// The area's People's Committee or the agency.
    pub name: String,
    pub period: String,
    pub group: String,
    /// sum(numerator) / sum(denominator) x factor; null when nothing counts.
    pub value: Option<f64>,
    /// `value` rounded to `decimals`, for display.
    pub value_text: Option<String>,
    /// Totals in whole units.
    pub numerator: i64,
    pub denominator: i64,
    /// Exact totals as decimal text.
    pub numerator_exact: Option<String>,
    pub denominator_exact: Option<String>,
    pub agencies_reporting: i64,
    pub agencies_expected: i64,
    pub factor: f64,
    pub decimals: u32,
    pub unit: String,
    /// The date whose organisation tree was used.
    pub as_of: String,
    pub comparable: bool,
    /// Why this row has no figures (withheld, or a total beyond 64 bits).
    pub error: Option<String>,
}

/// A group's total and one row per child area or agency.
#[derive(Debug, Serialize, ToSchema)]
pub struct Breakdown {
    pub total: Aggregate,
    pub rows: Vec<Aggregate>,
}

/// A series question.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TrendQuery {
    /// Give it or `data_element`, not both.
    #[param(format = "catalogue-code", example = "electronic_document_rate")]
    pub indicator: Option<String>,
    #[param(format = "catalogue-code")]
    pub data_element: Option<String>,
    /// `VN` or absent for the whole country; not with `agency`.
    #[param(format = "area", example = "51")]
    pub area: Option<String>,
    #[param(format = "agency-code")]
    pub agency: Option<String>,
    #[param(format = "target-group")]
    pub group: Option<String>,
    #[param(format = Date)]
    pub as_of: Option<String>,
    #[param(example = false)]
    pub comparable: Option<bool>,
    /// First period, e.g. `2025Q1`.
    #[param(format = "period-code", example = "2026Q1")]
    pub from: String,
    /// Last period, of the same type, at most 240 periods after `from`.
    #[param(format = "period-code", example = "2026Q4")]
    pub to: String,
}

/// One point of a series.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrendPoint {
    #[serde(flatten)]
    pub aggregate: Aggregate,
    /// Value minus the previous period's.
    pub change: Option<f64>,
    /// Value minus the same period's a year earlier.
    pub change_year_on_year: Option<f64>,
}

/// Which form, period and group.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CompletenessQuery {
    #[param(format = "catalogue-code", example = "it_fast_quarterly")]
    pub form: String,
    /// A period of the form's type.
    #[param(format = "period-code", example = "2026Q1")]
    pub period: String,
    /// `VN` or absent for the whole country.
    #[param(format = "area", example = "51")]
    pub area: Option<String>,
    #[param(format = "target-group", example = "department")]
    pub group: Option<String>,
    #[param(format = Date)]
    pub as_of: Option<String>,
}

/// An agency in a completeness list.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgencyRef {
    pub code: String,
    pub name: String,
    /// Days after the deadline, for late reports.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days_late: Option<u32>,
}

/// Expected, received, on time, late, missing and returned reports.
#[derive(Debug, Serialize, ToSchema)]
pub struct Completeness {
    pub form: String,
    pub period: String,
    pub area: String,
    pub group: String,
    pub deadline: String,
    pub as_of: String,
    pub expected: u32,
    pub received: u32,
    pub on_time: u32,
    pub late: u32,
    pub missing_count: u32,
    pub returned_count: u32,
    /// DHIS2 REPORTING_RATE, %.
    pub reporting_rate: Option<f64>,
    /// DHIS2 REPORTING_RATE_ON_TIME, %.
    pub on_time_rate: Option<f64>,
    pub missing: Vec<AgencyRef>,
    pub late_agencies: Vec<AgencyRef>,
    /// Returned and awaiting a revision.
    pub returned: Vec<AgencyRef>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PlansQuery {
    /// A province's plans only.
    #[param(format = "admin-unit-code", example = "51")]
    pub province: Option<String>,
}

/// A plan target.
#[derive(Debug, Serialize, ToSchema)]
pub struct Target {
    pub indicator: String,
    pub group: String,
    pub comparator: String,
    /// Exact decimal text in the indicator's unit.
    pub value: String,
    /// `percentage` or `absolute`.
    pub kind: String,
    pub year: u32,
    pub wording: String,
}

/// A provincial IT plan (or a baseline review) and its targets.
#[derive(Debug, Serialize, ToSchema)]
pub struct Plan {
    pub code: String,
    pub title: String,
    pub number: String,
    pub date: String,
    pub province: String,
    pub first_year: u32,
    pub last_year: u32,
    /// `plan` or `baseline`.
    pub kind: String,
    pub targets: Vec<Target>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AttainmentQuery {
    #[param(format = "catalogue-code", example = "quang_ngai_2018")]
    pub plan: String,
    /// The targets of one year; every year when absent.
    #[serde(default, deserialize_with = "plan_year")]
    #[param(minimum = 1900, maximum = 2999, example = 2018)]
    pub year: Option<u32>,
    /// The period measured; the target's year by default.
    #[param(format = "period-code", example = "2018")]
    pub period: Option<String>,
    #[param(format = Date)]
    pub as_of: Option<String>,
}

/// One agency against a target.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgencyAttainment {
    pub agency: String,
    pub name: String,
    pub value: Option<f64>,
    pub attained: bool,
    pub gap: Option<f64>,
}

/// One target: the group's figure against it, and every agency's.
#[derive(Debug, Serialize, ToSchema)]
pub struct TargetAttainment {
    pub target: Target,
    pub actual: Option<Aggregate>,
    pub attained: Option<bool>,
    /// Positive when short of the target.
    pub gap: Option<f64>,
    pub gap_exact: Option<String>,
    pub agencies: Vec<AgencyAttainment>,
    /// Agencies whose own figure misses the target, furthest first.
    pub below: Vec<AgencyAttainment>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Attainment {
    pub plan: Plan,
    pub targets: Vec<TargetAttainment>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RankedIndicatorDefinition {
    pub indicator: String,
    pub weight: String,
    pub normalisation: String,
    pub target: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubIndexDefinition {
    pub code: String,
    pub name: String,
    pub weight: String,
    pub indicators: Vec<RankedIndicatorDefinition>,
}

/// A ranking method: sub-indexes, indicators, weights and normalisation.
#[derive(Debug, Serialize, ToSchema)]
pub struct RankingDefinition {
    pub code: String,
    pub name: String,
    pub version: String,
    pub group: String,
    pub description: String,
    pub sub_indexes: Vec<SubIndexDefinition>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RankingQuery {
    /// The province whose agencies compete; `VN` or absent for the country.
    #[param(format = "area", example = "51")]
    pub area: Option<String>,
    #[param(format = "period-code", example = "2025")]
    pub period: String,
    #[param(format = Date)]
    pub as_of: Option<String>,
}

/// A score in 0..1, exact ("n/d") and as a number.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Score {
    pub exact: String,
    pub value: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IndicatorBasis {
    pub indicator: String,
    pub share: Option<Score>,
    pub higher_is_better: bool,
    pub normalisation: String,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub target: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubIndexBasis {
    pub code: String,
    pub share: Option<Score>,
    pub indicators: Vec<IndicatorBasis>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InputValue {
    pub indicator: String,
    pub value: Option<f64>,
    pub score: Option<Score>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubIndexScore {
    pub code: String,
    pub score: Option<Score>,
}

/// One agency's place: rank (null when unranked), total, and every input.
#[derive(Debug, Serialize, ToSchema)]
pub struct Standing {
    pub agency: String,
    pub name: String,
    pub rank: Option<u32>,
    pub total: Option<Score>,
    pub sub_indexes: Vec<SubIndexScore>,
    pub inputs: Vec<InputValue>,
    pub unranked_reason: Option<String>,
}

/// A ranking of a comparison group.
#[derive(Debug, Serialize, ToSchema)]
pub struct RankingResult {
    pub ranking: String,
    pub version: String,
    pub method: u32,
    pub group: String,
    pub area: String,
    pub period: String,
    pub as_of: String,
    pub basis: Vec<SubIndexBasis>,
    pub agencies: Vec<Standing>,
}

/// An export: which answer and in which format; the other parameters are
/// those of the answer's own endpoint.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `sdmx_csv` for aggregates and trends only.
    #[param(format = "export-format", example = "csv")]
    pub format: String,
    #[param(format = "catalogue-code", example = "electronic_document_rate")]
    pub indicator: Option<String>,
    #[param(format = "catalogue-code")]
    pub data_element: Option<String>,
    #[param(format = "area", example = "51")]
    pub area: Option<String>,
    #[param(format = "agency-code")]
    pub agency: Option<String>,
    #[param(format = "period-code", example = "2025")]
    pub period: Option<String>,
    #[param(format = Date)]
    pub as_of: Option<String>,
    #[param(format = "target-group")]
    pub group: Option<String>,
    pub comparable: Option<bool>,
    #[param(format = "breakdown", example = "agencies")]
    pub breakdown: Option<String>,
    #[param(format = "period-code")]
    pub from: Option<String>,
    #[param(format = "period-code")]
    pub to: Option<String>,
    #[param(format = "catalogue-code")]
    pub form: Option<String>,
    #[param(format = "catalogue-code")]
    pub plan: Option<String>,
    #[serde(default, deserialize_with = "plan_year")]
    #[param(minimum = 1900, maximum = 2999)]
    pub year: Option<u32>,
    #[param(format = "catalogue-code")]
    pub ranking: Option<String>,
}
