//! Submission settings.

use chiso_runtime::config::{self, DatabaseConfig, GrpcConfig, Source, VerifyConfig};
use chiso_runtime::tls::TlsConfig;
use serde::Deserialize;

/// Everything the submission service needs to run.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmissionConfig {
    #[serde(default)]
    pub tls: TlsConfig,
    pub grpc: GrpcConfig,
    pub database: DatabaseConfig,
    #[serde(default)]
    pub auth: VerifyConfig,
    /// How often a feed watcher re-reads the table when no local write woke
    /// it (writes from other replicas), in milliseconds.
    #[serde(default = "default_feed_poll_ms")]
    pub feed_poll_ms: u64,
}

fn default_feed_poll_ms() -> u64 {
    1000
}

/// Defaults for running alone on one machine.
pub const DEFAULTS: &[(&str, &str)] = &[
    ("grpc.addr", "0.0.0.0:50052"),
    ("database.url", "sqlite://data/submission.db?mode=rwc"),
];

impl SubmissionConfig {
    pub fn load(source: Source<'_>) -> anyhow::Result<Self> {
        Self::load_with(source, &[])
    }

    /// Like [`Self::load`], with `defaults` taking precedence over the built-in ones.
    pub fn load_with(source: Source<'_>, defaults: &[(&str, &str)]) -> anyhow::Result<Self> {
        let all: Vec<(&str, &str)> = DEFAULTS.iter().chain(defaults).copied().collect();
        let config: Self = config::load(source, &all)?;
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        let mut errors = Vec::new();
        self.tls.validate(&mut errors);
        self.database.validate(&mut errors);
        if self.feed_poll_ms == 0 {
            errors.push("feed_poll_ms: must be positive".into());
        }
        config::finish_validation("submission", errors)
    }
}
