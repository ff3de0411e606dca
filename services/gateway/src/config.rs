//! Gateway settings.

use std::{net::SocketAddr, time::Duration};

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
    #[serde(default)]
    pub requests: RequestsConfig,
    #[serde(default)]
    pub metrics: MetricsConfig,
}

/// Where Prometheus scrapes the gateway. `/metrics` is not on the public
/// listener: its series describe every route's traffic, which is for
/// operators only, and a second listener needs no token to manage. The
/// default (loopback) suits `chiso up`; a deployment binds it to the
/// address its Prometheus reaches, or leaves it out to serve no metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// `None`: no metrics listener.
    pub addr: Option<SocketAddr>,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            addr: Some(SocketAddr::from(([127, 0, 0, 1], 9464))),
        }
    }
}

impl MetricsConfig {
    /// No metrics listener (tests that start many gateways).
    pub fn off() -> Self {
        Self { addr: None }
    }
}

/// How much of the gateway one request may take: body sizes per kind of
/// route, how long a client may take to send its headers and body, and how
/// many requests run at once before new ones are shed with a 503. These
/// bound the memory and connections a slow or hostile client can hold
/// (docs/SECURITY.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RequestsConfig {
    /// Bytes of an ordinary JSON body (every write not named below).
    pub json_body_bytes: usize,
    /// Bytes of a report or draft, and of a DHIS2 completion list: a whole
    /// form's values.
    pub report_body_bytes: usize,
    /// Bytes of an agency CSV import.
    pub import_body_bytes: usize,
    /// Bytes of a filled-in Excel template.
    pub upload_body_bytes: usize,
    /// Seconds a client has to send a request's headers (HTTP/1).
    pub header_read_timeout_secs: u64,
    /// Seconds a body may pause between two pieces.
    pub body_idle_timeout_secs: u64,
    /// Seconds a whole body may take to arrive.
    pub body_read_timeout_secs: u64,
    /// Requests handled at once; more are refused with 503 (health checks
    /// are never refused).
    pub max_concurrent_requests: usize,
    /// The `Retry-After` of a refused request, in seconds.
    pub busy_retry_after_secs: u64,
    /// Seconds one request's calls to the back services may take together;
    /// each call carries what is left as its gRPC deadline. Past it the
    /// client gets 503 with `Retry-After`, and the services stop working on
    /// the call. Exports streamed to the client are not bound by it.
    pub call_timeout_secs: u64,
}

impl Default for RequestsConfig {
    fn default() -> Self {
        Self {
            json_body_bytes: 64 * 1024,
            report_body_bytes: 4 * 1024 * 1024,
            import_body_bytes: 4 * 1024 * 1024,
            upload_body_bytes: 8 * 1024 * 1024,
            header_read_timeout_secs: 10,
            body_idle_timeout_secs: 30,
            body_read_timeout_secs: 300,
            max_concurrent_requests: 512,
            busy_retry_after_secs: 1,
            // A 100,000-value DHIS2 import takes about 2 s on PostgreSQL.
            call_timeout_secs: 60,
        }
    }
}

impl RequestsConfig {
    pub fn header_read_timeout(&self) -> Duration {
        Duration::from_secs(self.header_read_timeout_secs)
    }

    pub fn body_idle_timeout(&self) -> Duration {
        Duration::from_secs(self.body_idle_timeout_secs)
    }

    pub fn body_read_timeout(&self) -> Duration {
        Duration::from_secs(self.body_read_timeout_secs)
    }

    pub fn busy_retry_after(&self) -> Duration {
        Duration::from_secs(self.busy_retry_after_secs)
    }

    pub fn call_timeout(&self) -> Duration {
        Duration::from_secs(self.call_timeout_secs)
    }

    fn check(&self, errors: &mut Vec<String>) {
        let Self {
            json_body_bytes,
            report_body_bytes,
            import_body_bytes,
            upload_body_bytes,
            header_read_timeout_secs,
            body_idle_timeout_secs,
            body_read_timeout_secs,
            max_concurrent_requests,
            busy_retry_after_secs,
            call_timeout_secs,
        } = *self;
        // 1 GiB: past that a body belongs in a streamed import.
        const MAX_BODY: usize = 1 << 30;
        for (key, bytes) in [
            ("requests.json_body_bytes", json_body_bytes),
            ("requests.report_body_bytes", report_body_bytes),
            ("requests.import_body_bytes", import_body_bytes),
            ("requests.upload_body_bytes", upload_body_bytes),
        ] {
            if !(1..=MAX_BODY).contains(&bytes) {
                errors.push(format!("{key}: must be 1 to {MAX_BODY}, got {bytes}"));
            }
        }
        for (key, secs) in [
            (
                "requests.header_read_timeout_secs",
                header_read_timeout_secs,
            ),
            ("requests.body_idle_timeout_secs", body_idle_timeout_secs),
            ("requests.body_read_timeout_secs", body_read_timeout_secs),
            ("requests.busy_retry_after_secs", busy_retry_after_secs),
            ("requests.call_timeout_secs", call_timeout_secs),
        ] {
            if !(1..=3600).contains(&secs) {
                errors.push(format!("{key}: must be 1 to 3600, got {secs}"));
            }
        }
        if body_idle_timeout_secs > body_read_timeout_secs {
            errors.push(format!(
                "requests.body_idle_timeout_secs: must not exceed body_read_timeout_secs ({body_read_timeout_secs}), got {body_idle_timeout_secs}"
            ));
        }
        if max_concurrent_requests == 0 {
            errors.push("requests.max_concurrent_requests: must be positive".into());
        }
    }
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
        self.requests.check(errors);
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
    fn request_bounds_and_the_metrics_address_come_from_file_and_environment() {
        Jail::expect_with(|jail| {
            jail.clear_env();
            jail.create_file(
                "gateway.toml",
                "[requests]\njson_body_bytes = 1024\n[metrics]\naddr = \"0.0.0.0:9100\"\n",
            )?;
            jail.set_env("CHISO_REQUESTS__MAX_CONCURRENT_REQUESTS", "8");
            let config = load().unwrap();
            assert_eq!(
                config.requests,
                RequestsConfig {
                    json_body_bytes: 1024,
                    max_concurrent_requests: 8,
                    ..RequestsConfig::default()
                }
            );
            assert_eq!(config.metrics.addr, Some("0.0.0.0:9100".parse().unwrap()));
            jail.create_file(
                "gateway.toml",
                "[requests]\njson_body_bytes = 0\nheader_read_timeout_secs = 0\nbody_idle_timeout_secs = 400\nmax_concurrent_requests = 0\n",
            )?;
            // The environment still wins over the file.
            jail.set_env("CHISO_REQUESTS__MAX_CONCURRENT_REQUESTS", "0");
            let err = load().unwrap_err().to_string();
            for named in [
                "requests.json_body_bytes: must be 1 to 1073741824, got 0",
                "requests.header_read_timeout_secs: must be 1 to 3600, got 0",
                "requests.body_idle_timeout_secs: must not exceed body_read_timeout_secs (300), got 400",
                "requests.max_concurrent_requests: must be positive",
            ] {
                assert!(err.contains(named), "{named} missing from: {err}");
            }
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
