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
mod upload;
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

/// Every agency a `ListAgencies` request selects, all pages.
pub(crate) async fn all_agencies(
    user: &crate::extract::AuthUser,
    request: chiso_proto::registry::v1::ListAgenciesRequest,
) -> crate::error::ApiResult<Vec<chiso_proto::registry::v1::Agency>> {
    let mut agencies = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = user
            .agencies()
            .list_agencies(chiso_proto::registry::v1::ListAgenciesRequest {
                page_size: 1000,
                page_token: page_token.clone(),
                ..request.clone()
            })
            .await?
            .into_inner();
        agencies.extend(page.agencies);
        if page.next_page_token.is_empty() {
            return Ok(agencies);
        }
        page_token = page.next_page_token;
    }
}

/// Each agency's path of codes from its province root to itself (DHIS2's
/// `path`; its length is the unit's `level`).
pub(crate) fn paths(
    agencies: &[chiso_proto::registry::v1::Agency],
) -> std::collections::HashMap<String, Vec<String>> {
    let parent: std::collections::HashMap<&str, &str> = agencies
        .iter()
        .filter(|a| !a.parent_code.is_empty())
        .map(|a| (a.code.as_str(), a.parent_code.as_str()))
        .collect();
    agencies
        .iter()
        .map(|a| {
            let mut chain = vec![a.code.clone()];
            let mut at = a.code.as_str();
            while let Some(p) = parent.get(at) {
                // A cycle cannot come from the registry; stop rather than spin.
                if chain.len() > 16 {
                    break;
                }
                chain.push((*p).to_owned());
                at = p;
            }
            chain.reverse();
            (a.code.clone(), chain)
        })
        .collect()
}
