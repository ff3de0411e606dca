//! The REST shapes of the catalogue: data elements, indicators and
//! validation rules.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Whether a list includes retired definitions.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CatalogueQuery {
    /// Retired definitions too (default false).
    pub include_retired: Option<bool>,
}

/// A raw value agencies report (chỉ tiêu thô), e.g. `officials`.
#[derive(Debug, Serialize, ToSchema)]
pub struct DataElement {
    pub code: String,
    /// Vietnamese name, as written.
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_en: Option<String>,
    /// What exactly the reporting officer counts.
    pub description: String,
    /// `technical_infrastructure`, `internal_use`, `online_services`,
    /// `human_resources` or `information_security`.
    pub category: String,
    /// `count`, `decimal` or `yes_no`.
    pub value_type: String,
    /// Digits after the point, for decimals.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decimals: Option<u32>,
    /// Bounds as text (`0`, `99.5`); absent for yes/no elements.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<String>,
    pub unit: String,
    /// How finer periods roll up into coarser ones: `sum` (a flow) or
    /// `last` (a stock, or a yes/no state).
    pub period_rule: String,
    pub retired: bool,
}

/// A data element to create (`POST`, `code` required) or its new
/// definition (`PUT`, where the path names it and `code`, if given, must be
/// the same). The value type changes only while no report holds a value.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DataElementBody {
    #[serde(default)]
    pub code: Option<String>,
    pub name: String,
    #[serde(default)]
    pub name_en: Option<String>,
    #[serde(default)]
    pub description: String,
    /// `technical_infrastructure`, `internal_use`, `online_services`,
    /// `human_resources` or `information_security`.
    pub category: String,
    /// `count`, `decimal` or `yes_no`.
    pub value_type: String,
    /// For decimal elements: 1 to 6.
    #[serde(default)]
    pub decimals: Option<u32>,
    /// Bounds as text (`0`, `99.5`).
    #[serde(default)]
    pub min: Option<String>,
    #[serde(default)]
    pub max: Option<String>,
    #[serde(default)]
    pub unit: String,
    /// `sum` or `last`; by default `sum`, or `last` for yes/no.
    #[serde(default)]
    pub period_rule: Option<String>,
}

/// An indicator (chỉ số): sum(numerator) / sum(denominator) x factor over
/// any group of agencies, never a mean of percentages.
#[derive(Debug, Serialize, ToSchema)]
pub struct Indicator {
    pub code: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_en: Option<String>,
    pub description: String,
    /// Sums and differences of data-element codes and whole numbers;
    /// `yes(code)` and `answered(code)` for yes/no elements.
    pub numerator: String,
    /// Absent for a plain total.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub denominator: Option<String>,
    /// 100 for a percentage, 1 for a ratio.
    pub factor: i64,
    pub decimals: u32,
    pub unit: String,
    pub category: String,
    pub higher_is_better: bool,
    pub retired: bool,
}

/// An indicator to create or its new definition (see [`DataElementBody`]
/// for `code`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IndicatorBody {
    #[serde(default)]
    pub code: Option<String>,
    pub name: String,
    #[serde(default)]
    pub name_en: Option<String>,
    #[serde(default)]
    pub description: String,
    pub numerator: String,
    #[serde(default)]
    pub denominator: Option<String>,
    pub factor: i64,
    #[serde(default)]
    pub decimals: u32,
    #[serde(default)]
    pub unit: String,
    pub category: String,
    #[serde(default)]
    pub higher_is_better: bool,
}

/// A check between a report's values, e.g.
/// `documents_signed <= documents_sent_electronic <= documents_sent`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ValidationRule {
    pub code: String,
    pub rule: String,
    /// Shown when the rule fails, in Vietnamese and English.
    pub message: String,
    pub message_en: String,
    pub retired: bool,
}

/// A validation rule to create or its new definition (see
/// [`DataElementBody`] for `code`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ValidationRuleBody {
    #[serde(default)]
    pub code: Option<String>,
    pub rule: String,
    pub message: String,
    #[serde(default)]
    pub message_en: String,
}
