//! Period codes (`2018`, `2018S1`, `2018Q3`, `201807`) as clients send them:
//! any text either parses to a period that prints back to the same code and
//! nests consistently with its parents, children and neighbours, or is
//! refused with an error that quotes it.
#![no_main]

use chiso_domain::{PeriodCode, PeriodType};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    let period = match PeriodCode::parse(raw) {
        Ok(p) => p,
        Err(e) => {
            assert!(e.to_string().contains(raw), "the error quotes the input");
            return;
        }
    };
    // Round trip: the printed code is the canonical form of the input.
    let code = period.to_string();
    assert_eq!(code, raw.trim(), "a period prints as it was written, trimmed");
    assert_eq!(PeriodCode::parse(&code), Ok(period));
    let json = serde_json::to_string(&period).unwrap();
    assert_eq!(serde_json::from_str::<PeriodCode>(&json).unwrap(), period);

    assert!(period.start() <= period.end());
    assert!(period.contains(&period) && period.contains_date(period.start()));
    for kind in PeriodType::ALL {
        if let Some(parent) = period.parent(kind) {
            assert!(parent.contains(&period), "{parent} contains {period}");
            assert!(parent <= period, "a parent sorts first");
        }
        let children = period.children(kind);
        for child in &children {
            assert!(period.contains(child), "{period} contains {child}");
        }
        if kind == period.period_type() {
            assert_eq!(children, [period]);
        }
    }
    if let Some(next) = period.next() {
        assert_eq!(next.previous(), Some(period));
        assert_eq!(next.start(), period.end().succ_opt().unwrap());
        assert!(!next.overlaps(&period));
    }
    if let Some(previous) = period.previous() {
        assert_eq!(previous.next(), Some(period));
    }
});
