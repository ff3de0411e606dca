//! Answers as files: CSV and XLSX with Vietnamese headers and numbers as
//! numbers, and SDMX-CSV 2.0 for values (one observation per row, with
//! dimensions REF_AREA, INDICATOR, TIME_PERIOD, measure OBS_VALUE and
//! attributes UNIT_MEASURE, UNIT_MULT, OBS_STATUS).

use chiso_proto::aggregation::v1 as pb;
use chiso_runtime::{ServiceError, ServiceResult};

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Number(f64),
    Empty,
}

/// An answer as a table, with what SDMX needs when it is a table of values.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// File and sheet name.
    pub name: String,
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<Cell>>,
    /// For values only: the observations.
    pub observations: Option<Vec<Observation>>,
}

/// One SDMX observation.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    pub ref_area: String,
    pub indicator: String,
    pub time_period: String,
    pub value: Option<f64>,
    pub unit: String,
    /// Power of ten the value is multiplied by (always 0 here: values are in
    /// their own unit).
    pub unit_mult: u8,
    /// A normal value, `M` missing (nothing reported).
    pub status: &'static str,
}

fn text(s: impl Into<String>) -> Cell {
    let s = s.into();
    if s.is_empty() {
        Cell::Empty
    } else {
        Cell::Text(s)
    }
}

fn number(v: Option<f64>) -> Cell {
    v.map_or(Cell::Empty, Cell::Number)
}

fn int(v: i64) -> Cell {
    // Counts up to 2^53 are exact in an f64; totals beyond are errors already.
    Cell::Number(v as f64)
}

/// A table of value rows (a total and its breakdown, or a series).
pub fn values(rows: Vec<pb::Aggregate>) -> Table {
    let observations = rows
        .iter()
        .map(|r| Observation {
            ref_area: if r.agency.is_empty() {
                r.area.clone()
            } else {
                r.agency.clone()
            },
            indicator: if r.indicator.is_empty() {
                r.data_element.clone()
            } else {
                r.indicator.clone()
            },
            time_period: sdmx_period(&r.period),
            value: r.value,
            unit: r.unit.clone(),
            unit_mult: 0,
            status: if r.value.is_some() { "A" } else { "M" },
        })
        .collect();
    Table {
        name: "chi_so".into(),
        headers: vec![
            "Mã địa bàn",
            "Mã cơ quan",
            "Tên",
            "Chỉ tiêu",
            "Kỳ báo cáo",
            "Nhóm",
            "Giá trị",
            "Đơn vị",
            "Tử số",
            "Mẫu số",
            "Số cơ quan báo cáo",
            "Số cơ quan phải báo cáo",
            "Cây tổ chức ngày",
            "Ghi chú",
        ],
        rows: rows
            .into_iter()
            .map(|r| {
                vec![
                    text(r.area),
                    text(r.agency),
                    text(r.name),
                    text(if r.indicator.is_empty() {
                        r.data_element
                    } else {
                        r.indicator
                    }),
                    text(r.period),
                    text(r.group),
                    number(r.value),
                    text(r.unit),
                    if r.numerator_exact.is_empty() {
                        Cell::Empty
                    } else {
                        exact(&r.numerator_exact)
                    },
                    if r.denominator_exact.is_empty() {
                        Cell::Empty
                    } else {
                        exact(&r.denominator_exact)
                    },
                    int(r.agencies_reporting),
                    int(r.agencies_expected),
                    text(r.as_of),
                    text(r.error),
                ]
            })
            .collect(),
        observations: Some(observations),
    }
}

/// An exact decimal as a number cell.
fn exact(s: &str) -> Cell {
    s.parse::<f64>()
        .map_or_else(|_| Cell::Text(s.to_owned()), Cell::Number)
}

/// DHIS2 period codes in SDMX's ISO 8601 forms: 2025, 2025-Q1, 2025-S1, 2025-01.
fn sdmx_period(code: &str) -> String {
    match code.len() {
        6 if code[4..5].eq_ignore_ascii_case("Q") || code[4..5].eq_ignore_ascii_case("S") => {
            format!("{}-{}", &code[..4], &code[4..])
        }
        6 => format!("{}-{}", &code[..4], &code[4..]),
        _ => code.to_owned(),
    }
}

