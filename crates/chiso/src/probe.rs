//! Health probes for container runtimes without grpc_health_probe or curl.

use std::time::Duration;

use anyhow::{Context, bail};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

#[derive(Debug, clap::Subcommand)]
pub enum Target {
    /// gRPC health of the service at HOST:PORT.
    Grpc { addr: String },
    /// HTTP GET that must answer 2xx.
    Http { url: String },
}

pub async fn run(target: Target) -> anyhow::Result<()> {
    tokio::time::timeout(Duration::from_secs(5), check(target))
        .await
        .context("probe timed out")?
}

async fn check(target: Target) -> anyhow::Result<()> {
    match target {
        Target::Grpc { addr } => {
            let url = if addr.contains("://") {
                addr
            } else {
                format!("http://{addr}")
            };
            let channel = chiso_runtime::grpc::channel(&url)?;
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
