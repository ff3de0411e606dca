//! The DHIS2 Web API at DHIS2's own paths, so scripts and clients written
//! for DHIS2 work against chiso unchanged. chiso's ids are its codes: a
//! data element's, an indicator's, a form's (a DHIS2 data set) and an
//! agency's (a DHIS2 organisation unit). This module serves the read-only
//! metadata: `/api/dataElements`, `/api/indicators`, `/api/dataSets`,
//! `/api/organisationUnits` (lists with `fields`, `filter` and paging, and
//! single items), `/api/me` and `/api/system/info`; and `/api/analytics`,
//! answered by the aggregation service; and `/api/dataValueSets`: the
//! reports' current values as DHIS2 data values, and data value sets (JSON
//! or CSV) imported into reports.

mod analytics;
mod metadata;
mod query;
mod values;

use axum::{Router, routing::get};

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/dataElements", get(metadata::list_data_elements))
        .route("/api/dataElements/{id}", get(metadata::get_data_element))
        .route("/api/indicators", get(metadata::list_indicators))
        .route("/api/indicators/{id}", get(metadata::get_indicator))
        .route("/api/dataSets", get(metadata::list_data_sets))
        .route("/api/dataSets/{id}", get(metadata::get_data_set))
        .route(
            "/api/organisationUnits",
            get(metadata::list_organisation_units),
        )
        .route(
            "/api/organisationUnits/{id}",
            get(metadata::get_organisation_unit),
        )
        .route("/api/me", get(metadata::me))
        .route("/api/system/info", get(metadata::system_info))
        .route("/api/analytics", get(analytics::analytics))
        .route("/api/analytics.csv", get(analytics::analytics_csv))
        .route(
            "/api/dataValueSets",
            get(values::get_data_value_sets).post(values::post_data_value_sets),
        )
        .route(
            "/api/dataValueSets.json",
            get(values::get_data_value_sets).post(values::post_data_value_sets),
        )
        .route(
            "/api/dataValues",
            get(values::get_data_value)
                .post(values::post_data_value)
                .delete(values::delete_data_value),
        )
        .route(
            "/api/dataValueSets.csv",
            get(values::get_data_value_sets_csv).post(values::post_data_value_sets_csv),
        )
}

/// Text folded for case- and diacritic-free matching (`ilike`).
pub(crate) fn fold(text: &str) -> String {
    chiso_domain::text::search_key(text)
}
