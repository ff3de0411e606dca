//! `/api/v1/forms` and `/api/v1/periods`: what agencies report, for which
//! periods, by when, and who must.

mod convert;
mod types;

use axum::{Json, Router, routing::get};
use chiso_proto::submission::v1 as pb;

pub(crate) use self::convert::status_name;
pub use self::types::{
    ExpectedQuery, ExpectedReport, ExpectedReports, Form, FormElement, FormPeriodsQuery,
    FormSection, Period, PeriodsQuery, Reporters,
};
use super::common::{convert_all, unknown_in_path};
use crate::{
    AppState,
    error::{ApiResult, rest_error},
    extract::{ApiPath, ApiQuery, AuthUser},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/forms", get(list_forms))
        .route("/api/v1/forms/{code}", get(get_form))
        .route("/api/v1/forms/{code}/periods", get(list_form_periods))
        .route("/api/v1/forms/{code}/expected", get(list_expected_reports))
        .route("/api/v1/periods", get(list_periods))
}

/// Every report form.
#[utoipa::path(
    get, path = "/api/v1/forms", tag = "forms",
    responses((status = 200, body = Vec<Form>)),
    security(("bearer" = []))
)]
pub async fn list_forms(user: AuthUser) -> ApiResult<Json<Vec<Form>>> {
    let listed = user
        .forms()
        .list_forms(pb::ListFormsRequest {})
        .await?
        .into_inner();
    Ok(Json(convert_all(listed.forms)))
}

/// One report form, with its sections and who reports it.
#[utoipa::path(
    get, path = "/api/v1/forms/{code}", tag = "forms",
    params(("code" = String, Path, format = "catalogue-code", example = "it_fast_quarterly", description = "form code")),
    responses((status = 200, body = Form), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn get_form(user: AuthUser, ApiPath(code): ApiPath<String>) -> ApiResult<Json<Form>> {
    let form = user
        .forms()
        .get_form(pb::GetFormRequest { code })
        .await?
        .into_inner();
    Ok(Json(form.into()))
}

/// The periods of a form between two dates, with their deadlines and locks.
#[utoipa::path(
    get, path = "/api/v1/forms/{code}/periods", tag = "forms",
    params(("code" = String, Path, format = "catalogue-code", example = "it_fast_quarterly", description = "form code"), PeriodsQuery),
    responses(
        (status = 200, body = Vec<Period>),
        (status = 404, body = crate::error::ErrorBody),
        (status = 422, description = "a date is invalid", body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list_form_periods(
    user: AuthUser,
    ApiPath(code): ApiPath<String>,
    ApiQuery(query): ApiQuery<PeriodsQuery>,
) -> ApiResult<Json<Vec<Period>>> {
    let listed = user
        .forms()
        .list_periods(pb::ListPeriodsRequest {
            form: code,
            from: query.from.unwrap_or_default(),
            to: query.to.unwrap_or_default(),
        })
        .await
        .map_err(rest_error(convert::FORM_PATH_NAMES))?
        .into_inner();
    Ok(Json(convert_all(listed.periods)))
}

/// The same as `GET /api/v1/forms/{code}/periods`, with the form as a
/// parameter.
#[utoipa::path(
    get, path = "/api/v1/periods", tag = "forms",
    params(FormPeriodsQuery),
    responses(
        (status = 200, body = Vec<Period>),
        (status = 404, body = crate::error::ErrorBody),
        (status = 422, description = "a parameter is missing or invalid", body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list_periods(
    user: AuthUser,
    ApiQuery(query): ApiQuery<FormPeriodsQuery>,
) -> ApiResult<Json<Vec<Period>>> {
    let listed = user
        .forms()
        .list_periods(pb::ListPeriodsRequest {
            form: query.form,
            from: query.from.unwrap_or_default(),
            to: query.to.unwrap_or_default(),
        })
        .await?
        .into_inner();
    Ok(Json(convert_all(listed.periods)))
}

/// The agencies that must report a form for a period (as the organisation
/// tree stood during it) and where each report stands: the basis of the
/// completeness (tỷ lệ báo cáo đúng hạn) dashboards.
#[utoipa::path(
    get, path = "/api/v1/forms/{code}/expected", tag = "forms",
    params(("code" = String, Path, format = "catalogue-code", example = "it_fast_quarterly", description = "form code"), ExpectedQuery),
    responses(
        (status = 200, body = ExpectedReports),
        (status = 403, description = "another province, or every province without being an admin", body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 422, description = "a parameter is missing or invalid", body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list_expected_reports(
    user: AuthUser,
    ApiPath(code): ApiPath<String>,
    ApiQuery(query): ApiQuery<ExpectedQuery>,
) -> ApiResult<Json<ExpectedReports>> {
    let well_formed = chiso_domain::FormCode::parse(&code).is_ok();
    let expected = user
        .forms()
        .list_expected_reports(pb::ListExpectedReportsRequest {
            form: code,
            period: query.period,
            province_code: query.province.unwrap_or_default(),
        })
        .await
        .map_err(|status| unknown_in_path(status, "form", well_formed))
        .map_err(rest_error(convert::FORM_PATH_NAMES))?
        .into_inner();
    Ok(Json(expected.into()))
}
