//! Gateway settings.

use chiso_runtime::config::{HttpConfig, ServiceConfig, VerifyConfig, validate_url};
use chiso_runtime::{limit::Rate, peer::ProxyNet, tls::TlsConfig};
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
    /// Proxies (addresses or CIDR blocks) whose `X-Forwarded-For` names the
    /// client; empty (the default) means the TCP peer is the client.
    #[serde(default)]
    pub trusted_proxies: Vec<ProxyNet>,
    #[serde(default)]
    pub limits: LimitsConfig,
}

/// How often a client may fail to log in, and how many registrations an
/// address may file (docs/SECURITY.md says why these numbers). A login is
/// `POST /api/v1/auth/token` or HTTP Basic credentials the gateway has not
/// verified in the last minute; only failed ones count. Each limit is a
/// whole `{ burst, per_hour }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Failed logins for one client id from one address: stops a guesser
    /// without locking the client out elsewhere.
    pub login_per_client_address: Rate,
    /// Failed logins from one address, whatever the client id: stops
    /// spraying many client ids.
    pub login_per_address: Rate,
    /// Failed logins for one client id from anywhere: stops guessing
    /// spread over many addresses.
    pub login_per_client: Rate,
    /// Registration requests from one address, valid or not.
    pub registration_per_address: Rate,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            login_per_client_address: Rate::new(10, 10),
            login_per_address: Rate::new(50, 120),
            login_per_client: Rate::new(100, 100),
            registration_per_address: Rate::new(5, 10),
        }
    }
}

impl LimitsConfig {
    fn check(&self, errors: &mut Vec<String>) {
        let Self {
            login_per_client_address,
            login_per_address,
            login_per_client,
            registration_per_address,
        } = self;
        login_per_client_address.check("limits.login_per_client_address", errors);
        login_per_address.check("limits.login_per_address", errors);
        login_per_client.check("limits.login_per_client", errors);
        registration_per_address.check("limits.registration_per_address", errors);
    }
}

impl ServiceConfig for GatewayConfig {
    const SERVICE: &'static str = "gateway";
    /// Defaults for running alone on one machine.
    const DEFAULTS: &'static [(&'static str, &'static str)] = &[
        ("http.addr", "0.0.0.0:8080"),
        ("registry_url", "http://127.0.0.1:50051"),
        ("submission_url", "http://127.0.0.1:50052"),
        ("aggregation_url", "http://127.0.0.1:50053"),
    ];

    fn check(&self, errors: &mut Vec<String>) {
        self.tls.validate(errors);
        validate_url("registry_url", &self.registry_url, errors);
        validate_url("submission_url", &self.submission_url, errors);
        validate_url("aggregation_url", &self.aggregation_url, errors);
        self.limits.check(errors);
    }
}

#[cfg(test)]
mod tests {
    use chiso_runtime::config::{ENV_PREFIX, Source};
    use figment::Jail;

    use super::*;

    fn load() -> anyhow::Result<GatewayConfig> {
        GatewayConfig::load(Source {
            file: Some(std::path::Path::new("gateway.toml")),
            section: None,
            env_prefix: ENV_PREFIX,
        })
    }

    #[test]
    fn limits_and_proxies_come_from_the_file_and_the_environment() {
        Jail::expect_with(|jail| {
            jail.clear_env();
            jail.create_file(
                "gateway.toml",
                r#"
                [limits]
                login_per_address = { burst = 200, per_hour = 600 }
                "#,
            )?;
            jail.set_env("CHISO_TRUSTED_PROXIES", r#"["10.0.0.0/8", "192.0.2.7"]"#);
            jail.set_env("CHISO_LIMITS__LOGIN_PER_CLIENT__BURST", "20");
            jail.set_env("CHISO_LIMITS__LOGIN_PER_CLIENT__PER_HOUR", "40");
            let config = load().unwrap();
            assert_eq!(
                config.limits,
                LimitsConfig {
                    login_per_address: Rate::new(200, 600),
                    login_per_client: Rate::new(20, 40),
                    ..LimitsConfig::default()
                }
            );
            assert_eq!(config.limits.login_per_client_address, Rate::new(10, 10));
            let proxies: Vec<String> = config
                .trusted_proxies
                .iter()
                .map(ToString::to_string)
                .collect();
            assert_eq!(proxies, ["10.0.0.0/8", "192.0.2.7/32"]);
            Ok(())
        });
    }

    #[test]
    fn bad_limits_are_named_and_a_rate_is_given_whole() {
        Jail::expect_with(|jail| {
            jail.clear_env();
            jail.create_file(
                "gateway.toml",
                r#"
                [limits]
                login_per_client_address = { burst = 0, per_hour = 10 }
                registration_per_address = { burst = 5, per_hour = 0 }
                "#,
            )?;
            let err = load().unwrap_err().to_string();
            for named in [
                "limits.login_per_client_address.burst: must be positive",
                "limits.registration_per_address.per_hour: must be 1 to 3600000, got 0",
            ] {
                assert!(err.contains(named), "{named} missing from: {err}");
            }
            jail.create_file(
                "gateway.toml",
                "[limits]\nlogin_per_address = { burst = 100 }\n",
            )?;
            let err = load().unwrap_err().to_string();
            assert!(err.contains("missing field `per_hour`"), "{err}");
            Ok(())
        });
    }
}
