//! `chiso`: runs the whole stack in one process (`chiso up`), writes JWT keys
//! (`chiso keygen`), probes health for containers (`chiso probe`), and is
//! the client of a running chiso (`chiso login`, `chiso report submit`, …:
//! `chiso::client`).

use std::{path::PathBuf, process::ExitCode};

use chiso::{client, probe, up};
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    version,
    about = "chỉ số: IT-application indicators of government agencies"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    client: client::Globals,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs registry, submission, aggregation and gateway in one process, with SQLite under the data folder.
    Up(up::UpArgs),
    /// Writes an Ed25519 key pair for tokens (jwt-private.pem, jwt-public.pem) unless both exist.
    Keygen {
        #[arg(long, default_value = "data/keys")]
        out: PathBuf,
        /// Starts a key rotation: the current public key is kept as
        /// jwt-previous-public.pem (still accepted by `chiso up`) and a new
        /// pair replaces the current one (docs/SECURITY.md).
        #[arg(long)]
        rotate: bool,
    },
    /// Exits 0 when a service is healthy: `probe grpc HOST:PORT` or `probe http URL`.
    Probe {
        #[command(subcommand)]
        target: probe::Target,
    },
    #[command(flatten)]
    Client(client::Command),
    /// Prints a shell completion script.
    #[command(after_help = "\
Examples:
  chiso completions bash > ~/.local/share/bash-completion/completions/chiso
  chiso completions zsh > ~/.zfunc/_chiso
  chiso completions fish > ~/.config/fish/completions/chiso.fish")]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// A reader that stops early (`chiso report status | head -3`) closes the
/// pipe, and Rust's printing panics on the next write: end quietly, as
/// other Unix tools do, with what was printed so far. Only for the client's
/// commands: the servers' own writes never go to a pipe that closes.
fn end_quietly_on_a_closed_stdout() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or_default();
        let writing = message.starts_with("failed printing to stdout")
            || message.starts_with("failed to write completion file");
        if writing && message.contains("Broken pipe") {
            std::process::exit(0);
        }
        default(info);
    }));
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    if matches!(
        cli.command,
        Command::Client(_) | Command::Completions { .. }
    ) {
        end_quietly_on_a_closed_stdout();
    }
    match cli.command {
        Command::Client(command) => client::run(command, cli.client).await,
        Command::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(shell, &mut Cli::command(), "chiso", &mut std::io::stdout());
            ExitCode::SUCCESS
        }
        command => match server(command).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("Error: {err:?}");
                ExitCode::FAILURE
            }
        },
    }
}

/// The commands that run or look after the stack itself.
async fn server(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Up(args) => up::run(args).await,
        Command::Keygen { out, rotate: true } => {
            let (new, old) = chiso_runtime::auth::rotate_keypair(&out)?;
            println!(
                "wrote a new key pair (kid {new}) to {dir}; the old public key (kid {old}) is \
                 {dir}/{previous}: restart `chiso up`, then remove it after 15 minutes and \
                 restart again",
                dir = out.display(),
                previous = chiso_runtime::auth::PREVIOUS_PUBLIC_KEY,
            );
            Ok(())
        }
        Command::Keygen { out, rotate: false } => {
            let wrote = chiso_runtime::auth::ensure_keypair(&out)?;
            let kid = chiso_runtime::auth::PublicKey::from_file(&out.join("jwt-public.pem"))?;
            println!(
                "{} {} (kid {})",
                if wrote {
                    "wrote a new key pair to"
                } else {
                    "keys already exist in"
                },
                out.display(),
                kid.kid()
            );
            Ok(())
        }
        Command::Probe { target } => probe::run(target).await,
        Command::Client(_) | Command::Completions { .. } => {
            unreachable!("handled in main")
        }
    }
}
