//! Catalogue JSON <-> `chiso.submission.v1` messages.

use chiso_domain::catalogue::Category;
use chiso_proto::submission::v1 as pb;

use super::types::{
    DataElement, DataElementBody, Indicator, IndicatorBody, ValidationRule, ValidationRuleBody,
};
use crate::{
    error::{ApiError, ApiResult, RestNames},
    routes::common::{UNSPECIFIED, non_empty},
};

/// The REST body is the definition itself, so its fields lose the
/// `definition.` the gRPC request nests them under.
pub const DEFINITION_NAMES: RestNames = &[
    ("definition.code", "code"),
    ("definition.name", "name"),
    ("definition.name_en", "name_en"),
    ("definition.description", "description"),
    ("definition.category", "category"),
    ("definition.value_type", "value_type"),
    ("definition.decimals", "decimals"),
    ("definition.min", "min"),
    ("definition.max", "max"),
    ("definition.unit", "unit"),
    ("definition.numerator", "numerator"),
    ("definition.denominator", "denominator"),
    ("definition.factor", "factor"),
    ("definition.higher_is_better", "higher_is_better"),
    ("definition.rule", "rule"),
    ("definition.message", "message"),
    ("definition.message_en", "message_en"),
];

/// The code a definition is for: the body's when creating; the path's when
/// updating, where a body code that differs would rename, which never happens.
pub fn definition_code(body: Option<String>, path: Option<String>) -> ApiResult<String> {
    // Blank is absent, as for every optional field.
    let body = body.filter(|c| !c.trim().is_empty());
    match (body, path) {
        (Some(body), Some(path)) if body != path => Err(ApiError::field(
            "code",
            format!("must be `{path}` as in the path: a code never changes"),
        )),
        (_, Some(path)) => Ok(path),
        (Some(body), None) => Ok(body),
        (None, None) => Err(ApiError::field("code", "is required")),
    }
}

/// The REST name of a wire category.
fn category_name(raw: i32) -> String {
    pb::Category::try_from(raw)
        .ok()
        .and_then(|c| Category::try_from(c).ok())
        .map_or(UNSPECIFIED, Category::as_str)
        .to_owned()
}

/// The REST name of a wire value type: the names definitions are written with.
fn value_type_name(raw: i32) -> String {
    match pb::ValueType::try_from(raw) {
        Ok(pb::ValueType::Count) => "count",
        Ok(pb::ValueType::Decimal) => "decimal",
        Ok(pb::ValueType::YesNo) => "yes_no",
        Ok(pb::ValueType::Unspecified) | Err(_) => UNSPECIFIED,
    }
    .to_owned()
}

impl From<pb::DataElement> for DataElement {
    fn from(d: pb::DataElement) -> Self {
        let is_decimal = d.value_type() == pb::ValueType::Decimal;
        Self {
            category: category_name(d.category),
            value_type: value_type_name(d.value_type),
            decimals: is_decimal.then_some(d.decimals),
            code: d.code,
            name: d.name,
            name_en: non_empty(d.name_en),
            description: d.description,
            min: non_empty(d.min),
            max: non_empty(d.max),
            unit: d.unit,
            period_rule: d.period_rule,
            retired: d.retired,
        }
    }
}

impl From<pb::Indicator> for Indicator {
    fn from(i: pb::Indicator) -> Self {
        Self {
            category: category_name(i.category),
            code: i.code,
            name: i.name,
            name_en: non_empty(i.name_en),
            description: i.description,
            numerator: i.numerator,
            denominator: non_empty(i.denominator),
            factor: i.factor,
            decimals: i.decimals,
            unit: i.unit,
            higher_is_better: i.higher_is_better,
            retired: i.retired,
        }
    }
}

impl From<pb::ValidationRule> for ValidationRule {
    fn from(r: pb::ValidationRule) -> Self {
        Self {
            code: r.code,
            rule: r.rule,
            message: r.message,
            message_en: r.message_en,
            retired: r.retired,
        }
    }
}

/// A data element's definition on the wire; `path` is the code of an update.
pub fn data_element_definition(
    body: DataElementBody,
    path: Option<String>,
) -> ApiResult<pb::DataElementDefinition> {
    Ok(pb::DataElementDefinition {
        code: definition_code(body.code, path)?,
        name: body.name,
        name_en: body.name_en.unwrap_or_default(),
        description: body.description,
        category: body.category,
        value_type: body.value_type,
        decimals: body.decimals,
        min: body.min.unwrap_or_default(),
        max: body.max.unwrap_or_default(),
        unit: body.unit,
        period_rule: body.period_rule.unwrap_or_default(),
    })
}

/// An indicator's definition on the wire; `path` is the code of an update.
pub fn indicator_definition(
    body: IndicatorBody,
    path: Option<String>,
) -> ApiResult<pb::IndicatorDefinition> {
    Ok(pb::IndicatorDefinition {
        code: definition_code(body.code, path)?,
        name: body.name,
        name_en: body.name_en.unwrap_or_default(),
        description: body.description,
        numerator: body.numerator,
        denominator: body.denominator.unwrap_or_default(),
        factor: body.factor,
        decimals: body.decimals,
        unit: body.unit,
        category: body.category,
        higher_is_better: body.higher_is_better,
    })
}

/// A validation rule's definition on the wire; `path` is the code of an update.
pub fn rule_definition(
    body: ValidationRuleBody,
    path: Option<String>,
) -> ApiResult<pb::ValidationRuleDefinition> {
    Ok(pb::ValidationRuleDefinition {
        code: definition_code(body.code, path)?,
        rule: body.rule,
        message: body.message,
        message_en: body.message_en,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_update_keeps_the_paths_code() {
        assert_eq!(
            definition_code(None, Some("officials".into())).unwrap(),
            "officials"
        );
        assert_eq!(
            definition_code(Some("officials".into()), Some("officials".into())).unwrap(),
            "officials"
        );
        assert_eq!(definition_code(Some("x".into()), None).unwrap(), "x");
        for (body, path) in [(Some("other"), Some("officials")), (None, None)] {
            let err = definition_code(body.map(Into::into), path.map(Into::into)).unwrap_err();
            assert!(format!("{err:?}").contains("\"code\""), "{err:?}");
        }
    }

    #[test]
    fn wire_enums_have_their_rest_names() {
        let element = DataElement::from(pb::DataElement {
            code: "budget_share".into(),
            name: "Tỷ lệ chi cho CNTT".into(),
            category: pb::Category::HumanResources.into(),
            value_type: pb::ValueType::Decimal.into(),
            decimals: 2,
            min: "0".into(),
            ..Default::default()
        });
        assert_eq!(element.category, "human_resources");
        assert_eq!(element.value_type, "decimal");
        assert_eq!(element.decimals, Some(2));
        assert_eq!(element.min.as_deref(), Some("0"));
        assert_eq!(element.max, None);
        assert_eq!(element.name, "Tỷ lệ chi cho CNTT");
        let yes_no = DataElement::from(pb::DataElement {
            value_type: pb::ValueType::YesNo.into(),
            ..Default::default()
        });
        assert_eq!(yes_no.value_type, "yes_no");
        assert_eq!(yes_no.decimals, None);
        assert_eq!(yes_no.category, "unspecified");
    }
}
