//! `chiso.aggregation.v1` messages and their domain types.

use chiso_domain::{
    AdminUnitCode, AgencyCode, AgencyHistory, Aggregate, AggregateQuery, FieldErrors,
    IndicatorCode, PeriodCode, TreeVersion,
    date::{format_date, parse_date},
};
use chrono::NaiveDate;

use crate::{aggregation::v1 as pb, registry::v1 as registry};

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

/// An agency-feed entry as the aggregator keeps it: the agency and every
/// version of its place in the tree. The registry stored them after the
/// same checks, so an error here means a corrupt or foreign feed.
pub fn decode_agency_history(
    agency: &registry::Agency,
    versions: &[registry::AgencyVersion],
) -> Result<AgencyHistory, FieldErrors> {
    let mut errors = FieldErrors::new();
    let code = errors.check("agency.code", AgencyCode::parse(&agency.code));
    let kind = errors.check("agency.kind", super::registry::agency_kind(agency.kind));
    let level = errors.check("agency.level", super::registry::admin_level(agency.level));
    let admin_unit = match agency.admin_unit_code.as_str() {
        "" => Some(None),
        raw => errors
            .check("agency.admin_unit_code", AdminUnitCode::parse(raw))
            .map(Some),
    };
    let mut decoded = Vec::with_capacity(versions.len());
    for (i, v) in versions.iter().enumerate() {
        let valid_from = errors.check(
            format!("versions[{i}].valid_from"),
            parse_date(&v.valid_from),
        );
        let valid_to = match v.valid_to.as_str() {
            "" => Some(None),
            raw => errors
                .check(format!("versions[{i}].valid_to"), parse_date(raw))
                .map(Some),
        };
        let parent = match v.parent_code.as_str() {
            "" => Some(None),
            raw => errors
                .check(format!("versions[{i}].parent_code"), AgencyCode::parse(raw))
                .map(Some),
        };
        let province = errors.check(
            format!("versions[{i}].province_code"),
            AdminUnitCode::parse(&v.province_code),
        );
        if let (Some(valid_from), Some(valid_to), Some(parent), Some(province)) =
            (valid_from, valid_to, parent, province)
        {
            decoded.push(TreeVersion {
                valid_from,
                valid_to,
                parent,
                province,
            });
        }
    }
    match (code, kind, level, admin_unit) {
        (Some(code), Some(kind), Some(level), Some(admin_unit)) if errors.is_empty() => {
            Ok(AgencyHistory {
                code,
                kind,
                level,
                admin_unit,
                versions: decoded,
            })
        }
        _ => Err(errors),
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

    #[test]
    fn an_agency_feed_entry_decodes_and_bad_dates_are_named() {
        let mut agency = registry::Agency {
            code: "000.00.31.H51".into(),
            admin_unit_code: "522".into(),
            kind: registry::AgencyKind::DistrictCommittee.into(),
            level: registry::AdminLevel::District.into(),
            ..Default::default()
        };
        let mut versions = vec![registry::AgencyVersion {
            parent_code: "000.00.00.H51".into(),
            province_code: "51".into(),
            valid_from: "2020-01-01".into(),
            valid_to: "2025-07-01".into(),
            ..Default::default()
        }];
        let history = decode_agency_history(&agency, &versions).unwrap();
        assert_eq!(history.admin_unit.unwrap().as_str(), "522");
        assert_eq!(history.kind, chiso_domain::AgencyKind::DistrictCommittee);
        assert_eq!(history.level, chiso_domain::AdminLevel::District);
        let version = &history.versions[0];
        assert_eq!(version.parent.as_ref().unwrap().as_str(), "000.00.00.H51");
        assert_eq!(version.valid_to.map(format_date).unwrap(), "2025-07-01");
        versions[0].valid_to = "soon".into();
        agency.kind = 0;
        let errors = decode_agency_history(&agency, &versions).unwrap_err();
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["agency.kind", "versions[0].valid_to"]);
    }
}
