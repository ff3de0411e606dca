//! Serving gRPC: every back service gets health and reflection, listens on
//! a pre-bound socket (port 0 in tests) and stops on the shutdown token.

use std::{convert::Infallible, net::SocketAddr, time::Duration};

use anyhow::Context;
use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::{
    body::Body,
    codegen::Service,
    server::NamedService,
    service::interceptor::{InterceptedService, ResponseBody},
    transport::Server,
};
use tonic_health::{ServingStatus, server::HealthReporter};
use tower::layer::util::{Identity, Stack};

use crate::{
    auth::AuthInterceptor,
    metrics::{GrpcLayer, MetricsConfig},
    tls::TlsConfig,
};

/// A back service's router: every call counted and timed, and run under
/// its client's deadline ([`GrpcLayer`]).
pub type Router = tonic::transport::server::Router<Stack<GrpcLayer, Identity>>;

/// Binds a listener; port 0 picks a free port.
pub async fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .with_context(|| format!("failed to bind {addr}"))
}

/// A server builder with health and reflection (v1 and v1alpha) already added.
/// The reporter marks the overall service ("") and each named service serving.
/// `server` names the service in its metrics.
pub async fn server_with_health(
    server: &'static str,
    services: &[&str],
    tls: &TlsConfig,
) -> anyhow::Result<(Router, HealthReporter)> {
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_service_status("", ServingStatus::Serving)
        .await;
    for name in services {
        reporter
            .set_service_status(*name, ServingStatus::Serving)
            .await;
    }
    // The descriptor set holds every chiso proto; list only what this server serves.
    let reflection = || {
        let mut builder = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(chiso_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .with_service_name("grpc.health.v1.Health");
        for name in services {
            builder = builder.with_service_name(*name);
        }
        builder
    };
    let reflection_v1 = reflection()
        .build_v1()
        .context("failed to build reflection service")?;
    let reflection_v1alpha = reflection()
        .build_v1alpha()
        .context("failed to build reflection service")?;
    let mut builder = Server::builder().trace_fn(crate::telemetry::grpc_request_span);
    if let Some(config) = tls.grpc_server()? {
        builder = builder
            .tls_config(config)
            .context("invalid TLS configuration")?;
    }
    let router = builder
        .layer(GrpcLayer::new(server, services))
        .add_service(health)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha);
    Ok((router, reporter))
}

/// A back service's gRPC server: health, reflection and its own services,
/// bound to its port (0 picks one) and ready to serve.
pub struct GrpcServer {
    name: &'static str,
    listener: TcpListener,
    router: Router,
    reporter: HealthReporter,
    addr: SocketAddr,
    streams: CancellationToken,
    metrics: Option<TcpListener>,
    pool: Option<DatabaseConnection>,
}

impl GrpcServer {
    /// `services` are the fully qualified names `add` registers; they are
    /// reported healthy and listed by reflection.
    /// `streams` is cancelled when shutdown begins: server streams that never
    /// end by themselves (change feeds) watch it so the server can stop.
    pub async fn bind(
        name: &'static str,
        addr: SocketAddr,
        tls: &TlsConfig,
        services: &[&str],
        streams: CancellationToken,
        add: impl FnOnce(Router) -> Router,
    ) -> anyhow::Result<Self> {
        let (router, reporter) = server_with_health(name, services, tls).await?;
        let listener = bind(addr).await?;
        let addr = listener.local_addr()?;
        Ok(Self {
            name,
            listener,
            router: add(router),
            reporter,
            addr,
            streams,
            metrics: None,
            pool: None,
        })
    }

    /// Serves `/metrics` as `config` says, and reports `db`'s pool use there
    /// (`db_pool_connections`).
    pub async fn with_metrics(
        mut self,
        config: &MetricsConfig,
        db: &DatabaseConnection,
    ) -> anyhow::Result<Self> {
        self.metrics = crate::metrics::bind(config).await?;
        self.pool = Some(db.clone());
        Ok(self)
    }

    /// Where `/metrics` is served, when it is.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until `shutdown` is cancelled.
    pub async fn serve(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        tracing::info!(service = self.name, addr = %self.addr, "listening");
        let (streams, stopping) = (self.streams, shutdown.clone());
        tokio::spawn(async move {
            stopping.cancelled().await;
            streams.cancel();
        });
        if let Some(listener) = self.metrics {
            let stop = shutdown.clone();
            tokio::spawn(async move {
                if let Err(e) = crate::metrics::serve(listener, stop).await {
                    tracing::error!(error = %format!("{e:#}"), "metrics listener stopped");
                }
            });
        }
        if let Some(db) = self.pool {
            tokio::spawn(crate::metrics::sample_pool(self.name, db, shutdown.clone()));
        }
        serve(self.router, self.listener, self.reporter, shutdown).await
    }

