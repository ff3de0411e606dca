//! `chiso.submission.v1` messages and their domain types.

use chiso_domain::{
    AdminUnitCode, AgencyCode, DataElementCode, FieldErrors, IndicatorFormula, ReportContent,
    ReportStatus, ReportVersion,
};

use crate::submission::v1 as pb;

impl pb::DataValue {
    /// One reported count on the wire.
    pub fn new(data_element: impl Into<String>, value: i64) -> Self {
        Self {
            data_element: data_element.into(),
            value,
        }
    }
}

/// A submission's content, checked against the data elements the catalogue
/// knows; every invalid field is named.
pub fn decode_submit_report(
    request: &pb::SubmitReportRequest,
    known: impl Fn(&DataElementCode) -> bool,
) -> Result<ReportContent, FieldErrors> {
    let values: Vec<(&str, i64)> = request
        .values
        .iter()
        .map(|v| (v.data_element.as_str(), v.value))
        .collect();
    ReportContent::parse(&request.period, &values, known)
}

/// A report version from the change feed. The submission service stored it
/// after the same checks, so an error here means a corrupt or foreign feed.
pub fn decode_report(report: &pb::Report) -> Result<ReportVersion, FieldErrors> {
    let mut errors = FieldErrors::new();
    let agency = errors.check("agency_code", AgencyCode::parse(&report.agency_code));
    let province = errors.check("province_code", AdminUnitCode::parse(&report.province_code));
    let values: Vec<(&str, i64)> = report
        .values
        .iter()
        .map(|v| (v.data_element.as_str(), v.value))
        .collect();
    // Every data element was in the catalogue when the report was stored.
    let content = ReportContent::parse(&report.period, &values, |_| true)
        .map_err(|e| errors.0.extend(e.0))
        .ok();
    match (agency, province, content) {
        (Some(agency), Some(province), Some(content)) if errors.is_empty() => Ok(ReportVersion {
            id: report.id.clone(),
            agency,
            province,
            version: report.version,
            content,
        }),
        _ => Err(errors),
    }
}

/// How to compute an indicator, from its catalogue entry; an empty
/// denominator means a plain total.
pub fn decode_formula(indicator: &pb::Indicator) -> Result<IndicatorFormula, FieldErrors> {
    let mut errors = FieldErrors::new();
    let numerator = errors.check("numerator", DataElementCode::parse(&indicator.numerator));
    let denominator = match indicator.denominator.as_str() {
        "" => Some(None),
        raw => errors
            .check("denominator", DataElementCode::parse(raw))
            .map(Some),
    };
    match (numerator, denominator) {
        (Some(numerator), Some(denominator)) => Ok(IndicatorFormula {
            numerator,
            denominator,
            factor: indicator.factor,
        }),
        _ => Err(errors),
    }
}

impl From<ReportStatus> for pb::ReportStatus {
    fn from(status: ReportStatus) -> Self {
        match status {
            ReportStatus::Submitted => Self::Submitted,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_feed_report_decodes_and_bad_fields_are_named() {
        let mut report = pb::Report {
            id: "r1".into(),
            agency_code: "000.00.15.H51".into(),
            province_code: "51".into(),
            period: "2018".into(),
            version: 2,
            status: pb::ReportStatus::Submitted.into(),
            values: vec![pb::DataValue::new("officials", 10)],
            submitted_at: None,
        };
        let decoded = decode_report(&report).unwrap();
        assert_eq!(decoded.agency.as_str(), "000.00.15.H51");
        assert_eq!(decoded.content.values.len(), 1);
        report.province_code = "x".into();
        report.period = "2018Q9".into();
        let fields: Vec<String> = decode_report(&report)
            .unwrap_err()
            .0
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["province_code", "period"]);
    }

    #[test]
    fn a_formula_without_denominator_is_a_plain_total() {
        let indicator = pb::Indicator {
            code: "officials_total".into(),
            numerator: "officials".into(),
            factor: 1.0,
            ..Default::default()
        };
        let formula = decode_formula(&indicator).unwrap();
        assert_eq!(formula.denominator, None);
        assert_eq!(formula.numerator.as_str(), "officials");
    }
}
