//! The agency list import (`POST /api/v1/agencies/import`, CSV from a
//! province office's spreadsheet): any bytes give rows in file order, each
//! error named `file`, `lines[N]` or `lines[N].<column>`, and an import
//! without errors holds at least one agency and nothing else.
#![no_main]

use chiso_registry::csv_import::{COLUMNS, MAX_ROWS, parse};
use chrono::NaiveDate;
use libfuzzer_sys::fuzz_target;

/// `lines[N]` or `lines[N].column`, N ≥ 1, column one the import knows.
fn is_cell_name(field: &str) -> bool {
    let Some(rest) = field.strip_prefix("lines[") else {
        return false;
    };
    let Some((n, after)) = rest.split_once(']') else {
        return false;
    };
    n.parse::<u64>().is_ok_and(|n| n >= 1)
        && (after.is_empty()
            || after
                .strip_prefix('.')
                .is_some_and(|c| COLUMNS.contains(&c)))
}

fuzz_target!(|data: &[u8]| {
    let from = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
    let parsed = parse(data, from);
    assert!(parsed.rows.len() <= MAX_ROWS);
    for e in &parsed.errors.0 {
        assert!(e.field == "file" || is_cell_name(&e.field), "{e:?}");
        assert!(!e.message.is_empty());
    }
    for pair in parsed.rows.windows(2) {
        assert!(pair[0].line < pair[1].line, "rows in file order");
    }
    for row in &parsed.rows {
        assert!(row.line >= 2, "line 1 is the header");
    }
    if parsed.errors.is_empty() {
        assert!(!parsed.rows.is_empty());
        for row in &parsed.rows {
            let agency = row.agency.as_ref().expect("a row without errors is an agency");
            assert!(!agency.name.as_str().trim().is_empty());
        }
    }
});
