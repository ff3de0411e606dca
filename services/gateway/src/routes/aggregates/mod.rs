//! The province's answers: `/api/v1/aggregates` (values and breakdowns),
//! `/api/v1/trends`, `/api/v1/completeness`, `/api/v1/plans`,
//! `/api/v1/attainment`, `/api/v1/rankings` and `/api/v1/exports`.

mod convert;
mod types;

use axum::{
    Json, Router,
    body::Body,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
    routing::get,
};
use chiso_proto::aggregation::v1 as pb;
use futures::StreamExt;

pub use self::types::{
    AgencyAttainment, AgencyRef, Aggregate, AggregateQuery, Attainment, AttainmentQuery, Breakdown,
    Completeness, CompletenessQuery, ExportQuery, IndicatorBasis, InputValue, Plan, PlansQuery,
    RankedIndicatorDefinition, RankingDefinition, RankingQuery, RankingResult, Score, Standing,
    SubIndexBasis, SubIndexDefinition, SubIndexScore, Target, TargetAttainment, TrendPoint,
    TrendQuery,
};
use super::common::convert_all;
use crate::{
    AppState,
    error::{ApiError, ApiResult},
    extract::{ApiPath, ApiQuery, AuthUser},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/aggregates", get(get_aggregate))
        .route("/api/v1/aggregates/breakdown", get(get_breakdown))
        .route("/api/v1/trends", get(get_trend))
        .route("/api/v1/completeness", get(get_completeness))
        .route("/api/v1/plans", get(list_plans))
        .route("/api/v1/plans/{code}", get(get_plan))
        .route("/api/v1/attainment", get(get_attainment))
        .route("/api/v1/rankings", get(list_rankings))
        .route("/api/v1/rankings/{code}", get(get_ranking))
        .route("/api/v1/exports/{kind}", get(export))
}