pub fn completeness(c: &pb::Completeness) -> Table {
    let mut rows = Vec::new();
    let mut push = |state: &str, list: &[pb::AgencyRef]| {
        for a in list {
            rows.push(vec![
                text(c.form.clone()),
                text(c.period.clone()),
                text(a.code.clone()),
                text(a.name.clone()),
                text(state),
                if state == "Nộp muộn" {
                    int(i64::from(a.days_late))
                } else {
                    Cell::Empty
                },
            ]);
        }
    };
    push("Chưa nộp", &c.missing);
    push("Nộp muộn", &c.late_agencies);
    push("Bị trả lại", &c.returned);
    rows.push(vec![
        text(c.form.clone()),
        text(c.period.clone()),
        text(c.area.clone()),
        text(format!(
            "Phải nộp {}, đã nhận {}, đúng hạn {}, muộn {}, chưa nộp {}, bị trả lại {}",
            c.expected, c.received, c.on_time, c.late, c.missing_count, c.returned_count
        )),
        text("Tổng hợp"),
        number(c.reporting_rate),
    ]);
    Table {
        name: "tinh_day_du".into(),
        headers: vec![
            "Biểu mẫu",
            "Kỳ báo cáo",
            "Mã",
            "Tên",
            "Tình trạng",
            "Số ngày muộn / Tỷ lệ nộp (%)",
        ],
        rows,
        observations: None,
    }
}

pub fn ranking(r: &pb::RankingResult) -> Table {
    Table {
        name: "xep_hang".into(),
        headers: vec![
            "Hạng",
            "Mã cơ quan",
            "Tên cơ quan",
            "Chỉ số tổng hợp",
            "Ghi chú",
        ],
        rows: r
            .agencies
            .iter()
            .map(|a| {
                vec![
                    if a.rank == 0 {
                        Cell::Empty
                    } else {
                        int(i64::from(a.rank))
                    },
                    text(a.agency.clone()),
                    text(a.name.clone()),
                    number(a.total.as_ref().map(|t| t.value)),
                    text(a.unranked_reason.clone()),
                ]
            })
            .collect(),
        observations: None,
    }
}

pub fn attainment(a: &pb::Attainment) -> Table {
    let mut rows = Vec::new();
    for t in &a.targets {
        let target = t.target.clone().unwrap_or_default();
        let actual = t.actual.clone().unwrap_or_default();
        rows.push(vec![
            text(target.indicator.clone()),
            text(target.group.clone()),
            text(format!("{} {}", target.comparator, target.value)),
            int(i64::from(target.year)),
            number(actual.value),
            match t.attained {
                Some(true) => text("Đạt"),
                Some(false) => text("Chưa đạt"),
                None => Cell::Empty,
            },
            number(t.gap),
            int(t.below.len() as i64),
        ]);
    }
    Table {
        name: "ket_qua_chi_tieu".into(),
        headers: vec![
            "Chỉ tiêu",
            "Nhóm",
            "Mục tiêu",
            "Năm",
            "Thực hiện",
            "Kết quả",
            "Khoảng cách",
            "Số cơ quan chưa đạt",
        ],
        rows,
        observations: None,
    }
}

/// Bytes per chunk on the stream.
const CHUNK: usize = 64 * 1024;

/// The table in `format`, in chunks; the first names the file.
pub fn render(table: &Table, format: pb::ExportFormat) -> ServiceResult<Vec<pb::ExportChunk>> {
    let (bytes, content_type, ext) = match format {
        pb::ExportFormat::Csv => (csv_bytes(table)?, "text/csv; charset=utf-8", "csv"),
        pb::ExportFormat::Xlsx => (
            xlsx_bytes(table)?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
        pb::ExportFormat::SdmxCsv => (
            sdmx_bytes(table)?,
            "application/vnd.sdmx.data+csv; version=2.0.0; charset=utf-8",
            "csv",
        ),
        pb::ExportFormat::Unspecified => {
            return Err(ServiceError::field(
                "format",
                "is required: csv, xlsx or sdmx_csv",
            ));
        }
    };
    let mut chunks: Vec<pb::ExportChunk> = bytes
        .chunks(CHUNK)
        .map(|c| pb::ExportChunk {
            data: c.to_vec(),
            ..Default::default()
        })
        .collect();
    if chunks.is_empty() {
        chunks.push(pb::ExportChunk::default());
    }
    chunks[0].content_type = content_type.into();
    chunks[0].filename = format!("{}.{ext}", table.name);
    Ok(chunks)
}

fn internal(e: impl std::fmt::Display) -> ServiceError {
    ServiceError::Internal(anyhow::anyhow!("export: {e}"))
}

fn csv_bytes(table: &Table) -> ServiceResult<Vec<u8>> {
    // A byte-order mark, so spreadsheet programs read the Vietnamese as UTF-8.
    let mut out = b"\xEF\xBB\xBF".to_vec();
    {
        let mut w = csv::Writer::from_writer(&mut out);
        w.write_record(&table.headers).map_err(internal)?;
        for row in &table.rows {
            w.write_record(row.iter().map(|c| match c {
                Cell::Text(s) => s.clone(),
                Cell::Number(n) => n.to_string(),
                Cell::Empty => String::new(),
            }))
            .map_err(internal)?;
        }
        w.flush().map_err(internal)?;
    }
    Ok(out)
}

fn xlsx_bytes(table: &Table) -> ServiceResult<Vec<u8>> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(&table.name).map_err(internal)?;
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (c, h) in table.headers.iter().enumerate() {
        sheet
            .write_string_with_format(0, c as u16, *h, &bold)
            .map_err(internal)?;
    }
    for (r, row) in table.rows.iter().enumerate() {
        let r = u32::try_from(r + 1).map_err(internal)?;
        for (c, cell) in row.iter().enumerate() {
            let c = c as u16;
            match cell {
                Cell::Text(s) => {
                    sheet.write_string(r, c, s).map_err(internal)?;
                }
                Cell::Number(n) => {
                    sheet.write_number(r, c, *n).map_err(internal)?;
                }
                Cell::Empty => {}
            }
        }
    }
    book.save_to_buffer().map_err(internal)
}

