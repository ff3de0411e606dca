//! `/api/v1/registrations`: agencies ask to be registered without a token; a
//! province officer or an admin approves (creating the agency and its
//! credentials) or rejects with a reason.

use std::net::SocketAddr;

use axum::{
    Json, Router,
    extract::{ConnectInfo, Path, Query, State},
    http::StatusCode,
    routing::{get, post},
};
use chiso_proto::registry::v1::{
    self as pb, registration_service_client::RegistrationServiceClient,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    agencies::{Agency, CreateAgency, create_request, non_empty},
    credentials::Credentials,
};
use crate::{
    AppState,
    error::{ApiError, ApiResult},
    extract::{ApiJson, AuthUser},
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

/// Whom to contact about a request.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    pub name: String,
    pub email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// A request to register an agency.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileRegistration {
    /// The agency as it would be registered; `valid_from` is today when absent.
    pub agency: CreateAgency,
    pub contact: Contact,
    #[serde(default)]
    pub note: Option<String>,
}

/// The agency a request describes.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequestedAgency {
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_unit_code: Option<String>,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_en: Option<String>,
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_code: Option<String>,
    pub valid_from: String,
}

/// A registration request and its decision.
#[derive(Debug, Serialize, ToSchema)]
pub struct Registration {
    pub id: String,
    pub agency: RequestedAgency,
    /// The province the agency would join.
    pub province_code: String,
    pub contact: Contact,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// `pending`, `approved` or `rejected`.
    pub status: String,
    pub filed_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    /// Why it was rejected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The client issued on approval.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
}

/// An approved request, the agency it created and its credentials (the
/// secret is shown only here).
#[derive(Debug, Serialize, ToSchema)]
pub struct Approved {
    pub registration: Registration,
    pub agency: Agency,
    pub credentials: Credentials,
}

/// Which requests to list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RegistrationQuery {
    /// `pending` (default), `approved` or `rejected`.
    pub status: Option<String>,
    /// 2-digit province code; an officer sees only their own.
    pub province: Option<String>,
}

/// Why a request is rejected.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rejection {
    pub reason: String,
}

/// Files a registration request. Needs no token; each address may file a
/// few requests an hour (429 beyond that). Checked like a registration, so
/// bad codes, a wrong parent or a taken code are refused at once.
#[utoipa::path(
    post, path = "/api/v1/registrations", tag = "registrations",
    request_body = FileRegistration,
    responses(
        (status = 201, body = Registration),
        (status = 409, description = "the code is taken, retired or already requested", body = crate::error::ErrorBody),
        (status = 422, description = "fields are invalid, each named", body = crate::error::ErrorBody),
        (status = 429, description = "too many requests from this address", body = crate::error::ErrorBody),
    )
)]
pub async fn file_registration(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiJson(body): ApiJson<FileRegistration>,
) -> ApiResult<(StatusCode, Json<Registration>)> {
    let mut request = tonic::Request::new(pb::FileRegistrationRequest {
        agency: Some(create_request(body.agency, "agency")?),
        contact: Some(pb::Contact {
            name: body.contact.name,
            email: body.contact.email,
            phone: body.contact.phone.unwrap_or_default(),
        }),
        note: body.note.unwrap_or_default(),
    });
    // The registry limits requests per address; tell it whose this is.
    let peer = peer
        .ip()
        .to_string()
        .parse()
        .map_err(|e| anyhow::anyhow!("peer address is not a header value: {e}"))?;
    request.metadata_mut().insert("x-forwarded-for", peer);
    let filed = RegistrationServiceClient::new(state.registry.clone())
        .file_registration(request)
        .await?
        .into_inner();
    Ok((StatusCode::CREATED, Json(filed.into())))
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
    State(state): State<AppState>,
    user: AuthUser,
    Query(query): Query<RegistrationQuery>,
) -> ApiResult<Json<Vec<Registration>>> {
    let status = match query.status.as_deref() {
        None | Some("") | Some("pending") => pb::RegistrationStatus::Pending,
        Some("approved") => pb::RegistrationStatus::Approved,
        Some("rejected") => pb::RegistrationStatus::Rejected,
        Some(other) => {
            return Err(ApiError::field(
                "status",
                format!("`{other}` is not one of pending, approved, rejected"),
            ));
        }
    };
    let request = user.request(pb::ListRegistrationsRequest {
        status: status.into(),
        province_code: query.province.unwrap_or_default(),
    })?;
    let found = RegistrationServiceClient::new(state.registry.clone())
        .list_registrations(request)
        .await?
        .into_inner();
    Ok(Json(
        found
            .registrations
            .into_iter()
            .map(Registration::from)
            .collect(),
    ))
}

