//! The REST shapes of the catalogue: data elements, indicators and
//! validation rules.

use serde::{Deserialize, Serialize};

use crate::routes::common::{optional_text, text, unit};
use utoipa::{IntoParams, ToSchema};

/// Whether a list includes retired definitions.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CatalogueQuery {
    /// Retired definitions too (default false).
    #[param(example = false)]
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
    #[schema(format = "catalogue-code", example = "servers_virtualised")]
    pub code: Option<String>,
    #[schema(format = "name", example = "Số máy chủ ảo hóa")]
    pub name: String,
    #[serde(default)]
    #[schema(format = "name", example = "Virtualised servers")]
    pub name_en: Option<String>,
    /// What exactly the reporting officer counts (required).
    #[serde(default, deserialize_with = "text")]
    #[schema(
        format = "required-text",
        required = true,
        example = "Đếm số máy chủ ảo đang vận hành cuối kỳ."
    )]
    pub description: String,
    #[schema(format = "category", example = "technical_infrastructure")]
    pub category: String,
    #[schema(format = "value-type", example = "count")]
    pub value_type: String,
    /// For decimal elements, and only for them: 1 to 6.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 6)]
    pub decimals: Option<u32>,
    /// Bounds as text (`0`, `99.5`), min not above max; none for yes/no.
    #[serde(default)]
    #[schema(format = "decimal-text", example = "0")]
    pub min: Option<String>,
    #[serde(default)]
    #[schema(format = "decimal-text", example = "10000")]
    pub max: Option<String>,
    #[serde(default, deserialize_with = "unit")]
    #[schema(format = "unit", example = "máy")]
    pub unit: String,
    /// `sum` by default, or `last` for yes/no.
    #[serde(default)]
    #[schema(format = "period-rule", example = "last")]
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
    #[schema(format = "catalogue-code", example = "server_virtualisation_rate")]
    pub code: Option<String>,
    #[schema(format = "name", example = "Tỷ lệ máy chủ được ảo hóa")]
    pub name: String,
    #[serde(default)]
    #[schema(format = "name", example = "Share of servers virtualised")]
    pub name_en: Option<String>,
    #[serde(default, deserialize_with = "text")]
    #[schema(format = "text")]
    pub description: String,
    /// Sums and differences of data-element codes and whole numbers;
    /// `yes(code)` and `answered(code)` for yes/no elements.
    #[serde(deserialize_with = "text")]
    #[schema(format = "expression", example = "computers_with_antivirus")]
    pub numerator: String,
    /// Absent for a plain total.
    #[serde(default, deserialize_with = "optional_text")]
    #[schema(format = "expression", example = "computers")]
    pub denominator: Option<String>,
    /// 100 for a percentage, 1 for a ratio.
    #[schema(minimum = 1, maximum = 1000000, example = 100)]
    pub factor: i64,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 6, example = 1)]
    pub decimals: u32,
    #[serde(default, deserialize_with = "unit")]
    #[schema(format = "unit", example = "%")]
    pub unit: String,
    #[schema(format = "category", example = "information_security")]
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
    #[schema(format = "catalogue-code", example = "servers_within_computers")]
    pub code: Option<String>,
    /// A comparison of sums of data elements, e.g. `a <= b <= c`.
    #[serde(deserialize_with = "text")]
    #[schema(format = "expression", example = "servers <= computers")]
    pub rule: String,
    /// Shown when the rule fails, in Vietnamese (required) and English.
    #[serde(deserialize_with = "text")]
    #[schema(
        format = "required-text",
        example = "Số máy chủ không được lớn hơn số máy tính"
    )]
    pub message: String,
    #[serde(default, deserialize_with = "text")]
    #[schema(
        format = "required-text",
        required = true,
        example = "Servers cannot exceed computers"
    )]
    pub message_en: String,
}
