//! Gateway settings.

use chiso_runtime::config::{HttpConfig, ServiceConfig, VerifyConfig, validate_url};
use chiso_runtime::tls::TlsConfig;
use serde::Deserialize;

use crate::peer::ProxyNet;

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
    }
}
