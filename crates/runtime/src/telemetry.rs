//! Logging set up once per process.

use std::io::IsTerminal;

use tracing_subscriber::{EnvFilter, fmt, prelude::*};

/// Installs the global subscriber: `RUST_LOG` or `default_filter`, JSON when
/// stdout is not a terminal. sqlx logs every query at INFO, so it is held to WARN.
/// Calling it again is harmless (tests start many services in one process).
pub fn init(default_filter: &str) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(default_filter))
        .add_directive("sqlx=warn".parse().expect("static directive"))
        .add_directive("sea_orm_migration=warn".parse().expect("static directive"));
    let registry = tracing_subscriber::registry().with(filter);
    let result = if std::io::stdout().is_terminal() {
        registry.with(fmt::layer().compact()).try_init()
    } else {
        registry
            .with(
                fmt::layer()
                    .json()
                    .with_current_span(true)
                    .flatten_event(true),
            )
            .try_init()
    };
    // An error only means a subscriber is already installed.
    drop(result);
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
