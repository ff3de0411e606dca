//! `chiso report template|submit|status|show|history|verify`.

use std::{io::IsTerminal, path::PathBuf};

use serde_json::{Value, json};

use super::{
    Ctx,
    error::{CliError, CliResult},
    forms::{elements_by_code, name},
    http::{Api, Body, Call},
    keys::{self, agency_of},
    output::{self, Output, Table, field},
    report_file::{self, Kind},
};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// `chiso report …`.
#[derive(Debug, clap::Subcommand)]
pub enum ReportCommand {
    /// Writes a report to fill in: JSON (default), CSV or the XLSX template,
    /// with the values already saved.
    #[command(after_help = "\
Examples:
  chiso report template it_fast_quarterly 2026Q4 > bao-cao.json
  chiso report template it_fast_quarterly 2026Q4 --csv --out bao-cao.csv
  chiso report template it_application_yearly 2025 --xlsx --out bao-cao-2025.xlsx")]
    Template(TemplateArgs),
    /// Submits a report from a JSON, CSV or filled-in XLSX file.
    #[command(after_help = "\
A network failure is retried with the same Idempotency-Key: a report is
never stored twice.

Examples:
  chiso report submit bao-cao.json
  chiso report submit bao-cao-2025.xlsx --sign      # forms that need the agency's signature
  chiso report submit bao-cao.csv --draft            # save without submitting")]
    Submit(SubmitArgs),
    /// The agency's reports: form, period, version, status, lateness.
    #[command(after_help = "\
Examples:
  chiso report status
  chiso report status --form it_fast_quarterly --status returned
  chiso report status --period 2025 -o csv")]
    Status(StatusArgs),
    /// One report with its values: by id, or by FORM PERIOD.
    #[command(after_help = "\
Examples:
  chiso report show it_fast_quarterly 2026Q4
  chiso report show 01a2046a-e222-7509-a9ba-003445b1e3c4 --version 1 -o json")]
    Show(ShowArgs),
    /// Every version of a report.
    #[command(after_help = "Example:\n  chiso report history it_application_yearly 2025")]
    History(ReportRef),
    /// Checks a report's stored signature here, against the registered key.
    #[command(after_help = "Example:\n  chiso report verify it_application_yearly 2025")]
    Verify(ShowArgs),
}

/// Options of `chiso report template`.
#[derive(Debug, clap::Args)]
#[command(group = clap::ArgGroup::new("format").multiple(false))]
pub struct TemplateArgs {
    /// Form code, e.g. `it_fast_quarterly`.
    pub form: String,
    /// Period code, e.g. `2026Q4`, `2025`, `202611`.
    pub period: String,
    /// The agency (the profile's own by default).
    #[arg(long)]
    pub agency: Option<String>,
    /// JSON, as `report submit` reads it (the default).
    #[arg(long, group = "format")]
    pub json: bool,
    /// CSV: one row per data element.
    #[arg(long, group = "format")]
    pub csv: bool,
    /// The server's Excel template (needs --out).
    #[arg(long, group = "format")]
    pub xlsx: bool,
    /// Where to write (standard output by default).
    #[arg(long, short = 'f')]
    pub out: Option<PathBuf>,
}

/// Options of `chiso report submit`.
#[derive(Debug, clap::Args)]
pub struct SubmitArgs {
    /// A .json, .csv or .xlsx report file.
    pub file: PathBuf,
    /// Signs the report with the profile's key (`chiso keys generate`, `register`).
    #[arg(long)]
    pub sign: bool,
    /// Saves a draft instead of submitting.
    #[arg(long, conflicts_with = "sign")]
    pub draft: bool,
    /// The agency (the file's, or the profile's own, by default).
    #[arg(long)]
    pub agency: Option<String>,
    /// For officers entering a paper report: the day it was received.
    #[arg(long)]
    pub received_on: Option<String>,
}

/// Options of `chiso report status`.
#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    #[arg(long)]
    pub form: Option<String>,
    #[arg(long)]
    pub period: Option<String>,
    /// `draft`, `submitted`, `accepted` or `returned`.
    #[arg(long)]
    pub status: Option<String>,
    /// The agency (the profile's own by default; officers see their province).
    #[arg(long)]
    pub agency: Option<String>,
}

/// A report by id, or by form and period (and agency).
#[derive(Debug, Clone, clap::Args)]
pub struct ReportRef {
    /// A report id, or a form code followed by a period.
    pub report: String,
    /// The period, when REPORT is a form code.
    pub period: Option<String>,
    /// The agency, with a form and period (the profile's own by default).
    #[arg(long)]
    pub agency: Option<String>,
}