fn sdmx_bytes(table: &Table) -> ServiceResult<Vec<u8>> {
    let observations = table.observations.as_ref().ok_or_else(|| {
        ServiceError::field(
            "format",
            "SDMX-CSV carries values: export a breakdown or a trend",
        )
    })?;
    let mut out = Vec::new();
    {
        let mut w = csv::Writer::from_writer(&mut out);
        w.write_record([
            "STRUCTURE",
            "STRUCTURE_ID",
            "ACTION",
            "REF_AREA",
            "INDICATOR",
            "TIME_PERIOD",
            "OBS_VALUE",
            "UNIT_MEASURE",
            "UNIT_MULT",
            "OBS_STATUS",
        ])
        .map_err(internal)?;
        for o in observations {
            w.write_record([
                "dataflow".to_owned(),
                "VN_CHISO:IT_APPLICATION(1.0)".to_owned(),
                "I".to_owned(),
                o.ref_area.clone(),
                o.indicator.clone(),
                o.time_period.clone(),
                o.value.map(|v| v.to_string()).unwrap_or_default(),
                o.unit.clone(),
                o.unit_mult.to_string(),
                o.status.to_owned(),
            ])
            .map_err(internal)?;
        }
        w.flush().map_err(internal)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> pb::Aggregate {
        pb::Aggregate {
            indicator: "electronic_document_rate".into(),
            area: "44".into(),
            name: "UBND tỉnh Quảng Bình".into(),
            period: "2025Q1".into(),
            value: Some(76.0),
            numerator_exact: "380".into(),
            denominator_exact: "500".into(),
            unit: "%".into(),
            agencies_reporting: 2,
            agencies_expected: 3,
            ..Default::default()
        }
    }

    #[test]
    fn csv_has_vietnamese_headers_and_numbers() {
        let t = values(vec![row()]);
        let chunks = render(&t, pb::ExportFormat::Csv).unwrap();
        let text = String::from_utf8(chunks[0].data.clone()).unwrap();
        let mut lines = text.trim_start_matches('\u{feff}').lines();
        assert!(
            lines
                .next()
                .unwrap()
                .starts_with("Mã địa bàn,Mã cơ quan,Tên,Chỉ tiêu")
        );
        assert_eq!(
            lines.next().unwrap(),
            "44,,UBND tỉnh Quảng Bình,electronic_document_rate,2025Q1,,76,%,380,500,2,3,,"
        );
        assert_eq!(chunks[0].filename, "chi_so.csv");
    }

    #[test]
    fn sdmx_csv_observations() {
        let t = values(vec![
            row(),
            pb::Aggregate {
                value: None,
                period: "202503".into(),
                ..row()
            },
        ]);
        let chunks = render(&t, pb::ExportFormat::SdmxCsv).unwrap();
        let text = String::from_utf8(chunks[0].data.clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "STRUCTURE,STRUCTURE_ID,ACTION,REF_AREA,INDICATOR,TIME_PERIOD,OBS_VALUE,UNIT_MEASURE,UNIT_MULT,OBS_STATUS"
        );
        assert_eq!(
            lines[1],
            "dataflow,VN_CHISO:IT_APPLICATION(1.0),I,44,electronic_document_rate,2025-Q1,76,%,0,A"
        );
        assert_eq!(
            lines[2],
            "dataflow,VN_CHISO:IT_APPLICATION(1.0),I,44,electronic_document_rate,2025-03,,%,0,M"
        );
        let refused = render(
            &ranking(&pb::RankingResult::default()),
            pb::ExportFormat::SdmxCsv,
        )
        .unwrap_err();
        assert!(refused.to_string().contains("SDMX-CSV"), "{refused}");
    }

    #[test]
    fn xlsx_is_a_zip() {
        let chunks = render(&values(vec![row()]), pb::ExportFormat::Xlsx).unwrap();
        assert_eq!(&chunks[0].data[..2], b"PK");
    }
}
