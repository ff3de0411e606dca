//! `/api/v1/agencies`: the organisation tree and agency credentials.

use axum::{
    Json, Router,
    extract::{Path, Query, State},
    http::StatusCode,
    routing::{get, post},
};
use chiso_proto::registry::v1::{
    self as pb, agency_service_client::AgencyServiceClient,
    credential_service_client::CredentialServiceClient,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    AppState,
    error::{ApiError, ApiResult},
    extract::{ApiJson, AuthUser},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/agencies", post(create_agency).get(list_agencies))
        .route("/api/v1/agencies/{code}", get(get_agency))
        .route(
            "/api/v1/agencies/{code}/credentials",
            post(issue_credentials),
        )
}

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
}

/// Credentials for an agency; the secret is shown only in this answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Credentials {
    pub client_id: String,
    pub client_secret: String,
    pub agency_code: String,
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
    let kind = match body.kind.as_str() {
        "provincial_committee" => pb::AgencyKind::ProvincialCommittee,
        "department" => pb::AgencyKind::Department,
        "district_committee" => pb::AgencyKind::DistrictCommittee,
        "commune_committee" => pb::AgencyKind::CommuneCommittee,
        other => {
            return Err(ApiError::field(
                "kind",
                format!(
                    "`{other}` is not one of provincial_committee, department, district_committee, commune_committee"
                ),
            ));
        }
    };
    let request = user.request(pb::CreateAgencyRequest {
        code: body.code,
        admin_unit_code: body.admin_unit_code.unwrap_or_default(),
        name: body.name,
        name_en: body.name_en.unwrap_or_default(),
        kind: kind.into(),
        parent_code: body.parent_code.unwrap_or_default(),
        valid_from: body.valid_from.unwrap_or_default(),
    })?;
    let agency = AgencyServiceClient::new(state.registry.clone())
        .create_agency(request)
        .await?
        .into_inner();
    Ok((StatusCode::CREATED, Json(agency.into())))
}

/// Lists agencies in Vietnamese alphabetical order.
#[utoipa::path(
    get, path = "/api/v1/agencies", tag = "agencies",
    params(AgencyQuery),
    responses((status = 200, body = Vec<Agency>)),
    security(("bearer" = []))
)]
pub async fn list_agencies(
    State(state): State<AppState>,
    user: AuthUser,
    Query(query): Query<AgencyQuery>,
) -> ApiResult<Json<Vec<Agency>>> {
    let request = user.request(pb::ListAgenciesRequest {
        parent_code: query.parent.unwrap_or_default(),
        province_code: query.province.unwrap_or_default(),
    })?;
    let response = AgencyServiceClient::new(state.registry.clone())
        .list_agencies(request)
        .await?
        .into_inner();
    Ok(Json(
        response.agencies.into_iter().map(Agency::from).collect(),
    ))
}

/// One agency by code.
#[utoipa::path(
    get, path = "/api/v1/agencies/{code}", tag = "agencies",
    params(("code" = String, Path, description = "QCVN 102 agency code")),
    responses((status = 200, body = Agency), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn get_agency(
    State(state): State<AppState>,
    user: AuthUser,
    Path(code): Path<String>,
) -> ApiResult<Json<Agency>> {
    let request = user.request(pb::GetAgencyRequest { code })?;
    let agency = AgencyServiceClient::new(state.registry.clone())
        .get_agency(request)
        .await?
        .into_inner();
    Ok(Json(agency.into()))
}

/// Issues client credentials for an agency (admin). The secret is shown once.
#[utoipa::path(
    post, path = "/api/v1/agencies/{code}/credentials", tag = "agencies",
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
    Ok((
        StatusCode::CREATED,
        Json(Credentials {
            client_id: issued.client_id,
            client_secret: issued.client_secret,
            agency_code: issued.agency_code,
        }),
    ))
}

fn non_empty(s: String) -> Option<String> {
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