/// Options of `chiso report show` and `verify`.
#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    #[command(flatten)]
    pub report: ReportRef,
    /// A past version (the current one by default).
    #[arg(long)]
    pub version: Option<u32>,
}

pub async fn report(command: ReportCommand, ctx: &Ctx) -> CliResult {
    let api = ctx.api()?;
    match command {
        ReportCommand::Template(args) => template(args, &api, ctx).await,
        ReportCommand::Submit(args) => submit(args, &api, ctx).await,
        ReportCommand::Status(args) => status(args, &api, ctx).await,
        ReportCommand::Show(args) => show(args, &api, ctx).await,
        ReportCommand::History(args) => history(args, &api, ctx).await,
        ReportCommand::Verify(args) => {
            let report = fetch(&api, &args.report, args.version).await?;
            let checked = keys::verify_report(&api, &report).await?;
            match ctx.output {
                Output::Json => println!("{}", output::pretty(&checked)),
                _ => println!(
                    "{} {} {} {}, {} {} ({} {})",
                    ctx.lang.pick("signature of", "chữ ký của"),
                    field(&report, "id"),
                    ctx.lang.pick("version", "phiên bản"),
                    field(&report, "version"),
                    ctx.lang.pick("verifies with key", "hợp lệ với khoá"),
                    field(&checked, "key_id"),
                    ctx.lang.pick("signed at", "ký lúc"),
                    field(&checked, "signed_at"),
                ),
            }
            Ok(())
        }
    }
}

/// The report, current or a version; `None` when there is none yet.
async fn by_key(api: &Api, form: &str, period: &str, agency: &str) -> CliResult<Option<Value>> {
    match api
        .json(Call::get(format!(
            "/api/v1/reports/by-key/{form}/{period}/{agency}"
        )))
        .await
    {
        Ok(report) => Ok(Some(report)),
        Err(CliError::Refused { status: 404, .. }) => Ok(None),
        Err(err) => Err(err),
    }
}

/// A report by id or key.
async fn fetch(api: &Api, target: &ReportRef, version: Option<u32>) -> CliResult<Value> {
    let path = match &target.period {
        Some(period) => {
            let agency = agency_of(api, target.agency.clone())?;
            format!("/api/v1/reports/by-key/{}/{period}/{agency}", target.report)
        }
        None => format!("/api/v1/reports/{}", target.report),
    };
    api.json(Call::get(path).query("version", version)).await
}

async fn template(args: TemplateArgs, api: &Api, ctx: &Ctx) -> CliResult {
    let agency = agency_of(api, args.agency)?;
    let (form_code, period) = (&args.form, &args.period);
    if args.xlsx {
        let Some(out) = &args.out else {
            if std::io::stdout().is_terminal() {
                return Err(CliError::usage(
                    "--xlsx writes a file: give --out FILE.xlsx",
                ));
            }
            let bytes = xlsx_template(api, form_code, period, &agency).await?;
            use std::io::Write;
            std::io::stdout()
                .write_all(&bytes)
                .map_err(anyhow::Error::from)?;
            return Ok(());
        };
        let bytes = xlsx_template(api, form_code, period, &agency).await?;
        std::fs::write(out, bytes)
            .map_err(|e| CliError::usage(format!("cannot write {}: {e}", out.display())))?;
        eprintln!("{} {}", ctx.lang.pick("wrote", "đã ghi"), out.display());
        return Ok(());
    }
    let form = api
        .json(Call::get(format!("/api/v1/forms/{form_code}")))
        .await?;
    let elements = elements_by_code(api).await?;
    let current = by_key(api, form_code, period, &agency).await?;
    let saved = |code: &str| -> String {
        current
            .as_ref()
            .and_then(|r| r["values"].as_array())
            .into_iter()
            .flatten()
            .find(|v| field(v, "data_element") == code)
            .map(|v| field(v, "value"))
            .unwrap_or_default()
    };
    let mut rows = Vec::new();
    for section in form["sections"].as_array().into_iter().flatten() {
        for item in section["elements"].as_array().into_iter().flatten() {
            let code = field(item, "data_element");
            let element = elements.get(&code).cloned().unwrap_or_default();
            rows.push(json!({
                "data_element": code,
                "name": name(&element, ctx.lang),
                "type": element["value_type"],
                "unit": element["unit"],
                "compulsory": item["compulsory"],
                "value": saved(&code),
            }));
        }
    }
    let text = if args.csv {
        let mut table = Table::new(&[
            "form",
            "period",
            "agency_code",
            "data_element",
            "name",
            "type",
            "unit",
            "compulsory",
            "value",
        ]);
        for row in &rows {
            table.row(vec![
                form_code.clone(),
                period.clone(),
                agency.clone(),
                field(row, "data_element"),
                field(row, "name"),
                field(row, "type"),
                field(row, "unit"),
                field(row, "compulsory"),
                field(row, "value"),
            ]);
        }
        table.to_csv()?
    } else {
        let doc = json!({
            "form": form_code,
            "period": period,
            "agency_code": agency,
            "values": rows,
        });
        format!("{}\n", output::pretty(&doc))
    };
    match &args.out {
        Some(out) => {
            std::fs::write(out, text)
                .map_err(|e| CliError::usage(format!("cannot write {}: {e}", out.display())))?;
            eprintln!("{} {}", ctx.lang.pick("wrote", "đã ghi"), out.display());
        }
        None => print!("{text}"),
    }
    Ok(())
}