    /// Serves until `shutdown` is cancelled: the name every service's
    /// application gives it.
    pub fn run_until_stopped(self, shutdown: CancellationToken) -> crate::Boxed<()> {
        Box::pin(self.serve(shutdown))
    }
}

/// The gRPC services of one back service, each behind the bearer-token
/// interceptor, with the names health and reflection report, taken from the
/// services themselves so the list cannot drift from what is served.
pub struct AuthenticatedServices {
    auth: AuthInterceptor,
    names: Vec<&'static str>,
    add: Box<dyn FnOnce(Router) -> Router + Send>,
}

impl AuthenticatedServices {
    /// No services yet; each one added will check tokens with `auth`.
    pub fn new(auth: AuthInterceptor) -> Self {
        Self {
            auth,
            names: Vec::new(),
            add: Box::new(|router| router),
        }
    }

    /// Adds a generated tonic server (`FooServiceServer::new(api)`).
    pub fn add_service<S>(mut self, service: S) -> Self
    where
        S: NamedService + Send + 'static,
        InterceptedService<S, AuthInterceptor>: Service<
                http::Request<Body>,
                Response = http::Response<ResponseBody<Body>>,
                Error = Infallible,
            > + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        <InterceptedService<S, AuthInterceptor> as Service<http::Request<Body>>>::Future:
            Send + 'static,
    {
        self.names.push(S::NAME);
        let auth = self.auth.clone();
        let before = self.add;
        self.add = Box::new(move |router| {
            before(router).add_service(InterceptedService::new(service, auth))
        });
        self
    }
}

impl GrpcServer {
    /// [`GrpcServer::bind`] for a service whose every RPC needs a bearer token.
    pub async fn bind_authenticated(
        name: &'static str,
        addr: SocketAddr,
        tls: &TlsConfig,
        streams: CancellationToken,
        services: AuthenticatedServices,
    ) -> anyhow::Result<Self> {
        let AuthenticatedServices { names, add, .. } = services;
        Self::bind(name, addr, tls, &names, streams, add).await
    }
}

/// How long in-flight calls may run on after shutdown begins.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Serves until `shutdown` is cancelled, then lets in-flight calls finish
/// for at most [`SHUTDOWN_GRACE`].
pub async fn serve(
    router: Router,
    listener: TcpListener,
    reporter: HealthReporter,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    // Without TCP_NODELAY a reply written in more than one segment (a
    // report of 40 values is) waits for the client's delayed ACK: about 40
    // ms per call, measured in the submission benchmark.
    let incoming = tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
    let stopping = shutdown.clone();
    let signal = async move {
        stopping.cancelled().await;
        reporter
            .set_service_status("", ServingStatus::NotServing)
            .await;
    };
    let server = router.serve_with_incoming_shutdown(incoming, signal);
    tokio::select! {
        result = server => result.context("gRPC server failed"),
        () = async {
            shutdown.cancelled().await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } => {
            tracing::warn!("grace period over, dropping in-flight calls");
            Ok(())
        }
    }
}

/// A lazily connecting channel to another chiso service; `https://` URLs
/// are verified against `tls.ca_file`.
pub fn channel(url: &str, tls: &TlsConfig) -> anyhow::Result<tonic::transport::Channel> {
    let mut endpoint = tonic::transport::Endpoint::from_shared(url.to_owned())
        .with_context(|| format!("invalid service URL {url}"))?
        .connect_timeout(Duration::from_secs(5))
        .tcp_nodelay(true);
    if url.starts_with("https://") {
        endpoint = endpoint
            .tls_config(tls.grpc_client()?)
            .context("invalid TLS client configuration")?;
    }
    Ok(endpoint.connect_lazy())
}

/// Wraps a message with a bearer token for another service. Made while
/// serving a call that has a deadline, it carries what is left of it.
pub fn with_bearer<T>(message: T, token: &str) -> anyhow::Result<tonic::Request<T>> {
    let mut request = tonic::Request::new(message);
    crate::deadline::propagate(&mut request);
    crate::telemetry::inject_trace_context(request.metadata_mut());
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}")
            .parse()
            .context("token is not a valid header value")?,
    );
    Ok(request)
}
