//! chiso gateway: REST for people and browsers, translated to gRPC calls on
//! the back services.

pub mod config;
pub mod error;
pub mod extract;
pub mod metrics;
pub mod routes;

#[cfg(test)]
mod tests;

use std::net::SocketAddr;

use chiso_runtime::{Boxed, auth::TokenVerifier, grpc};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;
use tower_http::trace::{DefaultMakeSpan, TraceLayer};

pub use config::GatewayConfig;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub registry: Channel,
    pub submission: Channel,
    pub aggregation: Channel,
    pub verifier: TokenVerifier,
}

/// A built gateway, bound to its port and ready to serve.
pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    addr: SocketAddr,
    https: Option<std::sync::Arc<rustls::ServerConfig>>,
}

impl Application {
    /// Connects to the back services (lazily) and binds the listener.
    pub fn build(config: GatewayConfig) -> Boxed<Self> {
        Box::pin(Self::start(config))
    }

    async fn start(config: GatewayConfig) -> anyhow::Result<Self> {
        let state = AppState {
            registry: grpc::channel(&config.registry_url, &config.tls)?,
            submission: grpc::channel(&config.submission_url, &config.tls)?,
            aggregation: grpc::channel(&config.aggregation_url, &config.tls)?,
            verifier: TokenVerifier::from_file(&config.auth.jwt_public_key_file)?,
        };
        let router = routes::router(state)
            .merge(metrics::router())
            .route_layer(axum::middleware::from_fn(metrics::track))
            // INFO, not tower-http's DEBUG default: the request span is the root of each trace.
            .layer(
                TraceLayer::new_for_http()
                    .make_span_with(DefaultMakeSpan::new().level(tracing::Level::INFO)),
            );
        let https = config.tls.https_server()?;
        let listener = grpc::bind(config.http.addr).await?;
        let addr = listener.local_addr()?;
        Ok(Self {
            listener,
            router,
            addr,
            https,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until `shutdown` is cancelled, letting requests in flight finish.
    pub fn run_until_stopped(self, shutdown: CancellationToken) -> Boxed<()> {
        Box::pin(self.serve(shutdown))
    }

    async fn serve(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        tracing::info!(addr = %self.addr, https = self.https.is_some(), "gateway listening");
        let stopping = shutdown.clone();
        // Peer addresses let the registry rate-limit unauthenticated registrations.
        let app = self
            .router
            .into_make_service_with_connect_info::<SocketAddr>();
        let server = async move {
            match self.https {
                None => axum::serve(self.listener, app)
                    .with_graceful_shutdown(async move { stopping.cancelled().await })
                    .await
                    .map_err(anyhow::Error::from),
                Some(tls) => {
                    let handle = axum_server::Handle::new();
                    let stopper = handle.clone();
                    tokio::spawn(async move {
                        stopping.cancelled().await;
                        stopper.graceful_shutdown(Some(grpc::SHUTDOWN_GRACE));
                    });
                    axum_server::from_tcp_rustls(
                        self.listener.into_std()?,
                        axum_server::tls_rustls::RustlsConfig::from_config(tls),
                    )?
                    .handle(handle)
                    .serve(app)
                    .await
                    .map_err(anyhow::Error::from)
                }
            }
        };
        tokio::select! {
            result = server => result,
            () = async {
                shutdown.cancelled().await;
                tokio::time::sleep(grpc::SHUTDOWN_GRACE).await;
            } => {
                tracing::warn!("grace period over, dropping in-flight requests");
                Ok(())
            }
        }
    }
}
