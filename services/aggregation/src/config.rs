//! Aggregation settings.

use chiso_runtime::config::{
    DatabaseConfig, GrpcConfig, ServiceConfig, VerifyConfig, check_back_service, validate_url,
};
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
    /// Where `/metrics` is served; none by default (see [`MetricsConfig`]).
    #[serde(default)]
    pub metrics: chiso_runtime::metrics::MetricsConfig,
    pub database: DatabaseConfig,
    #[serde(default)]
    pub auth: VerifyConfig,
    /// The submission service, whose change feed this service follows.
    pub submission_url: String,
    /// The registry, which issues this service's own token.
    pub registry_url: String,
    pub service_account: ServiceAccount,
    /// An agency sees a group's figures only when the group has at least
    /// this many agencies, so no one agency's raw counts show through.
    #[serde(default = "default_min_group_size")]
    pub min_group_size: u32,
}

fn default_min_group_size() -> u32 {
    3
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

impl ServiceConfig for AggregationConfig {
    const SERVICE: &'static str = "aggregation";
    /// Defaults for running alone on one machine.
    const DEFAULTS: &'static [(&'static str, &'static str)] = &[
        ("grpc.addr", "0.0.0.0:50053"),
        ("database.url", "sqlite://data/aggregation.db?mode=rwc"),
        ("submission_url", "http://127.0.0.1:50052"),
        ("registry_url", "http://127.0.0.1:50051"),
    ];

    fn check(&self, errors: &mut Vec<String>) {
        if self.min_group_size == 0 {
            errors.push("min_group_size must be at least 1".into());
        }
        check_back_service(&self.tls, &self.database, errors);
        validate_url("submission_url", &self.submission_url, errors);
        validate_url("registry_url", &self.registry_url, errors);
    }
}
