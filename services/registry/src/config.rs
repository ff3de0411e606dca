//! Registry settings.

use std::{collections::BTreeMap, path::PathBuf, time::Duration};

use chiso_runtime::config::{DatabaseConfig, GrpcConfig, ServiceConfig};
use chiso_runtime::tls::TlsConfig;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// Everything the registry needs to run.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryConfig {
    #[serde(default)]
    pub tls: TlsConfig,
    pub grpc: GrpcConfig,
    pub database: DatabaseConfig,
    pub auth: SigningConfig,
    pub bootstrap_admin: BootstrapAdmin,
    /// How often `WatchAgencies` streams re-read the feed without a local
    /// wake-up (writes by other replicas), in milliseconds.
    #[serde(default = "default_feed_poll_ms")]
    pub feed_poll_ms: u64,
    /// Other chiso services' client secrets by client id (e.g. `aggregation`).
    #[serde(default)]
    pub service_accounts: BTreeMap<String, SecretString>,
}

/// Token signing: the registry is the only holder of the private key.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SigningConfig {
    pub jwt_private_key_file: PathBuf,
    pub jwt_public_key_file: PathBuf,
    #[serde(default = "default_token_ttl")]
    pub token_ttl_secs: u64,
}

fn default_feed_poll_ms() -> u64 {
    1000
}

fn default_token_ttl() -> u64 {
    3600
}

/// The first administrator, whose secret comes from configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BootstrapAdmin {
    #[serde(default = "default_admin_id")]
    pub client_id: String,
    pub secret: SecretString,
}

fn default_admin_id() -> String {
    "admin".into()
}

/// Defaults for running alone on one machine.
pub const DEFAULTS: &[(&str, &str)] = &[
    ("grpc.addr", "0.0.0.0:50051"),
    ("database.url", "sqlite://data/registry.db?mode=rwc"),
    ("auth.jwt_private_key_file", "data/keys/jwt-private.pem"),
    ("auth.jwt_public_key_file", "data/keys/jwt-public.pem"),
];

impl ServiceConfig for RegistryConfig {
    const SERVICE: &'static str = "registry";
    const DEFAULTS: &'static [(&'static str, &'static str)] = DEFAULTS;

    fn check(&self, errors: &mut Vec<String>) {
        self.tls.validate(errors);
        self.database.validate(errors);
        if self.bootstrap_admin.secret.expose_secret().len() < 16 {
            errors.push("bootstrap_admin.secret: must be at least 16 characters".into());
        }
        if self.feed_poll_ms == 0 {
            errors.push("feed_poll_ms: must be positive".into());
        }
        if self.auth.token_ttl_secs == 0 {
            errors.push("auth.token_ttl_secs: must be positive".into());
        }
        for (id, secret) in &self.service_accounts {
            if secret.expose_secret().len() < 16 {
                errors.push(format!(
                    "service_accounts.{id}: must be at least 16 characters"
                ));
            }
        }
    }
}

impl RegistryConfig {
    pub fn token_ttl(&self) -> Duration {
        Duration::from_secs(self.auth.token_ttl_secs)
    }
}