async fn xlsx_template(api: &Api, form: &str, period: &str, agency: &str) -> CliResult<Vec<u8>> {
    let response = api
        .send(Call::get(format!("/api/v1/reports/{form}/{period}/{agency}/template")).accept(XLSX))
        .await?;
    Ok(response
        .bytes()
        .await
        .map_err(anyhow::Error::from)?
        .to_vec())
}

async fn submit(args: SubmitArgs, api: &Api, ctx: &Ctx) -> CliResult {
    let l = ctx.lang;
    let kind = Kind::of(&args.file)?;
    let input = report_file::read(&args.file)?;
    let agency = match args.agency.clone().or(input.agency.clone()) {
        Some(agency) => agency,
        None => agency_of(api, None)?,
    };
    let (form, period) = (&input.form, &input.period);
    let report = if kind == Kind::Xlsx && !args.sign {
        // The server reads the workbook and names any bad cell (E12).
        let bytes = std::fs::read(&args.file)
            .map_err(|e| CliError::usage(format!("cannot read {}: {e}", args.file.display())))?;
        api.json(
            Call::post(format!("/api/v1/reports/{form}/{period}/{agency}/template"))
                .query("draft", args.draft.then_some(true))
                .query("received_on", args.received_on.as_deref())
                .body(Body::Bytes {
                    content_type: XLSX,
                    bytes,
                }),
        )
        .await?
    } else if args.draft {
        api.json(
            Call::put(format!("/api/v1/reports/{form}/{period}/{agency}/draft"))
                .json(json!({ "values": values_json(&input.values) })),
        )
        .await?
    } else {
        let mut body = json!({
            "form": form,
            "period": period,
            "agency_code": agency,
            "values": values_json(&input.values),
        });
        if let Some(day) = &args.received_on {
            body["received_on"] = json!(day);
        }
        let mut etag = None;
        if args.sign {
            let key = keys::load_key(ctx)?;
            let key_id = api.profile.key_id.clone().ok_or_else(|| {
                CliError::usage(l.pick(
                    "the profile's key is not registered: chiso keys register",
                    "khoá của hồ sơ chưa được đăng ký: chiso keys register",
                ))
            })?;
            // The version the submission will be: a new report's first,
            // or the draft's own; the If-Match makes sure it still is.
            let version = match by_key(api, form, period, &agency).await? {
                None => 1,
                Some(current) if field(&current, "status") == "draft" => {
                    etag = Some(field(&current, "etag"));
                    current["version"].as_i64().unwrap_or(1) as i32
                }
                Some(current) => {
                    return Err(CliError::usage(format!(
                        "{form} {period} {agency}: {} {} ({} {}); {}",
                        l.pick("the report is", "báo cáo đang ở trạng thái"),
                        field(&current, "status"),
                        l.pick("version", "phiên bản"),
                        field(&current, "version"),
                        l.pick(
                            "a revision must be started before it is submitted again",
                            "cần mở phiên bản điều chỉnh trước khi nộp lại"
                        ),
                    )));
                }
            };
            let catalogue = keys::catalogue(api).await?;
            let typed = keys::typed_values(&catalogue, &input.values)?;
            let report_key = keys::report_key(form, period, &agency)?;
            body["signature"] = json!({
                "key_id": key_id,
                "signature": keys::sign(&key, &report_key, version, &typed),
            });
        }
        api.json(Call::post("/api/v1/reports").if_match(etag).json(body))
            .await?
    };
    match ctx.output {
        Output::Json => println!("{}", output::pretty(&report)),
        _ => print_summary(&report, ctx),
    }
    Ok(())
}

fn values_json(values: &[(String, String)]) -> Value {
    values
        .iter()
        .map(|(code, value)| json!({"data_element": code, "value": value}))
        .collect()
}

