//! Officers' and integrators' reading: `chiso agencies list|show|import`,
//! `chiso aggregates`, `chiso completeness`, `chiso rankings`.

use std::path::PathBuf;

use serde_json::Value;

use super::{
    Ctx,
    error::{CliError, CliResult},
    forms::name,
    http::{Body, Call},
    output::{self, Output, Table, field},
};

/// `chiso agencies …`.
#[derive(Debug, clap::Subcommand)]
pub enum AgenciesCommand {
    /// Agencies in Vietnamese order, as of a date.
    #[command(after_help = "\
Examples:
  chiso agencies list --province 44
  chiso agencies list --province 44 --kind district_committee
  chiso agencies list --q \"binh son\" -o json")]
    List(ListArgs),
    /// One agency.
    #[command(after_help = "Example:\n  chiso agencies show 000.00.15.H51 --as-of 2025-06-30")]
    Show {
        code: String,
        /// `YYYY-MM-DD`: the agency as it stood that day.
        #[arg(long)]
        as_of: Option<String>,
    },
    /// Imports agencies from a CSV file (header `code,name,kind`, …).
    #[command(after_help = "\
All or nothing; each bad cell named by its spreadsheet line.

Examples:
  chiso agencies import co-quan.csv --dry-run
  chiso agencies import co-quan.csv")]
    Import {
        file: PathBuf,
        /// Checks everything and stores nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

/// Filters of `chiso agencies list`.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Province administrative-unit code, e.g. `44`.
    #[arg(long)]
    pub province: Option<String>,
    /// Direct children of this agency.
    #[arg(long)]
    pub parent: Option<String>,
    /// `provincial_committee`, `department`, `district_committee`, `commune_committee`, …
    #[arg(long)]
    pub kind: Option<String>,
    /// `province`, `district` or `commune`.
    #[arg(long)]
    pub level: Option<String>,
    /// Search in names, with or without diacritics (`binh son`).
    #[arg(long)]
    pub q: Option<String>,
    /// `YYYY-MM-DD` (today by default).
    #[arg(long)]
    pub as_of: Option<String>,
}

/// Options of `chiso aggregates`.
#[derive(Debug, clap::Args)]
#[command(group = clap::ArgGroup::new("what").required(true).multiple(false))]
pub struct AggregatesArgs {
    /// Indicator code, e.g. `electronic_document_rate`.
    #[arg(long, group = "what")]
    pub indicator: Option<String>,
    /// Data element code, e.g. `documents_sent`.
    #[arg(long, group = "what")]
    pub data_element: Option<String>,
    /// Period code, e.g. `2025`, `2026Q3`.
    #[arg(long)]
    pub period: String,
    /// Administrative-unit code (`44`, `450`); the whole country by default.
    #[arg(long, conflicts_with = "agency")]
    pub area: Option<String>,
    /// One agency instead of an area.
    #[arg(long)]
    pub agency: Option<String>,
    /// Agencies of one kind or level inside the area.
    #[arg(long)]
    pub group: Option<String>,
    /// One row per child area or per agency.
    #[arg(long, value_parser = ["child_areas", "agencies"])]
    pub breakdown: Option<String>,
    /// Count merged agencies under their successor.
    #[arg(long)]
    pub comparable: bool,
}

/// Options of `chiso completeness`.
#[derive(Debug, clap::Args)]
pub struct CompletenessArgs {
    #[arg(long)]
    pub form: String,
    #[arg(long)]
    pub period: String,
    /// Administrative-unit code (`44`).
    #[arg(long)]
    pub area: Option<String>,
    #[arg(long)]
    pub group: Option<String>,
}

/// Options of `chiso rankings`.
#[derive(Debug, clap::Args)]
#[command(group = clap::ArgGroup::new("ranking").requires_all(["area", "period"]))]
pub struct RankingsArgs {
    /// A ranking method's code; without it, the methods are listed.
    #[arg(group = "ranking")]
    pub code: Option<String>,
    /// The province whose agencies compete (`44`), or `VN`.
    #[arg(long)]
    pub area: Option<String>,
    #[arg(long)]
    pub period: Option<String>,
}

