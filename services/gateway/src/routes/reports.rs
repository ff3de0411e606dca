//! `/api/v1/reports` and the catalogue: what agencies report.

use axum::{
    Json, Router,
    extract::{Path, State},
    http::StatusCode,
    routing::{get, post},
};
use chiso_proto::submission::v1::{
    self as pb, catalogue_service_client::CatalogueServiceClient,
    report_service_client::ReportServiceClient,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

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

/// One reported count.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DataValue {
    /// Data element code, e.g. `officials`.
    pub data_element: String,
    /// A whole number, zero or more.
    pub value: i64,
}

/// A report for one period.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitReport {
    /// `2018`, `2018S1`, `2018Q3` or `201807`.
    pub period: String,
    pub values: Vec<DataValue>,
}

/// A stored report version.
#[derive(Debug, Serialize, ToSchema)]
pub struct Report {
    pub id: String,
    pub agency_code: String,
    pub province_code: String,
    pub period: String,
    pub version: i32,
    pub status: String,
    pub values: Vec<DataValue>,
    /// RFC 3339 timestamp.
    pub submitted_at: String,
}

/// A raw count agencies report.
#[derive(Debug, Serialize, ToSchema)]
pub struct DataElement {
    pub code: String,
    pub name: String,
    pub name_en: String,
}

/// An indicator: sum(numerator) / sum(denominator) x factor.
#[derive(Debug, Serialize, ToSchema)]
pub struct Indicator {
    pub code: String,
    pub name: String,
    pub name_en: String,
    pub numerator: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub denominator: Option<String>,
    pub factor: f64,
    pub unit: String,
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
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(body): ApiJson<SubmitReport>,
) -> ApiResult<(StatusCode, Json<Report>)> {
    let request = user.request(pb::SubmitReportRequest {
        period: body.period,
        values: body
            .values
            .into_iter()
            .map(|v| pb::DataValue {
                data_element: v.data_element,
                value: v.value,
            })
            .collect(),
    })?;
    let report = ReportServiceClient::new(state.submission.clone())
        .submit_report(request)
        .await?
        .into_inner();
    Ok((StatusCode::CREATED, Json(report.into())))
}

/// One report version by id.
#[utoipa::path(
    get, path = "/api/v1/reports/{id}", tag = "reports",
    params(("id" = String, Path)),
    responses((status = 200, body = Report), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn get_report(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Report>> {
    let request = user.request(pb::GetReportRequest { id })?;
    let report = ReportServiceClient::new(state.submission.clone())
        .get_report(request)
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
pub async fn list_data_elements(
    State(state): State<AppState>,
    user: AuthUser,
) -> ApiResult<Json<Vec<DataElement>>> {
    let response = CatalogueServiceClient::new(state.submission.clone())
        .list_data_elements(user.request(pb::ListDataElementsRequest {})?)
        .await?
        .into_inner();
    Ok(Json(
        response
            .data_elements
            .into_iter()
            .map(|d| DataElement {
                code: d.code,
                name: d.name,
                name_en: d.name_en,
            })
            .collect(),
    ))
}

/// The indicators computed from them.
#[utoipa::path(
    get, path = "/api/v1/indicators", tag = "catalogue",
    responses((status = 200, body = Vec<Indicator>)),
    security(("bearer" = []))
)]
pub async fn list_indicators(
    State(state): State<AppState>,
    user: AuthUser,
) -> ApiResult<Json<Vec<Indicator>>> {
    let response = CatalogueServiceClient::new(state.submission.clone())
        .list_indicators(user.request(pb::ListIndicatorsRequest {})?)
        .await?
        .into_inner();
    Ok(Json(
        response
            .indicators
            .into_iter()
            .map(|i| Indicator {
                code: i.code,
                name: i.name,
                name_en: i.name_en,
                numerator: i.numerator,
                denominator: Some(i.denominator).filter(|d| !d.is_empty()),
                factor: i.factor,
                unit: i.unit,
            })
            .collect(),
    ))
}

impl From<pb::Report> for Report {
    fn from(r: pb::Report) -> Self {
        let submitted_at = r
            .submitted_at
            .and_then(|t| {
                chrono::DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).unwrap_or(0))
            })
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
            .unwrap_or_default();
        Self {
            status: match r.status() {
                pb::ReportStatus::Submitted => "submitted",
                pb::ReportStatus::Unspecified => "unspecified",
            }
            .to_owned(),
            id: r.id,
            agency_code: r.agency_code,
            province_code: r.province_code,
            period: r.period,
            version: r.version,
            values: r
                .values
                .into_iter()
                .map(|v| DataValue {
                    data_element: v.data_element,
                    value: v.value,
                })
                .collect(),
            submitted_at,
        }
    }
}
