//! `/api/v1/reports`, `/api/v1/unlocks` and the audit trails: the report
//! lifecycle over REST. Each handler decodes the request (`convert`), makes
//! one submission-service call as the caller, and encodes the answer.
//!
//! A report is addressed by its id (`/api/v1/reports/{id}`, the same for
//! every version) or by its key, the form, period and agency it is for
//! (`/api/v1/reports/{form}/{period}/{agency}/draft` to save a draft before
//! any id exists, `/api/v1/reports/by-key/{form}/{period}/{agency}` to read).
//!
//! Single-report answers carry the report's etag as a strong `ETag`; writes
//! take it back as `If-Match` (a stale one is a 412 that changes nothing)
//! and an `Idempotency-Key` (a replay returns the first answer).

mod convert;
mod types;

use axum::{
    Json, Router,
    extract::DefaultBodyLimit,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post, put},
};
use chiso_proto::submission::v1 as pb;

use self::convert::{AGENCY_AUDIT, BY_ID, BY_KEY, LIST_NAMES};
pub use self::types::{
    AuditEntry, AuditQuery, DataValue, DataValueInput, Report, ReportsQuery, ReturnBody, Review,
    ReviewBody, ReviseBody, SaveDraft, Signature, SignatureInput, SignatureVerification,
    SubmitDraft, SubmitReport, Unlock, UnlockBody, ValueText, VersionQuery,
};
use super::common::{Object, convert_all, created, next_page};
use crate::{
    AppState,
    config::RequestsConfig,
    error::{ApiResult, rest_error, write_error},
    extract::{ApiJson, ApiPath, ApiQuery, AuthUser, IdempotencyKey, MaybeJson, WriteHeaders},
};

/// The unlock example ends a month from the day the document is built: an
/// unlock must end within 90 days, so no fixed date stays a valid example.
pub struct UnlockExample;

impl utoipa::Modify for UnlockExample {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::RefOr;
        let until = (chrono::Utc::now() + chrono::Days::new(30))
            .date_naive()
            .and_hms_opt(17, 0, 0)
            .map(|t| {
                t.and_utc()
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            });
        let body = openapi
            .paths
            .paths
            .get_mut("/api/v1/unlocks")
            .and_then(|item| item.post.as_mut())
            .and_then(|op| op.request_body.as_mut());
        if let (Some(RefOr::T(body)), Some(until)) = (body, until) {
            for content in body.content.values_mut() {
                if let RefOr::T(content) = content
                    && let Some(serde_json::Value::Object(example)) = content.example.as_mut()
                {
                    example.insert("until".to_owned(), until.clone().into());
                }
            }
        }
    }
}

/// The report routes; a report or draft carries a whole form's values, so
/// its body may be larger than other writes'.
pub fn router(limits: &RequestsConfig) -> Router<AppState> {
    let whole_form = DefaultBodyLimit::max(limits.report_body_bytes);
    Router::new()
        .route(
            "/api/v1/reports",
            post(submit_report).get(list_reports).layer(whole_form),
        )
        .route(
            "/api/v1/reports/{form}/{period}/{agency}/draft",
            put(save_draft).layer(whole_form),
        )
        .route(
            "/api/v1/reports/by-key/{form}/{period}/{agency}",
            get(get_report_by_key),
        )
        .route("/api/v1/reports/{id}", get(get_report))
        .route("/api/v1/reports/{id}/submit", post(submit_draft))
        .route("/api/v1/reports/{id}/accept", post(accept_report))
        .route("/api/v1/reports/{id}/return", post(return_report))
        .route("/api/v1/reports/{id}/revise", post(revise_report))
        .route("/api/v1/reports/{id}/versions", get(list_versions))
        .route("/api/v1/reports/{id}/audit", get(list_report_audit))
        .route("/api/v1/reports/{id}/signature", get(verify_signature))
        .route("/api/v1/agencies/{code}/audit", get(list_agency_audit))
        .route("/api/v1/unlocks", post(unlock_report))
}

/// One report version as an answer: its JSON, with its etag as a strong
/// `ETag` header for the next write's `If-Match`.
pub struct ReportAnswer(pub Report);

