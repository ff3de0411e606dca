//! A report as a file: the JSON, CSV or XLSX that `chiso report template`
//! writes and `chiso report submit` reads.

use std::path::Path;

use serde_json::Value;

use super::error::{CliError, CliResult};

/// Column of the values (E) and of the hidden element codes (F), and the
/// first row of elements, in the gateway's XLSX template
/// (services/gateway/src/routes/templates/sheet.rs).
const XLSX_VALUE_COL: u32 = 4;
const XLSX_CODE_COL: u32 = 5;
const XLSX_FIRST_ROW: u32 = 6;

/// What a file says to report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportInput {
    pub form: String,
    pub period: String,
    pub agency: Option<String>,
    /// (data element, value as text); empty values are left out.
    pub values: Vec<(String, String)>,
}

/// The file's kind, from its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Json,
    Csv,
    Xlsx,
}

impl Kind {
    pub fn of(path: &Path) -> CliResult<Self> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("json") => Ok(Self::Json),
            Some("csv") => Ok(Self::Csv),
            Some("xlsx") => Ok(Self::Xlsx),
            _ => Err(CliError::usage(format!(
                "{}: a report file ends in .json, .csv or .xlsx",
                path.display()
            ))),
        }
    }
}

pub fn read(path: &Path) -> CliResult<ReportInput> {
    let kind = Kind::of(path)?;
    let bytes = std::fs::read(path)
        .map_err(|e| CliError::usage(format!("cannot read {}: {e}", path.display())))?;
    let bad = |why: String| CliError::usage(format!("{}: {why}", path.display()));
    match kind {
        Kind::Json => from_json(&bytes).map_err(bad),
        Kind::Csv => from_csv(&bytes).map_err(bad),
        Kind::Xlsx => from_xlsx(&bytes).map_err(bad),
    }
}

/// A JSON value as the text the API takes: numbers keep their digits,
/// booleans are yes/no.
fn value_text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Bool(b) => Some(if *b { "yes" } else { "no" }.to_owned()),
        other => Some(other.to_string()),
    }
    .filter(|s| !s.is_empty())
}

/// `{"form", "period", "agency_code"?, "values": [{"data_element", "value"}]}`
/// (what `POST /api/v1/reports` takes, extra keys such as `name` ignored),
/// or `values` as an object of code → value.
pub fn from_json(bytes: &[u8]) -> Result<ReportInput, String> {
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
    let text = |key: &str| doc[key].as_str().map(str::trim).unwrap_or("").to_owned();
    let (form, period) = (text("form"), text("period"));
    if form.is_empty() || period.is_empty() {
        return Err("needs `form` and `period`".into());
    }
    let agency = Some(text("agency_code")).filter(|a| !a.is_empty());
    let values = match &doc["values"] {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let code = item["data_element"]
                    .as_str()
                    .ok_or_else(|| format!("values[{i}].data_element is missing"))?;
                Ok(value_text(&item["value"]).map(|v| (code.to_owned(), v)))
            })
            .filter_map(Result::transpose)
            .collect::<Result<Vec<_>, String>>()?,
        Value::Object(map) => map
            .iter()
            .filter_map(|(code, v)| value_text(v).map(|v| (code.clone(), v)))
            .collect(),
        Value::Null => Vec::new(),
        _ => return Err("`values` is a list or an object".into()),
    };
    Ok(ReportInput {
        form,
        period,
        agency,
        values,
    })
}

/// CSV with a header row naming at least `form`, `period`, `data_element`
/// and `value` (`agency_code` optional; other columns ignored).
pub fn from_csv(bytes: &[u8]) -> Result<ReportInput, String> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let headers = reader.headers().map_err(|e| e.to_string())?.clone();
    let column = |name: &str| headers.iter().position(|h| h.trim() == name);
    let (Some(form_col), Some(period_col), Some(code_col), Some(value_col)) = (
        column("form"),
        column("period"),
        column("data_element"),
        column("value"),
    ) else {
        return Err("the header row needs form, period, data_element and value".into());
    };
    let agency_col = column("agency_code");
    let mut input = ReportInput {
        form: String::new(),
        period: String::new(),
        agency: None,
        values: Vec::new(),
    };
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| format!("line {}: {e}", i + 2))?;
        let get = |c: usize| record.get(c).unwrap_or("").trim().to_owned();
        for (slot, col, name) in [
            (&mut input.form, form_col, "form"),
            (&mut input.period, period_col, "period"),
        ] {
            let value = get(col);
            if slot.is_empty() {
                *slot = value;
            } else if !value.is_empty() && *slot != value {
                return Err(format!(
                    "line {}: {name} `{value}` differs from `{slot}`: one report per file",
                    i + 2
                ));
            }
        }
        if let Some(col) = agency_col
            && input.agency.is_none()
        {
            input.agency = Some(get(col)).filter(|a| !a.is_empty());
        }
        let (code, value) = (get(code_col), get(value_col));
        if !code.is_empty() && !value.is_empty() {
            input.values.push((code, value));
        }
    }
    if input.form.is_empty() || input.period.is_empty() {
        return Err("no form and period in any row".into());
    }
    Ok(input)
}

