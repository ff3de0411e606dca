//! Health probes for container runtimes without grpc_health_probe or curl.

use std::time::Duration;

use anyhow::{Context, bail};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

/// What `chiso probe` checks.
#[derive(Debug, clap::Subcommand)]
pub enum Target {
    /// gRPC health of the service at HOST:PORT (or an http:// or https:// URL).
    Grpc {
        addr: String,
        /// CA that signs the service's certificate, for https:// URLs.
        #[arg(long, env = "CHISO_TLS__CA_FILE")]
        ca_file: Option<std::path::PathBuf>,
        /// Client certificate and key, when the service requires mutual TLS.
        #[arg(long, env = "CHISO_TLS__CLIENT_CERT_FILE")]
        client_cert_file: Option<std::path::PathBuf>,
        #[arg(long, env = "CHISO_TLS__CLIENT_KEY_FILE")]
        client_key_file: Option<std::path::PathBuf>,
    },
    /// HTTP GET that must answer 2xx.
    Http { url: String },
}

/// Checks `target` within five seconds; an error when it is not healthy.
pub async fn run(target: Target) -> anyhow::Result<()> {
    // reqwest is built without a crypto provider and panics building a
    // client without one, even for http://; ring is the one the services use.
    let _ = rustls::crypto::ring::default_provider().install_default();
    tokio::time::timeout(Duration::from_secs(5), check(target))
        .await
        .context("probe timed out")?
}

async fn check(target: Target) -> anyhow::Result<()> {
    match target {
        Target::Grpc {
            addr,
            ca_file,
            client_cert_file,
            client_key_file,
        } => {
            let url = if addr.contains("://") {
                addr
            } else {
                format!("http://{addr}")
            };
            let tls = chiso_runtime::tls::TlsConfig {
                ca_file,
                client_cert_file,
                client_key_file,
                ..Default::default()
            };
            let channel = chiso_runtime::grpc::channel(&url, &tls)?;
            let response = HealthClient::new(channel)
                .check(HealthCheckRequest {
                    service: String::new(),
                })
                .await
                .context("health check failed")?;
            if response.get_ref().status() != ServingStatus::Serving {
                bail!("not serving: {:?}", response.get_ref().status());
            }
        }
        Target::Http { url } => {
            let response = reqwest::get(&url).await.context("request failed")?;
            if !response.status().is_success() {
                bail!("{url} answered {}", response.status());
            }
        }
    }
    Ok(())
}
