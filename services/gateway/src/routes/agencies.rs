//! `/api/v1/agencies`: the organisation tree and agency credentials.

use axum::{
    Json, Router,
    body::Bytes,
    extract::{DefaultBodyLimit, Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode},
    routing::{get, post},
};
use chiso_proto::registry::v1::{
    self as pb, agency_service_client::AgencyServiceClient,
    credential_service_client::CredentialServiceClient,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::credentials::Credentials;
use crate::{
    AppState,
    error::{ApiError, ApiResult},
    extract::{ApiJson, AuthUser},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/agencies", post(create_agency).get(list_agencies))
        .route("/api/v1/agencies/{code}", get(get_agency))
        .route("/api/v1/agencies/{code}/subtree", get(get_subtree))
        .route("/api/v1/agencies/{code}/lineage", get(get_lineage))
        .route(
            "/api/v1/agencies/{code}/credentials",
            post(issue_credentials).get(super::credentials::list_agency_credentials),
        )
        .route("/api/v1/agencies/reorganisations", post(reorganise))
        .route("/api/v1/agencies/changes", get(list_changes))
        .route(
            "/api/v1/agencies/import",
            post(import_agencies).layer(DefaultBodyLimit::max(MAX_IMPORT_BYTES)),
        )
}

/// Largest CSV file an import accepts.
const MAX_IMPORT_BYTES: usize = 4 * 1024 * 1024;

/// Response header carrying the token of the next page of a list.
pub const NEXT_PAGE_HEADER: &str = "x-next-page-token";

/// An agency: a People's Committee or a department.
#[derive(Debug, Serialize, ToSchema)]
pub struct Agency {
    /// QCVN 102:2016 identifier, e.g. `000.00.00.H51`.
    pub code: String,
    /// Administrative-unit code for People's Committees (2, 3 or 5 digits).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_unit_code: Option<String>,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_en: Option<String>,
    /// `provincial_committee`, `department`, `district_committee` or `commune_committee`.
    pub kind: String,
    /// `province`, `district` or `commune`.
    pub level: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_code: Option<String>,
    pub province_code: String,
    pub valid_from: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_to: Option<String>,
}

/// A new agency.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAgency {
    pub code: String,
    #[serde(default)]
    pub admin_unit_code: Option<String>,
    pub name: String,
    #[serde(default)]
    pub name_en: Option<String>,
    /// `provincial_committee`, `department`, `district_committee` or `commune_committee`.
    pub kind: String,
    #[serde(default)]
    pub parent_code: Option<String>,
    /// `YYYY-MM-DD`; today when absent.
    #[serde(default)]
    pub valid_from: Option<String>,
}

/// Filters for listing agencies.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AgencyQuery {
    /// Only direct children of this agency.
    pub parent: Option<String>,
    /// Only agencies of this province (2-digit code).
    pub province: Option<String>,
    /// Only this agency and everything under it.
    pub subtree: Option<String>,
    /// `province`, `district` or `commune`.
    pub level: Option<String>,
    /// `provincial_committee`, `department`, `district_committee` or `commune_committee`.
    pub kind: Option<String>,
    /// `YYYY-MM-DD`: agencies active that day, as they were then; today when absent.
    pub as_of: Option<String>,
    /// Words of the name, diacritics optional (`binh son` finds `Bình Sơn`), or part of the code.
    pub q: Option<String>,
    /// At most this many agencies (default 500, at most 1000).
    pub page_size: Option<i32>,
    /// The `x-next-page-token` header of the previous page.
    pub page_token: Option<String>,
    /// Every agency ever registered, retired ones too, in its latest state.
    pub include_inactive: Option<bool>,
}

/// Where to resume reading the tree's changes.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ChangesQuery {
    /// The last sequence number applied; 0 (default) for everything.
    pub after_seq: Option<i64>,
    /// At most this many (default and maximum 1000).
    pub limit: Option<i32>,
}

/// One change of the tree: the agency's latest record and whole history;
/// applying changes in `seq` order keeps a copy of the tree current.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgencyChange {
    pub seq: i64,
    pub agency: Agency,
    /// Every version, oldest first.
    pub versions: Vec<AgencyVersion>,
}

