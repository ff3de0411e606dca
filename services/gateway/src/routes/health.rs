//! Liveness and readiness.

use axum::{Json, Router, extract::State, http::StatusCode, routing::get};
use serde_json::{Value, json};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
}

/// Ready when every back service reports SERVING over gRPC health.
async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let mut all = true;
    let mut detail = serde_json::Map::new();
    for (name, channel) in [
        ("registry", &state.registry),
        ("submission", &state.submission),
        ("aggregation", &state.aggregation),
    ] {
        let mut client = HealthClient::new(channel.clone());
        let check = client.check(HealthCheckRequest {
            service: String::new(),
        });
        let serving = matches!(
            tokio::time::timeout(std::time::Duration::from_secs(2), check).await,
            Ok(Ok(r)) if r.get_ref().status() == ServingStatus::Serving
        );
        all &= serving;
        detail.insert(
            name.into(),
            json!(if serving { "serving" } else { "unavailable" }),
        );
    }
    let status = if all {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(Value::Object(detail)))
}
