//! Reading an agency list from CSV (UTF-8, header row, a province office's
//! spreadsheet): each row becomes a [`NewAgency`] or the errors of its
//! cells, named `lines[N].column` with N the line a spreadsheet shows.

use std::collections::HashMap;

use chiso_domain::{AgencyKind, FieldErrors, NewAgency, RawAgency};
use chrono::NaiveDate;

/// Columns an import understands; the first three are required.
pub const COLUMNS: [&str; 7] = [
    "code",
    "name",
    "kind",
    "admin_unit_code",
    "name_en",
    "parent_code",
    "valid_from",
];
const REQUIRED: usize = 3;

/// Rows at most, to keep one import one transaction of sensible size.
pub const MAX_ROWS: usize = 10_000;

/// One data row: where it is and what it says.
#[derive(Debug, Clone)]
pub struct Row {
    pub line: u64,
    pub agency: Option<NewAgency>,
}

/// A parsed file: its rows, and every error found without the database.
#[derive(Debug, Default)]
pub struct Parsed {
    pub rows: Vec<Row>,
    pub errors: FieldErrors,
}

/// Field name of a cell.
pub fn cell(line: u64, column: &str) -> String {
    format!("lines[{line}].{column}")
}

/// Parses the whole file, collecting the errors of every row.
pub fn parse(bytes: &[u8], default_from: NaiveDate) -> Parsed {
    let mut parsed = Parsed::default();
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        parsed.errors.push(
            "file",
            "is empty: expected a header row and one row per agency",
        );
        return parsed;
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let mut records = reader.byte_records();
    let header = match records.next() {
        Some(Ok(h)) => h,
        Some(Err(e)) => {
            parsed
                .errors
                .push("lines[1]", format!("unreadable header: {e}"));
            return parsed;
        }
        None => {
            parsed.errors.push("file", "has no header row");
            return parsed;
        }
    };
    let mut index: HashMap<&'static str, usize> = HashMap::new();
    for (i, raw) in header.iter().enumerate() {
        let name = String::from_utf8_lossy(raw).trim().to_lowercase();
        match COLUMNS.iter().find(|c| **c == name) {
            Some(column) if index.contains_key(column) => parsed
                .errors
                .push(cell(1, column), "appears twice in the header"),
            Some(column) => {
                index.insert(column, i);
            }
            None => parsed.errors.push(
                "lines[1]",
                format!(
                    "unknown column `{name}`; the columns are {}",
                    COLUMNS.join(", ")
                ),
            ),
        }
    }
    for column in &COLUMNS[..REQUIRED] {
        if !index.contains_key(column) {
            parsed.errors.push(
                "lines[1]",
                format!("the required column `{column}` is missing"),
            );
        }
    }
    if !parsed.errors.is_empty() {
        return parsed;
    }
    let width = header.len();
    // The csv crate skips blank lines without counting them, and a record's
    // position can be the blank lines before it: count line ends up to its
    // first character. A line ends as the csv crate ends a record: `\n`,
    // `\r\n`, or a lone `\r` (old Mac files; counting `\n` alone gave every
    // record of such a file the same line, found by the agency_csv fuzz target).
    let line_at = |pos: Option<&csv::Position>| {
        pos.map_or(0, |p| {
            let mut end = usize::try_from(p.byte())
                .unwrap_or(usize::MAX)
                .min(bytes.len());
            while end < bytes.len() && matches!(bytes[end], b'\r' | b'\n') {
                end += 1;
            }
            let ends = bytes[..end]
                .iter()
                .enumerate()
                .filter(|&(i, &b)| b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')))
                .count();
            1 + ends as u64
        })
    };
    for record in records {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = line_at(e.position());
                parsed
                    .errors
                    .push(format!("lines[{line}]"), format!("unreadable: {e}"));
                continue;
            }
        };
        let line = line_at(record.position());
        if record.iter().all(<[u8]>::is_empty) {
            continue;
        }
        if parsed.rows.len() == MAX_ROWS {
            parsed.errors.push(
                "file",
                format!("has more than {MAX_ROWS} rows; split it into several imports"),
            );
            break;
        }
        if record.len() != width {
            parsed.errors.push(
                format!("lines[{line}]"),
                format!("has {} cells but the header has {width}", record.len()),
            );
            parsed.rows.push(Row { line, agency: None });
            continue;
        }
        let mut text: HashMap<&str, String> = HashMap::new();
        let mut utf8 = true;
        for (column, i) in &index {
            match std::str::from_utf8(&record[*i]) {
                Ok(s) => {
                    text.insert(column, s.to_owned());
                }
                Err(_) => {
                    utf8 = false;
                    parsed.errors.push(
                        cell(line, column),
                        "is not UTF-8; save the file as CSV UTF-8",
                    );
                }
            }
        }
        let agency = if utf8 {
            parse_row(line, &text, default_from, &mut parsed.errors)
        } else {
            None
        };
        parsed.rows.push(Row { line, agency });
    }
    if parsed.rows.is_empty() && parsed.errors.is_empty() {
        parsed.errors.push("file", "has a header but no agencies");
    }
    parsed
}

