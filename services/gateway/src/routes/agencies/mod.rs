//! `/api/v1/agencies`: the organisation tree. Each handler decodes the REST
//! request (`convert`), makes one registry call as the caller, and encodes
//! the answer; the shapes are in `types`.

mod convert;
mod types;

use axum::{
    Json, Router,
    body::Bytes,
    extract::DefaultBodyLimit,
    http::{HeaderMap, StatusCode},
    routing::{get, post},
};
use chiso_proto::registry::v1 as pb;

pub use self::{
    convert::create_request,
    types::{
        Agency, AgencyChange, AgencyChanges, AgencyQuery, AgencyVersion, AsOfQuery, ChangesQuery,
        CreateAgency, ImportError, ImportQuery, ImportSummary, Lineage, LineageLink, Operation,
        Reorganisation, Reorganise, SubtreeNode, SuccessorBody,
    },
};
use super::common::{Object, convert_all, created, next_page};
use crate::{
    AppState,
    config::RequestsConfig,
    error::{ApiResult, rest_error},
    extract::{ApiJson, ApiPath, ApiQuery, AuthUser},
};

pub fn router(limits: &RequestsConfig) -> Router<AppState> {
    Router::new()
        .route("/api/v1/agencies", post(create_agency).get(list_agencies))
        .route("/api/v1/agencies/{code}", get(get_agency))
        .route("/api/v1/agencies/{code}/subtree", get(get_subtree))
        .route("/api/v1/agencies/{code}/lineage", get(get_lineage))
        .route("/api/v1/agencies/reorganisations", post(reorganise))
        .route("/api/v1/agencies/changes", get(list_changes))
        .route(
            "/api/v1/agencies/import",
            post(import_agencies).layer(DefaultBodyLimit::max(limits.import_body_bytes)),
        )
}

