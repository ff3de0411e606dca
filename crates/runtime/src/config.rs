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

/// Where to find the keys that verify bearer tokens: the current one and,
/// while the signing key is rotated, the previous one (two keys live at
/// once; docs/SECURITY.md, "Rotating the token signing key"). Checked as it
/// is read, since every service embeds it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, try_from = "RawVerifyConfig")]
pub struct VerifyConfig {
    /// The public key of the key the registry signs with (or is about to).
    pub jwt_public_key_file: PathBuf,
    /// The key being rotated out: its tokens keep verifying until it is
    /// removed, at least one token lifetime after the registry switched.
    pub jwt_previous_public_key_file: Option<PathBuf>,
}

/// [`VerifyConfig`] as written, before it is checked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVerifyConfig {
    jwt_public_key_file: PathBuf,
    #[serde(default)]
    jwt_previous_public_key_file: Option<PathBuf>,
}

impl TryFrom<RawVerifyConfig> for VerifyConfig {
    type Error = String;

    fn try_from(raw: RawVerifyConfig) -> Result<Self, Self::Error> {
        let config = Self {
            jwt_public_key_file: raw.jwt_public_key_file,
            jwt_previous_public_key_file: raw.jwt_previous_public_key_file,
        };
        let mut errors = Vec::new();
        config.check("auth", &mut errors);
        if errors.is_empty() {
            Ok(config)
        } else {
            Err(errors.join("; "))
        }
    }
}

impl VerifyConfig {
    /// One key, as outside a rotation.
    pub fn single(jwt_public_key_file: impl Into<PathBuf>) -> Self {
        Self {
            jwt_public_key_file: jwt_public_key_file.into(),
            jwt_previous_public_key_file: None,
        }
    }

    /// Records what is wrong with the key files, under `section`. That the
    /// files hold keys, and two different ones, is checked when they are
    /// read at start ([`crate::auth::TokenVerifier::from_config`]).
    pub fn check(&self, section: &str, errors: &mut Vec<String>) {
        if self.jwt_public_key_file.as_os_str().is_empty() {
            errors.push(format!("{section}.jwt_public_key_file: must not be empty"));
        }
        match &self.jwt_previous_public_key_file {
            Some(previous) if previous.as_os_str().is_empty() => errors.push(format!(
                "{section}.jwt_previous_public_key_file: must not be empty; leave it out when \
                 no key is being rotated out"
            )),
            Some(previous) if *previous == self.jwt_public_key_file => errors.push(format!(
                "{section}.jwt_previous_public_key_file: must be another file than \
                 jwt_public_key_file"
            )),
            _ => {}
        }
    }
}

impl Default for VerifyConfig {
    fn default() -> Self {
        Self::single("data/keys/jwt-public.pem")
    }
}

/// The checks every back gRPC service with its own database makes: its TLS
/// files and its database settings.
pub fn check_back_service(
    tls: &crate::tls::TlsConfig,
    database: &DatabaseConfig,
    errors: &mut Vec<String>,
) {
    tls.validate(errors);
    database.validate(errors);
}

