//! Prometheus metrics for every service: one recorder per process, a
//! `/metrics` listener apart from the service's own port, and what each
//! back service reports about itself — its gRPC calls (count by status code,
//! latency), its feeds (head and applied sequence numbers, lag) and its
//! database pool.
//!
//! One recorder per process because `chiso up` runs every service in one:
//! there the gateway's listener serves them all, told apart by the `server`
//! label. Deployed, each service is its own process and serves its own
//! listener (`metrics.addr`).

use std::{
    collections::HashMap,
    net::SocketAddr,
    pin::Pin,
    sync::{Arc, OnceLock},
    task::{Context, Poll},
    time::{Duration, Instant},
};

use anyhow::Context as _;
use axum::{Router, routing::get};
use bytes::Bytes;
use http_body::{Body as HttpBody, Frame, SizeHint};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use prost::Message;
use sea_orm::{DatabaseBackend, DatabaseConnection};
use serde::Deserialize;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::body::Body;

use crate::deadline;

/// Where Prometheus scrapes a service. Not on the service's own port: its
/// series describe all traffic, which is for operators only, and a second
/// listener needs no token to manage. `None` (the default for back
/// services) serves no listener: `chiso up` serves every service's series
/// from the gateway's, and a deployment sets the address its Prometheus
/// reaches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    pub addr: Option<SocketAddr>,
}

/// The process-wide recorder; installed once, however many services (or
/// test stacks) the process starts.
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets(&[
                0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ])
            .expect("static buckets are valid")
            .build_recorder();
        let handle = recorder.handle();
        // Fails only if another recorder is installed; then ours stays empty.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// `GET /metrics`: the text exposition format.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    handle();
    Router::new().route("/metrics", get(|| async { handle().render() }))
}

/// Binds the metrics listener, when one is configured.
pub async fn bind(config: &MetricsConfig) -> anyhow::Result<Option<TcpListener>> {
    handle();
    match config.addr {
        None => Ok(None),
        Some(addr) => TcpListener::bind(addr)
            .await
            .map(Some)
            .with_context(|| format!("failed to bind the metrics listener {addr}")),
    }
}

/// Serves `/metrics` on `listener` until `shutdown`.
pub async fn serve(listener: TcpListener, shutdown: CancellationToken) -> anyhow::Result<()> {
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "metrics listening");
    axum::serve(listener, router::<()>())
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
        .context("metrics listener failed")
}

/// One gRPC method's labels, known in advance: only methods a server
/// serves get their own series, so a client calling invented paths cannot
/// grow the registry.
#[derive(Debug, Clone)]
struct Method {
    service: Arc<str>,
    method: Arc<str>,
    /// Streams (the feeds) last as long as the follower stays connected;
    /// their durations would drown the latency of real calls.
    streaming: bool,
}

/// Counts and times a gRPC server's calls by method and status code, and
/// runs each call under the deadline its client sent (`grpc-timeout`), so
/// the calls the handler makes in turn inherit it ([`deadline`]).
#[derive(Clone)]
pub struct GrpcLayer {
    server: &'static str,
    methods: Arc<HashMap<String, Method>>,
}

impl GrpcLayer {
    /// For the server `server` (a label: `registry`, `submission`, …)
    /// serving the fully qualified gRPC services `services`, plus health.
    pub fn new(server: &'static str, services: &[&str]) -> Self {
        handle();
        Self {
            server,
            methods: Arc::new(known_methods(services)),
        }
    }
}

/// `/package.Service/Method` → labels, for every method of `services` in the
/// chiso descriptor set, and the health service's.
fn known_methods(services: &[&str]) -> HashMap<String, Method> {
    let mut known = HashMap::new();
    let mut add = |service: &str, method: &str, streaming: bool| {
        known.insert(
            format!("/{service}/{method}"),
            Method {
                service: service.into(),
                method: method.into(),
                streaming,
            },
        );
    };
    add("grpc.health.v1.Health", "Check", false);
    add("grpc.health.v1.Health", "Watch", true);
    let set = prost_types::FileDescriptorSet::decode(chiso_proto::FILE_DESCRIPTOR_SET)
        .expect("the compiled descriptor set decodes");
    for file in &set.file {
        let package = file.package();
        for service in &file.service {
            let full = format!("{package}.{}", service.name());
            if !services.contains(&full.as_str()) {
                continue;
            }
            for method in &service.method {
                add(&full, method.name(), method.server_streaming());
            }
        }
    }
    known
}