/// What a write left: one line for people.
fn print_summary(report: &Value, ctx: &Ctx) {
    let l = ctx.lang;
    println!(
        "{} {} {} {}: {} {}, {}",
        field(report, "form"),
        field(report, "period"),
        l.pick("of", "của"),
        field(report, "agency_code"),
        l.pick("version", "phiên bản"),
        field(report, "version"),
        field(report, "status"),
    );
    println!("  id:        {}", field(report, "id"));
    if !report["received_on"].is_null() {
        println!(
            "  {} {} ({} {}, {} {})",
            l.pick("received:", "ngày nhận:"),
            field(report, "received_on"),
            l.pick("deadline", "hạn"),
            field(report, "deadline"),
            field(report, "days_late"),
            l.pick("days late", "ngày trễ"),
        );
    }
    if !report["signature"].is_null() {
        println!(
            "  {} {} ({})",
            l.pick("signed:", "đã ký:"),
            field(&report["signature"], "key_id"),
            field(&report["signature"], "signed_at"),
        );
    }
}

async fn status(args: StatusArgs, api: &Api, ctx: &Ctx) -> CliResult {
    let l = ctx.lang;
    let agency = args.agency.or_else(|| api.profile.agency_code.clone());
    let reports = api
        .all_pages(
            Call::get("/api/v1/reports")
                .query("form", args.form.as_deref())
                .query("period", args.period.as_deref())
                .query("status", args.status.as_deref())
                .query("agency", agency.as_deref())
                .query("page_size", Some(1000)),
        )
        .await?;
    let mut table = Table::new(&[
        l.pick("form", "biểu mẫu"),
        l.pick("period", "kỳ"),
        l.pick("agency", "cơ quan"),
        l.pick("version", "phiên bản"),
        l.pick("status", "trạng thái"),
        l.pick("received", "ngày nhận"),
        l.pick("deadline", "hạn"),
        l.pick("days late", "ngày trễ"),
        l.pick("signed", "ký số"),
        "id",
    ]);
    for r in &reports {
        table.row(vec![
            field(r, "form"),
            field(r, "period"),
            field(r, "agency_code"),
            field(r, "version"),
            field(r, "status"),
            field(r, "received_on"),
            field(r, "deadline"),
            field(r, "days_late"),
            l.pick(
                if r["signature"].is_null() {
                    "no"
                } else {
                    "yes"
                },
                if r["signature"].is_null() {
                    "không"
                } else {
                    "có"
                },
            )
            .to_owned(),
            field(r, "id"),
        ]);
    }
    output::print(ctx.output, &table, &Value::Array(reports))
}

async fn show(args: ShowArgs, api: &Api, ctx: &Ctx) -> CliResult {
    let l = ctx.lang;
    let report = fetch(api, &args.report, args.version).await?;
    let elements = elements_by_code(api).await?;
    let mut table = Table::new(&[
        l.pick("data element", "chỉ tiêu"),
        l.pick("value", "giá trị"),
        l.pick("unit", "đơn vị"),
        l.pick("name", "tên"),
    ]);
    for value in report["values"].as_array().into_iter().flatten() {
        let code = field(value, "data_element");
        let element = elements.get(&code).cloned().unwrap_or_default();
        table.row(vec![
            code,
            field(value, "value"),
            field(&element, "unit"),
            name(&element, l),
        ]);
    }
    if ctx.output == Output::Table {
        print_summary(&report, ctx);
        if let Some(review) = report["review"].as_object() {
            println!(
                "  {} {} {}",
                l.pick("reviewed:", "đã xem xét:"),
                output::cell(&review.get("reviewed_by").cloned().unwrap_or_default()),
                output::cell(&review.get("comment").cloned().unwrap_or_default()),
            );
        }
        println!();
    }
    output::print(ctx.output, &table, &report)
}

async fn history(target: ReportRef, api: &Api, ctx: &Ctx) -> CliResult {
    let l = ctx.lang;
    let report = fetch(api, &target, None).await?;
    let versions = api
        .json(Call::get(format!(
            "/api/v1/reports/{}/versions",
            field(&report, "id")
        )))
        .await?;
    let mut table = Table::new(&[
        l.pick("version", "phiên bản"),
        l.pick("status", "trạng thái"),
        l.pick("submitted", "nộp lúc"),
        l.pick("by", "người nộp"),
        l.pick("received", "ngày nhận"),
        l.pick("days late", "ngày trễ"),
        l.pick("values", "số chỉ tiêu"),
        l.pick("signed with", "khoá ký"),
    ]);
    for v in versions.as_array().into_iter().flatten() {
        table.row(vec![
            field(v, "version"),
            field(v, "status"),
            field(v, "submitted_at"),
            field(v, "submitted_by"),
            field(v, "received_on"),
            field(v, "days_late"),
            v["values"].as_array().map_or(0, Vec::len).to_string(),
            field(&v["signature"], "key_id"),
        ]);
    }
    output::print(ctx.output, &table, &versions)
}
