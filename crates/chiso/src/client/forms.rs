//! `chiso forms list|show` and `chiso periods FORM`.

use std::collections::HashMap;

use serde_json::Value;

use super::{
    Ctx,
    error::CliResult,
    http::Call,
    lang::Lang,
    output::{self, Table, field},
};

pub const PERIODS_EXAMPLES: &str = "\
Examples:
  chiso periods it_fast_quarterly
  chiso periods it_application_yearly --all --from 2023-01-01
  chiso periods online_applications_monthly -o csv > periods.csv";

/// `chiso forms …`.
#[derive(Debug, clap::Subcommand)]
pub enum FormsCommand {
    /// Every report form: code, name, period type, whether it is signed.
    #[command(after_help = "Examples:\n  chiso forms list\n  chiso forms list -o json")]
    List,
    /// One form's sections and data elements.
    #[command(after_help = "Example:\n  chiso forms show it_fast_quarterly")]
    Show {
        /// Form code, e.g. `it_fast_quarterly`.
        form: String,
    },
}

/// Options of `chiso periods`.
#[derive(Debug, clap::Args)]
pub struct PeriodsArgs {
    /// Form code, e.g. `it_fast_quarterly`.
    pub form: String,
    /// Every period in the range, not only those open for entry.
    #[arg(long)]
    pub all: bool,
    /// First day (`YYYY-MM-DD`) of the range.
    #[arg(long)]
    pub from: Option<String>,
    /// Last day (`YYYY-MM-DD`) of the range.
    #[arg(long)]
    pub to: Option<String>,
    /// The agency whose status to show (the profile's own by default).
    #[arg(long)]
    pub agency: Option<String>,
}

/// The name in the reader's language, Vietnamese when there is no English.
pub fn name(value: &Value, lang: Lang) -> String {
    match lang {
        Lang::En if value["name_en"].is_string() => field(value, "name_en"),
        _ => field(value, "name"),
    }
}

pub async fn forms(command: FormsCommand, ctx: &Ctx) -> CliResult {
    let api = ctx.api()?;
    let l = ctx.lang;
    match command {
        FormsCommand::List => {
            let forms = api.json(Call::get("/api/v1/forms")).await?;
            let mut table = Table::new(&[
                l.pick("form", "biểu mẫu"),
                l.pick("period", "kỳ"),
                l.pick("signed", "ký số"),
                l.pick("accepted", "phê duyệt"),
                l.pick("name", "tên"),
            ]);
            for form in forms.as_array().into_iter().flatten() {
                table.row(vec![
                    field(form, "code"),
                    field(form, "period_type"),
                    field(form, "signature_required"),
                    field(form, "acceptance_required"),
                    name(form, l),
                ]);
            }
            output::print(ctx.output, &table, &forms)
        }
        FormsCommand::Show { form } => {
            let definition = api.json(Call::get(format!("/api/v1/forms/{form}"))).await?;
            let elements = elements_by_code(&api).await?;
            let mut table = Table::new(&[
                l.pick("section", "phần"),
                l.pick("data element", "chỉ tiêu"),
                l.pick("type", "kiểu"),
                l.pick("compulsory", "bắt buộc"),
                l.pick("name", "tên"),
            ]);
            for (i, section) in definition["sections"]
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
            {
                for item in section["elements"].as_array().into_iter().flatten() {
                    let code = field(item, "data_element");
                    let element = elements.get(&code).cloned().unwrap_or_default();
                    table.row(vec![
                        (i + 1).to_string(),
                        code,
                        field(&element, "value_type"),
                        field(item, "compulsory"),
                        name(&element, l),
                    ]);
                }
            }
            if ctx.output == output::Output::Table {
                println!("{} ({})", name(&definition, l), field(&definition, "code"));
            }
            output::print(ctx.output, &table, &definition)
        }
    }
}

/// The catalogue's data elements by code.
pub async fn elements_by_code(api: &super::http::Api) -> CliResult<HashMap<String, Value>> {
    let list = api.json(Call::get("/api/v1/data-elements")).await?;
    Ok(list
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| (field(e, "code"), e.clone()))
        .collect())
}

pub async fn periods(args: PeriodsArgs, ctx: &Ctx) -> CliResult {
    let api = ctx.api()?;
    let l = ctx.lang;
    let list = api
        .json(
            Call::get(format!("/api/v1/forms/{}/periods", args.form))
                .query("from", args.from.as_deref())
                .query("to", args.to.as_deref()),
        )
        .await?;
    let agency = args.agency.or_else(|| api.profile.agency_code.clone());
    // This agency's reports of the form, by period.
    let mut reports: HashMap<String, Value> = HashMap::new();
    if let Some(agency) = &agency {
        for report in api
            .all_pages(
                Call::get("/api/v1/reports")
                    .query("form", Some(&args.form))
                    .query("agency", Some(agency))
                    .query("page_size", Some(1000)),
            )
            .await?
        {
            reports.insert(field(&report, "period"), report);
        }
    }
    let shown: Vec<Value> = list
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| args.all || p["open"] == Value::Bool(true))
        .map(|p| {
            let mut p = p.clone();
            if let Some(report) = reports.get(&field(&p, "code")) {
                p["report"] = report.clone();
            }
            p
        })
        .collect();
    let mut table = Table::new(&[
        l.pick("period", "kỳ"),
        l.pick("from", "từ"),
        l.pick("to", "đến"),
        l.pick("deadline", "hạn nộp"),
        l.pick("locks", "khoá"),
        l.pick("open", "mở"),
        l.pick("status", "trạng thái"),
        l.pick("version", "phiên bản"),
        l.pick("days late", "số ngày trễ"),
    ]);
    for period in &shown {
        let report = &period["report"];
        let status = if agency.is_some() && report.is_null() {
            "missing".to_owned()
        } else {
            field(report, "status")
        };
        table.row(vec![
            field(period, "code"),
            field(period, "start_date"),
            field(period, "end_date"),
            field(period, "deadline"),
            field(period, "lock_date"),
            field(period, "open"),
            status,
            field(report, "version"),
            field(report, "days_late"),
        ]);
    }
    output::print(ctx.output, &table, &Value::Array(shown))
}