impl<S> tower::Layer<S> for GrpcLayer {
    type Service = GrpcMetrics<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GrpcMetrics {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service [`GrpcLayer`] wraps around a gRPC server.
#[derive(Clone)]
pub struct GrpcMetrics<S> {
    inner: S,
    layer: GrpcLayer,
}

type BoxFuture<T> = Pin<Box<dyn std::future::Future<Output = T> + Send>>;

impl<S, B> tower::Service<http::Request<B>> for GrpcMetrics<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<Body>> + Send,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let started = Instant::now();
        let method = self.layer.methods.get(request.uri().path()).cloned();
        let deadline = request
            .headers()
            .get("grpc-timeout")
            .and_then(|v| deadline::parse_grpc_timeout(v.as_bytes()))
            .map(|left| started + left);
        let server = self.layer.server;
        let call = self.inner.call(request);
        Box::pin(async move {
            let response = match deadline {
                Some(deadline) => deadline::scope(deadline, call).await,
                None => call.await,
            }?;
            // A trailers-only response (most refusals) says its status in
            // the headers.
            let code = response.headers().get("grpc-status").map(code_label);
            let (parts, body) = response.into_parts();
            let observed = Observed {
                labels: Labels {
                    server,
                    method,
                    started,
                },
                code,
                recorded: false,
                body: Some(body),
            };
            Ok(http::Response::from_parts(parts, Body::new(observed)))
        })
    }
}

struct Labels {
    server: &'static str,
    method: Option<Method>,
    started: Instant,
}

/// A response body that records the call when its status is known: in the
/// headers, in the trailers, or `Cancelled` when it is dropped unfinished.
struct Observed {
    labels: Labels,
    code: Option<&'static str>,
    recorded: bool,
    body: Option<Body>,
}

impl Observed {
    fn record(&mut self, code: &'static str) {
        if std::mem::replace(&mut self.recorded, true) {
            return;
        }
        let Labels {
            server,
            method,
            started,
        } = &self.labels;
        let (service, name, streaming) = match method {
            Some(m) => (m.service.to_string(), m.method.to_string(), m.streaming),
            None => ("other".to_owned(), "other".to_owned(), false),
        };
        let labels = [
            ("server", (*server).to_owned()),
            ("grpc_service", service),
            ("grpc_method", name),
        ];
        let mut with_code = labels.to_vec();
        with_code.push(("grpc_code", code.to_owned()));
        metrics::counter!("grpc_server_handled_total", &with_code).increment(1);
        if !streaming {
            metrics::histogram!("grpc_server_handling_seconds", &labels)
                .record(started.elapsed().as_secs_f64());
        }
    }
}

impl HttpBody for Observed {
    type Data = Bytes;
    type Error = tonic::Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        let Some(body) = this.body.as_mut() else {
            return Poll::Ready(None);
        };
        let frame = Pin::new(body).poll_frame(cx);
        match &frame {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(code) = frame
                    .trailers_ref()
                    .and_then(|t| t.get("grpc-status"))
                    .map(code_label)
                {
                    this.record(code);
                }
            }
            Poll::Ready(None) => {
                let code = this.code.unwrap_or("Unknown");
                this.record(code);
            }
            Poll::Ready(Some(Err(_))) => this.record("Internal"),
            Poll::Pending => {}
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.body.as_ref().is_none_or(HttpBody::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.body
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), HttpBody::size_hint)
    }
}

impl Drop for Observed {
    fn drop(&mut self) {
        // The client went away first (or the status came in the headers and
        // the empty body was never read).
        let code = self.code.unwrap_or("Cancelled");
        self.record(code);
    }
}

/// The status code's name, as gRPC's own metrics label it.
fn code_label(value: &http::HeaderValue) -> &'static str {
    let number = value
        .to_str()
        .ok()
        .and_then(|v| v.parse::<i32>().ok())
        .unwrap_or(2);
    match tonic::Code::from_i32(number) {
        tonic::Code::Ok => "OK",
        tonic::Code::Cancelled => "Cancelled",
        tonic::Code::Unknown => "Unknown",
        tonic::Code::InvalidArgument => "InvalidArgument",
        tonic::Code::DeadlineExceeded => "DeadlineExceeded",
        tonic::Code::NotFound => "NotFound",
        tonic::Code::AlreadyExists => "AlreadyExists",
        tonic::Code::PermissionDenied => "PermissionDenied",
        tonic::Code::ResourceExhausted => "ResourceExhausted",
        tonic::Code::FailedPrecondition => "FailedPrecondition",
        tonic::Code::Aborted => "Aborted",
        tonic::Code::OutOfRange => "OutOfRange",
        tonic::Code::Unimplemented => "Unimplemented",
        tonic::Code::Internal => "Internal",
        tonic::Code::Unavailable => "Unavailable",
        tonic::Code::DataLoss => "DataLoss",
        tonic::Code::Unauthenticated => "Unauthenticated",
    }
}

/// How often the pool is sampled.
const POOL_SAMPLE: Duration = Duration::from_secs(5);

/// `db`'s pool: connections open, idle, and the most it may open.
fn pool_stats(db: &DatabaseConnection) -> Option<(u32, usize, u32)> {
    match db.get_database_backend() {
        DatabaseBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            Some((
                pool.size(),
                pool.num_idle(),
                pool.options().get_max_connections(),
            ))
        }
        DatabaseBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            Some((
                pool.size(),
                pool.num_idle(),
                pool.options().get_max_connections(),
            ))
        }
        _ => None,
    }
}

