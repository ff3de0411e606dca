//! What commands print: aligned tables for people, JSON or CSV for
//! scripts, and progress on a terminal only.

use std::io::Write;

use serde_json::Value;

use super::error::CliResult;

/// How a list-like command prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    /// Columns aligned by display width, for reading.
    Table,
    /// The server's JSON, pretty-printed.
    Json,
    /// The table's columns as CSV (RFC 4180, UTF-8), for spreadsheets.
    Csv,
}

/// Rows under headers, and the JSON they came from.
#[derive(Debug, Clone)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(headers: &[&str]) -> Self {
        Self {
            headers: headers.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// Columns aligned by Unicode display width: a Vietnamese name with
    /// combining marks is as wide as the letters it shows.
    pub fn to_text(&self) -> String {
        let mut table = comfy_table::Table::new();
        // kubectl-like: a rule under the header, nothing else.
        table
            .load_style(
                comfy_table::TableStyle::new()
                    .header_separator(comfy_table::LineStyle::none().fill('─').junction(' ')),
            )
            .set_header(self.headers.clone());
        for row in &self.rows {
            table.add_row(row.clone());
        }
        table
            .lines()
            .map(|line| line.trim_end().to_owned())
            .collect::<Vec<_>>()
            .join("\n")
    }

    pub fn to_csv(&self) -> CliResult<String> {
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer
            .write_record(&self.headers)
            .map_err(anyhow::Error::from)?;
        for row in &self.rows {
            writer.write_record(row).map_err(anyhow::Error::from)?;
        }
        let bytes = writer.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(String::from_utf8(bytes).map_err(anyhow::Error::from)?)
    }
}

/// Prints `table` as asked, or `json` (what the server said) for JSON.
pub fn print(output: Output, table: &Table, json: &Value) -> CliResult<()> {
    let text = match output {
        Output::Table => format!("{}\n", table.to_text()),
        Output::Csv => table.to_csv()?,
        Output::Json => format!("{}\n", pretty(json)),
    };
    let mut out = std::io::stdout().lock();
    // A closed pipe (`| head`) is not an error worth a message.
    let _ = out.write_all(text.as_bytes());
    Ok(())
}

pub fn pretty(json: &Value) -> String {
    serde_json::to_string_pretty(json).unwrap_or_else(|_| json.to_string())
}

/// A JSON field as table text: strings bare, null empty.
pub fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(true) => "yes".into(),
        Value::Bool(false) => "no".into(),
        other => other.to_string(),
    }
}

/// `value[key]` as table text.
pub fn field(value: &Value, key: &str) -> String {
    cell(&value[key])
}

/// Progress of a transfer: a bar on a terminal, a plain line at each
/// quarter otherwise (so logs of scripted runs stay readable).
pub enum Progress {
    Bar(indicatif::ProgressBar),
    Lines {
        label: String,
        total: u64,
        done: std::sync::atomic::AtomicU64,
    },
}

impl Progress {
    pub fn new(total: u64, label: &str) -> Self {
        if super::http::stderr_is_terminal() {
            let bar = if total > 0 {
                indicatif::ProgressBar::new(total)
            } else {
                indicatif::ProgressBar::no_length()
            };
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar.set_message(label.to_owned());
            Self::Bar(bar)
        } else {
            eprintln!("{label}: 0 / {total} bytes");
            Self::Lines {
                label: label.to_owned(),
                total,
                done: 0.into(),
            }
        }
    }

    pub fn advance(&self, n: u64) {
        match self {
            Self::Bar(bar) => bar.inc(n),
            Self::Lines { label, total, done } => {
                use std::sync::atomic::Ordering;
                let before = done.fetch_add(n, Ordering::Relaxed);
                let after = before + n;
                if *total > 0 {
                    let quarter = |x: u64| x.saturating_mul(4) / total;
                    if quarter(after) > quarter(before) && after < *total {
                        eprintln!("{label}: {after} / {total} bytes");
                    }
                }
            }
        }
    }

    pub fn finish(&self) {
        match self {
            Self::Bar(bar) => bar.finish_and_clear(),
            Self::Lines { label, done, .. } => {
                let done = done.load(std::sync::atomic::Ordering::Relaxed);
                eprintln!("{label}: {done} bytes, done");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Display width of a line, counting what a terminal shows.
    fn width(line: &str) -> usize {
        line.chars()
            .filter(|c| !('\u{0300}'..='\u{036f}').contains(c))
            .count()
    }

    #[test]
    fn vietnamese_columns_align_by_display_width() {
        let mut table = Table::new(&["code", "name", "n"]);
        // Precomposed (NFC) and decomposed (NFD, combining marks) names.
        table.row(vec![
            "000.00.15.H51".into(),
            "Sở Thông tin và Truyền thông".into(),
            "1".into(),
        ]);
        table.row(vec![
            "000.00.24.H51".into(),
            "UBND huye\u{0302}\u{0323}n Bi\u{0300}nh So\u{031b}n".into(),
            "22".into(),
        ]);
        table.row(vec!["x".into(), "Ban Dân tộc".into(), "333".into()]);
        let text = table.to_text();
        let lines: Vec<&str> = text.lines().collect();
        // Every row's last column starts at the same display column.
        let starts: Vec<usize> = lines
            .iter()
            .filter(|l| !l.starts_with('═') && !l.starts_with('─'))
            .map(|l| {
                let cut = l.rfind(' ').unwrap();
                width(&l[..cut])
            })
            .collect();
        assert!(
            starts.windows(2).all(|w| w[0] == w[1]),
            "{text}\n{starts:?}"
        );
        assert!(text.contains("Sở Thông tin và Truyền thông"));
    }

    #[test]
    fn csv_quotes_what_needs_it() {
        let mut table = Table::new(&["code", "name"]);
        table.row(vec!["a".into(), "Tỉnh Bình Định, \"H52\"".into()]);
        assert_eq!(
            table.to_csv().unwrap(),
            "code,name\na,\"Tỉnh Bình Định, \"\"H52\"\"\"\n"
        );
    }

    #[test]
    fn cells() {
        assert_eq!(cell(&Value::Null), "");
        assert_eq!(cell(&serde_json::json!("x")), "x");
        assert_eq!(cell(&serde_json::json!(76.0)), "76.0");
        assert_eq!(cell(&serde_json::json!(true)), "yes");
    }
}
