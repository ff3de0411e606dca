//! `/api/v1/reports` and the catalogue: what agencies report.

mod convert;
mod types;

use axum::{
    Json, Router,
    extract::Path,
    http::StatusCode,
    routing::{get, post},
};
use chiso_proto::submission::v1 as pb;

pub use self::types::{DataElement, DataValue, Indicator, Report, SubmitReport};
use super::common::{convert_all, created};
use crate::{
    AppState,
    error::ApiResult,
    extract::{ApiJson, AuthUser},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/reports", post(submit_report))
        .route("/api/v1/reports/{id}", get(get_report))
        .route("/api/v1/data-elements", get(list_data_elements))
        .route("/api/v1/indicators", get(list_indicators))
}

/// Submits the calling agency's report for a period (a new version if one exists).
#[utoipa::path(
    post, path = "/api/v1/reports", tag = "reports",
    request_body = SubmitReport,
    responses(
        (status = 201, body = Report),
        (status = 422, description = "a field is invalid; nothing was stored", body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn submit_report(
    user: AuthUser,
    ApiJson(body): ApiJson<SubmitReport>,
) -> ApiResult<(StatusCode, Json<Report>)> {
    let report = user
        .reports()
        .submit_report(pb::SubmitReportRequest::from(body))
        .await?
        .into_inner();
    Ok(created(report.into()))
}

/// One report version by id.
#[utoipa::path(
    get, path = "/api/v1/reports/{id}", tag = "reports",
    params(("id" = String, Path)),
    responses((status = 200, body = Report), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn get_report(user: AuthUser, Path(id): Path<String>) -> ApiResult<Json<Report>> {
    let report = user
        .reports()
        .get_report(pb::GetReportRequest {
            id,
            ..Default::default()
        })
        .await?
        .into_inner();
    Ok(Json(report.into()))
}

/// The data elements agencies report.
#[utoipa::path(
    get, path = "/api/v1/data-elements", tag = "catalogue",
    responses((status = 200, body = Vec<DataElement>)),
    security(("bearer" = []))
)]
pub async fn list_data_elements(user: AuthUser) -> ApiResult<Json<Vec<DataElement>>> {
    let listed = user
        .catalogue()
        .list_data_elements(pb::ListDataElementsRequest::default())
        .await?
        .into_inner();
    Ok(Json(convert_all(listed.data_elements)))
}

/// The indicators computed from them.
#[utoipa::path(
    get, path = "/api/v1/indicators", tag = "catalogue",
    responses((status = 200, body = Vec<Indicator>)),
    security(("bearer" = []))
)]
pub async fn list_indicators(user: AuthUser) -> ApiResult<Json<Vec<Indicator>>> {
    let listed = user
        .catalogue()
        .list_indicators(pb::ListIndicatorsRequest::default())
        .await?
        .into_inner();
    Ok(Json(convert_all(listed.indicators)))
}
