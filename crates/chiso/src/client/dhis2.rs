//! `chiso import dhis2` and `chiso export dhis2`: DHIS2 data value sets
//! through the gateway's DHIS2 paths (docs/EXCHANGE.md), streamed both
//! ways with progress on a terminal.

use std::{io::Write, path::PathBuf};

use super::{
    Ctx,
    error::{CliError, CliResult},
    http::{Api, Body, Call},
    output::{self, Output, Progress, field},
};

/// `chiso import …`.
#[derive(Debug, clap::Subcommand)]
pub enum ImportCommand {
    /// Imports a DHIS2 data value set (JSON or CSV) into reports.
    #[command(after_help = "\
All or nothing: one conflict and nothing is stored (exit 1, each conflict
listed). A network failure is retried with the same Idempotency-Key.

Examples:
  chiso import dhis2 gia-tri-2026Q4.json --dry-run
  chiso import dhis2 gia-tri-2026Q4.json
  chiso import dhis2 gia-tri.csv --strategy update")]
    Dhis2(ImportArgs),
}

/// Options of `chiso import dhis2`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// A `.json` data value set or a DHIS2 `.csv` file.
    pub file: PathBuf,
    /// Checks everything and stores nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// DHIS2's import strategy.
    #[arg(long, value_enum)]
    pub strategy: Option<Strategy>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Strategy {
    Create,
    Update,
    CreateAndUpdate,
    Delete,
}

impl Strategy {
    fn as_dhis2(self) -> &'static str {
        match self {
            Self::Create => "CREATE",
            Self::Update => "UPDATE",
            Self::CreateAndUpdate => "CREATE_AND_UPDATE",
            Self::Delete => "DELETE",
        }
    }
}

/// `chiso export …`.
#[derive(Debug, clap::Subcommand)]
pub enum ExportCommand {
    /// Exports reports' current values as a DHIS2 data value set.
    #[command(after_help = "\
Examples:
  chiso export dhis2 --form it_fast_quarterly --period 2026Q4 --area 44 --out q4.json
  chiso export dhis2 --form it_application_yearly --period 2025 --area 000.00.15.H51 --csv > so-tttt.csv")]
    Dhis2(ExportArgs),
}

/// Options of `chiso export dhis2`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// Form code (the DHIS2 data set).
    #[arg(long)]
    pub form: String,
    /// Period code.
    #[arg(long)]
    pub period: String,
    /// An agency code, or a province's administrative-unit code (`44`)
    /// for its People's Committee; the agencies under it are included.
    #[arg(long)]
    pub area: String,
    /// Only the agency itself, not those under it.
    #[arg(long)]
    pub no_children: bool,
    /// DHIS2 CSV instead of JSON.
    #[arg(long)]
    pub csv: bool,
    /// Where to write (standard output by default).
    #[arg(long, short = 'f')]
    pub out: Option<PathBuf>,
}

pub async fn import(command: ImportCommand, ctx: &Ctx) -> CliResult {
    let ImportCommand::Dhis2(args) = command;
    let api = ctx.api()?;
    let l = ctx.lang;
    let csv = match args.file.extension().and_then(|e| e.to_str()) {
        Some(ext) if ext.eq_ignore_ascii_case("csv") => true,
        Some(ext) if ext.eq_ignore_ascii_case("json") => false,
        _ => {
            return Err(CliError::usage(format!(
                "{}: a data value set ends in .json or .csv",
                args.file.display()
            )));
        }
    };
    let call = Call::post(if csv {
        "/api/dataValueSets.csv"
    } else {
        "/api/dataValueSets"
    })
    .query("dryRun", args.dry_run.then_some(true))
    .query("importStrategy", args.strategy.map(Strategy::as_dhis2))
    .body(Body::File {
        content_type: if csv { "text/csv" } else { "application/json" },
        path: args.file.clone(),
    });
    let summary = api.json(call).await?;
    if ctx.output == Output::Json {
        println!("{}", output::pretty(&summary));
        return Ok(());
    }
    let count = &summary["importCount"];
    println!(
        "{}{}: {} {}, {} {}, {} {}, {} {}",
        if args.dry_run {
            l.pick("dry run, nothing stored: ", "chạy thử, chưa lưu gì: ")
        } else {
            ""
        },
        field(&summary, "status"),
        field(count, "imported"),
        l.pick("imported", "thêm mới"),
        field(count, "updated"),
        l.pick("updated", "cập nhật"),
        field(count, "ignored"),
        l.pick("ignored", "bỏ qua"),
        field(count, "deleted"),
        l.pick("deleted", "xoá"),
    );
    Ok(())
}

/// The agency code of an area: itself, or a province's People's Committee.
async fn org_unit(api: &Api, area: &str) -> CliResult<String> {
    if !(area.len() == 2 && area.bytes().all(|b| b.is_ascii_digit())) {
        return Ok(area.to_owned());
    }
    let committees = api
        .json(
            Call::get("/api/v1/agencies")
                .query("province", Some(area))
                .query("kind", Some("provincial_committee")),
        )
        .await?;
    committees
        .as_array()
        .and_then(|list| list.first())
        .map(|c| field(c, "code"))
        .ok_or_else(|| CliError::usage(format!("no People's Committee of province {area}")))
}

pub async fn export(command: ExportCommand, ctx: &Ctx) -> CliResult {
    use futures::StreamExt;
    let ExportCommand::Dhis2(args) = command;
    let api = ctx.api()?;
    let org_unit = org_unit(&api, &args.area).await?;
    let mut call = Call::get(if args.csv {
        "/api/dataValueSets.csv"
    } else {
        "/api/dataValueSets.json"
    })
    .query("dataSet", Some(&args.form))
    .query("period", Some(&args.period))
    .query("orgUnit", Some(&org_unit))
    .query("children", (!args.no_children).then_some(true));
    if args.csv {
        call = call.accept("text/csv");
    }
    let response = api.send(call).await?;
    let total = response.content_length().unwrap_or(0);
    let mut sink: Box<dyn Write> = match &args.out {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .map_err(|e| CliError::usage(format!("cannot write {}: {e}", path.display())))?,
        )),
        None => Box::new(std::io::stdout().lock()),
    };
    // Progress only when the file is not the terminal being drawn on.
    let progress = args.out.as_ref().map(|path| {
        Progress::new(
            total,
            &format!(
                "{} {}",
                ctx.lang.pick("receiving", "đang nhận"),
                path.display()
            ),
        )
    });
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| CliError::Unreachable {
            url: api.url("/api/dataValueSets"),
            cause: format!("the answer broke off: {e}"),
        })?;
        match sink.write_all(&chunk) {
            Ok(()) => {}
            // `| head` has read what it wanted.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
            Err(e) => return Err(anyhow::Error::from(e).into()),
        }
        if let Some(progress) = &progress {
            progress.advance(chunk.len() as u64);
        }
    }
    match sink.flush() {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            return Err(anyhow::Error::from(e).into());
        }
        _ => {}
    }
    if let Some(progress) = &progress {
        progress.finish();
    }
    Ok(())
}
