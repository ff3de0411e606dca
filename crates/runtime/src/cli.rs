//! Command-line arguments every service binary shares.

use std::path::PathBuf;

use crate::config::{ENV_PREFIX, Source};

/// `chiso-<service> [--config FILE]`; settings also come from `CHISO_*` variables.
#[derive(Debug, clap::Parser)]
#[command(version, about)]
pub struct ServiceArgs {
    /// TOML configuration file.
    #[arg(long, env = "CHISO_CONFIG")]
    pub config: Option<PathBuf>,
}

impl ServiceArgs {
    pub fn source(&self) -> Source<'_> {
        Source {
            file: self.config.as_deref(),
            section: None,
            env_prefix: ENV_PREFIX,
        }
    }
}
