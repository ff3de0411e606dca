//! Validation rules (quy tắc kiểm tra) between data elements, checked on each
//! report: e.g. `documents_signed <= documents_sent_electronic <= documents_sent`.

use serde::{Deserialize, Serialize};

use super::{
    aggregate::Totals,
    element::ValueType,
    expr::{Comparator, Expression, parse_chain},
};
use crate::{DataElementCode, FieldErrors, codes::RuleCode};

/// A rule as written in a catalogue file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawValidationRule {
    pub code: String,
    /// A chain of comparisons, e.g. `a <= b <= c`.
    pub rule: String,
    /// Vietnamese message shown to the reporting officer.
    pub message: String,
    pub message_en: String,
}

/// A checked rule: `sides[0] comparators[0] sides[1] comparators[1] sides[2] …`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidationRule {
    pub code: RuleCode,
    pub sides: Vec<Expression>,
    pub comparators: Vec<Comparator>,
    pub message: String,
    pub message_en: String,
}

/// One failed rule, with both messages and the numbers that broke it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleFailure {
    pub rule: RuleCode,
    pub message: String,
    pub message_en: String,
    /// The first broken comparison with its values, e.g. `officials_with_computer = 12 > officials = 10`.
    pub detail: String,
}

/// What checking one rule found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleOutcome {
    Passed,
    /// The report lacks these elements (a draft): the rule says nothing yet.
    Skipped(Vec<DataElementCode>),
    Failed(RuleFailure),
}

impl ValidationRule {
    pub(crate) fn build(
        raw: &RawValidationRule,
        path: &str,
        lookup: &impl Fn(&DataElementCode) -> Option<ValueType>,
        errors: &mut FieldErrors,
    ) -> Option<Self> {
        let code = errors.check(format!("{path}.code"), RuleCode::parse(&raw.code));
        let chain = errors.check(format!("{path}.rule"), parse_chain(&raw.rule));
        let sides = chain.as_ref().and_then(|(sides, _)| {
            let checked: Result<Vec<Expression>, String> =
                sides.iter().map(|s| Expression::check(s, lookup)).collect();
            errors.check(format!("{path}.rule"), checked)
        });
        for (field, text) in [("message", &raw.message), ("message_en", &raw.message_en)] {
            if text.trim().is_empty() {
                errors.push(
                    format!("{path}.{field}"),
                    "must explain the rule to the reporting officer",
                );
            }
        }
        Some(Self {
            code: code?,
            sides: sides?,
            comparators: chain?.1,
            message: raw.message.trim().to_owned(),
            message_en: raw.message_en.trim().to_owned(),
        })
    }

    /// The data elements the rule reads.
    pub fn elements(&self) -> impl Iterator<Item = &DataElementCode> {
        self.sides.iter().flat_map(Expression::elements)
    }

    /// Checks the rule on the totals of one report (or of many).
    pub fn check(&self, totals: &Totals) -> RuleOutcome {
        let mut values = Vec::with_capacity(self.sides.len());
        let mut missing: Vec<DataElementCode> = Vec::new();
        for side in &self.sides {
            match side.evaluate(totals) {
                Ok(v) => values.push(v),
                Err(m) => missing.extend(
                    m.into_iter()
                        .filter(|c| !missing.contains(c))
                        .collect::<Vec<_>>(),
                ),
            }
        }
        if !missing.is_empty() {
            return RuleOutcome::Skipped(missing);
        }
        for (i, cmp) in self.comparators.iter().enumerate() {
            let (a, b) = (values[i], values[i + 1]);
            if !cmp.holds(a.compare(b)) {
                return RuleOutcome::Failed(RuleFailure {
                    rule: self.code.clone(),
                    message: self.message.clone(),
                    message_en: self.message_en.clone(),
                    detail: format!(
                        "{} = {a} is not {cmp} {} = {b}",
                        self.sides[i],
                        self.sides[i + 1]
                    ),
                });
            }
        }
        RuleOutcome::Passed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::element::Value;
    use crate::value::Count;

    fn lookup(code: &DataElementCode) -> Option<ValueType> {
        match code.as_str() {
            "documents_sent" | "documents_sent_electronic" | "documents_signed" => {
                Some(ValueType::Count)
            }
            "has_lan" => Some(ValueType::YesNo),
            _ => None,
        }
    }

    fn rule(text: &str) -> Result<ValidationRule, FieldErrors> {
        let raw = RawValidationRule {
            code: "documents_chain".into(),
            rule: text.into(),
            message:
                "Số văn bản ký số không vượt quá số văn bản điện tử, không vượt quá số văn bản đi"
                    .into(),
            message_en: "Signed ≤ sent electronically ≤ sent".into(),
        };
        let mut errors = FieldErrors::new();
        let r = ValidationRule::build(&raw, "rules[0]", &lookup, &mut errors);
        if errors.is_empty() {
            Ok(r.unwrap())
        } else {
            Err(errors)
        }
    }

    fn report(pairs: &[(&str, i64)]) -> Totals {
        let mut t = Totals::new();
        for (c, n) in pairs {
            t.add(
                &DataElementCode::parse(c).unwrap(),
                &Value::Count(Count::new(*n).unwrap()),
            );
        }
        t
    }

    #[test]
    fn chains_check_every_link() {
        let r = rule("documents_signed <= documents_sent_electronic <= documents_sent").unwrap();
        let ok = report(&[
            ("documents_signed", 5),
            ("documents_sent_electronic", 8),
            ("documents_sent", 8),
        ]);
        assert_eq!(r.check(&ok), RuleOutcome::Passed);
        let bad = report(&[
            ("documents_signed", 5),
            ("documents_sent_electronic", 9),
            ("documents_sent", 8),
        ]);
        match r.check(&bad) {
            RuleOutcome::Failed(f) => {
                assert_eq!(f.rule.as_str(), "documents_chain");
                assert_eq!(
                    f.detail,
                    "documents_sent_electronic = 9 is not <= documents_sent = 8"
                );
                assert!(f.message.starts_with("Số văn bản"));
            }
            other => panic!("expected a failure, got {other:?}"),
        }
    }

    #[test]
    fn drafts_skip_rules_they_cannot_judge() {
        let r = rule("documents_signed <= documents_sent_electronic").unwrap();
        let draft = report(&[("documents_signed", 5)]);
        assert_eq!(
            r.check(&draft),
            RuleOutcome::Skipped(vec![
                DataElementCode::parse("documents_sent_electronic").unwrap()
            ])
        );
    }

    #[test]
    fn strict_and_equal_comparisons() {
        let t = report(&[("documents_sent", 3), ("documents_signed", 3)]);
        assert!(matches!(
            rule("documents_signed < documents_sent").unwrap().check(&t),
            RuleOutcome::Failed(_)
        ));
        assert_eq!(
            rule("documents_signed == documents_sent")
                .unwrap()
                .check(&t),
            RuleOutcome::Passed
        );
        assert_eq!(
            rule("documents_sent >= documents_signed + 0 > 2")
                .unwrap()
                .check(&t),
            RuleOutcome::Passed
        );
    }

    #[test]
    fn bad_rules_name_the_field() {
        let err = rule("documents_signed <= nope").unwrap_err();
        assert_eq!(err.0[0].field, "rules[0].rule");
        assert!(err.0[0].message.contains("`nope`"));
        let err = rule("documents_signed + has_lan").unwrap_err();
        assert!(err.0[0].message.contains("compares"));
    }
}
