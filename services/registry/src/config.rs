//! Registry settings.

use std::{collections::BTreeMap, path::PathBuf, time::Duration};

use chiso_runtime::auth::MAX_TOKEN_TTL;
use chiso_runtime::config::{
    DatabaseConfig, GrpcConfig, ServiceConfig, VerifyConfig, check_back_service, check_feed_poll_ms,
};
use chiso_runtime::{limit::Rate, peer::ProxyNet, tls::TlsConfig};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// Everything the registry needs to run.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryConfig {
    #[serde(default)]
    pub tls: TlsConfig,
    pub grpc: GrpcConfig,
    /// Where `/metrics` is served; none by default (see [`MetricsConfig`]).
    #[serde(default)]
    pub metrics: chiso_runtime::metrics::MetricsConfig,
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
    /// Peers (the gateway: addresses or CIDR blocks) whose `x-forwarded-for`
    /// names the client a call is made for; empty (the default) means every
    /// caller is charged for its own address.
    #[serde(default)]
    pub trusted_proxies: Vec<ProxyNet>,
}

/// Client credentials policy.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialsConfig {
    /// How long a rotated secret keeps working, unless the rotation asks for less.
    #[serde(default = "default_rotation_grace")]
    pub rotation_grace_secs: u64,
    /// Secrets hashed or checked at once (each Argon2 run holds 19 MiB and a
    /// core); more logins wait their turn. When unset, one per core but
    /// one, so that a burst of logins leaves a core to everything else.
    #[serde(default)]
    pub hashing_concurrency: Option<usize>,
}

impl Default for CredentialsConfig {
    fn default() -> Self {
        Self {
            rotation_grace_secs: default_rotation_grace(),
            hashing_concurrency: None,
        }
    }
}

/// Most secrets hashed at once: 64 × 19 MiB is already 1.2 GiB.
pub const MAX_HASHING_CONCURRENCY: usize = 64;

fn default_rotation_grace() -> u64 {
    86_400
}

/// Unauthenticated registration requests: how many each client address
/// may file. The address is the caller's, or the one a trusted proxy (see
/// `trusted_proxies`) forwards.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrationConfig {
    /// Requests one address may file in a burst.
    #[serde(default = "default_registration_burst")]
    pub burst: u32,
    /// Requests per hour one address regains after a burst.
    #[serde(default = "default_registration_per_hour")]
    pub per_hour: u32,
}

impl Default for RegistrationConfig {
    fn default() -> Self {
        Self {
            burst: default_registration_burst(),
            per_hour: default_registration_per_hour(),
        }
    }
}

impl RegistrationConfig {
    pub fn rate(&self) -> Rate {
        Rate::new(self.burst, self.per_hour)
    }
}

fn default_registration_burst() -> u32 {
    5
}
fn default_registration_per_hour() -> u32 {
    10
}

/// Token signing: the registry is the only holder of the private key. It
/// verifies tokens too, with the same two settings as every other service.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SigningConfig {
    pub jwt_private_key_file: PathBuf,
    pub jwt_public_key_file: PathBuf,
    /// The key being rotated out, still accepted (see
    /// [`chiso_runtime::config::VerifyConfig`]).
    #[serde(default)]
    pub jwt_previous_public_key_file: Option<PathBuf>,
    /// Lifetime of issued tokens, 1 to 900 seconds.
    #[serde(default = "default_token_ttl")]
    pub token_ttl_secs: u64,
    /// How long a session may be renewed (`RenewToken`) after the secret
    /// was last presented, 900 s to 7 days: a working day by default.
    #[serde(default = "default_session_cap")]
    pub session_cap_secs: u64,
}

impl SigningConfig {
    /// The keys this registry accepts.
    pub fn verify(&self) -> VerifyConfig {
        VerifyConfig {
            jwt_public_key_file: self.jwt_public_key_file.clone(),
            jwt_previous_public_key_file: self.jwt_previous_public_key_file.clone(),
        }
    }
}

fn default_session_cap() -> u64 {
    8 * 60 * 60
}

fn default_feed_poll_ms() -> u64 {
    1000
}

