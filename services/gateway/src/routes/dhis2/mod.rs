//! The DHIS2 Web API at DHIS2's own paths, so scripts and clients written
//! for DHIS2 work against chiso unchanged. chiso's ids are its codes: a
//! data element's, an indicator's, a form's (a DHIS2 data set) and an
//! agency's (a DHIS2 organisation unit). This module serves the read-only
//! metadata: `/api/dataElements`, `/api/indicators`, `/api/dataSets`,
//! `/api/organisationUnits` (lists with `fields`, `filter` and paging, and
//! single items), `/api/me` and `/api/system/info`; and `/api/analytics`,
//! answered by the aggregation service; `/api/dataValueSets`: the
//! reports' current values as DHIS2 data values, and data value sets (JSON
//! or CSV) imported into reports; and `/api/completeDataSetRegistrations`:
//! which reports are submitted and when they were received, and
//! registrations that submit reports.

mod analytics;
mod completions;
mod metadata;
mod query;
pub mod upload;
mod values;

use std::collections::BTreeSet;

use axum::{
    Json, Router,
    extract::DefaultBodyLimit,
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::get,
};
use chiso_domain::{PeriodCode, PeriodType, date::parse_date};
use chiso_proto::{registry::v1 as registry, submission::v1 as pb};
use serde_json::{Value, json};

use crate::{
    AppState,
    config::RequestsConfig,
    error::{ApiError, ApiResult},
    extract::AuthUser,
};

/// The DHIS2 routes. A completion list, like a report, may name many
/// reports; the data value set imports stream their bodies (upload.rs) and
/// bound them there.
pub fn router(limits: &RequestsConfig) -> Router<AppState> {
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
        .route(
            "/api/completeDataSetRegistrations",
            get(completions::get_registrations)
                .post(completions::post_registrations)
                .layer(DefaultBodyLimit::max(limits.report_body_bytes)),
        )
        .route(
            "/api/completeDataSetRegistrations.json",
            get(completions::get_registrations)
                .post(completions::post_registrations)
                .layer(DefaultBodyLimit::max(limits.report_body_bytes)),
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

/// The selection, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Selection {
    data_sets: Vec<String>,
    periods: Vec<String>,
    range: Option<(chrono::NaiveDate, chrono::NaiveDate)>,
    org_units: Vec<String>,
    children: bool,
}

impl Selection {
    /// DHIS2's selection parameters of `/api/dataValueSets` and
    /// `/api/completeDataSetRegistrations`, every bad one named.
    pub(crate) fn parse(raw: Option<String>) -> Result<Self, ApiError> {
        let mut s = Self {
            data_sets: Vec::new(),
            periods: Vec::new(),
            range: None,
            org_units: Vec::new(),
            children: false,
        };
        let (mut start, mut end) = (None, None);
        let mut errors = Vec::new();
        for (key, value) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
            let value = value.into_owned();
            match key.as_ref() {
                "dataSet" => s.data_sets.push(value),
                "period" => s.periods.push(value),
                "orgUnit" => s.org_units.push(value),
                "children" => s.children = value.eq_ignore_ascii_case("true"),
                "startDate" => match parse_date(&value) {
                    Ok(d) => start = Some(d),
                    Err(e) => errors.push(("startDate".to_owned(), e.to_string())),
                },
                "endDate" => match parse_date(&value) {
                    Ok(d) => end = Some(d),
                    Err(e) => errors.push(("endDate".to_owned(), e.to_string())),
                },
                k if is_id_scheme(k) => {
                    if let Some(problem) = id_scheme_problem(&value) {
                        errors.push((k.to_owned(), problem.into()));
                    }
                }
                "includeDeleted" | "paging" => {}
                other => errors.push((
                    other.to_owned(),
                    "is not a parameter here: dataSet, period, startDate, endDate, orgUnit, children, idScheme"
                        .into(),
                )),
            }
        }
        if s.data_sets.is_empty() {
            errors.push(("dataSet".into(), "at least one data set is required".into()));
        }
        if s.org_units.is_empty() {
            errors.push((
                "orgUnit".into(),
                "at least one organisation unit is required".into(),
            ));
        }
        match (start, end) {
            (Some(a), Some(b)) => s.range = Some((a, b)),
            (None, None) if !s.periods.is_empty() => {}
            _ => errors.push((
                "period".into(),
                "give period, or both startDate and endDate".into(),
            )),
        }
        if errors.is_empty() {
            Ok(s)
        } else {
            Err(ApiError::fields(errors))
        }
    }
}

/// The agency codes the selection covers.
async fn units(user: &AuthUser, s: &Selection) -> ApiResult<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    for unit in &s.org_units {
        out.insert(unit.clone());
        if !s.children {
            continue;
        }
        let subtree = all_agencies(
            user,
            registry::ListAgenciesRequest {
                subtree_code: unit.clone(),
                ..Default::default()
            },
        )
        .await?;
        out.extend(subtree.into_iter().map(|a| a.code));
    }
    Ok(out)
}

