//! Validation rules as a catalogue file writes them, checked by
//! `Catalogue::build` against the real seed catalogue's elements: a rule
//! either builds, prints back to a chain that builds to the same rule, and
//! on a report holding every element passes or fails (never skips), or is
//! refused with errors named `rules[0].…`.
#![no_main]

use std::sync::LazyLock;

use chiso_domain::{
    DataElementCode,
    catalogue::{Catalogue, RawCatalogue, RawValidationRule, RuleOutcome, Totals, Value},
    seed,
};
use libfuzzer_sys::fuzz_target;

struct Fixture {
    raw: RawCatalogue,
    /// Every element of the seed catalogue with a value.
    values: Vec<(DataElementCode, Value)>,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let mut raw = seed::raw_catalogue().expect("the seed catalogue parses");
    raw.rules.clear();
    let catalogue = Catalogue::build(&raw).expect("the seed catalogue builds");
    let values = catalogue
        .elements()
        .iter()
        .map(|e| {
            let text = if e.value_type.is_numeric() { "7" } else { "yes" };
            (e.code.clone(), catalogue.check_value(&e.code, text).unwrap())
        })
        .collect();
    Fixture { raw, values }
});

fn with_rule(text: &str) -> RawCatalogue {
    let mut raw = FIXTURE.raw.clone();
    raw.rules = vec![RawValidationRule {
        code: "fuzzed_rule".into(),
        rule: text.into(),
        message: "Quy tắc".into(),
        message_en: "Rule".into(),
    }];
    raw
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let catalogue = match Catalogue::build(&with_rule(text)) {
        Ok(c) => c,
        Err(errors) => {
            assert!(!errors.is_empty());
            for e in &errors.0 {
                assert_eq!(e.field, "rules[0].rule", "{e:?}");
            }
            return;
        }
    };
    let rule = &catalogue.rules()[0];
    let mut printed = rule.sides[0].to_string();
    for (cmp, side) in rule.comparators.iter().zip(&rule.sides[1..]) {
        printed.push_str(&format!(" {cmp} {side}"));
    }
    let again = Catalogue::build(&with_rule(&printed))
        .unwrap_or_else(|e| panic!("`{printed}` (from `{text}`) does not build: {e:?}"));
    assert_eq!(&again.rules()[0], rule, "`{printed}` builds another rule");

    let totals = Totals::of_report(FIXTURE.values.iter().map(|(c, v)| (c, v)));
    match rule.check(&totals) {
        RuleOutcome::Passed | RuleOutcome::Failed(_) => {}
        RuleOutcome::Skipped(missing) => panic!("every element has a value, yet {missing:?}"),
    }
});