/// Samples `db`'s connection pool (connections open, idle, and the most it
/// may open) into `db_pool_connections{server, state}` until `stop`.
pub async fn sample_pool(server: &'static str, db: DatabaseConnection, stop: CancellationToken) {
    handle();
    while let Some((open, idle, max)) = pool_stats(&db) {
        let idle = u32::try_from(idle).unwrap_or(u32::MAX).min(open);
        metrics::gauge!("db_pool_max_connections", "server" => server).set(f64::from(max));
        metrics::gauge!("db_pool_connections", "server" => server, "state" => "in_use")
            .set(f64::from(open - idle));
        metrics::gauge!("db_pool_connections", "server" => server, "state" => "idle")
            .set(f64::from(idle));
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(POOL_SAMPLE) => {}
        }
    }
}

/// A feed this service publishes, as `feed_head_seq{server, feed}`: its
/// last committed sequence number, as this process's writes announce it
/// (`written`), and read from `head_table` every few seconds, since other
/// replicas and bulk writes do not announce theirs.
pub async fn publish_feed_head(
    server: &'static str,
    feed: &'static str,
    db: DatabaseConnection,
    head_table: &'static str,
    mut written: tokio::sync::watch::Receiver<i64>,
    stop: CancellationToken,
) {
    handle();
    #[allow(clippy::cast_precision_loss)] // exact below 2^53 entries
    let set = |seq: i64| {
        metrics::gauge!("feed_head_seq", "server" => server, "feed" => feed).set(seq as f64);
    };
    let mut read = true;
    loop {
        // A write here says its head; only the timer reads the table.
        if read && let Ok(seq) = crate::feed::head(&db, head_table).await {
            set(seq);
        }
        tokio::select! {
            () = stop.cancelled() => return,
            changed = written.changed() => {
                if changed.is_err() {
                    return;
                }
                set(*written.borrow_and_update());
                read = false;
            }
            () = tokio::time::sleep(POOL_SAMPLE) => read = true,
        }
    }
}

/// A feed this service follows: the last sequence number it applied, and,
/// when the entry says when it was committed, how far behind that was.
/// `feed_head_seq - feed_applied_seq` (matched on `feed`) is the lag in
/// entries.
pub fn feed_applied(
    server: &'static str,
    feed: &'static str,
    seq: i64,
    committed: Option<chrono::DateTime<chrono::Utc>>,
) {
    #[allow(clippy::cast_precision_loss)] // exact below 2^53 entries
    metrics::gauge!("feed_applied_seq", "server" => server, "feed" => feed).set(seq as f64);
    if let Some(at) = committed {
        let behind = (chrono::Utc::now() - at).num_milliseconds().max(0);
        #[allow(clippy::cast_precision_loss)]
        metrics::gauge!("feed_lag_seconds", "server" => server, "feed" => feed)
            .set(behind as f64 / 1000.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_served_services_methods_get_labels() {
        let known = known_methods(&["chiso.submission.v1.ReportService"]);
        let submit = &known["/chiso.submission.v1.ReportService/SubmitReport"];
        assert_eq!(&*submit.method, "SubmitReport");
        assert!(!submit.streaming);
        assert!(known.contains_key("/grpc.health.v1.Health/Check"));
        assert!(
            !known.keys().any(|k| k.starts_with("/chiso.registry.v1.")),
            "another server's methods are not this one's"
        );
    }

    #[tokio::test]
    async fn a_call_runs_under_the_deadline_its_client_sent() {
        use tower::{Layer, ServiceExt};
        let layer = GrpcLayer::new("test", &[]);
        let service = layer.layer(tower::service_fn(|_: http::Request<()>| async {
            let left = deadline::remaining()
                .map_or_else(|| "none".to_owned(), |d| d.as_millis().to_string());
            let mut response = http::Response::new(Body::empty());
            response.headers_mut().insert("left", left.parse().unwrap());
            response
                .headers_mut()
                .insert("grpc-status", "0".parse().unwrap());
            Ok::<_, std::convert::Infallible>(response)
        }));
        let call = |timeout: Option<&'static str>| {
            let mut request = http::Request::builder().uri("/grpc.health.v1.Health/Check");
            if let Some(t) = timeout {
                request = request.header("grpc-timeout", t);
            }
            service.clone().oneshot(request.body(()).unwrap())
        };
        let answer = call(Some("1500m")).await.unwrap();
        let left: u64 = answer.headers()["left"].to_str().unwrap().parse().unwrap();
        assert!((1000..=1500).contains(&left), "{left}");
        let answer = call(None).await.unwrap();
        assert_eq!(answer.headers()["left"], "none");
    }

    #[test]
    fn status_codes_are_named_as_grpc_names_them() {
        assert_eq!(code_label(&http::HeaderValue::from_static("0")), "OK");
        assert_eq!(
            code_label(&http::HeaderValue::from_static("7")),
            "PermissionDenied"
        );
        assert_eq!(code_label(&http::HeaderValue::from_static("x")), "Unknown");
    }
}
