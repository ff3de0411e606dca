//! The catalogue (danh mục): data elements agencies report, indicators
//! computed from them, and validation rules between them.
//!
//! Definitions arrive as `Raw*` structs (from TOML, JSON or a database) and
//! become a [`Catalogue`] only through [`Catalogue::build`], which checks
//! everything at once and names each bad field.

pub mod aggregate;
pub mod element;
pub mod expr;
pub mod indicator;
pub mod rule;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

pub use aggregate::{Aggregate, Totals};
pub use element::{
    Category, DataElement, Decimal, MAX_DECIMALS, MAX_VALUE, PeriodRule, RawDataElement, RawNumber,
    Value, ValueType,
};
pub use expr::{Comparator, Exact, Expression, Operand, Sign, Term};
pub use indicator::{Indicator, NoValue, Ratio, RawIndicator};
pub use rule::{RawValidationRule, RuleFailure, RuleOutcome, ValidationRule};

use crate::{DataElementCode, FieldErrors, IndicatorCode, codes::RuleCode};

/// A whole catalogue as written, before any check.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCatalogue {
    #[serde(default)]
    pub elements: Vec<RawDataElement>,
    #[serde(default)]
    pub indicators: Vec<RawIndicator>,
    #[serde(default)]
    pub rules: Vec<RawValidationRule>,
}

/// A checked catalogue: every code unique, every expression valid. The
/// default is the empty catalogue.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Catalogue {
    elements: Vec<DataElement>,
    indicators: Vec<Indicator>,
    rules: Vec<ValidationRule>,
    #[serde(skip)]
    element_index: BTreeMap<DataElementCode, usize>,
    #[serde(skip)]
    indicator_index: BTreeMap<IndicatorCode, usize>,
}

impl Catalogue {
    /// Checks every definition, reporting all problems at once with their
    /// paths (`elements[2].code`, `indicators[3].numerator`, `rules[0].rule`).
    pub fn build(raw: &RawCatalogue) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let mut elements = Vec::new();
        let mut element_index = BTreeMap::new();
        for (i, r) in raw.elements.iter().enumerate() {
            let path = format!("elements[{i}]");
            if let Some(e) = DataElement::build(r, &path, &mut errors) {
                if element_index.contains_key(&e.code) {
                    errors.push(
                        format!("{path}.code"),
                        format!("duplicate data element code `{}`", e.code),
                    );
                } else {
                    element_index.insert(e.code.clone(), elements.len());
                    elements.push(e);
                }
            }
        }
        // Expressions are checked against the elements that built; an element
        // with a bad definition is reported once, above, not in every use.
        let types: BTreeMap<DataElementCode, ValueType> = elements
            .iter()
            .map(|e| (e.code.clone(), e.value_type))
            .collect();
        let broken: BTreeSet<String> = raw
            .elements
            .iter()
            .map(|r| r.code.trim().to_owned())
            .filter(|c| DataElementCode::parse(c).is_ok_and(|c| !types.contains_key(&c)))
            .collect();
        let lookup = |c: &DataElementCode| types.get(c).copied();
        let mut indicators = Vec::new();
        let mut indicator_index = BTreeMap::new();
        for (i, r) in raw.indicators.iter().enumerate() {
            let path = format!("indicators[{i}]");
            let mut local = FieldErrors::new();
            let built = Indicator::build(r, &path, &lookup, &mut local);
            errors.0.extend(
                local
                    .0
                    .into_iter()
                    .filter(|e| !mentions_any(&e.message, &broken)),
            );
            if let Some(ind) = built {
                if indicator_index.contains_key(&ind.code) {
                    errors.push(
                        format!("{path}.code"),
                        format!("duplicate indicator code `{}`", ind.code),
                    );
                } else {
                    indicator_index.insert(ind.code.clone(), indicators.len());
                    indicators.push(ind);
                }
            }
        }
        let mut rules = Vec::new();
        let mut rule_codes = BTreeSet::<RuleCode>::new();
        for (i, r) in raw.rules.iter().enumerate() {
            let path = format!("rules[{i}]");
            let mut local = FieldErrors::new();
            let built = ValidationRule::build(r, &path, &lookup, &mut local);
            errors.0.extend(
                local
                    .0
                    .into_iter()
                    .filter(|e| !mentions_any(&e.message, &broken)),
            );
            if let Some(rule) = built {
                if !rule_codes.insert(rule.code.clone()) {
                    errors.push(
                        format!("{path}.code"),
                        format!("duplicate rule code `{}`", rule.code),
                    );
                } else {
                    rules.push(rule);
                }
            }
        }
        errors.into_result(|| Self {
            elements,
            indicators,
            rules,
            element_index,
            indicator_index,
        })
    }

    /// Data elements in definition order.
    pub fn elements(&self) -> &[DataElement] {
        &self.elements
    }

    pub fn element(&self, code: &DataElementCode) -> Option<&DataElement> {
        self.element_index.get(code).map(|i| &self.elements[*i])
    }

    /// Indicators in definition order.
    pub fn indicators(&self) -> &[Indicator] {
        &self.indicators
    }

    pub fn indicator(&self, code: &IndicatorCode) -> Option<&Indicator> {
        self.indicator_index.get(code).map(|i| &self.indicators[*i])
    }

    pub fn rules(&self) -> &[ValidationRule] {
        &self.rules
    }

    /// Checks one entered value of the element `code`.
    pub fn check_value(&self, code: &DataElementCode, raw: &str) -> Result<Value, String> {
        self.element(code)
            .ok_or_else(|| format!("unknown data element `{code}`"))?
            .check_value(raw)
    }

    /// Checks one report's values against every rule and returns all
    /// failures; rules reading elements the report lacks are skipped.
    pub fn check_report<'a>(
        &self,
        values: impl IntoIterator<Item = (&'a DataElementCode, &'a Value)>,
    ) -> Vec<RuleFailure> {
        let totals = Totals::of_report(values);
        self.rules
            .iter()
            .filter_map(|r| match r.check(&totals) {
                RuleOutcome::Failed(f) => Some(f),
                _ => None,
            })
            .collect()
    }
}

