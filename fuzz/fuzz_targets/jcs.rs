//! RFC 8785 (JCS), the canonical JSON of signed report content
//! (crates/domain/src/signature.rs): for any JSON text, the canonical form
//! re-parsed and canonicalised again is byte for byte the same (idempotence),
//! and it holds the same values: strings, keys and structure exactly, every
//! number as the same IEEE double.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// Equal as JCS sees JSON: numbers are IEEE doubles.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let Ok(canonical) = serde_json_canonicalizer::to_vec(&value) else {
        // Only numbers JCS cannot write (none from a parsed text) may fail.
        return;
    };
    let reparsed: Value = serde_json::from_slice(&canonical).unwrap_or_else(|e| {
        panic!(
            "canonical form does not parse ({e}): {}",
            String::from_utf8_lossy(&canonical)
        )
    });
    assert!(same(&value, &reparsed), "values changed in canonical form");
    let again = serde_json_canonicalizer::to_vec(&reparsed).unwrap();
    assert_eq!(canonical, again, "canonicalising is not idempotent");
    assert_eq!(
        serde_json_canonicalizer::to_string(&value).unwrap().as_bytes(),
        &canonical[..]
    );
});
