use chiso_runtime::{cli::ServiceArgs, config::ServiceConfig, shutdown, telemetry};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = <ServiceArgs as clap::Parser>::parse();
    let _telemetry = telemetry::init("chiso-registry", "info");
    let config = chiso_registry::RegistryConfig::load(args.source())?;
    let app = chiso_registry::Application::build(config).await?;
    app.run_until_stopped(shutdown::on_signal()).await
}
