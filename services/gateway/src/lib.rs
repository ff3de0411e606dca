//! chiso gateway: REST for people and browsers, translated to gRPC calls on
//! the back services.

mod basic;
pub mod config;
pub mod error;
pub mod extract;
pub mod guard;
pub mod limit;
pub mod metrics;
pub mod routes;
pub mod web;

#[cfg(test)]
mod tests;

use std::{net::SocketAddr, sync::Arc, time::Duration};

use axum::extract::ConnectInfo;
use axum::http::{HeaderName, Request};
use chiso_runtime::{Boxed, auth::TokenVerifier, grpc};
use hyper::body::Incoming;
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::{conn::auto::Builder as ConnectionBuilder, graceful::GracefulShutdown},
};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;
use tower::ServiceExt;
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
    /// Body sizes, body deadlines and the concurrency limit.
    pub requests: config::RequestsConfig,
}

/// The gateway's HTTP service: every route, with request ids, tracing,
/// problem details, body deadlines, load shedding and metrics around them.
/// Tests drive the same service the server runs.
pub fn app(state: AppState) -> axum::Router {
    let requests = state.requests;
    routes::router(state)
        .route_layer(axum::middleware::from_fn(metrics::track))
        .route_layer(axum::middleware::from_fn(error::remember_route))
        // Layers run bottom up: a usable client id is kept, or one is
        // generated, before the span opens, so every log line carries it;
        // problem details see the id and wrap every refusal below them.
        .layer(axum::middleware::from_fn_with_state(
            guard::BodyTimes::new(&requests),
            guard::body_deadline,
        ))
        .layer(axum::middleware::from_fn_with_state(
            guard::Shedder::new(&requests),
            guard::shed_load,
        ))
        .layer(axum::middleware::from_fn(error::problem_details))
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
    /// The metrics listener, when configured.
    metrics: Option<(TcpListener, SocketAddr)>,
    header_read_timeout: Duration,
}

impl Application {
    /// Connects to the back services (lazily) and binds the listeners.
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
            limits: Arc::new(
                limit::Limits::new(&config.limits)
                    .with_call_timeout(config.requests.call_timeout()),
            ),
            requests: config.requests,
        };
        let https = config.tls.https_server()?;
        let router = app(state).layer(axum::Extension(web::session::SecureCookies(
            https.is_some(),
        )));
        let listener = grpc::bind(config.http.addr).await?;
        let addr = listener.local_addr()?;
        let metrics = match config.metrics.addr {
            Some(at) => {
                let listener = grpc::bind(at).await?;
                let addr = listener.local_addr()?;
                Some((listener, addr))
            }
            None => None,
        };
        Ok(Self {
            listener,
            router,
            addr,
            https,
            metrics,
            header_read_timeout: config.requests.header_read_timeout(),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Where `/metrics` is served, when it is.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().map(|(_, addr)| *addr)
    }

    /// Serves until `shutdown` is cancelled, letting requests in flight finish.
    pub fn run_until_stopped(self, shutdown: CancellationToken) -> Boxed<()> {
        Box::pin(self.serve(shutdown))
    }

    async fn serve(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        tracing::info!(addr = %self.addr, https = self.https.is_some(), "gateway listening");
        if let Some((listener, addr)) = self.metrics {
            tracing::info!(%addr, "metrics listening");
            tokio::spawn(serve_plain(
                listener,
                metrics::router(),
                self.header_read_timeout,
                shutdown.clone(),
            ));
        }
        let stopping = shutdown.clone();
        let server = async move {
            match self.https {
                None => {
                    serve_plain(
                        self.listener,
                        self.router,
                        self.header_read_timeout,
                        stopping,
                    )
                    .await
                }
                Some(tls) => {
                    let handle = axum_server::Handle::new();
                    let stopper = handle.clone();
                    tokio::spawn(async move {
                        stopping.cancelled().await;
                        stopper.graceful_shutdown(Some(grpc::SHUTDOWN_GRACE));
                    });
                    let mut server = axum_server::from_tcp_rustls(
                        self.listener.into_std()?,
                        axum_server::tls_rustls::RustlsConfig::from_config(tls),
                    )?
                    .handle(handle);
                    server
                        .http_builder()
                        .http1()
                        .timer(TokioTimer::new())
                        .header_read_timeout(self.header_read_timeout);
                    // Peer addresses go to the back services (audit entries
                    // record them) and key the login and registration limits.
                    server
                        .serve(
                            self.router
                                .into_make_service_with_connect_info::<SocketAddr>(),
                        )
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

/// Serves plain HTTP/1 and HTTP/2 on `listener` until `shutdown`, then lets
/// open connections finish. hyper itself, not `axum::serve`, so that a
/// client that sends half its headers is cut off after
/// `header_read_timeout` (axum's server sets no timer, so hyper's timeout
/// never fires there).
async fn serve_plain(
    listener: TcpListener,
    router: axum::Router,
    header_read_timeout: Duration,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let mut builder = ConnectionBuilder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout);
    let connections = GracefulShutdown::new();
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors and the like: wait, go on.
                    tracing::warn!(error = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = shutdown.cancelled() => break,
        };
        // TCP_NODELAY: see chiso_runtime::grpc::serve.
        if let Err(err) = tcp.set_nodelay(true) {
            tracing::debug!(error = %err, "TCP_NODELAY not set");
        }
        let router = router.clone();
        // Peer addresses go to the back services (audit entries record
        // them) and key the login and registration limits.
        let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            router.clone().oneshot(request.map(axum::body::Body::new))
        });
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(tcp), service)
            .into_owned();
        let connection = connections.watch(connection);
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(error = %err, "connection ended with an error");
            }
        });
    }
    connections.shutdown().await;
    Ok(())
}
