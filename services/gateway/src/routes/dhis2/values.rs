//! `GET /api/dataValueSets` (JSON, and CSV at `/api/dataValueSets.csv` or
//! with `Accept: text/csv`): the current values of reports, as DHIS2 data
//! values, selected by data set (a chiso form), period (`period=` or
//! `startDate` / `endDate`) and organisation unit (`orgUnit=`, with
//! `children=true` for everything under it).

use std::collections::BTreeSet;

use axum::{
    Json,
    extract::RawQuery,
    http::{HeaderMap, header},
    response::{IntoResponse, Response},
};
use chiso_domain::{PeriodCode, PeriodType, date::parse_date};
use chiso_proto::{registry::v1 as registry, submission::v1 as pb};
use serde_json::{Value, json};

use crate::{
    error::{ApiError, ApiResult},
    extract::AuthUser,
};

/// The selection, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Selection {
    data_sets: Vec<String>,
    periods: Vec<String>,
    range: Option<(chrono::NaiveDate, chrono::NaiveDate)>,
    org_units: Vec<String>,
    children: bool,
}

impl Selection {
    fn parse(raw: Option<String>) -> Result<Self, ApiError> {
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
                // Identifier schemes: chiso's ids are its codes, so uid and
                // code are the same thing here.
                "idScheme" | "dataElementIdScheme" | "orgUnitIdScheme" | "dataSetIdScheme" => {
                    if !matches!(value.to_ascii_lowercase().as_str(), "uid" | "code") {
                        errors.push((key.into_owned(), "must be uid or code".into()));
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
        let mut page_token = String::new();
        loop {
            let page = user
                .agencies()
                .list_agencies(registry::ListAgenciesRequest {
                    subtree_code: unit.clone(),
                    page_size: 1000,
                    page_token: page_token.clone(),
                    ..Default::default()
                })
                .await?
                .into_inner();
            out.extend(page.agencies.into_iter().map(|a| a.code));
            if page.next_page_token.is_empty() {
                break;
            }
            page_token = page.next_page_token;
        }
    }
    Ok(out)
}

fn period_type(raw: i32) -> Option<PeriodType> {
    match pb::PeriodType::try_from(raw).ok()? {
        pb::PeriodType::Yearly => Some(PeriodType::Yearly),
        pb::PeriodType::SixMonthly => Some(PeriodType::SixMonthly),
        pb::PeriodType::Quarterly => Some(PeriodType::Quarterly),
        pb::PeriodType::Monthly => Some(PeriodType::Monthly),
        pb::PeriodType::Unspecified => None,
    }
}

fn instant(t: Option<&prost_types::Timestamp>) -> String {
    t.and_then(|t| chrono::DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32))
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3f").to_string())
        .unwrap_or_default()
}

/// Every selected value, as DHIS2 data values.
async fn values(user: &AuthUser, raw: Option<String>) -> ApiResult<Vec<Value>> {
    let s = Selection::parse(raw)?;
    let units = units(user, &s).await?;
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
                for listed in page
                    .reports
                    .iter()
                    .filter(|r| units.contains(&r.agency_code))
                {
                    let report = user
                        .reports()
                        .get_report(pb::GetReportRequest {
                            id: listed.id.clone(),
                            ..Default::default()
                        })
                        .await?
                        .into_inner();
                    let updated = instant(report.updated_at.as_ref());
                    let created = instant(report.created_at.as_ref());
                    for v in &report.values {
                        out.push(json!({
                            "dataElement": v.data_element,
                            "period": report.period,
                            "orgUnit": report.agency_code,
                            "categoryOptionCombo": "default",
                            "attributeOptionCombo": "default",
                            "value": if v.value == "yes" { "true".into() } else if v.value == "no" { "false".into() } else { v.value.clone() },
                            "storedBy": report.submitted_by,
                            "created": created,
                            "lastUpdated": updated,
                            "followup": false,
                        }));
                    }
                }
                if page.next_page_token.is_empty() {
                    break;
                }
                page_token = page.next_page_token;
            }
        }
    }
    Ok(out)
}

fn wants_csv(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|a| a.to_str().ok())
        .is_some_and(|a| a.contains("text/csv") || a.contains("application/csv"))
}

/// DHIS2's CSV columns for data values.
fn csv_body(values: &[Value]) -> ApiResult<Vec<u8>> {
    let mut out = Vec::new();
    {
        let mut w = csv::Writer::from_writer(&mut out);
        let internal = |e: csv::Error| ApiError::new(tonic::Code::Internal, e.to_string());
        w.write_record([
            "dataelement",
            "period",
            "orgunit",
            "catoptcombo",
            "attroptcombo",
            "value",
            "storedby",
            "lastupdated",
            "comment",
            "followup",
        ])
        .map_err(internal)?;
        for v in values {
            let f = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
            w.write_record([
                f("dataElement"),
                f("period"),
                f("orgUnit"),
                f("categoryOptionCombo"),
                f("attributeOptionCombo"),
                f("value"),
                f("storedBy"),
                f("lastUpdated"),
                String::new(),
                "false".to_owned(),
            ])
            .map_err(internal)?;
        }
        w.flush()
            .map_err(|e| ApiError::new(tonic::Code::Internal, e.to_string()))?;
    }
    Ok(out)
}

pub async fn get_data_value_sets(
    user: AuthUser,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let values = values(&user, raw).await?;
    if wants_csv(&headers) {
        return Ok((
            [(header::CONTENT_TYPE, "application/csv; charset=utf-8")],
            csv_body(&values)?,
        )
            .into_response());
    }
    Ok(Json(json!({ "dataValues": values })).into_response())
}

pub async fn get_data_value_sets_csv(
    user: AuthUser,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let values = values(&user, raw).await?;
    Ok((
        [(header::CONTENT_TYPE, "application/csv; charset=utf-8")],
        csv_body(&values)?,
    )
        .into_response())
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
        assert!(s.range.is_some());
        let err = Selection::parse(Some("startDate=2025-01-01&idScheme=name".into())).unwrap_err();
        assert_eq!(
            err.field_names(),
            ["idScheme", "dataSet", "orgUnit", "period"]
        );
    }
}
