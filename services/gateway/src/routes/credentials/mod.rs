//! Client credentials: agencies' and province officers', and rotating or
//! revoking any client's secrets.

mod convert;
mod types;

use axum::{Json, Router, http::StatusCode, routing::post};
use chiso_proto::registry::v1 as pb;

use self::convert::{AGENCY_NAMES, OFFICER_LIST_NAMES};
pub use self::types::{
    ClientInfo, Credentials, NewIntegrator, NewOfficer, OfficerQuery, RotateQuery,
};
use super::common::{Object, convert_all, created};
use crate::{
    AppState,
    error::{ApiResult, RestNames, rest_error},
    extract::{ApiJson, ApiPath, ApiQuery, AuthUser},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/agencies/{code}/credentials",
            post(issue_credentials).get(list_agency_credentials),
        )
        .route(
            "/api/v1/officers",
            post(issue_officer_credentials).get(list_officers),
        )
        .route("/api/v1/viewers", post(issue_viewer_credentials))
        .route("/api/v1/integrators", post(issue_integrator_credentials))
        .route(
            "/api/v1/credentials/{client_id}/rotate",
            post(rotate_credentials),
        )
        .route(
            "/api/v1/credentials/{client_id}/revoke",
            post(revoke_credentials),
        )
}

/// Issues client credentials for an agency (admin, or an officer of its
/// province). The secret is shown once.
#[utoipa::path(
    post, path = "/api/v1/agencies/{code}/credentials", tag = "credentials",
    params(("code" = String, Path, format = "agency-code", example = "000.00.02.H51", description = "QCVN 102 agency code")),
    responses((status = 201, body = Credentials), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn issue_credentials(
    user: AuthUser,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<(StatusCode, Json<Credentials>)> {
    let issued = user
        .credentials()
        .issue_credentials(pb::IssueCredentialsRequest { agency_code: code })
        .await
        .map_err(rest_error(AGENCY_NAMES))?
        .into_inner();
    Ok(created(issued.into()))
}

/// Issues credentials for a province officer (admin). The secret is shown once.
#[utoipa::path(
    post, path = "/api/v1/officers", tag = "credentials",
    request_body(content = NewOfficer, example = json!({"province_code": "51", "label": "Phòng Tin học, Sở TT&TT"})),
    responses((status = 201, body = Credentials), (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn issue_officer_credentials(
    user: AuthUser,
    ApiJson(Object(body)): ApiJson<Object<NewOfficer>>,
) -> ApiResult<(StatusCode, Json<Credentials>)> {
    issue_staff(
        &user,
        pb::Role::ProvinceOfficer,
        body.province_code,
        Vec::new(),
        body.label,
    )
    .await
}

/// Issues credentials for a viewer of a province (admin): its leadership,
/// who reads the province's reports and aggregates. The secret is shown once.
#[utoipa::path(
    post, path = "/api/v1/viewers", tag = "credentials",
    request_body(content = NewOfficer, example = json!({"province_code": "51", "label": "Phòng Tin học, Sở TT&TT"})),
    responses((status = 201, body = Credentials), (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn issue_viewer_credentials(
    user: AuthUser,
    ApiJson(Object(body)): ApiJson<Object<NewOfficer>>,
) -> ApiResult<(StatusCode, Json<Credentials>)> {
    issue_staff(
        &user,
        pb::Role::Viewer,
        body.province_code,
        Vec::new(),
        body.label,
    )
    .await
}

/// Issues credentials for an integrator (admin): another government system
/// that reads reports and aggregates of the provinces granted, over REST or
/// gRPC. The secret is shown once.
#[utoipa::path(
    post, path = "/api/v1/integrators", tag = "credentials",
    request_body(content = NewIntegrator, example = json!({"granted_province_codes": ["51"], "label": "Hệ thống báo cáo Chính phủ"})),
    responses((status = 201, body = Credentials), (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn issue_integrator_credentials(
    user: AuthUser,
    ApiJson(Object(body)): ApiJson<Object<NewIntegrator>>,
) -> ApiResult<(StatusCode, Json<Credentials>)> {
    issue_staff(
        &user,
        pb::Role::Integrator,
        String::new(),
        body.granted_province_codes,
        body.label,
    )
    .await
}

async fn issue_staff(
    user: &AuthUser,
    role: pb::Role,
    province_code: String,
    granted_province_codes: Vec<String>,
    label: Option<String>,
) -> ApiResult<(StatusCode, Json<Credentials>)> {
    let issued = user
        .credentials()
        .issue_officer_credentials(pb::IssueOfficerCredentialsRequest {
            province_code,
            label: label.unwrap_or_default(),
            role: role.into(),
            granted_province_codes,
        })
        .await?
        .into_inner();
    Ok(created(issued.into()))
}

/// A province's officers, revoked ones too (admin, or an officer of that province).
#[utoipa::path(
    get, path = "/api/v1/officers", tag = "credentials",
    params(OfficerQuery),
    responses((status = 200, body = Vec<ClientInfo>)),
    security(("bearer" = []))
)]
pub async fn list_officers(
    user: AuthUser,
    ApiQuery(query): ApiQuery<OfficerQuery>,
) -> ApiResult<Json<Vec<ClientInfo>>> {
    let of = pb::ListCredentialsRequest {
        province_code: query.province,
        ..Default::default()
    };
    list(&user, of, OFFICER_LIST_NAMES).await
}

/// An agency's clients, revoked ones too (admin, or an officer of its province).
#[utoipa::path(
    get, path = "/api/v1/agencies/{code}/credentials", tag = "credentials",
    params(("code" = String, Path, format = "agency-code", example = "000.00.02.H51", description = "QCVN 102 agency code")),
    responses((status = 200, body = Vec<ClientInfo>), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn list_agency_credentials(
    user: AuthUser,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Json<Vec<ClientInfo>>> {
    let of = pb::ListCredentialsRequest {
        agency_code: code,
        ..Default::default()
    };
    list(&user, of, AGENCY_NAMES).await
}

/// The clients of an agency or of a province's officers.
async fn list(
    user: &AuthUser,
    of: pb::ListCredentialsRequest,
    names: RestNames,
) -> ApiResult<Json<Vec<ClientInfo>>> {
    let listed = user
        .credentials()
        .list_credentials(of)
        .await
        .map_err(rest_error(names))?
        .into_inner();
    Ok(Json(convert_all(listed.clients)))
}

/// A new secret for a client, shown once; the previous ones keep working for
/// a grace period. The agency itself, an officer of its province or an admin
/// may rotate.
#[utoipa::path(
    post, path = "/api/v1/credentials/{client_id}/rotate", tag = "credentials",
    params(("client_id" = String, Path, format = "client-id", example = "agency-5f0c2b6e8d1a4c3fa7e9b2d4c6a8e0f1", description = "client id"), RotateQuery),
    responses(
        (status = 201, body = Credentials),
        (status = 403, body = crate::error::ErrorBody),
        (status = 409, description = "the client was revoked", body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn rotate_credentials(
    user: AuthUser,
    ApiPath(client_id): ApiPath<String>,
    ApiQuery(query): ApiQuery<RotateQuery>,
) -> ApiResult<(StatusCode, Json<Credentials>)> {
    let issued = user
        .credentials()
        .rotate_credentials(pb::RotateCredentialsRequest {
            client_id,
            grace_period_secs: query.grace_period_secs,
        })
        .await?
        .into_inner();
    Ok(created(issued.into()))
}

/// Ends a client's credentials at once: none of its secrets works again.
#[utoipa::path(
    post, path = "/api/v1/credentials/{client_id}/revoke", tag = "credentials",
    params(("client_id" = String, Path, format = "client-id", example = "agency-5f0c2b6e8d1a4c3fa7e9b2d4c6a8e0f1", description = "client id")),
    responses((status = 200, body = ClientInfo), (status = 403, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn revoke_credentials(
    user: AuthUser,
    ApiPath(client_id): ApiPath<String>,
) -> ApiResult<Json<ClientInfo>> {
    let info = user
        .credentials()
        .revoke_credentials(pb::RevokeCredentialsRequest { client_id })
        .await?
        .into_inner();
    Ok(Json(info.into()))
}
