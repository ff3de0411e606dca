//! Registry settings.

use std::{collections::BTreeMap, path::PathBuf, time::Duration};

use chiso_runtime::config::{
    DatabaseConfig, GrpcConfig, ServiceConfig, check_back_service, check_feed_poll_ms,
};
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
    #[serde(default)]
    pub credentials: CredentialsConfig,
    #[serde(default)]
    pub registration: RegistrationConfig,
}

/// Client credentials policy.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialsConfig {
    /// How long a rotated secret keeps working, unless the rotation asks for less.
    #[serde(default = "default_rotation_grace")]
    pub rotation_grace_secs: u64,
}

impl Default for CredentialsConfig {
    fn default() -> Self {
        Self {
            rotation_grace_secs: default_rotation_grace(),
        }
    }
}

fn default_rotation_grace() -> u64 {
    86_400
}

/// Unauthenticated registration requests: how many each client address may file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrationConfig {
    /// Requests one address may file in a burst.
    #[serde(default = "default_registration_burst")]
    pub burst: u32,
    /// Requests per hour one address regains after a burst.
    #[serde(default = "default_registration_per_hour")]
    pub per_hour: u32,
    /// Take the caller's address from `x-forwarded-for` (set by the gateway).
    /// Keep the registry's port private when this is on.
    #[serde(default = "default_true")]
    pub trust_forwarded_for: bool,
}

impl Default for RegistrationConfig {
    fn default() -> Self {
        Self {
            burst: default_registration_burst(),
            per_hour: default_registration_per_hour(),
            trust_forwarded_for: true,
        }
    }
}

fn default_registration_burst() -> u32 {
    5
}
fn default_registration_per_hour() -> u32 {
    10
}
fn default_true() -> bool {
    true
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

/// Longest grace period a rotated secret may have.
pub const MAX_ROTATION_GRACE_SECS: u64 = 30 * 86_400;

impl ServiceConfig for RegistryConfig {
    const SERVICE: &'static str = "registry";
    /// Defaults for running alone on one machine.
    const DEFAULTS: &'static [(&'static str, &'static str)] = &[
        ("grpc.addr", "0.0.0.0:50051"),
        ("database.url", "sqlite://data/registry.db?mode=rwc"),
        ("auth.jwt_private_key_file", "data/keys/jwt-private.pem"),
        ("auth.jwt_public_key_file", "data/keys/jwt-public.pem"),
    ];

    fn check(&self, errors: &mut Vec<String>) {
        check_back_service(&self.tls, &self.database, errors);
        check_feed_poll_ms(self.feed_poll_ms, errors);
        if self.bootstrap_admin.secret.expose_secret().len() < 16 {
            errors.push("bootstrap_admin.secret: must be at least 16 characters".into());
        }
        if self.auth.token_ttl_secs == 0 {
            errors.push("auth.token_ttl_secs: must be positive".into());
        }
        if self.credentials.rotation_grace_secs > MAX_ROTATION_GRACE_SECS {
            errors.push(format!(
                "credentials.rotation_grace_secs: at most {MAX_ROTATION_GRACE_SECS} (30 days)"
            ));
        }
        if self.registration.burst == 0 || self.registration.per_hour == 0 {
            errors.push("registration.burst and registration.per_hour: must be positive".into());
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

    pub fn rotation_grace(&self) -> Duration {
        Duration::from_secs(self.credentials.rotation_grace_secs)
    }
}
