//! Catalogue definitions as a feed follower receives them: each wire
//! definition back to its `Raw*` form, so the follower builds its own
//! checked [`Catalogue`](chiso_domain::Catalogue) with the very checks the
//! submission service applied.

use chiso_domain::catalogue::{
    Category, RawDataElement, RawIndicator, RawNumber, RawValidationRule,
};

use super::Unspecified;
use crate::submission::v1 as pb;

fn category(raw: i32) -> Result<Category, Unspecified> {
    Category::try_from(pb::Category::try_from(raw).unwrap_or_default())
}

fn non_empty(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

/// A data element from the feed, as written.
pub fn raw_data_element(e: &pb::DataElement) -> Result<RawDataElement, Unspecified> {
    let (value_type, decimals) = match pb::ValueType::try_from(e.value_type).unwrap_or_default() {
        pb::ValueType::Count => ("count", None),
        pb::ValueType::Decimal => ("decimal", Some(u8::try_from(e.decimals).unwrap_or(u8::MAX))),
        pb::ValueType::YesNo => ("yes_no", None),
        pb::ValueType::Unspecified => {
            return Err(Unspecified {
                expected: "count, decimal or yes_no",
            });
        }
    };
    Ok(RawDataElement {
        code: e.code.clone(),
        name: e.name.clone(),
        name_en: non_empty(&e.name_en),
        description: e.description.clone(),
        category: category(e.category)?.as_str().to_owned(),
        value_type: value_type.to_owned(),
        decimals,
        min: non_empty(&e.min).map(RawNumber::Text),
        max: non_empty(&e.max).map(RawNumber::Text),
        unit: e.unit.clone(),
        period_rule: Some(e.period_rule.clone()).filter(|r| !r.is_empty()),
    })
}

/// An indicator from the feed, as written.
pub fn raw_indicator(i: &pb::Indicator) -> Result<RawIndicator, Unspecified> {
    Ok(RawIndicator {
        code: i.code.clone(),
        name: i.name.clone(),
        name_en: non_empty(&i.name_en),
        description: i.description.clone(),
        numerator: i.numerator.clone(),
        denominator: non_empty(&i.denominator),
        factor: i.factor,
        decimals: u8::try_from(i.decimals).unwrap_or(u8::MAX),
        unit: i.unit.clone(),
        category: category(i.category)?.as_str().to_owned(),
        higher_is_better: i.higher_is_better,
    })
}

/// A validation rule from the feed, as written.
pub fn raw_rule(r: &pb::ValidationRule) -> RawValidationRule {
    RawValidationRule {
        code: r.code.clone(),
        rule: r.rule.clone(),
        message: r.message.clone(),
        message_en: r.message_en.clone(),
    }
}

/// A form from the feed, as written, so the follower knows who must report
/// what and when. An error for what the submission service never sends (an
/// unknown period type or deadline rule).
pub fn raw_form(f: &pb::Form) -> Result<chiso_domain::RawForm, Unspecified> {
    use chiso_domain::form::{
        AggregationBasis, DeadlineRule, RawFormElement, RawReporters, RawSection,
    };
    let period_type = match pb::PeriodType::try_from(f.period_type).unwrap_or_default() {
        pb::PeriodType::Yearly => "yearly",
        pb::PeriodType::SixMonthly => "six_monthly",
        pb::PeriodType::Quarterly => "quarterly",
        pb::PeriodType::Monthly => "monthly",
        pb::PeriodType::Unspecified => {
            return Err(Unspecified {
                expected: "a period type",
            });
        }
    };
    let deadline = match f.deadline_rule.split_once(':') {
        Some(("days_after_end", n)) => DeadlineRule::DaysAfterEnd {
            days: n.parse().map_err(|_| Unspecified {
                expected: "days_after_end:N or decree09:DAY",
            })?,
        },
        Some(("decree09", n)) => DeadlineRule::Decree09 {
            due_day: n.parse().map_err(|_| Unspecified {
                expected: "days_after_end:N or decree09:DAY",
            })?,
        },
        _ => {
            return Err(Unspecified {
                expected: "days_after_end:N or decree09:DAY",
            });
        }
    };
    let aggregation_basis = match f.aggregation_basis.as_str() {
        "accepted_only" => AggregationBasis::AcceptedOnly,
        "submitted_or_accepted" => AggregationBasis::SubmittedOrAccepted,
        _ => {
            return Err(Unspecified {
                expected: "submitted_or_accepted or accepted_only",
            });
        }
    };
    let reporters = f.reporters.clone().unwrap_or_default();
    Ok(chiso_domain::RawForm {
        code: f.code.clone(),
        name: f.name.clone(),
        name_en: non_empty(&f.name_en),
        period_type: period_type.into(),
        opens: f.opens.clone(),
        sections: f
            .sections
            .iter()
            .map(|s| RawSection {
                name: s.name.clone(),
                name_en: non_empty(&s.name_en),
                elements: s
                    .elements
                    .iter()
                    .map(|e| RawFormElement::Detailed {
                        code: e.data_element.clone(),
                        compulsory: e.compulsory,
                    })
                    .collect(),
            })
            .collect(),
        reporters: RawReporters {
            kinds: reporters.kinds,
            levels: reporters.levels,
            agencies: reporters.agencies,
        },
        deadline,
        lock_after_days: (f.lock_after_days > 0).then_some(f.lock_after_days),
        signature_required: f.signature_required,
        acceptance_required: f.acceptance_required,
        aggregation_basis,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::submission::{encode_data_element, encode_indicator, encode_rule};
    use chiso_domain::{Catalogue, RawCatalogue};

    /// What the submission service sends, a follower rebuilds identically.
    #[test]
    fn the_seed_catalogue_survives_the_feed() {
        let seed = chiso_domain::seed::catalogue().unwrap();
        let raw = RawCatalogue {
            elements: seed
                .elements()
                .iter()
                .map(|e| raw_data_element(&encode_data_element(e, false)).unwrap())
                .collect(),
            indicators: seed
                .indicators()
                .iter()
                .map(|i| raw_indicator(&encode_indicator(i, false)).unwrap())
                .collect(),
            rules: seed
                .rules()
                .iter()
                .map(|r| raw_rule(&encode_rule(r, false)))
                .collect(),
        };
        assert_eq!(Catalogue::build(&raw).unwrap(), seed);
    }
}
