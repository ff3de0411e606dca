//! A form as an XLSX template, and a filled template back as values.
//!
//! Layout (one sheet, `Báo cáo`): the form's name in A1; the form, agency
//! and period codes in B2:B4, checked on upload; headers in row 6; then each
//! section as a bold row and each element as a row: name, description,
//! unit, the value in column E (the only unlocked cells, with validation by
//! type and bounds), and the element's code in hidden column F. The sheet is
//! protected so labels cannot be edited by mistake.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use chiso_proto::submission::v1 as pb;
use rust_xlsxwriter::{DataValidation, DataValidationRule, Format, Workbook, XlsxError};

/// The sheet's name.
pub const SHEET: &str = "Báo cáo";
/// Column of the values (E) and of the hidden codes (F), 0-based.
const VALUE_COL: u16 = 4;
const CODE_COL: u16 = 5;
/// First row of the table, 0-based (row 7 in Excel).
const FIRST_ROW: u32 = 6;
const YES: &str = "Có";
const NO: &str = "Không";

/// What identifies the report a template is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub form: String,
    pub agency: String,
    pub period: String,
}

/// A cell reference such as `E12` from 0-based coordinates.
pub fn cell(row: u32, col: u16) -> String {
    let mut letters = String::new();
    let mut c = u32::from(col) + 1;
    while c > 0 {
        let rem = (c - 1) % 26;
        letters.insert(0, char::from(b'A' + rem as u8));
        c = (c - 1) / 26;
    }
    format!("{letters}{}", row + 1)
}

fn is_yes_no(e: &pb::DataElement) -> bool {
    e.value_type == i32::from(pb::ValueType::YesNo)
}

/// The template for one report, with `existing` values filled in.
pub fn build(
    form: &pb::Form,
    elements: &[pb::DataElement],
    id: &Identity,
    agency_name: &str,
    existing: &[(String, String)],
) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(SHEET)?;
    let bold = Format::new().set_bold();
    let title = Format::new().set_bold().set_font_size(13);
    let wrap = Format::new().set_text_wrap();
    let input = Format::new()
        .set_unlocked()
        .set_background_color(rust_xlsxwriter::Color::RGB(0x00FF_F9E5));
    sheet.set_column_width(0, 5)?;
    sheet.set_column_width(1, 48)?;
    sheet.set_column_width(2, 60)?;
    sheet.set_column_width(3, 12)?;
    sheet.set_column_width(VALUE_COL, 16)?;
    sheet.write_string_with_format(0, 0, &form.name, &title)?;
    for (row, label, value) in [
        (1, "Biểu mẫu", id.form.as_str()),
        (2, "Cơ quan", id.agency.as_str()),
        (3, "Kỳ báo cáo", id.period.as_str()),
    ] {
        sheet.write_string_with_format(row, 0, label, &bold)?;
        sheet.write_string(row, 1, value)?;
    }
    sheet.write_string(2, 2, agency_name)?;
    sheet.write_string(
        4,
        0,
        "Nhập số liệu vào cột E (ô màu vàng); với câu hỏi có/không chọn Có hoặc Không. Các ô khác đã khoá.",
    )?;
    for (col, name) in ["STT", "Chỉ tiêu", "Mô tả", "Đơn vị", "Giá trị", "Mã"]
        .iter()
        .enumerate()
    {
        sheet.write_string_with_format(FIRST_ROW - 1, col as u16, *name, &bold)?;
    }
    let mut row = FIRST_ROW;
    let mut n = 0;
    for section in &form.sections {
        sheet.write_string_with_format(row, 1, &section.name, &bold)?;
        row += 1;
        for fe in &section.elements {
            let Some(e) = elements.iter().find(|e| e.code == fe.data_element) else {
                continue;
            };
            n += 1;
            sheet.write_number(row, 0, f64::from(n))?;
            let name = if fe.compulsory {
                e.name.clone()
            } else {
                format!("{} (không bắt buộc)", e.name)
            };
            sheet.write_string_with_format(row, 1, &name, &wrap)?;
            sheet.write_string_with_format(row, 2, &e.description, &wrap)?;
            sheet.write_string(row, 3, if is_yes_no(e) { "" } else { &e.unit })?;
            sheet.write_string(row, CODE_COL, &e.code)?;
            match existing.iter().find(|(code, _)| code == &e.code) {
                Some((_, v)) if is_yes_no(e) => {
                    let shown = if v == "yes" { YES } else { NO };
                    sheet.write_string_with_format(row, VALUE_COL, shown, &input)?;
                }
                Some((_, v)) => match v.parse::<f64>() {
                    Ok(number) => {
                        sheet.write_number_with_format(row, VALUE_COL, number, &input)?;
                    }
                    Err(_) => {
                        sheet.write_string_with_format(row, VALUE_COL, v, &input)?;
                    }
                },
                None => {
                    sheet.write_blank(row, VALUE_COL, &input)?;
                }
            }
            sheet.add_data_validation(row, VALUE_COL, row, VALUE_COL, &validation(e)?)?;
            row += 1;
        }
    }
    sheet.set_column_hidden(CODE_COL)?;
    sheet.protect();
    book.save_to_buffer()
}

/// What Excel checks as the cell is typed.
fn validation(e: &pb::DataElement) -> Result<DataValidation, XlsxError> {
    if is_yes_no(e) {
        return DataValidation::new().allow_list_strings(&[YES, NO]);
    }
    let min: f64 = e.min.parse().unwrap_or(0.0);
    let max: f64 = e.max.parse().unwrap_or(1e15);
    let v = if e.value_type == i32::from(pb::ValueType::Count) && max <= f64::from(i32::MAX) {
        DataValidation::new()
            .allow_whole_number(DataValidationRule::Between(min as i32, max as i32))
    } else {
        DataValidation::new().allow_decimal_number(DataValidationRule::Between(min, max))
    };
    v.set_error_message(format!("{}: từ {} đến {}", e.name, e.min, e.max))
}

