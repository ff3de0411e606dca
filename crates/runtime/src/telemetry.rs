//! Logging and tracing, set up once per process.
//!
//! Logs are JSON when stdout is not a terminal. When
//! `OTEL_EXPORTER_OTLP_ENDPOINT` is set, spans also go to an OpenTelemetry
//! collector over OTLP/gRPC, and the W3C `traceparent` travels in gRPC
//! metadata so one trace spans gateway → service → database.

use std::io::IsTerminal;

use opentelemetry::{
    global,
    propagation::{Extractor, Injector},
    trace::TracerProvider as _,
};
use opentelemetry_sdk::{propagation::TraceContextPropagator, trace::SdkTracerProvider};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::{EnvFilter, Layer, fmt, prelude::*};

/// Flushes buffered spans when dropped; keep it alive in `main`.
#[must_use = "dropping the guard stops trace export"]
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take() {
            let _ = provider.shutdown();
        }
    }
}

/// Installs the global subscriber: `RUST_LOG` or `default_filter`, JSON when
/// stdout is not a terminal, OTLP export when configured. sqlx logs every
/// query at INFO, so it is held to WARN. Calling it again is harmless.
pub fn init(service: &str, default_filter: &str) -> TelemetryGuard {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(default_filter))
        .add_directive("sqlx=warn".parse().expect("static directive"))
        .add_directive("sea_orm_migration=warn".parse().expect("static directive"));
    let fmt_layer = if std::io::stdout().is_terminal() {
        fmt::layer().compact().boxed()
    } else {
        fmt::layer()
            .json()
            .with_current_span(true)
            .flatten_event(true)
            .boxed()
    };
    let provider = std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT")
        .ok()
        .filter(|e| !e.is_empty())
        .and_then(|_| match otlp_provider(service) {
            Ok(provider) => Some(provider),
            Err(err) => {
                eprintln!("OpenTelemetry export disabled: {err:#}");
                None
            }
        });
    let otel_layer = provider.as_ref().map(|p| {
        global::set_text_map_propagator(TraceContextPropagator::new());
        global::set_tracer_provider(p.clone());
        tracing_opentelemetry::layer().with_tracer(p.tracer(service.to_owned()))
    });
    let installed = tracing_subscriber::registry()
        .with(filter)
        .with(fmt_layer)
        .with(otel_layer)
        .try_init();
    // An error only means a subscriber is already installed.
    drop(installed);
    TelemetryGuard { provider }
}

fn otlp_provider(service: &str) -> anyhow::Result<SdkTracerProvider> {
    // The exporter reads OTEL_EXPORTER_OTLP_ENDPOINT and friends itself.
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .build()?;
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(
            opentelemetry_sdk::Resource::builder()
                .with_service_name(service.to_owned())
                .build(),
        )
        .build())
}

/// Silences everything except errors; for tests that do not want output.
pub fn init_for_tests() {
    let filter =
        EnvFilter::try_from_env("CHISO_TEST_LOG").unwrap_or_else(|_| EnvFilter::new("error"));
    drop(
        tracing_subscriber::registry()
            .with(filter)
            .with(fmt::layer().with_test_writer())
            .try_init(),
    );
}

struct MetadataInjector<'a>(&'a mut tonic::metadata::MetadataMap);

impl Injector for MetadataInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(key), Ok(value)) = (
            tonic::metadata::MetadataKey::from_bytes(key.as_bytes()),
            value.parse(),
        ) {
            self.0.insert(key, value);
        }
    }
}

struct HeaderExtractor<'a>(&'a http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

/// Puts the current span's trace context into outgoing gRPC metadata.
pub fn inject_trace_context(metadata: &mut tonic::metadata::MetadataMap) {
    let context = tracing::Span::current().context();
    global::get_text_map_propagator(|p| {
        p.inject_context(&context, &mut MetadataInjector(metadata))
    });
}

/// The span for one incoming gRPC call, a child of the caller's trace when
/// the request carries one. Used as tonic's `trace_fn`.
pub fn grpc_request_span(request: &http::Request<()>) -> tracing::Span {
    // The gateway's request id (or a direct caller's), so that every line a
    // back service logs for the call can be found by the id the client saw.
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|id| id.len() <= 128)
        .unwrap_or_default();
    let span = tracing::info_span!(
        "grpc.request",
        otel.kind = "server",
        rpc.method = %request.uri().path(),
        request_id = %request_id,
    );
    let parent =
        global::get_text_map_propagator(|p| p.extract(&HeaderExtractor(request.headers())));
    let _ = span.set_parent(parent);
    span
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::TraceContextExt;
    use opentelemetry_sdk::trace::InMemorySpanExporter;

    use super::*;

    /// Every line logged while a call is served names the caller's request id.
    #[test]
    fn log_lines_of_a_call_carry_its_request_id() {
        #[derive(Clone, Default)]
        struct Lines(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
        impl std::io::Write for Lines {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let lines = Lines::default();
        let writer = lines.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let request = http::Request::builder()
                .uri("/chiso.submission.v1.ReportService/SubmitReport")
                .header("x-request-id", "req-7f3a")
                .body(())
                .unwrap();
            let span = grpc_request_span(&request);
            let _entered = span.enter();
            tracing::info!("report stored");
        });
        let logged = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
        assert!(logged.contains("request_id=req-7f3a"), "{logged}");
        assert!(logged.contains("report stored"), "{logged}");
    }

    #[test]
    fn trace_context_crosses_grpc_metadata() {
        global::set_text_map_propagator(TraceContextPropagator::new());
        let exporter = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder()
            .with_simple_exporter(exporter.clone())
            .build();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
        tracing::subscriber::with_default(subscriber, || {
            let caller = tracing::info_span!("gateway.request");
            let _entered = caller.enter();
            let caller_trace = caller.context().span().span_context().trace_id();

            let mut metadata = tonic::metadata::MetadataMap::new();
            inject_trace_context(&mut metadata);
            assert!(metadata.get("traceparent").is_some(), "traceparent is sent");

            let request = http::Request::builder()
                .uri("/chiso.submission.v1.ReportService/SubmitReport")
                .body(())
                .unwrap();
            let (mut parts, body) = request.into_parts();
            parts.headers = metadata.into_headers();
            let span = grpc_request_span(&http::Request::from_parts(parts, body));
            let callee_trace = span.context().span().span_context().trace_id();
            assert_eq!(
                callee_trace, caller_trace,
                "the service continues the caller's trace"
            );
        });
    }
}
