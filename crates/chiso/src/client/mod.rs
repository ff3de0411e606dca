//! The client half of `chiso`: commands that talk to a running chiso over
//! its public REST API, for agencies' IT staff and integrators.
//!
//! One file per command group; [`http`] is the only place requests are
//! made, [`profile`] the only place files under the config folder are
//! written, [`output`] the only place lists are printed.

pub mod dhis2;
pub mod error;
pub mod forms;
pub mod http;
pub mod keys;
pub mod lang;
pub mod officer;
pub mod output;
pub mod profile;
pub mod report_file;
pub mod reports;
pub mod session;

use std::process::ExitCode;

use error::CliResult;
use http::Api;
use lang::Lang;
use output::Output;
use profile::Home;

/// Options every client command takes.
#[derive(Debug, Clone, clap::Args)]
pub struct Globals {
    /// The profile to use (`chiso login --profile NAME` creates it).
    #[arg(
        long,
        global = true,
        env = "CHISO_PROFILE",
        default_value = "default",
        help_heading = "Client options"
    )]
    pub profile: String,
    /// How lists print: aligned columns, the server's JSON, or CSV.
    #[arg(
        long,
        short = 'o',
        global = true,
        value_enum,
        default_value_t = Output::Table,
        help_heading = "Client options"
    )]
    pub output: Output,
}

/// The client commands, each a subcommand of `chiso`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Signs in to a chiso server and saves the profile.
    #[command(after_help = session::LOGIN_EXAMPLES)]
    Login(session::LoginArgs),
    /// Forgets the profile's credentials and token.
    #[command(after_help = "Example:\n  chiso logout --profile test")]
    Logout,
    /// Shows who the profile signs in as.
    #[command(after_help = "Examples:\n  chiso whoami\n  chiso whoami -o json")]
    Whoami,
    /// Report forms.
    #[command(subcommand)]
    Forms(forms::FormsCommand),
    /// A form's periods open for entry, with deadlines and this agency's status.
    #[command(after_help = forms::PERIODS_EXAMPLES)]
    Periods(forms::PeriodsArgs),
    /// Reports: templates to fill in, submission (signed where the form
    /// needs it), status, values, history, signature checks.
    #[command(subcommand)]
    Report(reports::ReportCommand),
    /// The agency's Ed25519 keys for signing reports.
    #[command(subcommand, after_help = keys::KEYS_EXAMPLES)]
    Keys(keys::KeysCommand),
    /// Imports data from other systems (DHIS2 data value sets).
    #[command(subcommand)]
    Import(dhis2::ImportCommand),
    /// Exports data for other systems (DHIS2 data value sets).
    #[command(subcommand)]
    Export(dhis2::ExportCommand),
    /// Agencies: lists, one agency, CSV imports (officers).
    #[command(subcommand)]
    Agencies(officer::AgenciesCommand),
    /// An indicator or data element over an area, an agency or a group.
    #[command(after_help = "\
Examples:
  chiso aggregates --indicator electronic_document_rate --area 44 --period 2026Q3
  chiso aggregates --indicator electronic_document_rate --area 44 --period 2026Q3 --breakdown child_areas
  chiso aggregates --data-element documents_sent --agency 000.00.15.H51 --period 2025 -o json")]
    Aggregates(officer::AggregatesArgs),
    /// Who reported a form for a period, who is late, who is missing.
    #[command(after_help = "\
Examples:
  chiso completeness --form it_application_yearly --period 2025 --area 44
  chiso completeness --form it_fast_quarterly --period 2026Q3 --area 44 -o csv")]
    Completeness(officer::CompletenessArgs),
    /// Rankings of agencies (ICT-Index style), or the ranking methods.
    #[command(after_help = "\
Examples:
  chiso rankings
  chiso rankings district_committees --area 44 --period 2025")]
    Rankings(officer::RankingsArgs),
}

/// What every command runs with.
pub struct Ctx {
    pub home: Home,
    pub profile: String,
    pub output: Output,
    pub lang: Lang,
}

impl Ctx {
    /// A client for the profile, which must exist.
    pub fn api(&self) -> CliResult<Api> {
        let profile = self.home.load(&self.profile)?;
        Api::new(self.home.clone(), &self.profile, profile, self.lang)
    }
}

/// Runs a client command and gives the exit code (0, 1, 2 or 3).
pub async fn run(command: Command, globals: Globals) -> ExitCode {
    // reqwest is built without a crypto provider; ring is the one the
    // services use.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let lang = Lang::from_env();
    let result = async {
        let ctx = Ctx {
            home: Home::locate()?,
            profile: globals.profile.clone(),
            output: globals.output,
            lang,
        };
        profile::check_name(&ctx.profile)?;
        dispatch(command, &ctx).await
    }
    .await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => err.report(lang),
    }
}

async fn dispatch(command: Command, ctx: &Ctx) -> CliResult {
    match command {
        Command::Login(args) => session::login(args, ctx).await,
        Command::Logout => session::logout(ctx),
        Command::Whoami => session::whoami(ctx).await,
        Command::Forms(command) => forms::forms(command, ctx).await,
        Command::Periods(args) => forms::periods(args, ctx).await,
        Command::Report(command) => reports::report(command, ctx).await,
        Command::Keys(command) => keys::keys(command, ctx).await,
        Command::Import(command) => dhis2::import(command, ctx).await,
        Command::Export(command) => dhis2::export(command, ctx).await,
        Command::Agencies(command) => officer::agencies(command, ctx).await,
        Command::Aggregates(args) => officer::aggregates(args, ctx).await,
        Command::Completeness(args) => officer::completeness(args, ctx).await,
        Command::Rankings(args) => officer::rankings(args, ctx).await,
    }
}