/// The gateway's filled-in XLSX template: codes in B2:B4, values in
/// column E with each element's code in hidden column F.
pub fn from_xlsx(bytes: &[u8]) -> Result<ReportInput, String> {
    use calamine::{Data, Reader, Xlsx};
    let mut book = Xlsx::new(std::io::Cursor::new(bytes)).map_err(|e| format!("not XLSX: {e}"))?;
    let sheet = book
        .worksheet_range_at(0)
        .ok_or("the workbook has no sheet")?
        .map_err(|e| e.to_string())?;
    let text = |row: u32, col: u32| -> String {
        match sheet.get_value((row, col)) {
            None | Some(Data::Empty) => String::new(),
            Some(Data::String(s)) => s.trim().to_owned(),
            Some(Data::Float(f)) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
            Some(Data::Float(f)) => f.to_string(),
            Some(Data::Int(i)) => i.to_string(),
            Some(Data::Bool(b)) => if *b { "yes" } else { "no" }.to_owned(),
            Some(other) => other.to_string(),
        }
    };
    let (form, agency, period) = (text(1, 1), text(2, 1), text(3, 1));
    if form.is_empty() || period.is_empty() {
        return Err("B2 (form) and B4 (period) are empty: not a chiso template".into());
    }
    let mut values = Vec::new();
    let last = sheet.end().map_or(0, |(row, _)| row);
    for row in XLSX_FIRST_ROW..=last {
        let code = text(row, XLSX_CODE_COL);
        let value = match text(row, XLSX_VALUE_COL).as_str() {
            "Có" | "có" => "yes".to_owned(),
            "Không" | "không" => "no".to_owned(),
            other => other.to_owned(),
        };
        if !code.is_empty() && !value.is_empty() {
            values.push((code, value));
        }
    }
    Ok(ReportInput {
        form,
        period,
        agency: Some(agency).filter(|a| !a.is_empty()),
        values,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lists_objects_numbers_and_blanks() {
        let input = from_json(
            r#"{"form":"it_fast_quarterly","period":"2026Q4","values":[
                {"data_element":"documents_sent","name":"Số văn bản đi","value":120},
                {"data_element":"has_electronic_one_stop_shop","value":true},
                {"data_element":"online_meetings","value":""},
                {"data_element":"public_services_total","value":null}]}"#
                .as_bytes(),
        )
        .unwrap();
        assert_eq!(input.agency, None);
        assert_eq!(
            input.values,
            vec![
                ("documents_sent".into(), "120".into()),
                ("has_electronic_one_stop_shop".into(), "yes".into())
            ]
        );
        let input = from_json(
            br#"{"form":"f","period":"2025","agency_code":"000.00.15.H51","values":{"a":"1.50"}}"#,
        )
        .unwrap();
        assert_eq!(input.agency.as_deref(), Some("000.00.15.H51"));
        assert_eq!(input.values, vec![("a".into(), "1.50".into())]);
        assert!(from_json(br#"{"values":[]}"#).is_err());
    }

    #[test]
    fn csv_one_report_per_file() {
        let csv = "\u{feff}form,period,agency_code,data_element,name,value\n\
                   it_fast_quarterly,2026Q4,,documents_sent,\"Số văn bản đi\",120\n\
                   it_fast_quarterly,2026Q4,,online_meetings,Họp,\n";
        let input = from_csv(csv.as_bytes()).unwrap();
        assert_eq!(input.form, "it_fast_quarterly");
        assert_eq!(input.values, vec![("documents_sent".into(), "120".into())]);
        let mixed = "form,period,data_element,value\nf,2025,a,1\nf,2026,b,2\n";
        assert!(from_csv(mixed.as_bytes()).unwrap_err().contains("line 3"));
    }
}