/// A form's period type off the wire.
pub(crate) fn period_type(raw: i32) -> Option<PeriodType> {
    match pb::PeriodType::try_from(raw).ok()? {
        pb::PeriodType::Yearly => Some(PeriodType::Yearly),
        pb::PeriodType::SixMonthly => Some(PeriodType::SixMonthly),
        pb::PeriodType::Quarterly => Some(PeriodType::Quarterly),
        pb::PeriodType::Monthly => Some(PeriodType::Monthly),
        pb::PeriodType::Unspecified => None,
    }
}

/// The reports the selection covers, as ListReports gives them (current
/// version, without values), data set by data set and period by period.
pub(crate) async fn selected_reports(user: &AuthUser, s: &Selection) -> ApiResult<Vec<pb::Report>> {
    let units = units(user, s).await?;
    let mut out = Vec::new();
    for data_set in &s.data_sets {
        let form = user
            .forms()
            .get_form(pb::GetFormRequest {
                code: data_set.clone(),
            })
            .await?
            .into_inner();
        let periods: Vec<String> = match s.range {
            Some((from, to)) => period_type(form.period_type)
                .map(|t| PeriodCode::between(t, from, to))
                .unwrap_or_default()
                .iter()
                .map(ToString::to_string)
                .collect(),
            None => s.periods.clone(),
        };
        for period in &periods {
            let mut page_token = String::new();
            loop {
                let page = user
                    .reports()
                    .list_reports(pb::ListReportsRequest {
                        form: data_set.clone(),
                        period: period.clone(),
                        page_size: 1000,
                        page_token: page_token.clone(),
                        ..Default::default()
                    })
                    .await?
                    .into_inner();
                out.extend(
                    page.reports
                        .into_iter()
                        .filter(|r| units.contains(&r.agency_code)),
                );
                if page.next_page_token.is_empty() {
                    break;
                }
                page_token = page.next_page_token;
            }
        }
    }
    Ok(out)
}

/// Whether a query parameter is one of DHIS2's identifier schemes.
pub(crate) fn is_id_scheme(key: &str) -> bool {
    matches!(
        key,
        "idScheme"
            | "dataElementIdScheme"
            | "orgUnitIdScheme"
            | "dataSetIdScheme"
            | "attributeOptionComboIdScheme"
    )
}

/// Why an identifier scheme cannot be honoured: chiso's ids are its codes,
/// so `uid` and `code` name the same thing; names and attributes are not
/// ids here.
pub(crate) fn id_scheme_problem(value: &str) -> Option<&'static str> {
    (!matches!(value.to_ascii_lowercase().as_str(), "uid" | "code"))
        .then_some("must be uid or code (the same thing here)")
}

/// DHIS2's import summary for an import of values or of registrations;
/// 409 when nothing was stored because of conflicts. `extra` fields follow
/// the summary's own (`dataSetComplete` for value sets).
pub(crate) fn import_summary(
    summary: pb::ImportSummary,
    import_options: Value,
    extra: &[(&str, Value)],
) -> Response {
    let count = summary.import_count.unwrap_or_default();
    let ok = summary.status == "SUCCESS";
    let mut body = json!({
        "responseType": "ImportSummary",
        "status": summary.status,
        "description": if ok {
            "Import process completed successfully"
        } else {
            "Import was not done: every conflict must be resolved (nothing was stored)"
        },
        "importOptions": import_options,
        "importCount": {
            "imported": count.imported,
            "updated": count.updated,
            "ignored": count.ignored,
            "deleted": count.deleted,
        },
        "conflicts": summary.conflicts.iter().map(|c| json!({
            "object": c.object,
            "value": c.value,
            "indexes": if c.index >= 0 { json!([c.index]) } else { json!([]) },
        })).collect::<Vec<_>>(),
    });
    for (name, value) in extra {
        body[*name] = value.clone();
    }
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::CONFLICT
    };
    (status, Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_selection_needs_a_data_set_periods_and_units() {
        let s = Selection::parse(Some(
            "dataSet=it_fast_quarterly&orgUnit=000.00.00.H51&children=true&startDate=2025-01-01&endDate=2025-12-31&idScheme=CODE".into(),
        ))
        .unwrap();
        assert!(s.children);
        assert_eq!(
            s.range,
            Some((
                parse_date("2025-01-01").unwrap(),
                parse_date("2025-12-31").unwrap()
            ))
        );
        assert_eq!(s.data_sets, ["it_fast_quarterly"]);
        let err = Selection::parse(Some("startDate=2025-01-01&idScheme=name".into())).unwrap_err();
        assert_eq!(
            err.field_names(),
            ["idScheme", "dataSet", "orgUnit", "period"]
        );
    }
}