pub async fn agencies(command: AgenciesCommand, ctx: &Ctx) -> CliResult {
    let api = ctx.api()?;
    let l = ctx.lang;
    match command {
        AgenciesCommand::List(args) => {
            let list = api
                .all_pages(
                    Call::get("/api/v1/agencies")
                        .query("province", args.province.as_deref())
                        .query("parent", args.parent.as_deref())
                        .query("kind", args.kind.as_deref())
                        .query("level", args.level.as_deref())
                        .query("q", args.q.as_deref())
                        .query("as_of", args.as_of.as_deref())
                        .query("page_size", Some(1000)),
                )
                .await?;
            let table = agency_table(&list, ctx);
            output::print(ctx.output, &table, &Value::Array(list))
        }
        AgenciesCommand::Show { code, as_of } => {
            let agency = api
                .json(Call::get(format!("/api/v1/agencies/{code}")).query("as_of", as_of))
                .await?;
            let table = agency_table(std::slice::from_ref(&agency), ctx);
            output::print(ctx.output, &table, &agency)
        }
        AgenciesCommand::Import { file, dry_run } => {
            if !file.exists() {
                return Err(CliError::usage(format!("cannot read {}", file.display())));
            }
            let answer = api
                .json(
                    Call::post("/api/v1/agencies/import")
                        .query("dry_run", dry_run.then_some(true))
                        .body(Body::File {
                            content_type: "text/csv",
                            path: file,
                        }),
                )
                .await?;
            if ctx.output == Output::Json {
                println!("{}", output::pretty(&answer));
                return Ok(());
            }
            let created = answer["created"].as_array().cloned().unwrap_or_default();
            println!(
                "{}{} {}",
                if answer["committed"] == Value::Bool(true) {
                    ""
                } else {
                    l.pick("dry run, nothing stored: ", "chạy thử, chưa lưu gì: ")
                },
                created.len(),
                l.pick("agencies created", "cơ quan được tạo"),
            );
            if !created.is_empty() {
                println!("{}", agency_table(&created, ctx).to_text());
            }
            Ok(())
        }
    }
}

fn agency_table(list: &[Value], ctx: &Ctx) -> Table {
    let l = ctx.lang;
    let mut table = Table::new(&[
        l.pick("code", "mã"),
        l.pick("name", "tên"),
        l.pick("kind", "loại"),
        l.pick("level", "cấp"),
        l.pick("parent", "cơ quan cấp trên"),
        l.pick("province", "tỉnh"),
        l.pick("from", "từ ngày"),
        l.pick("to", "đến ngày"),
    ]);
    for a in list {
        table.row(vec![
            field(a, "code"),
            // Agencies' names are official Vietnamese names.
            field(a, "name"),
            field(a, "kind"),
            field(a, "level"),
            field(a, "parent_code"),
            field(a, "province_code"),
            field(a, "valid_from"),
            field(a, "valid_to"),
        ]);
    }
    table
}

pub async fn aggregates(args: AggregatesArgs, ctx: &Ctx) -> CliResult {
    let api = ctx.api()?;
    let l = ctx.lang;
    let path = if args.breakdown.is_some() {
        "/api/v1/aggregates/breakdown"
    } else {
        "/api/v1/aggregates"
    };
    let answer = api
        .json(
            Call::get(path)
                .query("indicator", args.indicator.as_deref())
                .query("data_element", args.data_element.as_deref())
                .query("period", Some(&args.period))
                .query("area", args.area.as_deref())
                .query("agency", args.agency.as_deref())
                .query("group", args.group.as_deref())
                .query("breakdown", args.breakdown.as_deref())
                .query("comparable", args.comparable.then_some(true)),
        )
        .await?;
    let rows: Vec<Value> = match answer["rows"].as_array() {
        Some(rows) => rows
            .iter()
            .cloned()
            .chain(std::iter::once(answer["total"].clone()))
            .collect(),
        None => vec![answer.clone()],
    };
    let mut table = Table::new(&[
        l.pick("area", "địa bàn"),
        l.pick("name", "tên"),
        l.pick("period", "kỳ"),
        l.pick("value", "giá trị"),
        l.pick("unit", "đơn vị"),
        l.pick("numerator", "tử số"),
        l.pick("denominator", "mẫu số"),
        l.pick("reporting", "đã báo cáo"),
        l.pick("expected", "phải báo cáo"),
    ]);
    for r in &rows {
        let place = if r["agency"].is_null() {
            field(r, "area")
        } else {
            field(r, "agency")
        };
        table.row(vec![
            place,
            field(r, "name"),
            field(r, "period"),
            if r["error"].is_null() {
                field(r, "value_text")
            } else {
                field(r, "error")
            },
            field(r, "unit"),
            field(r, "numerator_exact"),
            field(r, "denominator_exact"),
            field(r, "agencies_reporting"),
            field(r, "agencies_expected"),
        ]);
    }
    output::print(ctx.output, &table, &answer)
}