/// An indicator or a data element over an agency, an area, or a group of
/// agencies inside an area, for a period: exact totals, the value, and how
/// many agencies reported against how many were expected.
#[utoipa::path(
    get, path = "/api/v1/aggregates", tag = "aggregates",
    params(AggregateQuery),
    responses(
        (status = 200, body = Aggregate),
        (status = 403, description = "outside the caller's province, or a group too small for an agency to see", body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn get_aggregate(
    user: AuthUser,
    ApiQuery(query): ApiQuery<AggregateQuery>,
) -> ApiResult<Json<Aggregate>> {
    let aggregate = user
        .aggregation()
        .get_aggregate(query.into_request()?)
        .await?
        .into_inner();
    Ok(Json(aggregate.into()))
}

/// The same question for each child area (`breakdown=child_areas`) or each
/// agency of the group (`breakdown=agencies`): the total and one row each.
#[utoipa::path(
    get, path = "/api/v1/aggregates/breakdown", tag = "aggregates",
    params(AggregateQuery),
    responses((status = 200, body = Breakdown), (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn get_breakdown(
    user: AuthUser,
    ApiQuery(query): ApiQuery<AggregateQuery>,
) -> ApiResult<Json<Breakdown>> {
    let breakdown = user
        .aggregation()
        .get_breakdown(query.into_request()?)
        .await?
        .into_inner();
    Ok(Json(breakdown.into()))
}

/// A series from `from` to `to` with the change from the period before and
/// from the same period a year earlier.
#[utoipa::path(
    get, path = "/api/v1/trends", tag = "aggregates",
    params(TrendQuery),
    responses((status = 200, body = Vec<TrendPoint>), (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn get_trend(
    user: AuthUser,
    ApiQuery(query): ApiQuery<TrendQuery>,
) -> ApiResult<Json<Vec<TrendPoint>>> {
    let trend = user
        .aggregation()
        .get_trend(pb::GetTrendRequest::from(query))
        .await?
        .into_inner();
    Ok(Json(convert_all(trend.points)))
}

/// Completeness and timeliness of a form's reports for a period over an
/// area: expected, received, on time, late, missing and returned, with the
/// agencies in each list and DHIS2's reporting rates.
#[utoipa::path(
    get, path = "/api/v1/completeness", tag = "aggregates",
    params(CompletenessQuery),
    responses((status = 200, body = Completeness), (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn get_completeness(
    user: AuthUser,
    ApiQuery(query): ApiQuery<CompletenessQuery>,
) -> ApiResult<Json<Completeness>> {
    let c = user
        .aggregation()
        .get_completeness(pb::GetCompletenessRequest::from(query))
        .await?
        .into_inner();
    Ok(Json(c.into()))
}

/// Provincial IT plans and their targets.
#[utoipa::path(
    get, path = "/api/v1/plans", tag = "aggregates",
    params(PlansQuery),
    responses((status = 200, body = Vec<Plan>)),
    security(("bearer" = []))
)]
pub async fn list_plans(
    user: AuthUser,
    ApiQuery(query): ApiQuery<PlansQuery>,
) -> ApiResult<Json<Vec<Plan>>> {
    let province = query.province.unwrap_or_default();
    // The aggregation service filters by the text as given; a code that
    // is no administrative unit's is refused like everywhere else.
    if !province.trim().is_empty() {
        chiso_domain::AdminUnitCode::parse(&province)
            .map_err(|e| ApiError::field("province", e.to_string()))?;
    }
    let listed = user
        .aggregation()
        .list_plans(pb::ListPlansRequest { province })
        .await?
        .into_inner();
    Ok(Json(convert_all(listed.plans)))
}

/// One plan.
#[utoipa::path(
    get, path = "/api/v1/plans/{code}", tag = "aggregates",
    params(("code" = String, Path, format = "catalogue-code", example = "quang_ngai_2018", description = "plan code")),
    responses((status = 200, body = Plan), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn get_plan(user: AuthUser, ApiPath(code): ApiPath<String>) -> ApiResult<Json<Plan>> {
    let plan = user
        .aggregation()
        .get_plan(pb::GetPlanRequest { code })
        .await?
        .into_inner();
    Ok(Json(plan.into()))
}

/// A plan's targets against what was reported: met or not, the gap, and
/// the agencies pulling each group below its target.
#[utoipa::path(
    get, path = "/api/v1/attainment", tag = "aggregates",
    params(AttainmentQuery),
    responses((status = 200, body = Attainment), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn get_attainment(
    user: AuthUser,
    ApiQuery(query): ApiQuery<AttainmentQuery>,
) -> ApiResult<Json<Attainment>> {
    let a = user
        .aggregation()
        .get_attainment(pb::GetAttainmentRequest::from(query))
        .await?
        .into_inner();
    Ok(Json(a.into()))
}

/// The ranking methods (docs/RANKING.md).
#[utoipa::path(
    get, path = "/api/v1/rankings", tag = "aggregates",
    responses((status = 200, body = Vec<RankingDefinition>)),
    security(("bearer" = []))
)]
pub async fn list_rankings(user: AuthUser) -> ApiResult<Json<Vec<RankingDefinition>>> {
    let listed = user
        .aggregation()
        .list_rankings(pb::ListRankingsRequest {})
        .await?
        .into_inner();
    Ok(Json(convert_all(listed.rankings)))
}

/// A ranking of a comparison group, with every input and score.
#[utoipa::path(
    get, path = "/api/v1/rankings/{code}", tag = "aggregates",
    params(("code" = String, Path, format = "catalogue-code", example = "district_committees", description = "ranking code"), RankingQuery),
    responses((status = 200, body = RankingResult), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn get_ranking(
    user: AuthUser,
    ApiPath(code): ApiPath<String>,
    ApiQuery(query): ApiQuery<RankingQuery>,
) -> ApiResult<Json<RankingResult>> {
    let r = user
        .aggregation()
        .get_ranking(query.into_request(code))
        .await?
        .into_inner();
    Ok(Json(r.into()))
}

/// Any answer as a file: `aggregates` (a breakdown, or one value),
/// `trends`, `completeness`, `attainment` or `rankings`, as CSV, XLSX, or
/// SDMX-CSV 2.0 (values only). The body streams.
#[utoipa::path(
    get, path = "/api/v1/exports/{kind}", tag = "aggregates",
    params(("kind" = String, Path, format = "export-kind", example = "aggregates", description = "which answer to export"), ExportQuery),
    responses(
        (status = 200, description = "the file, named by `Content-Disposition`", content(
            (String = "text/csv"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (String = "application/vnd.sdmx.data+csv"),
        )),
        (status = 422, body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn export(
    user: AuthUser,
    ApiPath(kind): ApiPath<String>,
    ApiQuery(query): ApiQuery<ExportQuery>,
) -> ApiResult<Response> {
    let request = query.into_request(&kind)?;
    let mut stream = user
        .aggregation_stream()
        .export(request)
        .await?
        .into_inner();
    // The first chunk names the file; reading it first turns a failed
    // answer into a JSON error instead of a broken download.
    let first = stream.message().await?.unwrap_or_default();
    let content_type = HeaderValue::from_str(&first.content_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    let disposition =
        HeaderValue::from_str(&format!("attachment; filename=\"{}\"", first.filename)).map_err(
            |_| ApiError::new(tonic::Code::Internal, "the export has no valid file name"),
        )?;
    let rest = stream.map(|chunk| {
        chunk
            .map(|c| bytes::Bytes::from(c.data))
            .map_err(|status| std::io::Error::other(status.message().to_owned()))
    });
    let body = futures::stream::once(async move { Ok(bytes::Bytes::from(first.data)) }).chain(rest);
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        Body::from_stream(body),
    )
        .into_response())
}
