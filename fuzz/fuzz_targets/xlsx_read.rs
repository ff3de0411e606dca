//! A filled XLSX template as uploaded (`POST …/template`): any bytes are
//! read without a panic; what reads is a value per filled row, each at its
//! own cell in column E, and every problem names a cell of column E or the
//! file.
#![no_main]

use chiso_gateway::routes::templates::sheet;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match sheet::read(data) {
        Ok(filled) => {
            for (code, _, cell) in &filled.values {
                assert!(!code.is_empty());
                assert!(filled.cells.contains(&(code.clone(), cell.clone())));
                assert!(cell.starts_with('E'), "{cell}");
            }
        }
        Err(problems) => {
            assert!(!problems.is_empty());
            for (cell, message) in &problems {
                assert!(cell == "file" || cell.starts_with('E'), "{cell}: {message}");
            }
        }
    }
});
