//! Aggregation settings.

use chiso_runtime::config::{self, DatabaseConfig, GrpcConfig, Source, VerifyConfig};
use chiso_runtime::tls::TlsConfig;
use secrecy::SecretString;
use serde::Deserialize;

/// Everything the aggregation service needs to run.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AggregationConfig {
    #[serde(default)]
    pub tls: TlsConfig,
    pub grpc: GrpcConfig,
    pub database: DatabaseConfig,
    #[serde(default)]
    pub auth: VerifyConfig,
    /// The submission service, whose change feed this service follows.
    pub submission_url: String,
    /// The registry, which issues this service's own token.
    pub registry_url: String,
    pub service_account: ServiceAccount,
}

/// This service's own client credentials at the registry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceAccount {
    #[serde(default = "default_client_id")]
    pub client_id: String,
    pub secret: SecretString,
}

fn default_client_id() -> String {
    "aggregation".into()
}

/// Defaults for running alone on one machine.
pub const DEFAULTS: &[(&str, &str)] = &[
    ("grpc.addr", "0.0.0.0:50053"),
    ("database.url", "sqlite://data/aggregation.db?mode=rwc"),
    ("submission_url", "http://127.0.0.1:50052"),
    ("registry_url", "http://127.0.0.1:50051"),
];

impl AggregationConfig {
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
        config::validate_url("submission_url", &self.submission_url, &mut errors);
        config::validate_url("registry_url", &self.registry_url, &mut errors);
        config::finish_validation("aggregation", errors)
    }
}
