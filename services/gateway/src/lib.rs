//! chiso gateway: REST for people and browsers, translated to gRPC calls on
//! the back services.

mod basic;
pub mod config;
pub mod error;
pub mod extract;
pub mod limit;
pub mod metrics;
pub mod routes;

#[cfg(test)]
mod tests;

use std::{net::SocketAddr, sync::Arc};

use axum::http::{HeaderName, Request};
use axum::serve::ListenerExt;
use chiso_runtime::{Boxed, auth::TokenVerifier, grpc};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;
use tower_http::{
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::TraceLayer,
};

pub use config::GatewayConfig;

/// The header naming each request: kept when the client sent a usable one,
/// generated otherwise, echoed on the answer, logged in the request's span
/// and forwarded to the back services (which record it in audit entries).
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The longest client-chosen request id kept: the same bound as an
/// `Idempotency-Key`, so an audit entry never stores an unbounded header.
const MAX_REQUEST_ID: usize = 128;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub registry: Channel,
    pub submission: Channel,
    pub aggregation: Channel,
    pub verifier: TokenVerifier,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Arc<[chiso_runtime::peer::ProxyNet]>,
    /// Tokens of recently verified HTTP Basic credentials.
    pub basic: basic::BasicTokens,
    /// How often clients may fail to log in or file registrations.
    pub limits: Arc<limit::Limits>,
}

/// The gateway's HTTP service: every route, with request ids, tracing and
/// metrics around them. Tests drive the same service the server runs.
pub fn app(state: AppState) -> axum::Router {
    routes::router(state)
        .merge(metrics::router())
        .route_layer(axum::middleware::from_fn(metrics::track))
        // Layers run bottom up: a usable client id is kept, or one is
        // generated, before the span opens, so every log line carries it.
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(axum::middleware::map_request(drop_unusable_request_id))
}

/// The root span of a request: INFO, not tower-http's DEBUG default, since
/// it is the root of each trace; with the request id to find it by.
fn request_span<B>(request: &Request<B>) -> tracing::Span {
    let id = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    tracing::info_span!("request", method = %request.method(), uri = %request.uri(), request_id = %id)
}

/// Removes a client's request id that could not travel as gRPC metadata or
/// is too long to store, so that a fresh one replaces it.
async fn drop_unusable_request_id<B>(mut request: Request<B>) -> Request<B> {
    let usable = request.headers().get(&REQUEST_ID).is_none_or(|v| {
        !v.is_empty()
            && v.len() <= MAX_REQUEST_ID
            && v.as_bytes().iter().all(|b| b.is_ascii_graphic())
    });
    if !usable {
        request.headers_mut().remove(&REQUEST_ID);
    }
    request
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
            verifier: TokenVerifier::from_config(&config.auth)?,
            trusted_proxies: config.trusted_proxies.into(),
            basic: basic::BasicTokens::default(),
            limits: Arc::new(limit::Limits::new(&config.limits)),
        };
        let router = app(state);
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
        // Peer addresses go to the back services (audit entries record them)
        // and key the login and registration limits.
        let app = self
            .router
            .into_make_service_with_connect_info::<SocketAddr>();
        let server = async move {
            match self.https {
                // TCP_NODELAY: see chiso_runtime::grpc::serve.
                None => axum::serve(
                    self.listener.tap_io(|tcp| {
                        if let Err(err) = tcp.set_nodelay(true) {
                            tracing::debug!(error = %err, "TCP_NODELAY not set");
                        }
                    }),
                    app,
                )
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