pub async fn completeness(args: CompletenessArgs, ctx: &Ctx) -> CliResult {
    let api = ctx.api()?;
    let l = ctx.lang;
    let answer = api
        .json(
            Call::get("/api/v1/completeness")
                .query("form", Some(&args.form))
                .query("period", Some(&args.period))
                .query("area", args.area.as_deref())
                .query("group", args.group.as_deref()),
        )
        .await?;
    let mut table = Table::new(&[
        l.pick("agency", "cơ quan"),
        l.pick("name", "tên"),
        l.pick("status", "tình trạng"),
    ]);
    for (key, status) in [
        ("missing", l.pick("missing", "chưa nộp")),
        ("late_agencies", l.pick("late", "nộp trễ")),
        ("returned", l.pick("returned", "bị trả lại")),
    ] {
        for a in answer[key].as_array().into_iter().flatten() {
            table.row(vec![field(a, "code"), field(a, "name"), status.to_owned()]);
        }
    }
    if ctx.output == Output::Table {
        let rate = |key: &str| {
            answer[key]
                .as_f64()
                .map_or_else(String::new, |r| format!("{r:.1} %"))
        };
        println!(
            "{} {} {} {}: {} {}, {} {} ({}), {} {} ({}), {} {}, {} {}",
            field(&answer, "form"),
            field(&answer, "period"),
            l.pick("in", "tại"),
            field(&answer, "area"),
            field(&answer, "expected"),
            l.pick("expected", "phải nộp"),
            field(&answer, "received"),
            l.pick("received", "đã nộp"),
            rate("reporting_rate"),
            field(&answer, "on_time"),
            l.pick("on time", "đúng hạn"),
            rate("on_time_rate"),
            field(&answer, "late"),
            l.pick("late", "trễ"),
            field(&answer, "missing_count"),
            l.pick("missing", "chưa nộp"),
        );
    }
    output::print(ctx.output, &table, &answer)
}

pub async fn rankings(args: RankingsArgs, ctx: &Ctx) -> CliResult {
    let api = ctx.api()?;
    let l = ctx.lang;
    let Some(code) = args.code else {
        let list = api.json(Call::get("/api/v1/rankings")).await?;
        let mut table = Table::new(&[
            l.pick("ranking", "bảng xếp hạng"),
            l.pick("group", "nhóm"),
            l.pick("version", "phiên bản"),
            l.pick("name", "tên"),
        ]);
        for r in list.as_array().into_iter().flatten() {
            table.row(vec![
                field(r, "code"),
                field(r, "group"),
                field(r, "version"),
                name(r, l),
            ]);
        }
        return output::print(ctx.output, &table, &list);
    };
    let answer = api
        .json(
            Call::get(format!("/api/v1/rankings/{code}"))
                .query("area", args.area.as_deref())
                .query("period", args.period.as_deref()),
        )
        .await?;
    let sub_codes: Vec<String> = answer["agencies"]
        .as_array()
        .and_then(|a| a.first())
        .and_then(|a| a["sub_indexes"].as_array())
        .into_iter()
        .flatten()
        .map(|s| field(s, "code"))
        .collect();
    let mut headers = vec![
        l.pick("rank", "hạng").to_owned(),
        l.pick("agency", "cơ quan").to_owned(),
        l.pick("name", "tên").to_owned(),
        l.pick("score", "điểm").to_owned(),
    ];
    headers.extend(sub_codes.iter().cloned());
    let mut table = Table {
        headers,
        rows: Vec::new(),
    };
    let score = |s: &Value| {
        s["value"]
            .as_f64()
            .map_or_else(String::new, |v| format!("{v:.4}"))
    };
    for a in answer["agencies"].as_array().into_iter().flatten() {
        let mut row = vec![
            field(a, "rank"),
            field(a, "agency"),
            field(a, "name"),
            score(&a["total"]),
        ];
        for code in &sub_codes {
            row.push(
                a["sub_indexes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|s| field(s, "code") == *code)
                    .map(|s| score(&s["score"]))
                    .unwrap_or_default(),
            );
        }
        table.row(row);
    }
    output::print(ctx.output, &table, &answer)
}
