//! Submission settings.

use chiso_runtime::config::{
    DatabaseConfig, GrpcConfig, ServiceConfig, VerifyConfig, check_back_service,
    check_feed_poll_ms, validate_url,
};
use chiso_runtime::{peer::ProxyNet, tls::TlsConfig};
use secrecy::SecretString;
use serde::Deserialize;

/// Everything the submission service needs to run.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmissionConfig {
    #[serde(default)]
    pub tls: TlsConfig,
    pub grpc: GrpcConfig,
    /// Where `/metrics` is served; none by default (see [`MetricsConfig`]).
    #[serde(default)]
    pub metrics: chiso_runtime::metrics::MetricsConfig,
    pub database: DatabaseConfig,
    #[serde(default)]
    pub auth: VerifyConfig,
    /// How often a feed watcher re-reads the table when no local write woke
    /// it (writes from other replicas), in milliseconds. The sequencer and
    /// the catalogue cache poll at the same pace.
    #[serde(default = "default_feed_poll_ms")]
    pub feed_poll_ms: u64,
    /// The registry: this service's token, the agency feed (who must
    /// report) and the signing keys reports are signed with.
    pub registry_url: String,
    pub service_account: ServiceAccount,
    /// How long a write's `Idempotency-Key` answers replays, in hours; after
    /// that the key is forgotten and may be used again (1 to 2160).
    #[serde(default = "default_idempotency_hours")]
    pub idempotency_hours: u64,
    /// Peers (the gateway: addresses or CIDR blocks) whose `x-forwarded-for`
    /// names the client audit entries record; empty (the default) records
    /// each caller's own address.
    #[serde(default)]
    pub trusted_proxies: Vec<ProxyNet>,
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
    "submission".into()
}

fn default_feed_poll_ms() -> u64 {
    1000
}

/// A day: longer than any client retries, as with most payment APIs.
fn default_idempotency_hours() -> u64 {
    24
}

impl ServiceConfig for SubmissionConfig {
    const SERVICE: &'static str = "submission";
    /// Defaults for running alone on one machine.
    const DEFAULTS: &'static [(&'static str, &'static str)] = &[
        ("grpc.addr", "0.0.0.0:50052"),
        ("database.url", "sqlite://data/submission.db?mode=rwc"),
        ("registry_url", "http://127.0.0.1:50051"),
    ];

    fn check(&self, errors: &mut Vec<String>) {
        check_back_service(&self.tls, &self.database, errors);
        check_feed_poll_ms(self.feed_poll_ms, errors);
        validate_url("registry_url", &self.registry_url, errors);
        if !(1..=2160).contains(&self.idempotency_hours) {
            errors.push(format!(
                "idempotency_hours: must be 1 to 2160 (90 days), got {}",
                self.idempotency_hours
            ));
        }
    }
}
