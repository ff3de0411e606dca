//! Indicator and validation-rule expressions as catalogue authors write
//! them (`documents_sent - documents_sent_internal + 2`, `yes(has_lan)`,
//! `a <= b <= c`). Elements are typed by name so every branch of the
//! checker is reachable: `yn*` yes/no, `dec*` decimal (2 places), anything
//! else a count. A checked expression prints back to text that parses to
//! the same expression, and evaluates without overflow on the largest
//! totals a province can hold.
#![no_main]

use chiso_domain::{
    DataElementCode,
    catalogue::{Aggregate, Expression, Totals, ValueType, expr},
};
use libfuzzer_sys::fuzz_target;

fn value_type(code: &DataElementCode) -> Option<ValueType> {
    let code = code.as_str();
    if code.starts_with("unknown") {
        None
    } else if code.starts_with("yn") {
        Some(ValueType::YesNo)
    } else if code.starts_with("dec") {
        Some(ValueType::Decimal { decimals: 2 })
    } else {
        Some(ValueType::Count)
    }
}

/// Every element at a million reports of the largest value each.
fn largest_totals(e: &Expression) -> Totals {
    let mut totals = Totals::new();
    for code in e.elements() {
        let aggregate = match value_type(code) {
            Some(ValueType::YesNo) => Aggregate::YesNo {
                yes: 1_000_000,
                answered: 1_000_000,
            },
            Some(ValueType::Decimal { .. }) => {
                Aggregate::Sum(i128::from(chiso_domain::catalogue::MAX_VALUE) * 100 * 1_000_000)
            }
            _ => Aggregate::Sum(i128::from(chiso_domain::catalogue::MAX_VALUE) * 1_000_000),
        };
        totals.insert(code.clone(), aggregate);
    }
    totals
}

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(e) = Expression::parse(src, &value_type) {
        let printed = e.to_string();
        let again = Expression::parse(&printed, &value_type)
            .unwrap_or_else(|err| panic!("`{printed}` (from `{src}`) does not parse: {err}"));
        assert_eq!(again, e, "`{printed}` parses to another expression");
        let value = e.evaluate(&largest_totals(&e)).expect("every element has a total");
        assert_eq!(value.scale, e.scale);
        assert!(e.evaluate(&Totals::new()).is_err() == e.elements().next().is_some());
    }
    if let Ok((sides, comparators)) = expr::parse_chain(src) {
        assert_eq!(sides.len(), comparators.len() + 1);
        assert!(!comparators.is_empty());
    }
});
