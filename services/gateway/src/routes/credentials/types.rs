//! The REST shapes of client credentials.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Client credentials; the secret is shown only in this answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Credentials {
    pub client_id: String,
    pub client_secret: String,
    /// The agency the client acts for; absent for an officer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agency_code: Option<String>,
    /// `agency_reporter`, `province_officer`, `viewer` or `integrator`.
    pub role: String,
    /// The province an officer or a viewer acts in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub province_code: Option<String>,
    /// The provinces an integrator reads.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub granted_province_codes: Vec<String>,
    /// After a rotation: when the previous secrets stop working (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_secret_expires_at: Option<String>,
}

/// A client, without its secrets.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientInfo {
    pub client_id: String,
    /// `agency_reporter`, `province_officer`, `viewer` or `integrator`.
    pub role: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agency_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub province_code: Option<String>,
    /// The provinces an integrator reads.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub granted_province_codes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
    /// Secrets that work now (two during a rotation's grace period).
    pub active_secrets: i32,
}

/// Credentials for an officer of a province.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOfficer {
    /// Administrative-unit code of the province.
    #[schema(format = "province-code", example = "51")]
    pub province_code: String,
    /// Whom the credentials are for.
    #[serde(default)]
    #[schema(format = "name", example = "Phòng Tin học, Sở TT&TT")]
    pub label: Option<String>,
}

/// Credentials for another government system that reads (an integrator).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewIntegrator {
    /// Administrative-unit codes of the provinces it may read.
    #[schema(format = "province-code", min_items = 1, example = json!(["51"]))]
    pub granted_province_codes: Vec<String>,
    /// Which system the credentials are for.
    #[serde(default)]
    #[schema(format = "name", example = "Hệ thống báo cáo Chính phủ")]
    pub label: Option<String>,
}

/// Whose officers to list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OfficerQuery {
    /// Administrative-unit code of the province.
    #[param(format = "province-code", example = "51")]
    pub province: String,
}

/// How long the previous secrets keep working.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RotateQuery {
    /// Seconds, at most 30 days; the configured grace period when absent, 0
    /// to end them now.
    #[param(minimum = 0, maximum = 2592000, example = 3600)]
    pub grace_period_secs: Option<i64>,
}