/// One registration request.
#[utoipa::path(
    get, path = "/api/v1/registrations/{id}", tag = "registrations",
    params(("id" = String, Path, description = "request id")),
    responses((status = 200, body = Registration), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn get_registration(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Registration>> {
    let request = user.request(pb::GetRegistrationRequest { id })?;
    let found = RegistrationServiceClient::new(state.registry.clone())
        .get_registration(request)
        .await?
        .into_inner();
    Ok(Json(found.into()))
}

/// Approves a pending request: registers the agency and issues its
/// credentials in one step. The secret is shown only in this answer.
#[utoipa::path(
    post, path = "/api/v1/registrations/{id}/approve", tag = "registrations",
    params(("id" = String, Path, description = "request id")),
    responses(
        (status = 200, body = Approved),
        (status = 403, description = "another province's request", body = crate::error::ErrorBody),
        (status = 409, description = "already decided, or the code was taken meanwhile", body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn approve_registration(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Approved>> {
    let request = user.request(pb::ApproveRegistrationRequest { id })?;
    let approved = RegistrationServiceClient::new(state.registry.clone())
        .approve_registration(request)
        .await?
        .into_inner();
    Ok(Json(Approved {
        registration: approved.registration.unwrap_or_default().into(),
        agency: approved.agency.unwrap_or_default().into(),
        credentials: approved.credentials.unwrap_or_default().into(),
    }))
}

/// Rejects a pending request with a reason.
#[utoipa::path(
    post, path = "/api/v1/registrations/{id}/reject", tag = "registrations",
    params(("id" = String, Path, description = "request id")),
    request_body = Rejection,
    responses(
        (status = 200, body = Registration),
        (status = 409, description = "already decided", body = crate::error::ErrorBody),
        (status = 422, description = "no reason given", body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn reject_registration(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Rejection>,
) -> ApiResult<Json<Registration>> {
    let request = user.request(pb::RejectRegistrationRequest {
        id,
        reason: body.reason,
    })?;
    let decided = RegistrationServiceClient::new(state.registry.clone())
        .reject_registration(request)
        .await?
        .into_inner();
    Ok(Json(decided.into()))
}

impl From<pb::RegistrationRequest> for Registration {
    fn from(r: pb::RegistrationRequest) -> Self {
        let status = match r.status() {
            pb::RegistrationStatus::Pending => "pending",
            pb::RegistrationStatus::Approved => "approved",
            pb::RegistrationStatus::Rejected => "rejected",
            pb::RegistrationStatus::Unspecified => "unspecified",
        };
        let a = r.agency.unwrap_or_default();
        let kind = Agency::from(pb::Agency {
            kind: a.kind,
            ..Default::default()
        })
        .kind;
        let contact = r.contact.unwrap_or_default();
        Self {
            id: r.id,
            agency: RequestedAgency {
                code: a.code,
                admin_unit_code: non_empty(a.admin_unit_code),
                name: a.name,
                name_en: non_empty(a.name_en),
                kind,
                parent_code: non_empty(a.parent_code),
                valid_from: a.valid_from,
            },
            province_code: r.province_code,
            contact: Contact {
                name: contact.name,
                email: contact.email,
                phone: non_empty(contact.phone),
            },
            note: non_empty(r.note),
            status: status.to_owned(),
            filed_at: r.filed_at,
            decided_at: non_empty(r.decided_at),
            decided_by: non_empty(r.decided_by),
            reason: non_empty(r.reason),
            client_id: non_empty(r.client_id),
        }
    }
}
