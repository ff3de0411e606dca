//! chiso gateway: REST for people and browsers, translated to gRPC calls on
//! the back services.

pub mod config;
pub mod error;
pub mod extract;
pub mod routes;

use std::net::SocketAddr;

use axum::extract::FromRef;
use chiso_runtime::{auth::TokenVerifier, grpc};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;
use tower_http::trace::TraceLayer;

pub use config::GatewayConfig;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub registry: Channel,
    pub submission: Channel,
    pub aggregation: Channel,
    pub verifier: TokenVerifier,
}

impl FromRef<AppState> for TokenVerifier {
    fn from_ref(state: &AppState) -> Self {
        state.verifier.clone()
    }
}

/// A built gateway, bound to its port and ready to serve.
pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    addr: SocketAddr,
}

impl Application {
    pub async fn build(config: GatewayConfig) -> anyhow::Result<Self> {
        let state = AppState {
            registry: grpc::channel(&config.registry_url)?,
            submission: grpc::channel(&config.submission_url)?,
            aggregation: grpc::channel(&config.aggregation_url)?,
            verifier: TokenVerifier::from_file(&config.auth.jwt_public_key_file)?,
        };
        let router = routes::router(state).layer(TraceLayer::new_for_http());
        let listener = grpc::bind(config.http.addr).await?;
        let addr = listener.local_addr()?;
        Ok(Self {
            listener,
            router,
            addr,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until `shutdown` is cancelled, letting requests in flight finish.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        tracing::info!(addr = %self.addr, "gateway listening");
        let stopping = shutdown.clone();
        // Peer addresses let the registry rate-limit unauthenticated registrations.
        let app = self
            .router
            .into_make_service_with_connect_info::<SocketAddr>();
        let server = axum::serve(self.listener, app)
            .with_graceful_shutdown(async move { stopping.cancelled().await });
        tokio::select! {
            result = server => Ok(result?),
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