/// Registers an agency (admin).
#[utoipa::path(
    post, path = "/api/v1/agencies", tag = "agencies",
    request_body(content = CreateAgency, example = json!({
        "code": "000.00.30.H51", "name": "Ban Quản lý các khu công nghiệp",
        "name_en": "Industrial Zones Authority", "kind": "department",
        "parent_code": "000.00.00.H51"
    })),
    responses(
        (status = 201, body = Agency),
        (status = 409, description = "the code is taken", body = crate::error::ErrorBody),
        (status = 422, description = "a field is invalid", body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn create_agency(
    user: AuthUser,
    ApiJson(Object(body)): ApiJson<Object<CreateAgency>>,
) -> ApiResult<(StatusCode, Json<Agency>)> {
    let agency = user
        .agencies()
        .create_agency(create_request(body, "")?)
        .await?
        .into_inner();
    Ok(created(agency.into()))
}

/// Lists agencies as of a date (today by default) in Vietnamese alphabetical
/// order, a page at a time: when more follow, the `x-next-page-token` header
/// holds the `page_token` of the next page.
#[utoipa::path(
    get, path = "/api/v1/agencies", tag = "agencies",
    params(AgencyQuery),
    responses(
        (status = 200, body = Vec<Agency>, headers(("x-next-page-token" = String, description = "token of the next page, when there is one"))),
        (status = 422, description = "a parameter is invalid", body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list_agencies(
    user: AuthUser,
    ApiQuery(query): ApiQuery<AgencyQuery>,
) -> ApiResult<(HeaderMap, Json<Vec<Agency>>)> {
    let page = user
        .agencies()
        .list_agencies(convert::list_request(query)?)
        .await
        .map_err(rest_error(convert::LIST_NAMES))?
        .into_inner();
    Ok((
        next_page(&page.next_page_token)?,
        Json(convert_all(page.agencies)),
    ))
}

/// One agency by code: its latest record (retired or not), or with `as_of`
/// the name and parent it had that day (404 if it did not exist then).
#[utoipa::path(
    get, path = "/api/v1/agencies/{code}", tag = "agencies",
    params(("code" = String, Path, format = "agency-code", example = "000.00.02.H51", description = "QCVN 102 agency code"), AsOfQuery),
    responses((status = 200, body = Agency), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn get_agency(
    user: AuthUser,
    ApiPath(code): ApiPath<String>,
    ApiQuery(query): ApiQuery<AsOfQuery>,
) -> ApiResult<Json<Agency>> {
    let agency = user
        .agencies()
        .get_agency(pb::GetAgencyRequest {
            code,
            as_of: query.as_of.unwrap_or_default(),
        })
        .await?
        .into_inner();
    Ok(Json(agency.into()))
}

/// An agency and everything under it as of a date (today by default), depth
/// first, each agency's sub-agencies in Vietnamese order.
#[utoipa::path(
    get, path = "/api/v1/agencies/{code}/subtree", tag = "agencies",
    params(("code" = String, Path, format = "agency-code", example = "000.00.02.H51", description = "QCVN 102 agency code"), AsOfQuery),
    responses((status = 200, body = Vec<SubtreeNode>), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn get_subtree(
    user: AuthUser,
    ApiPath(code): ApiPath<String>,
    ApiQuery(query): ApiQuery<AsOfQuery>,
) -> ApiResult<Json<Vec<SubtreeNode>>> {
    let subtree = user
        .agencies()
        .get_subtree(pb::GetSubtreeRequest {
            code,
            as_of: query.as_of.unwrap_or_default(),
        })
        .await?
        .into_inner();
    Ok(Json(convert_all(subtree.nodes)))
}

/// Where an agency came from and what it became, through merges and splits,
/// and its own names and parents over time.
#[utoipa::path(
    get, path = "/api/v1/agencies/{code}/lineage", tag = "agencies",
    params(("code" = String, Path, format = "agency-code", example = "000.00.02.H51", description = "QCVN 102 agency code")),
    responses((status = 200, body = Lineage), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn get_lineage(
    user: AuthUser,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Json<Lineage>> {
    let lineage = user
        .agencies()
        .get_lineage(pb::GetLineageRequest { code })
        .await?
        .into_inner();
    Ok(Json(lineage.into()))
}

/// Records a reorganisation decision (admin, or a province officer for their
/// province): renames, moves, merges, splits and dissolutions on one
/// effective date, applied in order, all or nothing. History is kept: as-of
/// queries before the date still see the old tree.
#[utoipa::path(
    post, path = "/api/v1/agencies/reorganisations", tag = "agencies",
    request_body(content = Reorganise, example = json!({
        "effective_date": "2025-03-01", "legal_basis": "Quyết định 123/QĐ-UBND",
        "operations": [{"type": "rename", "code": "000.00.15.H51", "name": "Sở Khoa học và Công nghệ"}]
    })),
    responses(
        (status = 201, body = Reorganisation),
        (status = 403, description = "outside the caller's province", body = crate::error::ErrorBody),
        (status = 409, description = "a new agency's code is taken or retired", body = crate::error::ErrorBody),
        (status = 422, description = "operations that cannot apply, each named", body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn reorganise(
    user: AuthUser,
    ApiJson(Object(body)): ApiJson<Object<Reorganise>>,
) -> ApiResult<(StatusCode, Json<Reorganisation>)> {
    let recorded = user
        .agencies()
        .reorganise(convert::reorganise_request(body)?)
        .await?
        .into_inner();
    Ok(created(recorded.into()))
}

/// Imports an agency list from a CSV file (UTF-8, header row; columns code,
/// name, kind, and optionally admin_unit_code, name_en, parent_code,
/// valid_from), all or nothing (admin, or an officer for their province).
/// With `dry_run=true` nothing is stored and every problem is listed (200);
/// a commit answers 201, or 422/409 naming every bad cell and storing nothing.
#[utoipa::path(
    post, path = "/api/v1/agencies/import", tag = "agencies",
    params(ImportQuery),
    request_body(content = Option<String>, content_type = "text/csv",
        description = "the agency list; no body is an empty file, which a dry run reports like any other problem",
        example = "code,name,kind,parent_code\n000.00.31.H51,Ban Dân tộc,department,000.00.00.H51\n"),
    responses(
        (status = 200, description = "dry run", body = ImportSummary),
        (status = 201, description = "imported", body = ImportSummary),
        (status = 409, description = "codes taken or retired, each named", body = crate::error::ErrorBody),
        (status = 422, description = "bad rows, each cell named", body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn import_agencies(
    user: AuthUser,
    ApiQuery(query): ApiQuery<ImportQuery>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<ImportSummary>)> {
    let dry_run = query.dry_run.unwrap_or(false);
    let summary = user
        .agencies()
        .import_agencies(pb::ImportAgenciesRequest {
            csv: body.to_vec(),
            dry_run,
        })
        .await?
        .into_inner();
    convert::import_answer(summary, dry_run)
}

/// The tree's changes after `after_seq`, in order (admin or service):
/// the REST view of the `WatchAgencies` stream, for clients that poll.
#[utoipa::path(
    get, path = "/api/v1/agencies/changes", tag = "agencies",
    params(ChangesQuery),
    responses(
        (status = 200, body = AgencyChanges),
        (status = 403, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list_changes(
    user: AuthUser,
    ApiQuery(query): ApiQuery<ChangesQuery>,
) -> ApiResult<Json<AgencyChanges>> {
    let page = user
        .agencies()
        .list_agency_changes(pb::ListAgencyChangesRequest {
            after_seq: query.after_seq.unwrap_or_default(),
            limit: query.limit.unwrap_or_default(),
        })
        .await?
        .into_inner();
    Ok(Json(page.into()))
}
