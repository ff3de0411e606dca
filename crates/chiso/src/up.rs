//! `chiso up`: the whole stack in one process, each service on its own
//! port, talking gRPC over loopback, with SQLite files under the data folder.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
};

use anyhow::Context;
use chiso_runtime::{
    auth,
    config::{ServiceConfig, Source},
    peer::ProxyNet,
    shutdown, telemetry,
};
use tokio::task::JoinSet;

/// Options of `chiso up`.
#[derive(Debug, clap::Args)]
pub struct UpArgs {
    /// Folder for SQLite files, keys and generated secrets.
    #[arg(long, default_value = "data", env = "CHISO_DATA_DIR")]
    data_dir: PathBuf,
    /// TOML file with [registry], [submission], [aggregation] and [gateway] tables.
    #[arg(long, env = "CHISO_CONFIG")]
    config: Option<PathBuf>,
    /// Address the gateway listens on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    gateway_addr: SocketAddr,
    /// Address the gateway serves Prometheus metrics on (`/metrics`), apart
    /// from the public API.
    #[arg(long, default_value = "127.0.0.1:9464")]
    metrics_addr: SocketAddr,
    /// First of three consecutive gRPC ports (registry, submission, aggregation).
    #[arg(long, default_value_t = 50051)]
    grpc_port: u16,
    /// Do not load the demo province and its reports.
    #[arg(long)]
    no_demo: bool,
}

