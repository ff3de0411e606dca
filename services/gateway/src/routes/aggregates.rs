//! `GET /api/v1/aggregates`: an indicator over an area and period.

use axum::{
    Json, Router,
    extract::{Query, State},
    routing::get,
};
use chiso_proto::aggregation::v1::{
    self as pb, aggregation_service_client::AggregationServiceClient,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{AppState, error::ApiResult, extract::AuthUser};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/aggregates", get(get_aggregate))
}

/// Which indicator, where and when.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AggregateQuery {
    /// Indicator code, e.g. `computer_equipment_rate`.
    pub indicator: String,
    /// Administrative-unit code of the area, e.g. `51`.
    pub area: String,
    /// Period code, e.g. `2018`.
    pub period: String,
    /// `YYYY-MM-DD`: whose organisation tree decides the area's agencies; today when absent.
    pub as_of: Option<String>,
}

/// An indicator value with the sums it came from.
#[derive(Debug, Serialize, ToSchema)]
pub struct Aggregate {
    pub indicator: String,
    pub area: String,
    pub period: String,
    /// sum(numerator) / sum(denominator) x factor; null when nothing is reported.
    pub value: Option<f64>,
    pub numerator: i64,
    pub denominator: i64,
    pub agencies_reporting: i64,
    pub factor: f64,
    pub unit: String,
    /// The date whose organisation tree was used.
    pub as_of: String,
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
    State(state): State<AppState>,
    user: AuthUser,
    Query(query): Query<AggregateQuery>,
) -> ApiResult<Json<Aggregate>> {
    let request = user.request(pb::GetAggregateRequest {
        indicator: query.indicator,
        area: query.area,
        period: query.period,
        as_of: query.as_of.unwrap_or_default(),
    })?;
    let a = AggregationServiceClient::new(state.aggregation.clone())
        .get_aggregate(request)
        .await?
        .into_inner();
    Ok(Json(Aggregate {
        indicator: a.indicator,
        area: a.area,
        period: a.period,
        value: a.value,
        numerator: a.numerator,
        denominator: a.denominator,
        agencies_reporting: a.agencies_reporting,
        factor: a.factor,
        unit: a.unit,
        as_of: a.as_of,
    }))
}
