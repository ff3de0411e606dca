//! Imports streamed from the request body to the submission service. The
//! body is parsed as it arrives — CSV row by row, a DHIS2 JSON value set's
//! `dataValues` one by one — and sent on in parts of [`PART`] values, so the
//! gateway never holds a file whole and no value is held twice anywhere.
//! The submission service stores nothing unless the last part arrives
//! marked `end`: a body that breaks off or stops parsing half-way imports
//! nothing.

use std::{
    fmt,
    io::{self, BufRead, BufReader, Read},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use axum::body::Body;
use chiso_proto::submission::v1 as pb;
use futures::StreamExt;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::io::{StreamReader, SyncIoBridge};

use crate::{error::ApiError, extract::AuthUser};

/// Values per gRPC part: about 300 KB, far below the 4 MB message limit,
/// and few enough parts that a 100,000-value file costs 20 round trips.
const PART: usize = 5_000;

/// The largest body an import takes: some 2.5 million DHIS2 JSON values,
/// past the most values the submission service takes in one import.
pub const MAX_IMPORT_BYTES: usize = 256 * 1024 * 1024;

/// How a body is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// DHIS2 CSV: dataelement, period, orgunit, catoptcombo, attroptcombo, value, …
    Csv,
    /// A DHIS2 JSON data value set.
    Json,
}

/// The options of one import, as the query string gave them.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub strategy: pb::ImportStrategy,
    pub dry_run: bool,
    pub request_id: String,
}

/// What the whole body said about itself, known once it is read.
#[derive(Debug, Default)]
pub struct SetFields {
    pub data_set: Option<String>,
    pub complete_date: Option<String>,
    pub period: Option<String>,
    pub org_unit: Option<String>,
}

impl SetFields {
    pub fn complete(&self) -> bool {
        self.complete_date
            .as_deref()
            .is_some_and(|d| !d.trim().is_empty())
    }
}

/// Why parsing stopped early.
enum Stop {
    Bad(ApiError),
    /// The submission service stopped reading: its answer says why.
    Closed,
}

/// Parts of values, sent as they fill.
struct Sink {
    tx: mpsc::Sender<pb::ImportValuesRequest>,
    part: Vec<pb::ImportedValue>,
    closed: bool,
}

impl Sink {
    fn push(&mut self, value: pb::ImportedValue) -> Result<(), ()> {
        self.part.push(value);
        if self.part.len() >= PART {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), ()> {
        if self.part.is_empty() {
            return Ok(());
        }
        let values = std::mem::replace(&mut self.part, Vec::with_capacity(PART));
        self.tx
            .blocking_send(pb::ImportValuesRequest {
                values,
                ..Default::default()
            })
            .map_err(|_| self.closed = true)
    }
}

/// The body as a blocking reader over its chunks as they arrive, failing
/// (and raising `too_large`) past [`MAX_IMPORT_BYTES`].
fn body_reader(body: Body, too_large: Arc<AtomicBool>) -> impl Read + Send + 'static {
    let mut seen = 0usize;
    let chunks = body.into_data_stream().map(move |chunk| match chunk {
        Ok(bytes) => {
            seen += bytes.len();
            if seen > MAX_IMPORT_BYTES {
                too_large.store(true, Ordering::Relaxed);
                Err(io::Error::other("the body is too large"))
            } else {
                Ok(bytes)
            }
        }
        Err(e) => Err(io::Error::other(e)),
    });
    BufReader::with_capacity(64 * 1024, SyncIoBridge::new(StreamReader::new(chunks)))
}

/// Sends `body`'s values to the submission service's `ImportValues` as
/// they are parsed; answers its summary and what the set said of itself.
pub async fn import(
    user: &AuthUser,
    options: &Options,
    format: Format,
    body: Body,
) -> Result<(pb::ImportSummary, SetFields), ApiError> {
    let (tx, rx) = mpsc::channel(2);
    let first = pb::ImportValuesRequest {
        strategy: options.strategy.into(),
        dry_run: options.dry_run,
        request_id: options.request_id.clone(),
        ..Default::default()
    };
    // The channel is empty and its receiver alive: this cannot fail.
    let _ = tx.send(first).await;
    let too_large = Arc::new(AtomicBool::new(false));
    let reader = body_reader(body, too_large.clone());
    let sink = Sink {
        tx: tx.clone(),
        part: Vec::with_capacity(PART),
        closed: false,
    };
    let parsing = tokio::task::spawn_blocking(move || parse(format, reader, sink));
    let sending = async move {
        let fields = match parsing.await {
            Ok(result) => result?,
            Err(e) => return Err(Stop::Bad(anyhow::anyhow!("import parser: {e}").into())),
        };
        let last = pb::ImportValuesRequest {
            form: fields.data_set.clone().unwrap_or_default(),
            complete: fields.complete(),
            default_period: fields.period.clone().unwrap_or_default(),
            default_agency_code: fields.org_unit.clone().unwrap_or_default(),
            end: true,
            ..Default::default()
        };
        tx.send(last).await.map_err(|_| Stop::Closed)?;
        Ok(fields)
    };
    let call = async { user.reports().import_values(ReceiverStream::new(rx)).await };
    let (sent, answer) = tokio::join!(sending, call);
    match sent {
        Ok(fields) => Ok((answer?.into_inner(), fields)),
        Err(Stop::Bad(_)) if too_large.load(Ordering::Relaxed) => Err(ApiError::too_large(
            format!("an import body takes at most {MAX_IMPORT_BYTES} bytes: split the file"),
        )),
        Err(Stop::Bad(e)) => Err(e),
        Err(Stop::Closed) => Err(match answer {
            Err(status) => status.into(),
            Ok(_) => {
                anyhow::anyhow!("the submission service answered before the import ended").into()
            }
        }),
    }
}

