//! The REST shapes of `/api/v1/agencies`: what clients send and receive.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

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
    /// QCVN 102:2016 code, `NNN.NN.NN.XNN`.
    #[schema(format = "agency-code", example = "000.00.16.H51")]
    pub code: String,
    /// Administrative-unit code: a People's Committee's own (2 digits for a
    /// province, 3 for a district, 5 for a commune); no other agency has one.
    #[serde(default)]
    #[schema(format = "admin-unit-code")]
    pub admin_unit_code: Option<String>,
    #[schema(format = "name", example = "Sở Khoa học và Công nghệ")]
    pub name: String,
    #[serde(default)]
    #[schema(format = "name", example = "Department of Science and Technology")]
    pub name_en: Option<String>,
    #[schema(format = "agency-kind", example = "department")]
    pub kind: String,
    /// The agency it reports to; every agency but a provincial committee has one.
    #[serde(default)]
    #[schema(format = "agency-code", example = "000.00.00.H51")]
    pub parent_code: Option<String>,
    /// Today when absent.
    #[serde(default)]
    #[schema(format = Date)]
    pub valid_from: Option<String>,
}

/// Filters for listing agencies.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AgencyQuery {
    /// Only direct children of this agency.
    #[param(format = "agency-code", example = "000.00.00.H51")]
    pub parent: Option<String>,
    /// Only agencies of this province.
    #[param(format = "admin-unit-code", example = "51")]
    pub province: Option<String>,
    /// Only this agency and everything under it.
    #[param(format = "agency-code", example = "000.00.00.H51")]
    pub subtree: Option<String>,
    #[param(format = "admin-level", example = "province")]
    pub level: Option<String>,
    #[param(format = "agency-kind", example = "department")]
    pub kind: Option<String>,
    /// Agencies active that day, as they were then; today when absent.
    #[param(format = Date, example = "2025-06-30")]
    pub as_of: Option<String>,
    /// Words of the name, diacritics optional (`binh son` finds `Bình Sơn`), or part of the code.
    #[param(example = "so noi vu")]
    pub q: Option<String>,
    /// At most this many agencies (default 500; 0 is the default).
    #[param(minimum = 0, maximum = 1000, example = 20)]
    pub page_size: Option<i32>,
    /// The `x-next-page-token` header of the previous page.
    #[param(format = "agency-page-token")]
    pub page_token: Option<String>,
    /// Every agency ever registered, retired ones too, in its latest state.
    #[param(example = false)]
    pub include_inactive: Option<bool>,
}

/// Where to resume reading the tree's changes.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ChangesQuery {
    /// The last sequence number applied; 0 (default) for everything.
    #[param(minimum = 0, example = 0)]
    pub after_seq: Option<i64>,
    /// At most this many (default and maximum 1000; 0 is the default).
    #[param(minimum = 0, maximum = 1000, example = 100)]
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
    /// Agencies it handed over to in a merger or split.
    pub successor_codes: Vec<String>,
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
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// Check everything and report what would be created, storing nothing.
    #[param(example = true)]
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
#[into_params(parameter_in = Query)]
pub struct AsOfQuery {
    /// For one agency, its latest record when absent; for a subtree, today.
    #[param(format = Date, example = "2025-06-30")]
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
    /// The day the changes take effect.
    #[schema(format = Date, example = "2025-07-01")]
    pub effective_date: String,
    /// Decision number, e.g. `Nghị quyết 202/2025/QH15`.
    #[schema(format = "name", example = "Nghị quyết 202/2025/QH15")]
    pub legal_basis: String,
    #[serde(default, deserialize_with = "crate::routes::common::optional_text")]
    #[schema(format = "text")]
    pub note: Option<String>,
    #[schema(min_items = 1)]
    pub operations: Vec<Operation>,
}

/// One change of a reorganisation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Operation {
    /// A new name; `name_en` is kept when absent.
    Rename {
        #[schema(format = "agency-code")]
        code: String,
        #[schema(format = "name")]
        name: String,
        #[serde(default)]
        #[schema(format = "name")]
        name_en: Option<String>,
    },
    /// Moves an agency, with everything under it, under another parent.
    Move {
        #[schema(format = "agency-code")]
        code: String,
        #[schema(format = "agency-code")]
        parent_code: String,
    },
    /// Retires the sources and moves their sub-agencies under the successor.
    Merge {
        #[schema(format = "agency-code", min_items = 1)]
        source_codes: Vec<String>,
        into: SuccessorBody,
    },
    /// Retires an agency in favour of several successors.
    Split {
        #[schema(format = "agency-code")]
        code: String,
        #[schema(min_items = 1)]
        into: Vec<SuccessorBody>,
    },
    /// Retires an agency without successor.
    Dissolve {
        #[schema(format = "agency-code")]
        code: String,
    },
}

/// An existing agency or a new one (valid from the effective date).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuccessorBody {
    #[serde(default)]
    #[schema(format = "agency-code")]
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