/// The longest lifetime allowed: a client logs in every quarter hour.
fn default_token_ttl() -> u64 {
    MAX_TOKEN_TTL.as_secs()
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
        let max_ttl = MAX_TOKEN_TTL.as_secs();
        if !(1..=max_ttl).contains(&self.auth.token_ttl_secs) {
            errors.push(format!(
                "auth.token_ttl_secs: must be 1 to {max_ttl} (15 minutes), got {}",
                self.auth.token_ttl_secs
            ));
        }
        if !(900..=7 * 24 * 3600).contains(&self.auth.session_cap_secs) {
            errors.push(format!(
                "auth.session_cap_secs: must be 900 to 604800 (7 days), got {}",
                self.auth.session_cap_secs
            ));
        }
        self.auth.verify().check("auth", errors);
        if self.credentials.rotation_grace_secs > MAX_ROTATION_GRACE_SECS {
            errors.push(format!(
                "credentials.rotation_grace_secs: at most {MAX_ROTATION_GRACE_SECS} (30 days)"
            ));
        }
        self.registration.rate().check("registration", errors);
        if let Some(n) = self.credentials.hashing_concurrency
            && !(1..=MAX_HASHING_CONCURRENCY).contains(&n)
        {
            errors.push(format!(
                "credentials.hashing_concurrency: must be 1 to {MAX_HASHING_CONCURRENCY}, got {n}"
            ));
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

    pub fn session_cap(&self) -> Duration {
        Duration::from_secs(self.auth.session_cap_secs)
    }

    pub fn rotation_grace(&self) -> Duration {
        Duration::from_secs(self.credentials.rotation_grace_secs)
    }

    /// Secrets hashed at once: as configured, else one per core but one
    /// (at least one).
    pub fn hashing_concurrency(&self) -> usize {
        self.credentials.hashing_concurrency.unwrap_or_else(|| {
            let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
            cores.saturating_sub(1).max(1)
        })
    }
}

#[cfg(test)]
mod tests {
    use chiso_runtime::config::{ENV_PREFIX, Source};
    use figment::Jail;

    use super::*;

    fn load() -> anyhow::Result<RegistryConfig> {
        RegistryConfig::load(Source {
            file: None,
            section: None,
            env_prefix: ENV_PREFIX,
        })
    }

    #[test]
    fn forwarded_addresses_are_believed_only_from_listed_proxies() {
        Jail::expect_with(|jail| {
            jail.clear_env();
            jail.set_env("CHISO_BOOTSTRAP_ADMIN__SECRET", "0123456789abcdef");
            let config = load().unwrap();
            assert!(config.trusted_proxies.is_empty(), "none by default");
            assert!(config.hashing_concurrency() >= 1);
            jail.set_env("CHISO_TRUSTED_PROXIES", r#"["10.0.0.0/8"]"#);
            jail.set_env("CHISO_CREDENTIALS__HASHING_CONCURRENCY", "3");
            let config = load().unwrap();
            assert_eq!(config.trusted_proxies, ["10.0.0.0/8".parse().unwrap()]);
            assert_eq!(config.hashing_concurrency(), 3);
            // The switch that trusted every caller's header is gone.
            jail.set_env("CHISO_REGISTRATION__TRUST_FORWARDED_FOR", "true");
            let err = load().unwrap_err().to_string();
            assert!(
                err.contains("unknown field: found `trust_forwarded_for`"),
                "{err}"
            );
            Ok(())
        });
    }

    /// Tokens live at most 15 minutes, by default exactly that.
    #[test]
    fn the_token_lifetime_is_at_most_15_minutes() {
        Jail::expect_with(|jail| {
            jail.clear_env();
            jail.set_env("CHISO_BOOTSTRAP_ADMIN__SECRET", "0123456789abcdef");
            let config = load().unwrap();
            assert_eq!(config.token_ttl(), Duration::from_secs(900));
            assert_eq!(
                config.auth.verify(),
                VerifyConfig::single("data/keys/jwt-public.pem")
            );
            jail.set_env("CHISO_AUTH__TOKEN_TTL_SECS", "300");
            assert_eq!(load().unwrap().token_ttl(), Duration::from_secs(300));
            for bad in ["0", "901", "3600"] {
                jail.set_env("CHISO_AUTH__TOKEN_TTL_SECS", bad);
                let err = load().unwrap_err().to_string();
                let named =
                    format!("auth.token_ttl_secs: must be 1 to 900 (15 minutes), got {bad}");
                assert!(err.contains(&named), "{named} missing from: {err}");
            }
            jail.set_env("CHISO_AUTH__TOKEN_TTL_SECS", "600");
            jail.set_env(
                "CHISO_AUTH__JWT_PREVIOUS_PUBLIC_KEY_FILE",
                "data/keys/old.pem",
            );
            assert_eq!(
                load().unwrap().auth.verify().jwt_previous_public_key_file,
                Some("data/keys/old.pem".into())
            );
            jail.set_env(
                "CHISO_AUTH__JWT_PREVIOUS_PUBLIC_KEY_FILE",
                "data/keys/jwt-public.pem",
            );
            let err = load().unwrap_err().to_string();
            assert!(
                err.contains("auth.jwt_previous_public_key_file: must be another file"),
                "{err}"
            );
            Ok(())
        });
    }

    #[test]
    fn bad_limits_and_hashing_are_named() {
        Jail::expect_with(|jail| {
            jail.clear_env();
            jail.set_env("CHISO_BOOTSTRAP_ADMIN__SECRET", "0123456789abcdef");
            jail.set_env("CHISO_CREDENTIALS__HASHING_CONCURRENCY", "0");
            jail.set_env("CHISO_REGISTRATION__BURST", "0");
            let err = load().unwrap_err().to_string();
            for named in [
                "credentials.hashing_concurrency: must be 1 to 64, got 0",
                "registration.burst: must be positive",
            ] {
                assert!(err.contains(named), "{named} missing from: {err}");
            }
            Ok(())
        });
    }
}
