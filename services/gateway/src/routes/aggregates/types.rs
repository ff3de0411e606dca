//! The REST shapes of aggregates.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Which indicator, where and when.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AggregateQuery {
    /// Indicator code, e.g. `computer_equipment_rate`.
    pub indicator: String,
    /// Administrative-unit code of the area, e.g. `51`.
    pub area: String,
    /// Period code, e.g. `2018`.
    pub period: String,
    /// `YYYY-MM-DD`: whose organisation tree decides the area's agencies; today when absent.
    pub as_of: Option<String>,
}

/// An indicator value with the sums it came from.
#[derive(Debug, Serialize, ToSchema)]
pub struct Aggregate {
    pub indicator: String,
    pub area: String,
    pub period: String,
    /// sum(numerator) / sum(denominator) x factor; null when nothing is reported.
    pub value: Option<f64>,
    pub numerator: i64,
    pub denominator: i64,
    pub agencies_reporting: i64,
    pub factor: f64,
    pub unit: String,
    /// The date whose organisation tree was used.
    pub as_of: String,
}
