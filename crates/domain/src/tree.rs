//! The organisation tree over time (cây tổ chức), as a follower of the
//! registry's agency feed keeps it: each agency's versions with their dates.

use chrono::NaiveDate;

use crate::{AdminUnitCode, AgencyCode};

/// Where an agency sat in the tree from `valid_from` until `valid_to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeVersion {
    pub valid_from: NaiveDate,
    /// Exclusive end; `None` for the current version.
    pub valid_to: Option<NaiveDate>,
    /// `None` for a province root.
    pub parent: Option<AgencyCode>,
    pub province: AdminUnitCode,
}

/// An agency's whole history in the tree, oldest version first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgencyHistory {
    pub code: AgencyCode,
    /// Set for People's Committees: the area they govern.
    pub admin_unit: Option<AdminUnitCode>,
    pub versions: Vec<TreeVersion>,
}
