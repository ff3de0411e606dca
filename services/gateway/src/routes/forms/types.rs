//! The REST shapes of report forms, their periods and expected reports.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A report form (biểu mẫu báo cáo; DHIS2: data set).
#[derive(Debug, Serialize, ToSchema)]
pub struct Form {
    /// e.g. `it_application_yearly`.
    pub code: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_en: Option<String>,
    /// `yearly`, `six_monthly`, `quarterly` or `monthly`.
    pub period_type: String,
    /// The first period reported.
    pub opens: String,
    pub sections: Vec<FormSection>,
    pub reporters: Reporters,
    /// `days_after_end:N` or `decree09:DAY` (Decree 09/2019/NĐ-CP).
    pub deadline_rule: String,
    /// Days after the deadline when entry closes; absent when it never does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lock_after_days: Option<u32>,
    pub signature_required: bool,
    pub acceptance_required: bool,
    /// `submitted_or_accepted` or `accepted_only`.
    pub aggregation_basis: String,
}

/// A section of a form.
#[derive(Debug, Serialize, ToSchema)]
pub struct FormSection {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_en: Option<String>,
    pub elements: Vec<FormElement>,
}

/// A data element on a form.
#[derive(Debug, Serialize, ToSchema)]
pub struct FormElement {
    pub data_element: String,
    /// Whether a submitted report must give it.
    pub compulsory: bool,
}

/// Which agencies report a form: any agency matching one of them.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct Reporters {
    /// Agency kinds, e.g. `department`.
    pub kinds: Vec<String>,
    /// `province`, `district` or `commune`.
    pub levels: Vec<String>,
    /// Agency codes.
    pub agencies: Vec<String>,
}

/// A period of a form, with its deadline and lock.
#[derive(Debug, Serialize, ToSchema)]
pub struct Period {
    /// DHIS2 code: `2025`, `2025S1`, `2025Q3`, `202507`.
    pub code: String,
    pub period_type: String,
    /// ISO 8601 dates, both inclusive.
    pub start_date: String,
    pub end_date: String,
    /// Last day on time.
    pub deadline: String,
    /// First locked day; absent when the form never locks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lock_date: Option<String>,
    /// Whether entry is open today.
    pub open: bool,
    /// The days whose data the report covers (Decree 09 shifts them).
    pub data_from: String,
    pub data_to: String,
}

/// Dates bounding a periods list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PeriodsQuery {
    /// The form's first period when absent.
    #[param(format = Date, example = "2025-01-01")]
    pub from: Option<String>,
    /// Today when absent.
    #[param(format = Date, example = "2025-12-31")]
    pub to: Option<String>,
}

/// A form and dates bounding its periods (`GET /api/v1/periods`).
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FormPeriodsQuery {
    #[param(format = "catalogue-code", example = "it_fast_quarterly")]
    pub form: String,
    /// The form's first period when absent.
    #[param(format = Date, example = "2025-01-01")]
    pub from: Option<String>,
    /// Today when absent.
    #[param(format = Date, example = "2025-12-31")]
    pub to: Option<String>,
}

/// Which expected reports to list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExpectedQuery {
    /// A period of the form's type.
    #[param(format = "period-code", example = "2026Q1")]
    pub period: String,
    /// Administrative-unit code of a province; every province when absent
    /// (admins and services only).
    #[param(format = "admin-unit-code", example = "51")]
    pub province: Option<String>,
}

/// The agencies that must report a form for a period, as the organisation
/// tree stood then, and where each report stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExpectedReports {
    pub form: String,
    pub period: String,
    pub deadline: String,
    pub reports: Vec<ExpectedReport>,
}

/// One agency that must report.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExpectedReport {
    pub agency_code: String,
    pub province_code: String,
    /// `missing` when nothing was saved yet, else `draft`, `submitted`,
    /// `accepted` or `returned`.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report_id: Option<String>,
    pub days_late: i32,
}
