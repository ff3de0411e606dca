//! `/api/v1/registrations`: agencies ask to be registered without a token; a
//! province officer or an admin approves (creating the agency and its
//! credentials) or rejects with a reason.

mod convert;
mod types;

use axum::{
    Json, Router,
    extract::State,
    http::StatusCode,
    routing::{get, post},
};
use chiso_proto::registry::v1::{
    self as pb, registration_service_client::RegistrationServiceClient,
};

pub use self::types::{
    Approved, Contact, FileRegistration, Registration, RegistrationQuery, Rejection,
    RequestedAgency,
};
use super::common::{Object, convert_all, created};
use crate::{
    AppState,
    error::{ApiResult, rest_error},
    extract::{ApiJson, ApiPath, ApiQuery, AuthUser, ClientAddress},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/registrations",
            post(file_registration).get(list_registrations),
        )
        .route("/api/v1/registrations/{id}", get(get_registration))
        .route(
            "/api/v1/registrations/{id}/approve",
            post(approve_registration),
        )
        .route(
            "/api/v1/registrations/{id}/reject",
            post(reject_registration),
        )
}

/// Files a registration request. Needs no token; each address may file a
/// few requests an hour (429 with `Retry-After` beyond that). Checked like
/// a registration, so bad codes, a wrong parent or a taken code are refused
/// at once.
#[utoipa::path(
    post, path = "/api/v1/registrations", tag = "registrations",
    request_body(content = FileRegistration, example = json!({
        "agency": {"code": "000.00.32.H51", "name": "Ban Quản lý Khu kinh tế Dung Quất",
                   "kind": "department", "parent_code": "000.00.00.H51"},
        "contact": {"name": "Nguyễn Văn An", "email": "an.nv@quangngai.gov.vn", "phone": "0255 3822 123"},
        "note": "Đăng ký theo Công văn 45/STTTT"
    })),
    responses(
        (status = 201, body = Registration),
        (status = 409, description = "the code is taken, retired or already requested", body = crate::error::ErrorBody),
        (status = 422, description = "fields are invalid, each named", body = crate::error::ErrorBody),
        (status = 429, description = "too many requests from this address", body = crate::error::ErrorBody),
    )
)]
pub async fn file_registration(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    ApiJson(Object(body)): ApiJson<Object<FileRegistration>>,
) -> ApiResult<(StatusCode, Json<Registration>)> {
    state.limits.admit_registration(client)?;
    let mut request = tonic::Request::new(convert::file_request(body)?);
    request.set_timeout(state.requests.call_timeout());
    // The registry limits requests per address too (for callers that reach
    // it directly); tell it whose this is: the client, not the gateway.
    let client = client
        .ok_or_else(|| anyhow::anyhow!("served without connection info"))?
        .to_string()
        .parse()
        .map_err(|e| anyhow::anyhow!("client address is not a header value: {e}"))?;
    request
        .metadata_mut()
        .insert(chiso_runtime::peer::FORWARDED_FOR, client);
    let filed = RegistrationServiceClient::new(state.registry.clone())
        .file_registration(request)
        .await?
        .into_inner();
    Ok(created(filed.into()))
}

/// Registration requests of a province, oldest first (admin, or an officer of
/// that province).
#[utoipa::path(
    get, path = "/api/v1/registrations", tag = "registrations",
    params(RegistrationQuery),
    responses((status = 200, body = Vec<Registration>), (status = 403, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn list_registrations(
    user: AuthUser,
    ApiQuery(query): ApiQuery<RegistrationQuery>,
) -> ApiResult<Json<Vec<Registration>>> {
    let status = convert::parse_status(query.status.as_deref())?;
    let found = user
        .registrations()
        .list_registrations(pb::ListRegistrationsRequest {
            status: status.into(),
            province_code: query.province.unwrap_or_default(),
        })
        .await
        .map_err(rest_error(convert::LIST_NAMES))?
        .into_inner();
    Ok(Json(convert_all(found.registrations)))
}

/// One registration request.
#[utoipa::path(
    get, path = "/api/v1/registrations/{id}", tag = "registrations",
    params(("id" = String, Path, format = Uuid, example = "01a2044d-0156-721e-b613-1e9059ed607b", description = "request id")),
    responses((status = 200, body = Registration), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn get_registration(
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Registration>> {
    let found = user
        .registrations()
        .get_registration(pb::GetRegistrationRequest { id })
        .await?
        .into_inner();
    Ok(Json(found.into()))
}

/// Approves a pending request: registers the agency and issues its
/// credentials in one step. The secret is shown only in this answer.
#[utoipa::path(
    post, path = "/api/v1/registrations/{id}/approve", tag = "registrations",
    params(("id" = String, Path, format = Uuid, example = "01a2044d-0156-721e-b613-1e9059ed607b", description = "request id")),
    responses(
        (status = 200, body = Approved),
        (status = 403, description = "another province's request", body = crate::error::ErrorBody),
        (status = 409, description = "already decided, or the code was taken meanwhile", body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn approve_registration(
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Approved>> {
    let approved = user
        .registrations()
        .approve_registration(pb::ApproveRegistrationRequest { id })
        .await?
        .into_inner();
    Ok(Json(approved.into()))
}

/// Rejects a pending request with a reason.
#[utoipa::path(
    post, path = "/api/v1/registrations/{id}/reject", tag = "registrations",
    params(("id" = String, Path, format = Uuid, example = "01a2044d-0156-721e-b613-1e9059ed607b", description = "request id")),
    request_body(content = Rejection, example = json!({"reason": "Mã cơ quan không đúng QCVN 102"})),
    responses(
        (status = 200, body = Registration),
        (status = 409, description = "already decided", body = crate::error::ErrorBody),
        (status = 422, description = "no reason given", body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn reject_registration(
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(Object(body)): ApiJson<Object<Rejection>>,
) -> ApiResult<Json<Registration>> {
    let decided = user
        .registrations()
        .reject_registration(pb::RejectRegistrationRequest {
            id,
            reason: body.reason,
        })
        .await?
        .into_inner();
    Ok(Json(decided.into()))
}
