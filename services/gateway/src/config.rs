//! Gateway settings.

use chiso_runtime::config::{self, HttpConfig, Source, VerifyConfig};
use chiso_runtime::tls::TlsConfig;
use serde::Deserialize;

/// Everything the gateway needs to run.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayConfig {
    #[serde(default)]
    pub tls: TlsConfig,
    pub http: HttpConfig,
    #[serde(default)]
    pub auth: VerifyConfig,
    pub registry_url: String,
    pub submission_url: String,
    pub aggregation_url: String,
}

/// Defaults for running alone on one machine.
pub const DEFAULTS: &[(&str, &str)] = &[
    ("http.addr", "0.0.0.0:8080"),
    ("registry_url", "http://127.0.0.1:50051"),
    ("submission_url", "http://127.0.0.1:50052"),
    ("aggregation_url", "http://127.0.0.1:50053"),
];

impl GatewayConfig {
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
        config::validate_url("registry_url", &self.registry_url, &mut errors);
        config::validate_url("submission_url", &self.submission_url, &mut errors);
        config::validate_url("aggregation_url", &self.aggregation_url, &mut errors);
        config::finish_validation("gateway", errors)
    }
}
