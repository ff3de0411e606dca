//! The REST shapes of reports and the catalogue.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One reported count.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DataValue {
    /// Data element code, e.g. `officials`.
    pub data_element: String,
    /// "120", "12.50" or "yes"/"no".
    pub value: String,
}

/// A report for one period.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitReport {
    /// Report form code.
    pub form: String,
    /// `2018`, `2018S1`, `2018Q3` or `201807`.
    pub period: String,
    pub values: Vec<DataValue>,
}

/// A stored report version.
#[derive(Debug, Serialize, ToSchema)]
pub struct Report {
    pub id: String,
    pub agency_code: String,
    pub province_code: String,
    pub period: String,
    pub version: i32,
    pub status: String,
    pub values: Vec<DataValue>,
    /// RFC 3339 timestamp.
    pub submitted_at: String,
}

/// A raw count agencies report.
#[derive(Debug, Serialize, ToSchema)]
pub struct DataElement {
    pub code: String,
    pub name: String,
    pub name_en: String,
}

/// An indicator: sum(numerator) / sum(denominator) x factor.
#[derive(Debug, Serialize, ToSchema)]
pub struct Indicator {
    pub code: String,
    pub name: String,
    pub name_en: String,
    pub numerator: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub denominator: Option<String>,
    pub factor: i64,
    pub unit: String,
}