fn parse_row(
    line: u64,
    text: &HashMap<&str, String>,
    default_from: NaiveDate,
    errors: &mut FieldErrors,
) -> Option<NewAgency> {
    let get = |c: &str| text.get(c).map_or("", String::as_str);
    RawAgency {
        code: get("code"),
        admin_unit_code: get("admin_unit_code"),
        name: get("name"),
        name_en: get("name_en"),
        kind: get("kind").parse::<AgencyKind>().map_err(|e| e.to_string()),
        parent_code: get("parent_code"),
        valid_from: get("valid_from"),
    }
    .decode(&format!("lines[{line}]"), default_from, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(p: &Parsed) -> Vec<&str> {
        p.errors.0.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn reads_rows_with_spreadsheet_line_numbers() {
        let csv = "\u{feff}code,name,kind,parent_code\n\
                   000.00.00.H51,Tỉnh Quảng Ngãi,provincial_committee,\n\
                   \n\
                   000.00.15.H51,\"Sở Thông tin và Truyền thông\",department,000.00.00.H51\n";
        let parsed = parse(csv.as_bytes(), NaiveDate::from_ymd_opt(2025, 1, 1).unwrap());
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        let lines: Vec<u64> = parsed.rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, [2, 4]);
        let second = parsed.rows[1].agency.as_ref().unwrap();
        assert_eq!(second.name.as_str(), "Sở Thông tin và Truyền thông");
        assert_eq!(second.valid_from.to_string(), "2025-01-01");
    }

    #[test]
    fn counts_lines_ended_by_a_lone_carriage_return() {
        let csv = "code,name,kind\r000.00.00.H51,Tỉnh Quảng Ngãi,provincial_committee\r\r\
                   000.00.15.H51,Sở Thông tin và Truyền thông,department\r\n";
        let parsed = parse(csv.as_bytes(), NaiveDate::from_ymd_opt(2025, 1, 1).unwrap());
        let lines: Vec<u64> = parsed.rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, [2, 4], "{:?}", parsed.errors);
    }

    #[test]
    fn names_every_bad_cell() {
        let csv = "code,name,kind,valid_from\n\
                   000.00.01.H51,Văn phòng,department,2008-04-01\n\
                   51,,ministry,1/4/2008\n\
                   000.00.03.H51,Sở Tư pháp\n";
        let parsed = parse(csv.as_bytes(), NaiveDate::default());
        assert_eq!(
            fields(&parsed),
            [
                "lines[3].code",
                "lines[3].name",
                "lines[3].kind",
                "lines[3].valid_from",
                "lines[4]"
            ]
        );
        assert!(parsed.rows[0].agency.is_some());
        assert!(parsed.rows[1].agency.is_none());
    }

    #[test]
    fn checks_the_header_and_the_encoding() {
        let parsed = parse(b"code,name,parent\n", NaiveDate::default());
        assert_eq!(fields(&parsed), ["lines[1]", "lines[1]"]);
        assert!(
            parsed.errors.0[0]
                .message
                .contains("unknown column `parent`")
        );
        assert!(parsed.errors.0[1].message.contains("`kind` is missing"));
        let parsed = parse(
            b"code,name,kind\n000.00.01.H51,S\xe1 T\xe0i ch\xednh,department\n",
            NaiveDate::default(),
        );
        assert_eq!(fields(&parsed), ["lines[2].name"]);
        assert_eq!(fields(&parse(b"", NaiveDate::default())), ["file"]);
        assert_eq!(
            fields(&parse(b"code,name,kind\n", NaiveDate::default())),
            ["file"]
        );
    }
}
