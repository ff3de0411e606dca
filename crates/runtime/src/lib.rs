//! Plumbing every chiso service shares: configuration, telemetry, shutdown,
//! database connections, gRPC serving, authentication and error mapping.

pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod deadline;
pub mod error;
pub mod feed;
pub mod grpc;
pub mod limit;
pub mod metrics;
pub mod peer;
pub mod policy;
pub mod revocations;
pub mod service_token;
pub mod shutdown;
pub mod telemetry;
pub mod tls;

pub use error::{ServiceError, ServiceResult};

/// A start-up or serving future, boxed where it is made. Each service returns
/// these from its `Application` so the future's poll and drop code is compiled
/// once, in the service's own crate: awaited unboxed, every binary and test
/// harness that awaits it compiled it again (40–70 s per binary of a release
/// build, measured with `cargo build --timings`).
pub type Boxed<T> = std::pin::Pin<Box<dyn std::future::Future<Output = anyhow::Result<T>> + Send>>;
