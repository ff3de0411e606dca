//! Layered configuration: serde defaults, then a TOML file, then `CHISO_*`
//! environment variables (`__` separates nested keys), validated once.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use figment::{
    Figment,
    providers::{Env, Format, Toml},
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, de::DeserializeOwned};

/// Prefix of every environment variable chiso reads.
pub const ENV_PREFIX: &str = "CHISO_";

/// Where one service's settings come from.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    /// Optional TOML file.
    pub file: Option<&'a std::path::Path>,
    /// Table of the file to read (`registry` inside `chiso up`'s file), or the whole file.
    pub section: Option<&'a str>,
    /// `CHISO_` for a service running alone, `CHISO_REGISTRY__` inside `chiso up`.
    pub env_prefix: &'a str,
}

/// Loads `T` from `defaults` (dotted keys), then the file, then the environment.
pub fn load<T: DeserializeOwned>(
    source: Source<'_>,
    defaults: &[(&str, &str)],
) -> anyhow::Result<T> {
    let mut figment = Figment::new();
    for (key, value) in defaults {
        figment = figment.merge(figment::providers::Serialized::default(key, value));
    }
    if let Some(file) = source.file {
        let toml = Toml::file_exact(file);
        figment = match source.section {
            Some(section) => figment.merge(Figment::from(toml).focus(section)),
            None => figment.merge(toml),
        };
    }
    figment = figment.merge(
        Env::prefixed(source.env_prefix)
            .split("__")
            .ignore(&["config"]),
    );
    figment
        .extract()
        .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))
}

/// A service's settings: built-in defaults, layered sources, one validation.
pub trait ServiceConfig: DeserializeOwned {
    /// Service name used in error messages.
    const SERVICE: &'static str;
    /// Built-in defaults as dotted keys, for a service running alone.
    const DEFAULTS: &'static [(&'static str, &'static str)];

    /// Records every invalid setting, naming its key.
    fn check(&self, errors: &mut Vec<String>);

    /// Loads from the built-in defaults, the file and the environment, then validates.
    fn load(source: Source<'_>) -> anyhow::Result<Self> {
        Self::load_with(source, &[])
    }

    /// Like [`Self::load`], with `defaults` taking precedence over the built-in ones.
    fn load_with(source: Source<'_>, defaults: &[(&str, &str)]) -> anyhow::Result<Self> {
        let all: Vec<(&str, &str)> = Self::DEFAULTS.iter().chain(defaults).copied().collect();
        let config: Self = load(source, &all)?;
        config.validate()?;
        Ok(config)
    }

    /// All configuration mistakes at once.
    fn validate(&self) -> anyhow::Result<()> {
        let mut errors = Vec::new();
        self.check(&mut errors);
        finish_validation(Self::SERVICE, errors)
    }
}

/// Where a database lives and how many connections to keep.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://data/registry.db?mode=rwc` or `postgres://user@host/db`.
    pub url: SecretString,
    /// PostgreSQL schema this service owns; created at start. Ignored for SQLite.
    #[serde(default)]
    pub schema: Option<String>,
    #[serde(default = "default_max_connections")]
    pub max_connections: u32,
    #[serde(default = "default_min_connections")]
    pub min_connections: u32,
    #[serde(default = "default_acquire_timeout_secs")]
    pub acquire_timeout_secs: u64,
}

fn default_max_connections() -> u32 {
    10
}
fn default_min_connections() -> u32 {
    1
}
fn default_acquire_timeout_secs() -> u64 {
    5
}

impl DatabaseConfig {
    /// The embedded default: a SQLite file under `./data/`.
    pub fn sqlite_file(name: &str) -> Self {
        Self::with_url(format!("sqlite://data/{name}.db?mode=rwc"))
    }

    pub fn with_url(url: impl Into<String>) -> Self {
        Self {
            url: SecretString::from(url.into()),
            schema: None,
            max_connections: default_max_connections(),
            min_connections: default_min_connections(),
            acquire_timeout_secs: default_acquire_timeout_secs(),
        }
    }

    pub fn is_postgres(&self) -> bool {
        let url = self.url.expose_secret();
        url.starts_with("postgres://") || url.starts_with("postgresql://")
    }

    pub fn acquire_timeout(&self) -> Duration {
        Duration::from_secs(self.acquire_timeout_secs)
    }

    pub fn validate(&self, errors: &mut Vec<String>) {
        let url = self.url.expose_secret();
        if !(url.starts_with("sqlite:") || self.is_postgres()) {
            errors.push("database.url: must start with sqlite: or postgres://".into());
        }
        if self.max_connections == 0 || self.min_connections > self.max_connections {
            errors.push(
                "database.max_connections: must be at least 1 and at least min_connections".into(),
            );
        }
        if let Some(schema) = &self.schema {
            let ok = !schema.is_empty()
                && schema.len() <= 63
                && schema
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !ok {
                errors.push("database.schema: lower-case letters, digits and _ only".into());
            }
        }
    }
}

/// A gRPC listener.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrpcConfig {
    /// Address to listen on; port 0 picks a free port.
    pub addr: SocketAddr,
}

/// An HTTP listener.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    pub addr: SocketAddr,
}

/// Where to find the key that verifies bearer tokens.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyConfig {
    pub jwt_public_key_file: PathBuf,
}

impl Default for VerifyConfig {
    fn default() -> Self {
        Self {
            jwt_public_key_file: PathBuf::from("data/keys/jwt-public.pem"),
        }
    }
}

/// Turns collected validation messages into one error.
pub fn finish_validation(service: &str, errors: Vec<String>) -> anyhow::Result<()> {
    if errors.is_empty() {
        Ok(())
    } else {
        anyhow::bail!("invalid {service} configuration: {}", errors.join("; "))
    }
}

/// Checks that a URL of another service is usable by tonic.
pub fn validate_url(field: &str, url: &str, errors: &mut Vec<String>) {
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        errors.push(format!(
            "{field}: must be an http:// or https:// URL, got `{url}`"
        ));
    }
}
