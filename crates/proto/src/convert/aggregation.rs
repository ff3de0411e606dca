//! `chiso.aggregation.v1` messages and their domain types.

use chiso_domain::{
    AdminUnitCode, Aggregate, AggregateQuery, FieldErrors, IndicatorCode, PeriodCode,
    date::{format_date, parse_date},
};
use chrono::NaiveDate;

use crate::aggregation::v1 as pb;

/// An aggregate query; an empty `as_of` means today, which the caller decides.
pub fn decode_get_aggregate(
    request: &pb::GetAggregateRequest,
) -> Result<AggregateQuery, FieldErrors> {
    let mut errors = FieldErrors::new();
    let indicator = errors.check("indicator", IndicatorCode::parse(&request.indicator));
    let area = errors.check("area", AdminUnitCode::parse(&request.area));
    let period = errors.check("period", PeriodCode::parse(&request.period));
    let as_of = match request.as_of.trim() {
        "" => Some(None),
        raw => errors.check("as_of", parse_date(raw)).map(Some),
    };
    match (indicator, area, period, as_of) {
        (Some(indicator), Some(area), Some(period), Some(as_of)) => Ok(AggregateQuery {
            indicator,
            area,
            period,
            as_of,
        }),
        _ => Err(errors),
    }
}

/// The answer to `query`, computed with the tree of `as_of`.
pub fn encode_aggregate(
    query: &AggregateQuery,
    as_of: NaiveDate,
    aggregate: &Aggregate,
    factor: f64,
    unit: String,
) -> pb::Aggregate {
    pb::Aggregate {
        indicator: query.indicator.to_string(),
        area: query.area.to_string(),
        period: query.period.to_string(),
        value: aggregate.value,
        numerator: aggregate.numerator,
        denominator: aggregate.denominator,
        agencies_reporting: aggregate.agencies_reporting,
        factor,
        unit,
        as_of: format_date(as_of),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bad_parameter_is_named() {
        let request = pb::GetAggregateRequest {
            indicator: "no_such_thing".into(),
            area: "5".into(),
            period: "2018Q5".into(),
            as_of: "01/07/2025".into(),
        };
        let fields: Vec<String> = decode_get_aggregate(&request)
            .unwrap_err()
            .0
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["area", "period", "as_of"]);
    }

    #[test]
    fn an_empty_as_of_is_left_to_the_caller() {
        let request = pb::GetAggregateRequest {
            indicator: "computer_equipment_rate".into(),
            area: "51".into(),
            period: "2018".into(),
            as_of: " ".into(),
        };
        assert_eq!(decode_get_aggregate(&request).unwrap().as_of, None);
    }
}