fn parse(format: Format, reader: impl Read, mut sink: Sink) -> Result<SetFields, Stop> {
    let parsed = parse_values(format, reader, &mut |value| sink.push(value));
    let flushed = parsed.and_then(|fields| {
        sink.flush()
            .map(|()| fields)
            .map_err(|()| ApiError::new(tonic::Code::Aborted, "closed"))
    });
    match flushed {
        _ if sink.closed => Err(Stop::Closed),
        Ok(fields) => Ok(fields),
        Err(e) => Err(Stop::Bad(e)),
    }
}

/// Where parsed values go, one at a time; an `Err` stops the parse (the
/// receiver went away).
pub type Push<'a> = dyn FnMut(pb::ImportedValue) -> Result<(), ()> + 'a;

/// Parses a DHIS2 import body, handing each value to `push` as it is read,
/// and answers what the set said of itself. Pure of any I/O but `reader`,
/// so the fuzz targets (fuzz/fuzz_targets/dhis2_*.rs) run it as the
/// server does.
pub fn parse_values(
    format: Format,
    reader: impl Read,
    push: &mut Push<'_>,
) -> Result<SetFields, ApiError> {
    match format {
        Format::Csv => csv_values(reader, push).map(|()| SetFields::default()),
        Format::Json => json_set(reader, push),
    }
}

/// DHIS2 CSV, row by row: a header row is skipped; commas or semicolons
/// (Excel in a Vietnamese locale), with or without a byte-order mark.
fn csv_values(reader: impl Read, push: &mut Push<'_>) -> Result<(), ApiError> {
    let mut reader = BufReader::with_capacity(64 * 1024, reader);
    let unreadable = |e: io::Error| ApiError::field("body", format!("could not be read: {e}"));
    let start = reader.fill_buf().map_err(unreadable)?;
    let bom = start.starts_with(b"\xEF\xBB\xBF");
    let first_line = start.split(|b| *b == b'\n').next().unwrap_or_default();
    let semicolons = first_line.iter().filter(|b| **b == b';').count();
    let commas = first_line.iter().filter(|b| **b == b',').count();
    let delimiter = if semicolons > commas { b';' } else { b',' };
    if bom {
        reader.consume(3);
    }
    let mut rows = csv::ReaderBuilder::new()
        .has_headers(false)
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(reader);
    let mut record = csv::StringRecord::new();
    let mut row = 0usize;
    loop {
        row += 1;
        let more = rows.read_record(&mut record).map_err(|e| {
            let why = match e.kind() {
                csv::ErrorKind::Utf8 { .. } => "is not UTF-8".to_owned(),
                _ => e.to_string(),
            };
            ApiError::field(format!("row {row}"), why)
        })?;
        if !more {
            return Ok(());
        }
        let cell = |n: usize| record.get(n).unwrap_or_default().trim().to_owned();
        if row == 1 && cell(0).eq_ignore_ascii_case("dataelement") {
            continue;
        }
        if record.len() < 6 {
            return Err(ApiError::field(
                format!("row {row}"),
                "needs dataelement, period, orgunit, catoptcombo, attroptcombo, value",
            ));
        }
        let value = pb::ImportedValue {
            data_element: cell(0),
            period: cell(1),
            agency_code: cell(2),
            value: cell(5),
        };
        if push(value).is_err() {
            return Err(ApiError::new(tonic::Code::Aborted, "closed"));
        }
    }
}

/// One data value as DHIS2 clients send it; unknown fields (created,
/// storedBy, …) are accepted and ignored, as DHIS2 does.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct SentValue {
    data_element: String,
    #[serde(default)]
    period: Option<String>,
    #[serde(default)]
    org_unit: Option<String>,
    value: Value,
}

