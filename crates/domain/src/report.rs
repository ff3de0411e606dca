//! Reports (báo cáo): what an agency submits for a period.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{AdminUnitCode, AgencyCode, Count, DataElementCode, FieldErrors, PeriodCode};

/// The content of a report: its period and one count per data element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportContent {
    pub period: PeriodCode,
    pub values: BTreeMap<DataElementCode, Count>,
}

impl ReportContent {
    /// Parses a submission, `values` as (data element, count) pairs, against
    /// the data elements the catalogue knows. Every invalid field is recorded,
    /// in request order, so the agency sees all its mistakes at once.
    pub fn parse<S: AsRef<str>>(
        period: &str,
        values: &[(S, i64)],
        known: impl Fn(&DataElementCode) -> bool,
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let period = errors.check("period", PeriodCode::parse(period));
        if values.is_empty() {
            errors.push("values", "at least one value is required");
        }
        let mut parsed = BTreeMap::new();
        for (i, (data_element, value)) in values.iter().enumerate() {
            let field = format!("values[{i}].data_element");
            let code = match DataElementCode::parse(data_element.as_ref()) {
                Ok(code) if known(&code) => Some(code),
                Ok(code) => {
                    errors.push(&field, format!("unknown data element `{code}`"));
                    None
                }
                Err(e) => {
                    errors.push(&field, e.to_string());
                    None
                }
            };
            let count = errors.check(format!("values[{i}].value"), Count::new(*value));
            if let (Some(code), Some(count)) = (code, count)
                && parsed.insert(code.clone(), count).is_some()
            {
                errors.push(&field, format!("`{code}` is given more than once"));
            }
        }
        match period {
            Some(period) if errors.is_empty() => Ok(Self {
                period,
                values: parsed,
            }),
            _ => Err(errors),
        }
    }
}

/// A stored version of an agency's report, as the change feed carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportVersion {
    pub id: String,
    pub agency: AgencyCode,
    pub province: AdminUnitCode,
    pub version: i32,
    pub content: ReportContent,
}

/// Where a report stands in its lifecycle (trạng thái báo cáo).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportStatus {
    /// Sent by the agency; counts in aggregates.
    Submitted,
}

impl ReportStatus {
    /// Every status.
    pub const ALL: [ReportStatus; 1] = [Self::Submitted];

    /// The status's name in columns, feeds and REST bodies.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Submitted => "submitted",
        }
    }
}

impl std::fmt::Display for ReportStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a report status did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a report status: submitted")]
pub struct UnknownReportStatus(String);

impl std::str::FromStr for ReportStatus {
    type Err = UnknownReportStatus;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownReportStatus(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(code: &DataElementCode) -> bool {
        ["officials", "computers"].contains(&code.as_str())
    }

    fn fields(errors: &FieldErrors) -> Vec<&str> {
        errors.0.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn a_good_report_parses() {
        let got =
            ReportContent::parse("2018", &[("officials", 10), ("computers", 5)], known).unwrap();
        assert_eq!(got.period.to_string(), "2018");
        let values: Vec<(&str, i64)> = got
            .values
            .iter()
            .map(|(c, n)| (c.as_str(), n.get()))
            .collect();
        assert_eq!(values, [("computers", 5), ("officials", 10)]);
    }

    #[test]
    fn every_mistake_is_named_in_request_order() {
        let errors = ReportContent::parse(
            "20x8",
            &[
                ("Officials", -1),
                ("servers", 2),
                ("computers", 1),
                ("computers", 2),
            ],
            known,
        )
        .unwrap_err();
        assert_eq!(
            fields(&errors),
            [
                "period",
                "values[0].data_element",
                "values[0].value",
                "values[1].data_element",
                "values[3].data_element",
            ]
        );
        assert!(
            errors.0[3]
                .message
                .contains("unknown data element `servers`")
        );
        assert!(errors.0[4].message.contains("more than once"));
    }

    #[test]
    fn a_report_needs_a_value() {
        let errors = ReportContent::parse::<&str>("2018", &[], known).unwrap_err();
        assert_eq!(fields(&errors), ["values"]);
    }

    proptest::proptest! {
        #[test]
        fn any_submission_parses_or_names_its_fields_never_panics(
            period in "\\PC{0,8}",
            values in proptest::collection::vec(("[a-zA-Z_ ]{0,12}", proptest::num::i64::ANY), 0..6),
        ) {
            match ReportContent::parse(&period, &values, known) {
                Ok(report) => {
                    proptest::prop_assert_eq!(report.values.len(), values.len());
                    proptest::prop_assert!(report.values.keys().all(known));
                }
                Err(errors) => proptest::prop_assert!(!errors.is_empty()),
            }
        }
    }

    #[test]
    fn report_statuses_round_trip_and_unknown_ones_are_refused() {
        for status in ReportStatus::ALL {
            assert_eq!(status.as_str().parse::<ReportStatus>().unwrap(), status);
        }
        assert!("draft ".parse::<ReportStatus>().is_err());
    }
}