/// Runs the four services in this process until a stop signal.
pub async fn run(args: UpArgs) -> anyhow::Result<()> {
    let _telemetry = telemetry::init("chiso", "info");
    let data = &args.data_dir;
    std::fs::create_dir_all(data)
        .with_context(|| format!("failed to create {}", data.display()))?;
    let keys = data.join("keys");
    auth::ensure_keypair(&keys)?;
    let admin_secret_file = data.join("admin-secret");
    let admin_secret = secret_file(&admin_secret_file)?;
    let service_secret = secret_file(&data.join("aggregation-secret"))?;
    let submission_secret = secret_file(&data.join("submission-secret"))?;

    let path = |p: PathBuf| p.to_string_lossy().into_owned();
    let sqlite = |name: &str| {
        format!(
            "sqlite://{}?mode=rwc",
            path(data.join(format!("{name}.db")))
        )
    };
    let private_key = path(keys.join("jwt-private.pem"));
    let public_key = path(keys.join("jwt-public.pem"));
    // During a rotation (`chiso keygen --rotate`) the key rotated out is
    // accepted by every service until it is removed.
    let previous_key = keys.join(auth::PREVIOUS_PUBLIC_KEY);
    let previous_key = previous_key.exists().then(|| path(previous_key));
    let mut verify_keys = vec![("auth.jwt_public_key_file", public_key.as_str())];
    if let Some(previous) = &previous_key {
        verify_keys.push(("auth.jwt_previous_public_key_file", previous.as_str()));
    }
    let [registry_addr, submission_addr, aggregation_addr] =
        [0, 1, 2].map(|i| SocketAddr::from(([127, 0, 0, 1], args.grpc_port + i)));
    let url = |addr: SocketAddr| format!("http://{addr}");
    let source = |section: &'static str, prefix: &'static str| Source {
        file: args.config.as_deref(),
        section: Some(section),
        env_prefix: prefix,
    };

    let mut registry_config = chiso_registry::RegistryConfig::load_with(
        source("registry", "CHISO_REGISTRY__"),
        &with_keys(
            &[
                ("grpc.addr", &registry_addr.to_string()),
                ("database.url", &sqlite("registry")),
                ("auth.jwt_private_key_file", &private_key),
                ("bootstrap_admin.secret", &admin_secret),
                ("service_accounts.aggregation", &service_secret),
                ("service_accounts.submission", &submission_secret),
            ],
            &verify_keys,
        ),
    )?;
    let mut submission_config = chiso_submission::SubmissionConfig::load_with(
        source("submission", "CHISO_SUBMISSION__"),
        &with_keys(
            &[
                ("grpc.addr", &submission_addr.to_string()),
                ("database.url", &sqlite("submission")),
                ("registry_url", &url(registry_addr)),
                ("service_account.secret", &submission_secret),
            ],
            &verify_keys,
        ),
    )?;
    let aggregation_config = chiso_aggregation::AggregationConfig::load_with(
        source("aggregation", "CHISO_AGGREGATION__"),
        &with_keys(
            &[
                ("grpc.addr", &aggregation_addr.to_string()),
                ("database.url", &sqlite("aggregation")),
                ("submission_url", &url(submission_addr)),
                ("registry_url", &url(registry_addr)),
                ("service_account.secret", &service_secret),
            ],
            &verify_keys,
        ),
    )?;
    let gateway_config = chiso_gateway::GatewayConfig::load_with(
        source("gateway", "CHISO_GATEWAY__"),
        &with_keys(
            &[
                ("http.addr", &args.gateway_addr.to_string()),
                ("metrics.addr", &args.metrics_addr.to_string()),
                ("registry_url", &url(registry_addr)),
                ("submission_url", &url(submission_addr)),
                ("aggregation_url", &url(aggregation_addr)),
            ],
            &verify_keys,
        ),
    )?;

    // The gateway calls the back services over loopback from this process:
    // they believe the client address it forwards (docs/SECURITY.md).
    let loopback: ProxyNet = "127.0.0.1".parse()?;
    for trusted in [
        &mut registry_config.trusted_proxies,
        &mut submission_config.trusted_proxies,
    ] {
        if !trusted.contains(&loopback) {
            trusted.push(loopback);
        }
    }

    let stop = shutdown::on_signal();
    let registry = chiso_registry::Application::build(registry_config).await?;
    let submission = chiso_submission::Application::build(submission_config).await?;
    let aggregation = chiso_aggregation::Application::build(aggregation_config).await?;
    let gateway = chiso_gateway::Application::build(gateway_config).await?;
    let gateway_url = format!("http://{}", gateway.local_addr());
    let metrics_url = gateway
        .metrics_addr()
        .map(|addr| format!("http://{addr}/metrics"));
    let registry_url = url(registry.local_addr());
    let submission_url = url(submission.local_addr());

    let mut tasks = JoinSet::new();
    tasks.spawn(registry.run_until_stopped(stop.clone()));
    tasks.spawn(submission.run_until_stopped(stop.clone()));
    tasks.spawn(aggregation.run_until_stopped(stop.clone()));
    tasks.spawn(gateway.run_until_stopped(stop.clone()));

    if !args.no_demo {
        let loaded =
            crate::demo::load(&registry_url, &submission_url, "admin", &admin_secret).await;
        match loaded {
            Ok(Some(loaded)) => {
                tracing::info!(summary = %loaded.summary, "demo data loaded");
                // Secrets are shown once by the registry: kept for the next
                // start's banner, readable by this user only.
                let lines: String = loaded
                    .sign_ins
                    .iter()
                    .map(|s| format!("{}\t{}\t{}\n", s.who, s.client_id, s.secret))
                    .collect();
                auth::write_private(&data.join(DEMO_SIGN_INS), &lines)?;
            }
            Ok(None) => tracing::info!("demo data already present"),
            Err(err) => tracing::warn!(error = format!("{err:#}"), "demo data not loaded"),
        }
    }

    println!();
    println!("chiso is up: {gateway_url}");
    println!("  API docs:     {gateway_url}/docs/");
    if let Some(metrics_url) = &metrics_url {
        println!("  metrics:      {metrics_url}");
    }
    // The admin's sign-in is printed like the demo's: it is the one that
    // reads every province's dashboard and edits the catalogue, and this is
    // the newcomer's own machine (the file is readable by this user only).
    println!(
        "  admin (every province, the catalogue): admin {admin_secret} (also in {})",
        admin_secret_file.display()
    );
    println!(
        "  gRPC:         registry {registry_url}, submission {submission_url}, aggregation {}",
        url(aggregation_addr)
    );
    if let Ok(sign_ins) = std::fs::read_to_string(data.join(DEMO_SIGN_INS)) {
        println!(
            "  demo sign-ins (client id, secret; also in {}):",
            data.join(DEMO_SIGN_INS).display()
        );
        for line in sign_ins.lines() {
            if let [who, id, secret] = line.split('\t').collect::<Vec<_>>()[..] {
                println!("    {who}: {id} {secret}");
            }
        }
    }
    println!("Press Ctrl-C to stop.");

    let mut result = Ok(());
    while let Some(joined) = tasks.join_next().await {
        let outcome = joined.context("a service panicked").and_then(|r| r);
        if let Err(err) = outcome {
            tracing::error!(
                error = format!("{err:#}"),
                "a service failed, stopping the stack"
            );
            stop.cancel();
            result = Err(err);
        }
    }
    result
}

/// Reads a secret from `file`, creating it (readable by its owner only) on first start.
/// The demo's sign-ins, one per line: who, client id, secret (tab-separated).
const DEMO_SIGN_INS: &str = "demo-sign-ins.tsv";

fn secret_file(file: &Path) -> anyhow::Result<String> {
    if let Ok(existing) = std::fs::read_to_string(file) {
        let existing = existing.trim().to_owned();
        if !existing.is_empty() {
            return Ok(existing);
        }
    }
    use rand::RngCore;
    let mut bytes = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    auth::write_private(file, &format!("{secret}\n"))?;
    Ok(secret)
}

/// A service's defaults with the keys every service verifies tokens with.
fn with_keys<'a>(
    defaults: &[(&'a str, &'a str)],
    keys: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    defaults.iter().chain(keys).copied().collect()
}
