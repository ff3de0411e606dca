//! A report as a spreadsheet: `GET /api/v1/reports/{form}/{period}/{agency}/template`
//! downloads the form as an XLSX template (with the report's current values,
//! if any), and `POST` to the same path takes the filled file back through
//! the same validation as any other submission, every bad cell named by its
//! reference (`E12`) and the element's name. Nothing is stored unless all is
//! good; `?draft=true` saves a draft instead of submitting.

pub mod sheet;

use axum::{
    Router,
    body::Bytes,
    extract::DefaultBodyLimit,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use chiso_proto::{registry::v1 as registry, submission::v1 as pb};
use serde::Deserialize;
use tonic::Code;

use self::sheet::Identity;
use crate::{
    AppState,
    config::RequestsConfig,
    error::{ApiError, ApiResult},
    extract::{ApiPath, ApiQuery, AuthUser, WriteHeaders},
    routes::reports::ReportAnswer,
};

pub fn router(limits: &RequestsConfig) -> Router<AppState> {
    Router::new().route(
        "/api/v1/reports/{form}/{period}/{agency}/template",
        get(download)
            .post(upload)
            .layer(DefaultBodyLimit::max(limits.upload_body_bytes)),
    )
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The form as an XLSX template for one agency and period.
#[utoipa::path(
    get, path = "/api/v1/reports/{form}/{period}/{agency}/template", tag = "reports",
    params(
        ("form" = String, Path, format = "catalogue-code", example = "it_fast_quarterly", description = "form code"),
        ("period" = String, Path, format = "period-code", example = "2026Q1", description = "period code of the form's type"),
        ("agency" = String, Path, format = "agency-code", example = "000.00.02.H51", description = "QCVN 102 agency code"),
    ),
    responses(
        (status = 200, description = "the template", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 404, body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn download(
    user: AuthUser,
    ApiPath((form, period, agency)): ApiPath<(String, String, String)>,
) -> ApiResult<Response> {
    let definition = user
        .forms()
        .get_form(pb::GetFormRequest { code: form.clone() })
        .await?
        .into_inner();
    let elements = user
        .catalogue()
        .list_data_elements(pb::ListDataElementsRequest {
            include_retired: true,
        })
        .await?
        .into_inner()
        .data_elements;
    let named = user
        .agencies()
        .get_agency(registry::GetAgencyRequest {
            code: agency.clone(),
            ..Default::default()
        })
        .await?
        .into_inner();
    // The current values, when there is a report: the file then edits it.
    let existing: Vec<(String, String)> = match user
        .reports()
        .get_report(pb::GetReportRequest {
            form: form.clone(),
            period: period.clone(),
            agency_code: agency.clone(),
            ..Default::default()
        })
        .await
    {
        Ok(r) => r
            .into_inner()
            .values
            .into_iter()
            .map(|v| (v.data_element, v.value))
            .collect(),
        Err(status) if status.code() == Code::NotFound => Vec::new(),
        Err(status) => return Err(status.into()),
    };
    let id = Identity {
        form,
        agency,
        period,
    };
    let bytes = sheet::build(&definition, &elements, &id, &named.name, &existing)
        .map_err(|e| ApiError::new(Code::Internal, format!("building the template: {e}")))?;
    let filename = format!("{}_{}_{}.xlsx", id.form, id.period, id.agency);
    Ok((
        [
            (header::CONTENT_TYPE, XLSX.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// How to take a filled template.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// Save as a draft instead of submitting.
    #[param(example = true)]
    pub draft: Option<bool>,
    /// For an officer entering a paper report: the date it was received.
    #[param(format = Date, example = "2026-04-10")]
    pub received_on: Option<String>,
}

/// Takes a filled template back: submitted (or saved as a draft), or
/// refused with every bad cell named.
#[utoipa::path(
    post, path = "/api/v1/reports/{form}/{period}/{agency}/template", tag = "reports",
    params(
        ("form" = String, Path, format = "catalogue-code", example = "it_fast_quarterly", description = "form code"),
        ("period" = String, Path, format = "period-code", example = "2026Q1", description = "period code of the form's type"),
        ("agency" = String, Path, format = "agency-code", example = "000.00.02.H51", description = "QCVN 102 agency code"),
        UploadQuery,
    ),
    request_body(content = Vec<u8>, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    responses(
        (status = 201, body = crate::routes::reports::Report),
        (status = 422, description = "each bad cell named, e.g. `E12`", body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn upload(
    user: AuthUser,
    ApiPath((form, period, agency)): ApiPath<(String, String, String)>,
    ApiQuery(query): ApiQuery<UploadQuery>,
    write: WriteHeaders,
    body: Bytes,
) -> ApiResult<(StatusCode, ReportAnswer)> {
    let filled = sheet::read(&body).map_err(ApiError::fields)?;
    let mut wrong = Vec::new();
    for (reference, stated, wanted, what) in [
        ("B2", &filled.identity.form, &form, "form"),
        ("B3", &filled.identity.agency, &agency, "agency"),
        ("B4", &filled.identity.period, &period, "period"),
    ] {
        if stated != wanted {
            wrong.push((
                reference.to_owned(),
                format!("this file is for {what} `{stated}`, not `{wanted}`: download the template for `{wanted}`"),
            ));
        }
    }
    if !wrong.is_empty() {
        return Err(ApiError::fields(wrong));
    }
    let values: Vec<pb::DataValue> = filled
        .values
        .iter()
        .map(|(code, value, _)| pb::DataValue::new(code.as_str(), value.as_str()))
        .collect();
    let answer = if query.draft.unwrap_or(false) {
        user.reports()
            .save_draft(pb::SaveDraftRequest {
                form,
                period,
                agency_code: agency,
                values,
                if_match: write.if_match,
                request_id: write.request_id,
            })
            .await
    } else {
        user.reports()
            .submit_report(pb::SubmitReportRequest {
                form,
                period,
                agency_code: agency,
                values,
                received_on: query.received_on.unwrap_or_default(),
                if_match: write.if_match,
                request_id: write.request_id,
                ..Default::default()
            })
            .await
    };
    match answer {
        Ok(report) => Ok((StatusCode::CREATED, report.into_inner().into())),
        Err(status) => Err(in_cells(status, &filled)),
    }
}

/// The service's errors named by the cells they are about: `values[3].value`
/// is the fourth value's cell; a compulsory element left empty is named by
/// its own (empty) cell, found from the code in the message.
fn in_cells(status: tonic::Status, filled: &sheet::Filled) -> ApiError {
    if status.code() != Code::InvalidArgument {
        return status.into();
    }
    let violations = chiso_runtime::error::field_violations(&status);
    if violations.is_empty() {
        return status.into();
    }
    let named = violations
        .into_iter()
        .map(|(field, message)| {
            let index = field
                .strip_prefix("values[")
                .and_then(|rest| rest.split(']').next())
                .and_then(|i| i.parse::<usize>().ok());
            if let Some((_, _, reference)) = index.and_then(|i| filled.values.get(i)) {
                return (reference.clone(), message);
            }
            // "`code` is compulsory …": the code's row, whose cell is empty.
            let code = message.split('`').nth(1).unwrap_or_default();
            match filled.cells.iter().find(|(c, _)| c == code) {
                Some((_, reference)) => (reference.clone(), message),
                None => (field, message),
            }
        })
        .collect();
    ApiError::with_fields(
        Code::InvalidArgument,
        "the file has values that cannot be taken",
        named,
    )
}
