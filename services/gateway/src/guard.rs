//! What keeps one client from holding the gateway: a deadline on request
//! bodies and a bound on requests in flight, past which new ones are shed.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use axum::{
    body::{Body, HttpBody},
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};
use futures::StreamExt;
use tokio::{sync::Semaphore, time::Instant};

use crate::{config::RequestsConfig, error::ApiError};

/// Paths never shed: an orchestrator probing a busy gateway must not
/// conclude it is dead and restart it.
const NEVER_SHED: [&str; 2] = ["/healthz", "/readyz"];

/// The requests in flight, and what to tell those over the limit.
#[derive(Clone)]
pub struct Shedder {
    permits: Arc<Semaphore>,
    retry_after: Duration,
}

impl Shedder {
    pub fn new(config: &RequestsConfig) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(config.max_concurrent_requests)),
            retry_after: config.busy_retry_after(),
        }
    }
}

/// Runs a request if a slot is free, else answers 503 with `Retry-After`
/// at once: queueing would only hold more memory and connections while the
/// client's own timeout runs out. The slot is held until the handler has
/// answered (a streamed body may outlive it).
pub async fn shed_load(State(shedder): State<Shedder>, request: Request, next: Next) -> Response {
    if NEVER_SHED.contains(&request.uri().path()) {
        return next.run(request).await;
    }
    let Ok(_permit) = shedder.permits.clone().try_acquire_owned() else {
        metrics::counter!("http_requests_shed_total").increment(1);
        return ApiError::overloaded(shedder.retry_after).into_response();
    };
    next.run(request).await
}

/// How long a body may take.
#[derive(Clone, Copy)]
pub struct BodyTimes {
    /// Longest pause between two pieces of a body.
    pub idle: Duration,
    /// Longest time for a whole body.
    pub total: Duration,
}

impl BodyTimes {
    pub fn new(config: &RequestsConfig) -> Self {
        Self {
            idle: config.body_idle_timeout(),
            total: config.body_read_timeout(),
        }
    }
}

/// The error a body reports when its deadline passed.
#[derive(Debug, thiserror::Error)]
#[error("request body not received in time")]
struct BodyTimedOut;

/// Cuts off a body that pauses longer than `idle` or takes longer than
/// `total` in all, and answers 408. A per-read timeout alone lets a client
/// trickle a byte just inside it for ever; a total alone lets it sit idle
/// until then. Whatever the handler made of the broken body, the answer is
/// the 408.
pub async fn body_deadline(
    State(times): State<BodyTimes>,
    request: Request,
    next: Next,
) -> Response {
    if request.body().is_end_stream() {
        return next.run(request).await;
    }
    let timed_out = Arc::new(AtomicBool::new(false));
    let (parts, body) = request.into_parts();
    let deadline = Instant::now() + times.total;
    let flag = timed_out.clone();
    let chunks = futures::stream::unfold(Some(body.into_data_stream()), move |stream| {
        let flag = flag.clone();
        async move {
            let mut stream = stream?;
            let wait = deadline.min(Instant::now() + times.idle);
            match tokio::time::timeout_at(wait, stream.next()).await {
                Ok(Some(chunk)) => Some((chunk, Some(stream))),
                Ok(None) => None,
                Err(_) => {
                    flag.store(true, Ordering::Relaxed);
                    Some((Err(axum::Error::new(BodyTimedOut)), None))
                }
            }
        }
    })
    .boxed();
    let response = next
        .run(Request::from_parts(parts, Body::from_stream(chunks)))
        .await;
    if timed_out.load(Ordering::Relaxed) {
        tracing::info!("request body not received in time");
        return ApiError::request_timeout().into_response();
    }
    response
}
