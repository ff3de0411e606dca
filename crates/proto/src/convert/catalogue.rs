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
