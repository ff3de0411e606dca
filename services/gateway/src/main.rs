use chiso_runtime::{cli::ServiceArgs, config::ServiceConfig, shutdown, telemetry};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = <ServiceArgs as clap::Parser>::parse();
    let _telemetry = telemetry::init("chiso-gateway", "info");
    let config = chiso_gateway::GatewayConfig::load(args.source())?;
    let app = chiso_gateway::Application::build(config).await?;
    app.run_until_stopped(shutdown::on_signal()).await
}
