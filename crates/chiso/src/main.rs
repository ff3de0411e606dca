//! `chiso`: runs the whole stack in one process (`chiso up`), writes JWT keys
//! (`chiso keygen`) and probes health for containers (`chiso probe`).

use std::path::PathBuf;

use chiso::{probe, up};
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    version,
    about = "chỉ số: IT-application indicators of government agencies"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs registry, submission, aggregation and gateway in one process, with SQLite under the data folder.
    Up(up::UpArgs),
    /// Writes an Ed25519 key pair for tokens (jwt-private.pem, jwt-public.pem) unless both exist.
    Keygen {
        #[arg(long, default_value = "data/keys")]
        out: PathBuf,
    },
    /// Exits 0 when a service is healthy: `probe grpc HOST:PORT` or `probe http URL`.
    Probe {
        #[command(subcommand)]
        target: probe::Target,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Up(args) => up::run(args).await,
        Command::Keygen { out } => {
            let wrote = chiso_runtime::auth::ensure_keypair(&out)?;
            println!(
                "{} {}",
                if wrote {
                    "wrote a new key pair to"
                } else {
                    "keys already exist in"
                },
                out.display()
            );
            Ok(())
        }
        Command::Probe { target } => probe::run(target).await,
    }
}
