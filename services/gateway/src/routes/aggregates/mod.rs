//! `GET /api/v1/aggregates`: an indicator over an area and period.

mod convert;
mod types;

use axum::{Json, Router, extract::Query, routing::get};
use chiso_proto::aggregation::v1 as pb;

pub use self::types::{Aggregate, AggregateQuery};
use crate::{AppState, error::ApiResult, extract::AuthUser};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/aggregates", get(get_aggregate))
}

/// Computes an indicator over the reporting agencies of an area: the People's
/// Committee with that administrative-unit code and everything under it.
#[utoipa::path(
    get, path = "/api/v1/aggregates", tag = "aggregates",
    params(AggregateQuery),
    responses((status = 200, body = Aggregate), (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn get_aggregate(
    user: AuthUser,
    Query(query): Query<AggregateQuery>,
) -> ApiResult<Json<Aggregate>> {
    let aggregate = user
        .aggregation()
        .get_aggregate(pb::GetAggregateRequest::from(query))
        .await?
        .into_inner();
    Ok(Json(aggregate.into()))
}