/// Checks a feed's poll interval (`feed_poll_ms`): zero would spin.
pub fn check_feed_poll_ms(feed_poll_ms: u64, errors: &mut Vec<String>) {
    if feed_poll_ms == 0 {
        errors.push("feed_poll_ms: must be positive".into());
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

#[cfg(test)]
mod tests {
    use figment::Jail;

    use super::*;

    /// A service's settings as every back service shapes them.
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct TestConfig {
        grpc: GrpcConfig,
        database: DatabaseConfig,
        #[serde(default)]
        auth: VerifyConfig,
        #[serde(default = "default_poll")]
        poll_ms: u64,
    }

    fn default_poll() -> u64 {
        1000
    }

    impl ServiceConfig for TestConfig {
        const SERVICE: &'static str = "test";
        const DEFAULTS: &'static [(&'static str, &'static str)] = &[
            ("grpc.addr", "0.0.0.0:50052"),
            ("database.url", "sqlite://data/test.db?mode=rwc"),
        ];

        fn check(&self, errors: &mut Vec<String>) {
            self.database.validate(errors);
            if self.poll_ms == 0 {
                errors.push("poll_ms: must be positive".into());
            }
        }
    }

    fn source<'a>(
        file: Option<&'a std::path::Path>,
        section: Option<&'a str>,
        env_prefix: &'a str,
    ) -> Source<'a> {
        Source {
            file,
            section,
            env_prefix,
        }
    }

    fn url(config: &TestConfig) -> &str {
        config.database.url.expose_secret()
    }

    #[test]
    fn defaults_alone_make_a_service_that_runs_alone() {
        Jail::expect_with(|jail| {
            // The machine's own CHISO_* (CI sets CHISO_TEST_DATABASE_URL) must not leak in.
            jail.clear_env();
            let config = TestConfig::load(source(None, None, ENV_PREFIX)).unwrap();
            assert_eq!(config.grpc.addr.to_string(), "0.0.0.0:50052");
            assert_eq!(url(&config), "sqlite://data/test.db?mode=rwc");
            assert_eq!(config.database.max_connections, 10);
            assert_eq!(config.poll_ms, 1000);
            assert_eq!(
                config.auth,
                VerifyConfig::single("data/keys/jwt-public.pem")
            );
            Ok(())
        });
    }

    #[test]
    fn the_file_overrides_defaults_and_the_environment_overrides_the_file() {
        Jail::expect_with(|jail| {
            jail.clear_env();
            jail.create_file(
                "chiso.toml",
                r#"
                poll_ms = 250
                [grpc]
                addr = "127.0.0.1:6000"
                [database]
                url = "postgres://file@db/chiso"
                max_connections = 4
                "#,
            )?;
            jail.set_env("CHISO_GRPC__ADDR", "127.0.0.1:7000");
            jail.set_env("CHISO_DATABASE__MIN_CONNECTIONS", "2");
            let file = std::path::Path::new("chiso.toml");
            let config = TestConfig::load(source(Some(file), None, ENV_PREFIX)).unwrap();
            assert_eq!(config.grpc.addr.to_string(), "127.0.0.1:7000");
            assert_eq!(url(&config), "postgres://file@db/chiso");
            assert_eq!(config.database.max_connections, 4);
            assert_eq!(config.database.min_connections, 2);
            assert_eq!(config.poll_ms, 250);
            Ok(())
        });
    }

    #[test]
    fn a_section_and_its_prefix_serve_one_service_of_a_shared_file() {
        Jail::expect_with(|jail| {
            jail.clear_env();
            jail.create_file(
                "chiso.toml",
                r#"
                [test.grpc]
                addr = "127.0.0.1:6000"
                [other.grpc]
                addr = "127.0.0.1:6001"
                "#,
            )?;
            // Another service's variables and the plain prefix do not apply.
            jail.set_env("CHISO_OTHER__POLL_MS", "5");
            jail.set_env("CHISO_TEST__POLL_MS", "50");
            let file = std::path::Path::new("chiso.toml");
            let config = TestConfig::load_with(
                source(Some(file), Some("test"), "CHISO_TEST__"),
                &[("database.url", "sqlite://other.db")],
            )
            .unwrap();
            assert_eq!(config.grpc.addr.to_string(), "127.0.0.1:6000");
            assert_eq!(config.poll_ms, 50);
            // `load_with` defaults win over the built-in ones.
            assert_eq!(url(&config), "sqlite://other.db");
            Ok(())
        });
    }

    #[test]
    fn every_invalid_setting_is_reported_at_once() {
        Jail::expect_with(|jail| {
            jail.clear_env();
            jail.set_env("CHISO_DATABASE__URL", "mysql://db");
            jail.set_env("CHISO_DATABASE__MAX_CONNECTIONS", "0");
            jail.set_env("CHISO_DATABASE__SCHEMA", "Bad-Schema");
            jail.set_env("CHISO_POLL_MS", "0");
            let err = TestConfig::load(source(None, None, ENV_PREFIX))
                .unwrap_err()
                .to_string();
            assert!(err.starts_with("invalid test configuration: "), "{err}");
            for key in [
                "database.url",
                "database.max_connections",
                "database.schema",
                "poll_ms",
            ] {
                assert!(err.contains(key), "{key} missing from: {err}");
            }
            Ok(())
        });
    }

    #[test]
    fn unknown_and_malformed_settings_are_refused() {
        Jail::expect_with(|jail| {
            jail.clear_env();
            jail.set_env("CHISO_GRPC__PORT", "1");
            let err = TestConfig::load(source(None, None, ENV_PREFIX)).unwrap_err();
            assert!(err.to_string().contains("port"), "{err}");
            jail.clear_env();
            jail.set_env("CHISO_GRPC__ADDR", "not an address");
            let err = TestConfig::load(source(None, None, ENV_PREFIX)).unwrap_err();
            assert!(
                err.to_string().starts_with("invalid configuration"),
                "{err}"
            );
            Ok(())
        });
    }

    #[test]
    fn a_previous_key_is_read_and_checked() {
        Jail::expect_with(|jail| {
            jail.clear_env();
            jail.set_env("CHISO_AUTH__JWT_PUBLIC_KEY_FILE", "keys/new.pem");
            jail.set_env("CHISO_AUTH__JWT_PREVIOUS_PUBLIC_KEY_FILE", "keys/old.pem");
            let config = TestConfig::load(source(None, None, ENV_PREFIX)).unwrap();
            assert_eq!(
                config.auth,
                VerifyConfig {
                    jwt_public_key_file: "keys/new.pem".into(),
                    jwt_previous_public_key_file: Some("keys/old.pem".into()),
                }
            );
            jail.set_env("CHISO_AUTH__JWT_PREVIOUS_PUBLIC_KEY_FILE", "keys/new.pem");
            let err = TestConfig::load(source(None, None, ENV_PREFIX))
                .unwrap_err()
                .to_string();
            assert!(
                err.contains(
                    "auth.jwt_previous_public_key_file: must be another file than \
                     jwt_public_key_file"
                ),
                "{err}"
            );
            jail.set_env("CHISO_AUTH__JWT_PREVIOUS_PUBLIC_KEY_FILES", "[]");
            let err = TestConfig::load(source(None, None, ENV_PREFIX)).unwrap_err();
            assert!(err.to_string().contains("unknown field"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn secrets_do_not_print() {
        let config = DatabaseConfig::with_url("postgres://user:hunter2@db/chiso");
        assert!(!format!("{config:?}").contains("hunter2"));
    }
}