/// A page of changes.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgencyChanges {
    pub changes: Vec<AgencyChange>,
    /// The last sequence number committed when the page was read.
    pub head_seq: i64,
}

/// How to import.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// Check everything and report what would be created, storing nothing.
    pub dry_run: Option<bool>,
}

/// One problem of an import.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportError {
    /// `lines[5].parent_code` (line numbers as a spreadsheet shows them, the
    /// header being line 1), or `file`.
    pub field: String,
    /// 0 for the file as a whole.
    pub line: i64,
    pub message: String,
    /// The value clashes with stored data (a code taken or retired).
    pub conflict: bool,
}

/// What an import did, or would do.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportSummary {
    /// Data rows read.
    pub rows: i32,
    /// Agencies created, or that a commit would create, in file order.
    pub created: Vec<Agency>,
    /// Every problem, in line order (a dry run reports them here; a commit
    /// with problems answers 422, or 409 when every problem is a taken code,
    /// naming them instead).
    pub errors: Vec<ImportError>,
    pub committed: bool,
}

/// A date to look at the tree on.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AsOfQuery {
    /// `YYYY-MM-DD`; for one agency, its latest record when absent; for a subtree, today.
    pub as_of: Option<String>,
}

/// One agency of a subtree.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubtreeNode {
    /// 0 for the requested agency, 1 for its sub-agencies, and so on.
    pub depth: i32,
    pub agency: Agency,
}

/// A reorganisation decision: the changes it makes, applied in order, all or nothing.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reorganise {
    /// `YYYY-MM-DD` the changes take effect.
    pub effective_date: String,
    /// Decision number, e.g. `Nghị quyết 202/2025/QH15`.
    pub legal_basis: String,
    #[serde(default)]
    pub note: Option<String>,
    pub operations: Vec<Operation>,
}

/// One change of a reorganisation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Operation {
    /// A new name; `name_en` is kept when absent.
    Rename {
        code: String,
        name: String,
        #[serde(default)]
        name_en: Option<String>,
    },
    /// Moves an agency, with everything under it, under another parent.
    Move { code: String, parent_code: String },
    /// Retires the sources and moves their sub-agencies under the successor.
    Merge {
        source_codes: Vec<String>,
        into: SuccessorBody,
    },
    /// Retires an agency in favour of several successors.
    Split {
        code: String,
        into: Vec<SuccessorBody>,
    },
    /// Retires an agency without successor.
    Dissolve { code: String },
}

/// An existing agency or a new one (valid from the effective date).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuccessorBody {
    #[serde(default)]
    pub existing_code: Option<String>,
    #[serde(default)]
    pub new_agency: Option<CreateAgency>,
}

/// A predecessor handed over to a successor.
#[derive(Debug, Serialize, ToSchema)]
pub struct LineageLink {
    pub predecessor_code: String,
    pub successor_code: String,
    /// `merge` or `split`.
    pub kind: String,
    pub effective_date: String,
    pub legal_basis: String,
    pub reorganisation_id: i64,
}

/// A recorded reorganisation and its effect.
#[derive(Debug, Serialize, ToSchema)]
pub struct Reorganisation {
    pub id: i64,
    pub effective_date: String,
    pub legal_basis: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub recorded_by: String,
    pub created: Vec<Agency>,
    pub changed: Vec<Agency>,
    pub retired: Vec<Agency>,
    pub links: Vec<LineageLink>,
}

/// One span of an agency's life with the same name, parent and province.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgencyVersion {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_en: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_code: Option<String>,
    pub province_code: String,
    pub valid_from: String,
    /// Exclusive; absent for the current version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_to: Option<String>,
    /// The reorganisation that started this version; absent for registration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reorganisation_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub legal_basis: Option<String>,
}

/// Where an agency came from, what it became, and its own history.
#[derive(Debug, Serialize, ToSchema)]
pub struct Lineage {
    pub agency: Agency,
    pub predecessors: Vec<LineageLink>,
    pub successors: Vec<LineageLink>,
    pub history: Vec<AgencyVersion>,
    /// The latest record of each agency the links name.
    pub related: Vec<Agency>,
}

