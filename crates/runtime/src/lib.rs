//! Plumbing every chiso service shares: configuration, telemetry, shutdown,
//! database connections, gRPC serving, authentication and error mapping.

pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod error;
pub mod feed;
pub mod grpc;
pub mod policy;
pub mod shutdown;
pub mod telemetry;
pub mod tls;

pub use error::{ServiceError, ServiceResult};
