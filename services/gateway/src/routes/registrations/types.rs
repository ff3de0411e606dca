//! The REST shapes of registration requests.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::routes::{
    agencies::{Agency, CreateAgency},
    credentials::Credentials,
};

/// Whom to contact about a request.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    #[schema(format = "name", example = "Nguyễn Văn An")]
    pub name: String,
    #[schema(format = "contact-email", example = "an.nv@quangngai.gov.vn")]
    pub email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = "phone", example = "0255 3822 123")]
    pub phone: Option<String>,
}

/// A request to register an agency.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileRegistration {
    /// The agency as it would be registered; `valid_from` is today when absent.
    pub agency: CreateAgency,
    pub contact: Contact,
    #[serde(default, deserialize_with = "crate::routes::common::optional_text")]
    #[schema(format = "text")]
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
#[into_params(parameter_in = Query)]
pub struct RegistrationQuery {
    /// `pending` when absent.
    #[param(format = "registration-status", example = "pending")]
    pub status: Option<String>,
    /// Administrative-unit code of a province; an officer sees only their own.
    #[param(format = "admin-unit-code", example = "51")]
    pub province: Option<String>,
}

/// Why a request is rejected.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rejection {
    #[schema(format = "name", example = "Mã cơ quan không đúng QCVN 102")]
    pub reason: String,
}