/// A value as the submission service takes it: `true`/`false` as yes/no.
pub fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(b) => if *b { "yes" } else { "no" }.into(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A DHIS2 JSON data value set, its `dataValues` sent on as they are read.
fn json_set(reader: impl Read, push: &mut Push<'_>) -> Result<SetFields, ApiError> {
    let mut de = serde_json::Deserializer::from_reader(reader);
    let fields = SetSeed { push }
        .deserialize(&mut de)
        .and_then(|fields| de.end().map(|()| fields))
        .map_err(|e| {
            if e.is_io() {
                ApiError::field("body", format!("could not be read: {e}"))
            } else {
                ApiError::field("body", format!("not a DHIS2 data value set: {e}"))
            }
        })?;
    Ok(fields)
}

struct SetSeed<'s, 'p> {
    push: &'s mut Push<'p>,
}

impl<'de> DeserializeSeed<'de> for SetSeed<'_, '_> {
    type Value = SetFields;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<SetFields, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for SetSeed<'_, '_> {
    type Value = SetFields;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a data value set (an object with dataValues)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SetFields, A::Error> {
        let mut fields = SetFields::default();
        let mut seen: Vec<String> = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            if seen.contains(&key) {
                return Err(de::Error::custom(format!("`{key}` is given twice")));
            }
            match key.as_str() {
                "dataSet" => fields.data_set = map.next_value()?,
                "completeDate" => fields.complete_date = map.next_value()?,
                "period" => fields.period = map.next_value()?,
                "orgUnit" => fields.org_unit = map.next_value()?,
                "dataValues" => map.next_value_seed(ValuesSeed {
                    push: &mut *self.push,
                })?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            seen.push(key);
        }
        Ok(fields)
    }
}

struct ValuesSeed<'s, 'p> {
    push: &'s mut Push<'p>,
}

impl<'de> DeserializeSeed<'de> for ValuesSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ValuesSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of data values")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(v) = seq.next_element::<SentValue>()? {
            let value = pb::ImportedValue {
                value: value_text(&v.value),
                data_element: v.data_element,
                period: v.period.unwrap_or_default(),
                agency_code: v.org_unit.unwrap_or_default(),
            };
            (self.push)(value).map_err(|()| de::Error::custom("the import was cut short"))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(format: Format, body: &str) -> (Result<SetFields, ApiError>, Vec<pb::ImportedValue>) {
        let mut values = Vec::new();
        let result = parse_values(format, body.as_bytes(), &mut |v| {
            values.push(v);
            Ok(())
        });
        (result, values)
    }

    #[test]
    fn csv_with_a_bom_and_semicolons_as_excel_writes_it() {
        let body = "\u{feff}dataelement;period;orgunit;catoptcombo;attroptcombo;value\ncomputers;2025;000.00.01.H51;;;12\nhas_lan;2025;000.00.01.H51;;;true\n";
        let (result, values) = parsed(Format::Csv, body);
        result.unwrap();
        assert_eq!(values.len(), 2);
        assert_eq!(values[0].data_element, "computers");
        assert_eq!(values[0].agency_code, "000.00.01.H51");
        assert_eq!(values[0].value, "12");
        assert_eq!(values[1].value, "true");
    }

    #[test]
    fn a_short_csv_row_is_named_by_its_number() {
        let body = "computers,2025,000.00.01.H51,,,12\ncomputers,2025\n";
        let (result, _) = parsed(Format::Csv, body);
        assert_eq!(result.unwrap_err().field_names(), ["row 2"]);
    }

    #[test]
    fn a_json_set_names_its_fields_after_its_values() {
        let body = r#"{"dataValues":[{"dataElement":"computers","value":12},{"dataElement":"has_lan","value":true,"orgUnit":"000.00.02.H51"}],"period":"2025","orgUnit":"000.00.01.H51","dataSet":"it_application_yearly","completeDate":"2025-12-20","attributeOptionCombo":"default"}"#;
        let (result, values) = parsed(Format::Json, body);
        let fields = result.unwrap();
        assert_eq!(fields.data_set.as_deref(), Some("it_application_yearly"));
        assert_eq!(fields.period.as_deref(), Some("2025"));
        assert!(fields.complete());
        assert_eq!(values.len(), 2);
        assert_eq!(values[0].value, "12");
        assert_eq!(values[0].agency_code, "");
        assert_eq!(values[1].value, "yes");
        assert_eq!(values[1].agency_code, "000.00.02.H51");
    }

    #[test]
    fn json_with_trailing_data_or_a_key_twice_is_refused() {
        for body in [
            r#"{"dataValues":[]} x"#,
            r#"{"dataValues":[],"dataValues":[]}"#,
            r#"{"dataValues":[{"value":1}]}"#,
        ] {
            let (result, _) = parsed(Format::Json, body);
            let err = result.unwrap_err();
            assert_eq!(err.field_names(), ["body"], "{body}");
        }
    }

    #[test]
    fn values_go_on_in_parts() {
        let mut body = String::from("dataelement,period,orgunit,coc,aoc,value\n");
        for i in 0..(PART * 2 + 7) {
            body.push_str(&format!("computers,2025,000.00.{:02}.H51,,,{i}\n", i % 100));
        }
        let (tx, mut rx) = mpsc::channel(100);
        let mut sink = Sink {
            tx,
            part: Vec::new(),
            closed: false,
        };
        csv_values(body.as_bytes(), &mut |v| sink.push(v)).unwrap();
        sink.flush().unwrap();
        let sizes: Vec<usize> = std::iter::from_fn(|| rx.try_recv().ok())
            .map(|p| p.values.len())
            .collect();
        assert_eq!(sizes, [PART, PART, 7]);
    }
}