/// Registers an agency (admin).
#[utoipa::path(
    post, path = "/api/v1/agencies", tag = "agencies",
    request_body = CreateAgency,
    responses(
        (status = 201, body = Agency),
        (status = 409, description = "the code is taken", body = crate::error::ErrorBody),
        (status = 422, description = "a field is invalid", body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn create_agency(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(body): ApiJson<CreateAgency>,
) -> ApiResult<(StatusCode, Json<Agency>)> {
    let request = user.request(create_request(body, "")?)?;
    let agency = AgencyServiceClient::new(state.registry.clone())
        .create_agency(request)
        .await?
        .into_inner();
    Ok((StatusCode::CREATED, Json(agency.into())))
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
    State(state): State<AppState>,
    user: AuthUser,
    Query(query): Query<AgencyQuery>,
) -> ApiResult<(HeaderMap, Json<Vec<Agency>>)> {
    let mut invalid = Vec::new();
    let level = match query.level.as_deref() {
        None | Some("") => pb::AdminLevel::Unspecified,
        Some("province") => pb::AdminLevel::Province,
        Some("district") => pb::AdminLevel::District,
        Some("commune") => pb::AdminLevel::Commune,
        Some(other) => {
            invalid.push((
                "level".to_owned(),
                format!("`{other}` is not one of province, district, commune"),
            ));
            pb::AdminLevel::Unspecified
        }
    };
    let kind = match query.kind.as_deref() {
        None | Some("") => pb::AgencyKind::Unspecified,
        Some(kind) => parse_kind("kind", kind).unwrap_or_else(|_| {
            invalid.push(("kind".to_owned(), kind_message(kind)));
            pb::AgencyKind::Unspecified
        }),
    };
    if !invalid.is_empty() {
        return Err(ApiError::fields(invalid));
    }
    let request = user.request(pb::ListAgenciesRequest {
        parent_code: query.parent.unwrap_or_default(),
        province_code: query.province.unwrap_or_default(),
        subtree_code: query.subtree.unwrap_or_default(),
        level: level.into(),
        kind: kind.into(),
        as_of: query.as_of.unwrap_or_default(),
        query: query.q.unwrap_or_default(),
        page_size: query.page_size.unwrap_or_default(),
        page_token: query.page_token.unwrap_or_default(),
        include_inactive: query.include_inactive.unwrap_or_default(),
    })?;
    let response = AgencyServiceClient::new(state.registry.clone())
        .list_agencies(request)
        .await?
        .into_inner();
    let mut headers = HeaderMap::new();
    if !response.next_page_token.is_empty() {
        let value = HeaderValue::from_str(&response.next_page_token)
            .map_err(|e| anyhow::anyhow!("page token is not a header value: {e}"))?;
        headers.insert(NEXT_PAGE_HEADER, value);
    }
    Ok((
        headers,
        Json(response.agencies.into_iter().map(Agency::from).collect()),
    ))
}

/// An agency and everything under it as of a date (today by default), depth
/// first, each agency's sub-agencies in Vietnamese order.
#[utoipa::path(
    get, path = "/api/v1/agencies/{code}/subtree", tag = "agencies",
    params(("code" = String, Path, description = "QCVN 102 agency code"), AsOfQuery),
    responses((status = 200, body = Vec<SubtreeNode>), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn get_subtree(
    State(state): State<AppState>,
    user: AuthUser,
    Path(code): Path<String>,
    Query(query): Query<AsOfQuery>,
) -> ApiResult<Json<Vec<SubtreeNode>>> {
    let request = user.request(pb::GetSubtreeRequest {
        code,
        as_of: query.as_of.unwrap_or_default(),
    })?;
    let response = AgencyServiceClient::new(state.registry.clone())
        .get_subtree(request)
        .await?
        .into_inner();
    Ok(Json(
        response
            .nodes
            .into_iter()
            .map(|n| SubtreeNode {
                depth: n.depth,
                agency: n.agency.unwrap_or_default().into(),
            })
            .collect(),
    ))
}

/// Where an agency came from and what it became, through merges and splits,
/// and its own names and parents over time.
#[utoipa::path(
    get, path = "/api/v1/agencies/{code}/lineage", tag = "agencies",
    params(("code" = String, Path, description = "QCVN 102 agency code")),
    responses((status = 200, body = Lineage), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn get_lineage(
    State(state): State<AppState>,
    user: AuthUser,
    Path(code): Path<String>,
) -> ApiResult<Json<Lineage>> {
    let request = user.request(pb::GetLineageRequest { code })?;
    let l = AgencyServiceClient::new(state.registry.clone())
        .get_lineage(request)
        .await?
        .into_inner();
    Ok(Json(Lineage {
        agency: l.agency.unwrap_or_default().into(),
        predecessors: l.predecessors.into_iter().map(LineageLink::from).collect(),
        successors: l.successors.into_iter().map(LineageLink::from).collect(),
        history: l.history.into_iter().map(AgencyVersion::from).collect(),
        related: l.related.into_iter().map(Agency::from).collect(),
    }))
}

/// Records a reorganisation decision (admin, or a province officer for their
/// province): renames, moves, merges, splits and dissolutions on one
/// effective date, applied in order, all or nothing. History is kept: as-of
/// queries before the date still see the old tree.
#[utoipa::path(
    post, path = "/api/v1/agencies/reorganisations", tag = "agencies",
    request_body = Reorganise,
    responses(
        (status = 201, body = Reorganisation),
        (status = 403, description = "outside the caller's province", body = crate::error::ErrorBody),
        (status = 409, description = "a new agency's code is taken or retired", body = crate::error::ErrorBody),
        (status = 422, description = "operations that cannot apply, each named", body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn reorganise(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(body): ApiJson<Reorganise>,
) -> ApiResult<(StatusCode, Json<Reorganisation>)> {
    use pb::reorganisation_operation::Operation as Op;
    let mut operations = Vec::with_capacity(body.operations.len());
    for (i, op) in body.operations.into_iter().enumerate() {
        let prefix = format!("operations[{i}]");
        let op = match op {
            Operation::Rename {
                code,
                name,
                name_en,
            } => Op::Rename(pb::RenameOperation {
                code,
                name,
                name_en: name_en.unwrap_or_default(),
            }),
            Operation::Move { code, parent_code } => {
                Op::Move(pb::MoveOperation { code, parent_code })
            }
            Operation::Merge { source_codes, into } => Op::Merge(pb::MergeOperation {
                source_codes,
                into: Some(successor(into, &format!("{prefix}.into"))?),
            }),
            Operation::Split { code, into } => Op::Split(pb::SplitOperation {
                code,
                into: into
                    .into_iter()
                    .enumerate()
                    .map(|(j, s)| successor(s, &format!("{prefix}.into[{j}]")))
                    .collect::<ApiResult<_>>()?,
            }),
            Operation::Dissolve { code } => Op::Dissolve(pb::DissolveOperation { code }),
        };
        operations.push(pb::ReorganisationOperation {
            operation: Some(op),
        });
    }
    let request = user.request(pb::ReorganiseRequest {
        effective_date: body.effective_date,
        legal_basis: body.legal_basis,
        note: body.note.unwrap_or_default(),
        operations,
    })?;
    let r = AgencyServiceClient::new(state.registry.clone())
        .reorganise(request)
        .await?
        .into_inner();
    Ok((
        StatusCode::CREATED,
        Json(Reorganisation {
            id: r.id,
            effective_date: r.effective_date,
            legal_basis: r.legal_basis,
            note: non_empty(r.note),
            recorded_by: r.recorded_by,
            created: r.created.into_iter().map(Agency::from).collect(),
            changed: r.changed.into_iter().map(Agency::from).collect(),
            retired: r.retired.into_iter().map(Agency::from).collect(),
            links: r.links.into_iter().map(LineageLink::from).collect(),
        }),
    ))
}

/// Imports an agency list from a CSV file (UTF-8, header row; columns code,
/// name, kind, and optionally admin_unit_code, name_en, parent_code,
/// valid_from), all or nothing (admin, or an officer for their province).
/// With `dry_run=true` nothing is stored and every problem is listed (200);
/// a commit answers 201, or 422/409 naming every bad cell and storing nothing.
#[utoipa::path(
    post, path = "/api/v1/agencies/import", tag = "agencies",
    params(ImportQuery),
    request_body(content = String, content_type = "text/csv", description = "the agency list"),
    responses(
        (status = 200, description = "dry run", body = ImportSummary),
        (status = 201, description = "imported", body = ImportSummary),
        (status = 409, description = "codes taken or retired, each named", body = crate::error::ErrorBody),
        (status = 422, description = "bad rows, each cell named", body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn import_agencies(
    State(state): State<AppState>,
    user: AuthUser,
    Query(query): Query<ImportQuery>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<ImportSummary>)> {
    let dry_run = query.dry_run.unwrap_or(false);
    let request = user.request(pb::ImportAgenciesRequest {
        csv: body.to_vec(),
        dry_run,
    })?;
    let summary = AgencyServiceClient::new(state.registry.clone())
        .import_agencies(request)
        .await?
        .into_inner();
    if !dry_run && !summary.committed {
        // Nothing was stored: answer like any rejected request, naming every cell.
        let code = if summary.errors.iter().all(|e| e.conflict) {
            tonic::Code::AlreadyExists
        } else {
            tonic::Code::InvalidArgument
        };
        let message = format!(
            "nothing imported: {} problems in {} rows",
            summary.errors.len(),
            summary.rows
        );
        let violations = summary
            .errors
            .into_iter()
            .map(|e| (e.field, e.message))
            .collect();
        return Err(ApiError::with_fields(code, message, violations));
    }
    let status = if summary.committed {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(ImportSummary {
            rows: summary.rows,
            created: summary.created.into_iter().map(Agency::from).collect(),
            errors: summary
                .errors
                .into_iter()
                .map(|e| ImportError {
                    field: e.field,
                    line: e.line,
                    message: e.message,
                    conflict: e.conflict,
                })
                .collect(),
            committed: summary.committed,
        }),
    ))
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
    State(state): State<AppState>,
    user: AuthUser,
    Query(query): Query<ChangesQuery>,
) -> ApiResult<Json<AgencyChanges>> {
    let request = user.request(pb::ListAgencyChangesRequest {
        after_seq: query.after_seq.unwrap_or_default(),
        limit: query.limit.unwrap_or_default(),
    })?;
    let page = AgencyServiceClient::new(state.registry.clone())
        .list_agency_changes(request)
        .await?
        .into_inner();
    Ok(Json(AgencyChanges {
        changes: page
            .changes
            .into_iter()
            .map(|c| AgencyChange {
                seq: c.seq,
                agency: c.agency.unwrap_or_default().into(),
                versions: c.versions.into_iter().map(AgencyVersion::from).collect(),
            })
            .collect(),
        head_seq: page.head_seq,
    }))
}

fn successor(body: SuccessorBody, prefix: &str) -> ApiResult<pb::Successor> {
    use pb::successor::Target;
    let target = match (body.existing_code, body.new_agency) {
        (Some(code), None) => Target::ExistingCode(code),
        (None, Some(new)) => {
            Target::NewAgency(create_request(new, &format!("{prefix}.new_agency"))?)
        }
        _ => {
            return Err(ApiError::field(
                prefix,
                "give exactly one of existing_code and new_agency",
            ));
        }
    };
    Ok(pb::Successor {
        target: Some(target),
    })
}

/// The kind named by a string, or a 422 naming `field`.
fn parse_kind(field: &str, kind: &str) -> ApiResult<pb::AgencyKind> {
    match kind {
        "provincial_committee" => Ok(pb::AgencyKind::ProvincialCommittee),
        "department" => Ok(pb::AgencyKind::Department),
        "district_committee" => Ok(pb::AgencyKind::DistrictCommittee),
        "commune_committee" => Ok(pb::AgencyKind::CommuneCommittee),
        other => Err(ApiError::field(field, kind_message(other))),
    }
}

fn kind_message(kind: &str) -> String {
    format!(
        "`{kind}` is not one of provincial_committee, department, district_committee, commune_committee"
    )
}

/// The gRPC request for a new agency; errors are named under `prefix`.
pub fn create_request(body: CreateAgency, prefix: &str) -> ApiResult<pb::CreateAgencyRequest> {
    let kind_field = if prefix.is_empty() {
        "kind".to_owned()
    } else {
        format!("{prefix}.kind")
    };
    let kind = parse_kind(&kind_field, &body.kind)?;
    Ok(pb::CreateAgencyRequest {
        code: body.code,
        admin_unit_code: body.admin_unit_code.unwrap_or_default(),
        name: body.name,
        name_en: body.name_en.unwrap_or_default(),
        kind: kind.into(),
        parent_code: body.parent_code.unwrap_or_default(),
        valid_from: body.valid_from.unwrap_or_default(),
    })
}

/// One agency by code: its latest record (retired or not), or with `as_of`
/// the name and parent it had that day (404 if it did not exist then).
#[utoipa::path(
    get, path = "/api/v1/agencies/{code}", tag = "agencies",
    params(("code" = String, Path, description = "QCVN 102 agency code"), AsOfQuery),
    responses((status = 200, body = Agency), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn get_agency(
    State(state): State<AppState>,
    user: AuthUser,
    Path(code): Path<String>,
    Query(query): Query<AsOfQuery>,
) -> ApiResult<Json<Agency>> {
    let request = user.request(pb::GetAgencyRequest {
        code,
        as_of: query.as_of.unwrap_or_default(),
    })?;
    let agency = AgencyServiceClient::new(state.registry.clone())
        .get_agency(request)
        .await?
        .into_inner();
    Ok(Json(agency.into()))
}

/// Issues client credentials for an agency (admin, or an officer of its
/// province). The secret is shown once.
#[utoipa::path(
    post, path = "/api/v1/agencies/{code}/credentials", tag = "credentials",
    params(("code" = String, Path, description = "QCVN 102 agency code")),
    responses((status = 201, body = Credentials), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn issue_credentials(
    State(state): State<AppState>,
    user: AuthUser,
    Path(code): Path<String>,
) -> ApiResult<(StatusCode, Json<Credentials>)> {
    let request = user.request(pb::IssueCredentialsRequest { agency_code: code })?;
    let issued = CredentialServiceClient::new(state.registry.clone())
        .issue_credentials(request)
        .await?
        .into_inner();
    Ok((StatusCode::CREATED, Json(issued.into())))
}

pub(crate) fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

impl From<pb::Agency> for Agency {
    fn from(a: pb::Agency) -> Self {
        let kind = match a.kind() {
            pb::AgencyKind::ProvincialCommittee => "provincial_committee",
            pb::AgencyKind::Department => "department",
            pb::AgencyKind::DistrictCommittee => "district_committee",
            pb::AgencyKind::CommuneCommittee => "commune_committee",
            pb::AgencyKind::Unspecified => "unspecified",
        };
        let level = match a.level() {
            pb::AdminLevel::Province => "province",
            pb::AdminLevel::District => "district",
            pb::AdminLevel::Commune => "commune",
            pb::AdminLevel::Unspecified => "unspecified",
        };
        Self {
            kind: kind.to_owned(),
            level: level.to_owned(),
            code: a.code,
            admin_unit_code: non_empty(a.admin_unit_code),
            name: a.name,
            name_en: non_empty(a.name_en),
            parent_code: non_empty(a.parent_code),
            province_code: a.province_code,
            valid_from: a.valid_from,
            valid_to: non_empty(a.valid_to),
        }
    }
}

impl From<pb::LineageLink> for LineageLink {
    fn from(l: pb::LineageLink) -> Self {
        let kind = match l.kind() {
            pb::LineageKind::Merge => "merge",
            pb::LineageKind::Split => "split",
            pb::LineageKind::Unspecified => "unspecified",
        };
        Self {
            kind: kind.to_owned(),
            predecessor_code: l.predecessor_code,
            successor_code: l.successor_code,
            effective_date: l.effective_date,
            legal_basis: l.legal_basis,
            reorganisation_id: l.reorganisation_id,
        }
    }
}

impl From<pb::AgencyVersion> for AgencyVersion {
    fn from(h: pb::AgencyVersion) -> Self {
        Self {
            name: h.name,
            name_en: non_empty(h.name_en),
            parent_code: non_empty(h.parent_code),
            province_code: h.province_code,
            valid_from: h.valid_from,
            valid_to: non_empty(h.valid_to),
            reorganisation_id: (h.reorganisation_id != 0).then_some(h.reorganisation_id),
            legal_basis: non_empty(h.legal_basis),
        }
    }
}