fn mentions_any(message: &str, codes: &BTreeSet<String>) -> bool {
    codes
        .iter()
        .any(|c| message.contains(&format!("unknown data element `{c}`")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw_element(code: &str, value_type: &str) -> RawDataElement {
        RawDataElement {
            code: code.into(),
            name: format!("Tên {code}"),
            name_en: None,
            description: "đếm".into(),
            category: "internal_use".into(),
            value_type: value_type.into(),
            decimals: None,
            min: None,
            max: None,
            unit: String::new(),
            period_rule: None,
        }
    }

    fn raw_indicator(code: &str, num: &str, den: Option<&str>) -> RawIndicator {
        RawIndicator {
            code: code.into(),
            name: format!("Chỉ số {code}"),
            name_en: None,
            description: String::new(),
            numerator: num.into(),
            denominator: den.map(Into::into),
            factor: 100,
            decimals: 1,
            unit: "%".into(),
            category: "internal_use".into(),
            higher_is_better: true,
        }
    }

    #[test]
    fn build_reports_every_problem_with_its_path() {
        let raw = RawCatalogue {
            elements: vec![
                raw_element("officials", "count"),
                raw_element("officials", "count"),
                raw_element("has_lan", "yes_no"),
                raw_element("broken", "float"),
            ],
            indicators: vec![
                raw_indicator("a", "officials", None),
                raw_indicator("a", "officials", None),
                raw_indicator("b", "has_lan", Some("officials")),
                raw_indicator("c", "nope", Some("broken")),
            ],
            rules: vec![RawValidationRule {
                code: "r".into(),
                rule: "yes(officials) <= 1".into(),
                message: "x".into(),
                message_en: "x".into(),
            }],
        };
        let err = Catalogue::build(&raw).unwrap_err();
        let got: Vec<(&str, &str)> = err
            .0
            .iter()
            .map(|e| (e.field.as_str(), e.message.as_str()))
            .collect();
        assert_eq!(got[0].0, "elements[1].code");
        assert!(got[0].1.contains("duplicate data element code `officials`"));
        assert_eq!(got[1].0, "elements[3].value_type");
        assert_eq!(
            got[2],
            ("indicators[1].code", "duplicate indicator code `a`")
        );
        assert_eq!(got[3].0, "indicators[2].numerator");
        assert!(got[3].1.contains("yes(has_lan)"));
        // `broken` failed above; only `nope` is reported here.
        assert_eq!(
            got[4],
            ("indicators[3].numerator", "unknown data element `nope`")
        );
        assert_eq!(got[5].0, "rules[0].rule");
        assert_eq!(got.len(), 6, "{got:?}");
    }

    proptest::proptest! {
        #[test]
        fn build_never_panics(num in "\\PC{0,24}", den in "[a-z_()+\\- 0-9]{0,24}", rule in "[a-z_()<=>+\\- 0-9]{0,30}") {
            let raw = RawCatalogue {
                elements: vec![raw_element("officials", "count"), raw_element("has_lan", "yes_no")],
                indicators: vec![raw_indicator("x", &num, Some(&den))],
                rules: vec![RawValidationRule {
                    code: "r".into(),
                    rule,
                    message: "m".into(),
                    message_en: "m".into(),
                }],
            };
            if let Ok(cat) = Catalogue::build(&raw) {
                let mut t = Totals::new();
                t.add(&DataElementCode::parse("officials").unwrap(), &Value::Count(crate::value::Count::new(3).unwrap()));
                t.add(&DataElementCode::parse("has_lan").unwrap(), &Value::YesNo(true));
                let _ = cat.indicators()[0].evaluate(&t);
                let _ = cat.rules()[0].check(&t);
            }
        }
    }

    #[test]
    fn a_good_catalogue_answers_lookups_and_checks_reports() {
        let raw = RawCatalogue {
            elements: vec![
                raw_element("officials", "count"),
                raw_element("officials_with_computer", "count"),
            ],
            indicators: vec![raw_indicator(
                "computer_equipment_rate",
                "officials_with_computer",
                Some("officials"),
            )],
            rules: vec![
                RawValidationRule {
                    code: "computers_within_officials".into(),
                    rule: "officials_with_computer <= officials".into(),
                    message: "Số CBCCVC có máy tính không vượt quá tổng số CBCCVC".into(),
                    message_en: "Officials with a computer cannot exceed officials".into(),
                },
                RawValidationRule {
                    code: "some_officials".into(),
                    rule: "officials > 0".into(),
                    message: "Phải có ít nhất một CBCCVC".into(),
                    message_en: "At least one official".into(),
                },
            ],
        };
        let cat = Catalogue::build(&raw).unwrap();
        let officials = DataElementCode::parse("officials").unwrap();
        let with = DataElementCode::parse("officials_with_computer").unwrap();
        assert_eq!(cat.element(&officials).unwrap().code, officials);
        assert!(
            cat.indicator(&IndicatorCode::parse("computer_equipment_rate").unwrap())
                .is_some()
        );
        assert!(
            cat.check_value(&DataElementCode::parse("x").unwrap(), "1")
                .unwrap_err()
                .contains("unknown")
        );
        let v0 = cat.check_value(&officials, "0").unwrap();
        let v5 = cat.check_value(&with, "5").unwrap();
        let failures = cat.check_report([(&officials, &v0), (&with, &v5)]);
        let codes: Vec<&str> = failures.iter().map(|f| f.rule.as_str()).collect();
        assert_eq!(codes, ["computers_within_officials", "some_officials"]);
        assert!(failures[0].message_en.contains("cannot exceed"));
        // A draft with only one element skips the first rule.
        let failures = cat.check_report([(&officials, &v0)]);
        assert_eq!(failures.len(), 1);
        assert!(
            serde_json::to_string(&cat)
                .unwrap()
                .contains("computer_equipment_rate")
        );
    }
}