/// A filled template: whom it is for, and each value with its cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filled {
    pub identity: Identity,
    /// (element code, value as the API takes it, cell such as `E12`).
    pub values: Vec<(String, String, String)>,
    /// Every element's value cell, filled or not, by code.
    pub cells: Vec<(String, String)>,
}

/// Reads a filled template; problems are (cell, message).
pub fn read(bytes: &[u8]) -> Result<Filled, Vec<(String, String)>> {
    let whole = |message: String| vec![("file".to_owned(), message)];
    let mut book: Xlsx<_> =
        Xlsx::new(Cursor::new(bytes)).map_err(|e| whole(format!("not an XLSX file: {e}")))?;
    let range = book.worksheet_range(SHEET).map_err(|_| {
        whole(format!(
            "the sheet `{SHEET}` of chiso's template is missing"
        ))
    })?;
    // Absolute positions: the range may start after A1 if A1 is empty.
    let at = |row: u32, col: u32| range.get_value((row, col)).cloned().unwrap_or(Data::Empty);
    let text = |d: &Data| match d {
        Data::String(s) => s.trim().to_owned(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => number_text(*f),
        Data::Empty => String::new(),
        other => other.to_string(),
    };
    let identity = Identity {
        form: text(&at(1, 1)),
        agency: text(&at(2, 1)),
        period: text(&at(3, 1)),
    };
    let mut values = Vec::new();
    let mut cells = Vec::new();
    let mut problems = Vec::new();
    let (end_row, _) = range.end().unwrap_or((0, 0));
    for row in FIRST_ROW..=end_row {
        let code = text(&at(row, u32::from(CODE_COL)));
        if code.is_empty() {
            continue;
        }
        let reference = cell(row, VALUE_COL);
        cells.push((code.clone(), reference.clone()));
        let value = match at(row, u32::from(VALUE_COL)) {
            Data::Empty => continue,
            Data::String(s) if s.trim().is_empty() => continue,
            Data::String(s) => match s.trim() {
                t if t.eq_ignore_ascii_case(YES) || t.eq_ignore_ascii_case("yes") => "yes".into(),
                t if t.eq_ignore_ascii_case(NO) || t.eq_ignore_ascii_case("no") => "no".into(),
                t => t.to_owned(),
            },
            Data::Bool(b) => if b { "yes" } else { "no" }.into(),
            Data::Int(i) => i.to_string(),
            Data::Float(f) => number_text(f),
            Data::DateTime(_) | Data::DateTimeIso(_) | Data::DurationIso(_) => {
                problems.push((
                    reference,
                    "a date is not a value here: type a number".into(),
                ));
                continue;
            }
            Data::Error(e) => {
                problems.push((reference, format!("the cell holds an error ({e:?})")));
                continue;
            }
        };
        values.push((code, value, reference));
    }
    if problems.is_empty() {
        Ok(Filled {
            identity,
            values,
            cells,
        })
    } else {
        Err(problems)
    }
}

/// A spreadsheet number as the API takes it: 12 not 12.0.
fn number_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        // Shortest text that reads back as the same number.
        format!("{f}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_named_as_excel_names_them() {
        assert_eq!(cell(0, 0), "A1");
        assert_eq!(cell(11, 4), "E12");
        assert_eq!(cell(0, 26), "AA1");
        assert_eq!(number_text(12.0), "12");
        assert_eq!(number_text(12.5), "12.5");
    }

    #[test]
    fn a_built_template_reads_back_with_its_values() {
        let form = pb::Form {
            code: "it_fast_quarterly".into(),
            name: "Báo cáo nhanh".into(),
            sections: vec![pb::FormSection {
                name: "Văn bản".into(),
                elements: vec![
                    pb::FormElement {
                        data_element: "documents_sent".into(),
                        compulsory: true,
                    },
                    pb::FormElement {
                        data_element: "has_lan".into(),
                        compulsory: false,
                    },
                ],
                ..Default::default()
            }],
            ..Default::default()
        };
        let elements = vec![
            pb::DataElement {
                code: "documents_sent".into(),
                name: "Số văn bản đi".into(),
                value_type: pb::ValueType::Count.into(),
                min: "0".into(),
                max: "1000000".into(),
                unit: "văn bản".into(),
                ..Default::default()
            },
            pb::DataElement {
                code: "has_lan".into(),
                name: "Có mạng LAN".into(),
                value_type: pb::ValueType::YesNo.into(),
                ..Default::default()
            },
        ];
        let id = Identity {
            form: "it_fast_quarterly".into(),
            agency: "000.00.15.H51".into(),
            period: "2026Q4".into(),
        };
        let bytes = build(
            &form,
            &elements,
            &id,
            "Sở TT&TT",
            &[
                ("documents_sent".into(), "120".into()),
                ("has_lan".into(), "yes".into()),
            ],
        )
        .unwrap();
        let filled = read(&bytes).unwrap();
        assert_eq!(filled.identity, id);
        assert_eq!(
            filled.values,
            [
                ("documents_sent".into(), "120".into(), "E8".into()),
                ("has_lan".into(), "yes".into(), "E9".into()),
            ]
        );
        assert_eq!(read(b"not a zip").unwrap_err()[0].0, "file");
    }
}