impl IntoResponse for ReportAnswer {
    fn into_response(self) -> Response {
        // Etags are the service's own tokens; one that could not be a
        // header value is left off rather than failing the answer.
        let etag = HeaderValue::from_str(&format!("\"{}\"", self.0.etag)).ok();
        let mut response = Json(self.0).into_response();
        if let Some(etag) = etag {
            response.headers_mut().insert(header::ETAG, etag);
        }
        response
    }
}

impl From<pb::Report> for ReportAnswer {
    fn from(report: pb::Report) -> Self {
        Self(report.into())
    }
}

/// Creates or updates the draft of (form, period, agency): partial values,
/// each checked for type, bounds and decimals; compulsory values and rules
/// wait for the submit.
#[utoipa::path(
    put, path = "/api/v1/reports/{form}/{period}/{agency}/draft", tag = "reports",
    params(
        ("form" = String, Path, format = "catalogue-code", example = "it_fast_quarterly", description = "form code"),
        ("period" = String, Path, format = "period-code", example = "2026Q1", description = "period code of the form's type"),
        ("agency" = String, Path, format = "agency-code", example = "000.00.02.H51", description = "QCVN 102 agency code"),
        ("If-Match" = Option<String>, Header, format = "entity-tag", example = "\"1\"", description = "the report's ETag; `*` or absent for none"),
        ("Idempotency-Key" = Option<String>, Header, format = "idempotency-key", example = "b5f1c8e2-7d3a-4f0e-9c61-2a8e4d9f3b70", description = "a replay returns the first answer; at most 128 printable ASCII characters"),
    ),
    request_body(content = SaveDraft, example = json!({"values": [{"data_element": "online_meetings", "value": "3"}]})),
    responses(
        (status = 200, body = Report, headers(("ETag" = String, description = "the new version's etag"))),
        (status = 403, body = crate::error::ErrorBody),
        (status = 409, description = "the report is locked, or not a draft", body = crate::error::ErrorBody),
        (status = 412, description = "If-Match is not the current etag; nothing changed", body = crate::error::ErrorBody),
        (status = 422, description = "values are invalid, each named (`values[3].value`), or the Idempotency-Key was used for another request", body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn save_draft(
    user: AuthUser,
    ApiPath((form, period, agency_code)): ApiPath<(String, String, String)>,
    write: WriteHeaders,
    ApiJson(Object(body)): ApiJson<Object<SaveDraft>>,
) -> ApiResult<ReportAnswer> {
    let report = user
        .reports()
        .save_draft(pb::SaveDraftRequest {
            form,
            period,
            agency_code,
            values: convert::values(body.values),
            if_match: write.if_match,
            request_id: write.request_id,
        })
        .await
        .map_err(write_error(BY_KEY))?
        .into_inner();
    Ok(report.into())
}

/// Submits (form, period, agency): with `values`, they replace the draft's
/// first (one call from nothing to submitted); without, the saved draft.
/// Every compulsory value must be there and every rule hold (all failures
/// named at once); the signature is checked where the form needs one.
#[utoipa::path(
    post, path = "/api/v1/reports", tag = "reports",
    params(
        ("If-Match" = Option<String>, Header, format = "entity-tag", example = "\"1\"", description = "the report's ETag; `*` or absent for none"),
        ("Idempotency-Key" = Option<String>, Header, format = "idempotency-key", example = "b5f1c8e2-7d3a-4f0e-9c61-2a8e4d9f3b70", description = "a replay returns the first answer; at most 128 printable ASCII characters"),
    ),
    request_body(content = SubmitReport, example = json!({
        "form": "it_fast_quarterly", "period": "2026Q1", "agency_code": "000.00.02.H51",
        "values": [
            {"data_element": "documents_sent", "value": "120"},
            {"data_element": "documents_sent_electronic", "value": "114"},
            {"data_element": "documents_signed_digitally", "value": "100"},
            {"data_element": "documents_to_higher_levels", "value": "10"},
            {"data_element": "documents_to_higher_levels_electronic", "value": "10"},
            {"data_element": "online_meetings", "value": "3"}
        ]
    })),
    responses(
        (status = 201, description = "the submitted version", body = Report, headers(("ETag" = String, description = "the submitted version's etag"))),
        (status = 403, body = crate::error::ErrorBody),
        (status = 409, description = "the report is locked or already submitted", body = crate::error::ErrorBody),
        (status = 412, description = "If-Match is not the current etag; nothing changed", body = crate::error::ErrorBody),
        (status = 422, description = "values, rules or the signature fail, each named (`values[0].value`, `signature.key_id`); or the Idempotency-Key was used for another request", body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn submit_report(
    user: AuthUser,
    write: WriteHeaders,
    ApiJson(Object(body)): ApiJson<Object<SubmitReport>>,
) -> ApiResult<(StatusCode, ReportAnswer)> {
    let report = user
        .reports()
        .submit_report(convert::submit_request(body, write))
        .await
        .map_err(write_error(&[]))?
        .into_inner();
    // Each submit makes a submitted version: a new record, hence 201.
    Ok((StatusCode::CREATED, report.into()))
}

/// Submits a saved draft, signed where the form needs it.
#[utoipa::path(
    post, path = "/api/v1/reports/{id}/submit", tag = "reports",
    params(
        ("id" = String, Path, format = Uuid, example = "01a2044d-0156-721e-b613-1e9059ed607b", description = "report id"),
        ("If-Match" = Option<String>, Header, format = "entity-tag", example = "\"1\"", description = "the draft's ETag; `*` or absent for none"),
        ("Idempotency-Key" = Option<String>, Header, format = "idempotency-key", example = "b5f1c8e2-7d3a-4f0e-9c61-2a8e4d9f3b70", description = "a replay returns the first answer; at most 128 printable ASCII characters"),
    ),
    request_body(content = Option<SubmitDraft>, description = "may be left out when the form needs no signature",
        example = json!({})),
    responses(
        (status = 200, body = Report, headers(("ETag" = String, description = "the submitted version's etag"))),
        (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "the report is locked or not a draft", body = crate::error::ErrorBody),
        (status = 412, description = "If-Match is not the current etag; nothing changed", body = crate::error::ErrorBody),
        (status = 422, description = "compulsory values, rules or the signature fail, each named", body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn submit_draft(
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
    write: WriteHeaders,
    MaybeJson(Object(body)): MaybeJson<Object<SubmitDraft>>,
) -> ApiResult<ReportAnswer> {
    // The service submits by key: the id only tells which key. A draft
    // changed in between is caught by If-Match, not by this read.
    let draft = user
        .reports()
        .get_report(pb::GetReportRequest {
            id,
            ..Default::default()
        })
        .await
        .map_err(rest_error(BY_ID))?
        .into_inner();
    let request = convert::submit_draft_request(draft, body.signature, body.received_on, write);
    let report = user
        .reports()
        .submit_report(request)
        .await
        .map_err(write_error(&[]))?
        .into_inner();
    Ok(report.into())
}

/// Accepts a submitted report (a province officer of its province, or an admin).
#[utoipa::path(
    post, path = "/api/v1/reports/{id}/accept", tag = "reports",
    params(
        ("id" = String, Path, format = Uuid, example = "01a2044d-0156-721e-b613-1e9059ed607b", description = "report id"),
        ("If-Match" = Option<String>, Header, format = "entity-tag", example = "\"1\"", description = "the report's ETag; `*` or absent for none"),
        ("Idempotency-Key" = Option<String>, Header, format = "idempotency-key", example = "b5f1c8e2-7d3a-4f0e-9c61-2a8e4d9f3b70", description = "a replay returns the first answer; at most 128 printable ASCII characters"),
    ),
    request_body(content = Option<ReviewBody>, description = "an optional comment",
        example = json!({"comment": "Số liệu khớp với báo cáo giấy"})),
    responses(
        (status = 200, body = Report, headers(("ETag" = String))),
        (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "the report is not submitted", body = crate::error::ErrorBody),
        (status = 412, description = "If-Match is not the current etag; nothing changed", body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn accept_report(
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
    write: WriteHeaders,
    MaybeJson(Object(body)): MaybeJson<Object<ReviewBody>>,
) -> ApiResult<ReportAnswer> {
    let report = user
        .reports()
        .accept_report(review_request(id, body, write))
        .await
        .map_err(write_error(BY_ID))?
        .into_inner();
    Ok(report.into())
}

/// Returns a submitted or accepted report to its agency, with a comment
/// (a province officer of its province, or an admin).
#[utoipa::path(
    post, path = "/api/v1/reports/{id}/return", tag = "reports",
    params(
        ("id" = String, Path, format = Uuid, example = "01a2044d-0156-721e-b613-1e9059ed607b", description = "report id"),
        ("If-Match" = Option<String>, Header, format = "entity-tag", example = "\"1\"", description = "the report's ETag; `*` or absent for none"),
        ("Idempotency-Key" = Option<String>, Header, format = "idempotency-key", example = "b5f1c8e2-7d3a-4f0e-9c61-2a8e4d9f3b70", description = "a replay returns the first answer; at most 128 printable ASCII characters"),
    ),
    request_body(content = ReturnBody, example = json!({"comment": "Số văn bản điện tử lớn hơn tổng số văn bản đi"})),
    responses(
        (status = 200, body = Report, headers(("ETag" = String))),
        (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "the report is neither submitted nor accepted", body = crate::error::ErrorBody),
        (status = 412, description = "If-Match is not the current etag; nothing changed", body = crate::error::ErrorBody),
        (status = 422, description = "the comment is missing", body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn return_report(
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
    write: WriteHeaders,
    MaybeJson(Object(body)): MaybeJson<Object<ReturnBody>>,
) -> ApiResult<ReportAnswer> {
    let body = ReviewBody {
        comment: Some(body.comment),
    };
    let report = user
        .reports()
        .return_report(review_request(id, body, write))
        .await
        .map_err(write_error(BY_ID))?
        .into_inner();
    Ok(report.into())
}

fn review_request(id: String, body: ReviewBody, write: WriteHeaders) -> pb::ReviewReportRequest {
    pb::ReviewReportRequest {
        report_id: id,
        comment: body.comment.unwrap_or_default(),
        if_match: write.if_match,
        request_id: write.request_id,
    }
}

/// Starts a new version of a submitted, accepted or returned report: a
/// draft copying the current values. Every version stays readable.
#[utoipa::path(
    post, path = "/api/v1/reports/{id}/revise", tag = "reports",
    params(
        ("id" = String, Path, format = Uuid, example = "01a2044d-0156-721e-b613-1e9059ed607b", description = "report id"),
        ("If-Match" = Option<String>, Header, format = "entity-tag", example = "\"1\"", description = "the report's ETag; `*` or absent for none"),
        ("Idempotency-Key" = Option<String>, Header, format = "idempotency-key", example = "b5f1c8e2-7d3a-4f0e-9c61-2a8e4d9f3b70", description = "a replay returns the first answer; at most 128 printable ASCII characters"),
    ),
    request_body(content = Option<ReviseBody>, description = "an optional reason",
        example = json!({"reason": "Bổ sung số liệu quý"})),
    responses(
        (status = 200, body = Report, headers(("ETag" = String))),
        (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "the report is a draft, or locked", body = crate::error::ErrorBody),
        (status = 412, description = "If-Match is not the current etag; nothing changed", body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn revise_report(
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
    write: WriteHeaders,
    MaybeJson(Object(body)): MaybeJson<Object<ReviseBody>>,
) -> ApiResult<ReportAnswer> {
    let report = user
        .reports()
        .revise_report(pb::ReviseReportRequest {
            report_id: id,
            reason: body.reason.unwrap_or_default(),
            if_match: write.if_match,
            request_id: write.request_id,
        })
        .await
        .map_err(write_error(BY_ID))?
        .into_inner();
    Ok(report.into())
}

/// Lets an agency change its locked report until a stated instant (a
/// province officer of its province, or an admin; at most 90 days ahead).
#[utoipa::path(
    post, path = "/api/v1/unlocks", tag = "reports",
    params(("Idempotency-Key" = Option<String>, Header, format = "idempotency-key", example = "b5f1c8e2-7d3a-4f0e-9c61-2a8e4d9f3b70", description = "a replay returns the first answer; at most 128 printable ASCII characters")),
    request_body(content = UnlockBody, example = json!({
        "form": "it_application_yearly", "period": "2024", "agency_code": "000.00.02.H51",
        "reason": "Bổ sung số liệu theo yêu cầu của Sở", "until": "2030-01-31T17:00:00Z"
    })),
    responses(
        (status = 201, body = Unlock),
        (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 422, description = "fields are invalid, each named", body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn unlock_report(
    user: AuthUser,
    IdempotencyKey(request_id): IdempotencyKey,
    ApiJson(Object(body)): ApiJson<Object<UnlockBody>>,
) -> ApiResult<(StatusCode, Json<Unlock>)> {
    let unlock = user
        .reports()
        .unlock_report(convert::unlock_request(body, request_id))
        .await
        .map_err(write_error(&[]))?
        .into_inner();
    Ok(created(unlock.into()))
}

/// One report by id: its current version, or with `version` a past one.
#[utoipa::path(
    get, path = "/api/v1/reports/{id}", tag = "reports",
    params(("id" = String, Path, format = Uuid, example = "01a2044d-0156-721e-b613-1e9059ed607b", description = "report id"), VersionQuery),
    responses(
        (status = 200, body = Report, headers(("ETag" = String))),
        (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 422, description = "a parameter is invalid", body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn get_report(
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<VersionQuery>,
) -> ApiResult<ReportAnswer> {
    let report = user
        .reports()
        .get_report(pb::GetReportRequest {
            id,
            version: query.version.unwrap_or_default(),
            ..Default::default()
        })
        .await
        .map_err(rest_error(BY_ID))?
        .into_inner();
    Ok(report.into())
}

/// The report of (form, period, agency): its current version, or with
/// `version` a past one.
#[utoipa::path(
    get, path = "/api/v1/reports/by-key/{form}/{period}/{agency}", tag = "reports",
    params(
        ("form" = String, Path, format = "catalogue-code", example = "it_fast_quarterly", description = "form code"),
        ("period" = String, Path, format = "period-code", example = "2026Q1", description = "period code of the form's type"),
        ("agency" = String, Path, format = "agency-code", example = "000.00.02.H51", description = "QCVN 102 agency code"),
        VersionQuery,
    ),
    responses(
        (status = 200, body = Report, headers(("ETag" = String))),
        (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 422, description = "a code or parameter is invalid", body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn get_report_by_key(
    user: AuthUser,
    ApiPath((form, period, agency_code)): ApiPath<(String, String, String)>,
    ApiQuery(query): ApiQuery<VersionQuery>,
) -> ApiResult<ReportAnswer> {
    let report = user
        .reports()
        .get_report(pb::GetReportRequest {
            id: String::new(),
            form,
            period,
            agency_code,
            version: query.version.unwrap_or_default(),
        })
        .await
        .map_err(rest_error(BY_KEY))?
        .into_inner();
    Ok(report.into())
}

/// Reports the caller may see, without their values, a page at a time:
/// when more follow, the `x-next-page-token` header holds the next
/// `page_token`.
#[utoipa::path(
    get, path = "/api/v1/reports", tag = "reports",
    params(ReportsQuery),
    responses(
        (status = 200, body = Vec<Report>, headers(("x-next-page-token" = String, description = "token of the next page, when there is one"))),
        (status = 422, description = "a parameter is invalid", body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list_reports(
    user: AuthUser,
    ApiQuery(query): ApiQuery<ReportsQuery>,
) -> ApiResult<(HeaderMap, Json<Vec<Report>>)> {
    let page = user
        .reports()
        .list_reports(convert::list_request(query)?)
        .await
        .map_err(rest_error(LIST_NAMES))?
        .into_inner();
    Ok((
        next_page(&page.next_page_token)?,
        Json(convert_all(page.reports)),
    ))
}

/// Every version of a report, oldest first, with its values.
#[utoipa::path(
    get, path = "/api/v1/reports/{id}/versions", tag = "reports",
    params(("id" = String, Path, format = Uuid, example = "01a2044d-0156-721e-b613-1e9059ed607b", description = "report id")),
    responses(
        (status = 200, body = Vec<Report>),
        (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list_versions(
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Vec<Report>>> {
    let listed = user
        .reports()
        .list_report_versions(pb::ListReportVersionsRequest { report_id: id })
        .await
        .map_err(rest_error(BY_ID))?
        .into_inner();
    Ok(Json(convert_all(listed.versions)))
}

/// The audit trail of a report, oldest first: who changed it, when, from
/// which address, in which request, and what changed.
#[utoipa::path(
    get, path = "/api/v1/reports/{id}/audit", tag = "reports",
    params(("id" = String, Path, format = Uuid, example = "01a2044d-0156-721e-b613-1e9059ed607b", description = "report id"), AuditQuery),
    responses(
        (status = 200, body = Vec<AuditEntry>, headers(("x-next-page-token" = String, description = "token of the next page, when there is one"))),
        (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 422, description = "a parameter is invalid", body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list_report_audit(
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> ApiResult<(HeaderMap, Json<Vec<AuditEntry>>)> {
    let request = pb::ListAuditEntriesRequest {
        report_id: id,
        agency_code: String::new(),
        page_size: query.page_size.unwrap_or_default(),
        page_token: query.page_token.unwrap_or_default(),
    };
    audit(&user, request, BY_ID).await
}

/// The audit trail of every report of an agency, oldest first.
#[utoipa::path(
    get, path = "/api/v1/agencies/{code}/audit", tag = "reports",
    params(("code" = String, Path, format = "agency-code", example = "000.00.02.H51", description = "QCVN 102 agency code"), AuditQuery),
    responses(
        (status = 200, body = Vec<AuditEntry>, headers(("x-next-page-token" = String, description = "token of the next page, when there is one"))),
        (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 422, description = "a parameter is invalid", body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list_agency_audit(
    user: AuthUser,
    ApiPath(code): ApiPath<String>,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> ApiResult<(HeaderMap, Json<Vec<AuditEntry>>)> {
    let request = pb::ListAuditEntriesRequest {
        report_id: String::new(),
        agency_code: code,
        page_size: query.page_size.unwrap_or_default(),
        page_token: query.page_token.unwrap_or_default(),
    };
    audit(&user, request, AGENCY_AUDIT).await
}

async fn audit(
    user: &AuthUser,
    request: pb::ListAuditEntriesRequest,
    names: crate::error::RestNames,
) -> ApiResult<(HeaderMap, Json<Vec<AuditEntry>>)> {
    let page = user
        .reports()
        .list_audit_entries(request)
        .await
        .map_err(rest_error(names))?
        .into_inner();
    Ok((
        next_page(&page.next_page_token)?,
        Json(convert_all(page.entries)),
    ))
}

/// Checks a report's stored signature again, against the key as it stood
/// when the report was signed: a report signed before its key was revoked
/// still verifies. Answers 200 with `valid: false` and the reason when it
/// does not verify.
#[utoipa::path(
    get, path = "/api/v1/reports/{id}/signature", tag = "reports",
    params(("id" = String, Path, format = Uuid, example = "01a2044d-0156-721e-b613-1e9059ed607b", description = "report id"), VersionQuery),
    responses(
        (status = 200, body = SignatureVerification),
        (status = 403, body = crate::error::ErrorBody),
        (status = 404, description = "no such report, or it is not signed", body = crate::error::ErrorBody),
        (status = 422, description = "a parameter is invalid", body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn verify_signature(
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<VersionQuery>,
) -> ApiResult<Json<SignatureVerification>> {
    let verification = user
        .reports()
        .verify_signature(pb::VerifySignatureRequest {
            report_id: id,
            version: query.version.unwrap_or_default(),
        })
        .await
        .map_err(rest_error(BY_ID))?
        .into_inner();
    Ok(Json(verification.into()))
}
