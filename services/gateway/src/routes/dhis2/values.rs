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

use super::upload;
use crate::{
    error::{ApiError, ApiResult},
    extract::{AuthUser, IdempotencyKey},
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
        let subtree = super::all_agencies(
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

// ---------------------------------------------------------------- imports

/// The import options DHIS2 takes as query parameters.
#[derive(Debug, Clone, Default)]
struct ImportOptions {
    dry_run: bool,
    strategy: pb::ImportStrategy,
    strategy_name: String,
}

impl ImportOptions {
    fn parse(raw: Option<String>) -> Result<Self, ApiError> {
        let mut o = Self {
            strategy: pb::ImportStrategy::CreateAndUpdate,
            strategy_name: "CREATE_AND_UPDATE".into(),
            ..Default::default()
        };
        for (key, value) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
            match key.as_ref() {
                "dryRun" => o.dry_run = value.eq_ignore_ascii_case("true"),
                "importStrategy" | "strategy" => {
                    o.strategy = match value.to_ascii_uppercase().as_str() {
                        "CREATE" => pb::ImportStrategy::Create,
                        "UPDATE" => pb::ImportStrategy::Update,
                        "CREATE_AND_UPDATE" | "NEW_AND_UPDATES" => {
                            pb::ImportStrategy::CreateAndUpdate
                        }
                        "DELETE" | "DELETES" => pb::ImportStrategy::Delete,
                        other => {
                            return Err(ApiError::field(
                                "importStrategy",
                                format!(
                                    "`{other}` is not an import strategy: CREATE, UPDATE, CREATE_AND_UPDATE or DELETE"
                                ),
                            ));
                        }
                    };
                    o.strategy_name = value.to_ascii_uppercase();
                }
                "idScheme" | "dataElementIdScheme" | "orgUnitIdScheme" | "dataSetIdScheme" => {
                    if !matches!(value.to_ascii_lowercase().as_str(), "uid" | "code") {
                        return Err(ApiError::field(
                            key.as_ref(),
                            "must be uid or code (the same thing here)",
                        ));
                    }
                }
                // Accepted for DHIS2 clients; chiso always imports synchronously and audits.
                "preheatCache" | "skipExistingCheck" | "skipAudit" | "format"
                | "firstRowIsHeader" | "async" => {}
                other => {
                    return Err(ApiError::field(
                        other,
                        "is not a parameter here: dryRun, importStrategy, idScheme, dataElementIdScheme, orgUnitIdScheme",
                    ));
                }
            }
        }
        Ok(o)
    }
}

/// DHIS2's import summary; 409 when nothing was stored because of conflicts.
fn import_answer(summary: pb::ImportSummary, options: &ImportOptions, complete: bool) -> Response {
    let count = summary.import_count.unwrap_or_default();
    let ok = summary.status == "SUCCESS";
    let body = json!({
        "responseType": "ImportSummary",
        "status": summary.status,
        "description": if ok {
            "Import process completed successfully"
        } else {
            "Import was not done: every conflict must be resolved (nothing was stored)"
        },
        "importOptions": {"dryRun": options.dry_run, "importStrategy": options.strategy_name},
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
        "dataSetComplete": if complete { "true" } else { "false" },
    });
    let status = if ok {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::CONFLICT
    };
    (status, Json(body)).into_response()
}

fn is_csv(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|c| c.to_str().ok())
        .is_some_and(|c| c.contains("csv"))
}

impl ImportOptions {
    fn upload(&self, request_id: String) -> upload::Options {
        upload::Options {
            strategy: self.strategy,
            dry_run: self.dry_run,
            request_id,
        }
    }
}

/// One value, imported as a one-value set.
async fn import_one(
    user: &AuthUser,
    options: &ImportOptions,
    value: pb::ImportedValue,
) -> ApiResult<Response> {
    let request = pb::ImportValuesRequest {
        values: vec![value],
        strategy: options.strategy.into(),
        end: true,
        ..Default::default()
    };
    let summary = user
        .reports()
        .import_values(futures::stream::iter([request]))
        .await?
        .into_inner();
    Ok(import_answer(summary, options, false))
}

/// `POST /api/dataValueSets`: a DHIS2 data value set (JSON, or CSV by
/// content type) into reports, parsed as the body arrives.
pub async fn post_data_value_sets(
    user: AuthUser,
    headers: HeaderMap,
    IdempotencyKey(request_id): IdempotencyKey,
    RawQuery(raw): RawQuery,
    body: axum::body::Body,
) -> ApiResult<Response> {
    let options = ImportOptions::parse(raw)?;
    let format = if is_csv(&headers) {
        upload::Format::Csv
    } else {
        upload::Format::Json
    };
    let (summary, set) = upload::import(&user, &options.upload(request_id), format, body).await?;
    Ok(import_answer(summary, &options, set.complete()))
}

/// `POST /api/dataValueSets.csv`: DHIS2 CSV whatever the content type says.
pub async fn post_data_value_sets_csv(
    user: AuthUser,
    IdempotencyKey(request_id): IdempotencyKey,
    RawQuery(raw): RawQuery,
    body: axum::body::Body,
) -> ApiResult<Response> {
    let options = ImportOptions::parse(raw)?;
    let (summary, set) = upload::import(
        &user,
        &options.upload(request_id),
        upload::Format::Csv,
        body,
    )
    .await?;
    Ok(import_answer(summary, &options, set.complete()))
}

/// The `de`, `pe`, `ou` (and `value`) of a single data value, from the
/// query string or a form body, as DHIS2 clients send them.
fn single_value(raw: &str, value_required: bool) -> Result<pb::ImportedValue, ApiError> {
    let mut v = pb::ImportedValue::default();
    let mut given_value = false;
    for (key, value) in form_urlencoded::parse(raw.as_bytes()) {
        match key.as_ref() {
            "de" => v.data_element = value.into_owned(),
            "pe" => v.period = value.into_owned(),
            "ou" => v.agency_code = value.into_owned(),
            "value" => {
                v.value = value.into_owned();
                given_value = true;
            }
            "co" | "cc" | "cp" | "ds" | "comment" | "followUp" | "idScheme" => {}
            other => {
                return Err(ApiError::field(
                    other,
                    "is not a parameter here: de, pe, ou, value",
                ));
            }
        }
    }
    let mut missing = Vec::new();
    for (name, given) in [
        ("de", !v.data_element.is_empty()),
        ("pe", !v.period.is_empty()),
        ("ou", !v.agency_code.is_empty()),
        ("value", given_value || !value_required),
    ] {
        if !given {
            missing.push((name.to_owned(), "is required".to_owned()));
        }
    }
    if missing.is_empty() {
        Ok(v)
    } else {
        Err(ApiError::fields(missing))
    }
}

/// `GET /api/dataValues?de=&pe=&ou=`: one value, as a one-item list of text
/// (DHIS2's answer).
pub async fn get_data_value(user: AuthUser, RawQuery(raw): RawQuery) -> ApiResult<Json<Value>> {
    let want = single_value(&raw.unwrap_or_default(), false)?;
    let period =
        PeriodCode::parse(&want.period).map_err(|e| ApiError::field("pe", e.to_string()))?;
    let forms = user
        .forms()
        .list_forms(pb::ListFormsRequest {})
        .await?
        .into_inner()
        .forms;
    for form in forms.iter().filter(|f| {
        period_type(f.period_type) == Some(period.period_type())
            && f.sections
                .iter()
                .flat_map(|s| &s.elements)
                .any(|e| e.data_element == want.data_element)
    }) {
        match user
            .reports()
            .get_report(pb::GetReportRequest {
                form: form.code.clone(),
                period: want.period.clone(),
                agency_code: want.agency_code.clone(),
                ..Default::default()
            })
            .await
        {
            Ok(report) => {
                if let Some(v) = report
                    .into_inner()
                    .values
                    .iter()
                    .find(|v| v.data_element == want.data_element)
                {
                    return Ok(Json(json!([v.value])));
                }
            }
            Err(s) if s.code() == tonic::Code::NotFound => {}
            Err(s) => return Err(s.into()),
        }
    }
    Err(ApiError::new(
        tonic::Code::NotFound,
        "Data value does not exist",
    ))
}

/// `POST /api/dataValues` (parameters in the query or a form body): one
/// value into its report's draft, or into a revision of a submitted one.
pub async fn post_data_value(
    user: AuthUser,
    RawQuery(raw): RawQuery,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let mut params = raw.unwrap_or_default();
    if !body.is_empty() {
        params.push('&');
        params.push_str(
            std::str::from_utf8(&body).map_err(|_| ApiError::field("body", "is not UTF-8"))?,
        );
    }
    let value = single_value(&params, true)?;
    let options = ImportOptions::default_strategy();
    Ok(single_answer(import_one(&user, &options, value).await?))
}

/// `DELETE /api/dataValues?de=&pe=&ou=`.
pub async fn delete_data_value(user: AuthUser, RawQuery(raw): RawQuery) -> ApiResult<Response> {
    let value = single_value(&raw.unwrap_or_default(), false)?;
    let options = ImportOptions {
        strategy: pb::ImportStrategy::Delete,
        strategy_name: "DELETE".into(),
        dry_run: false,
    };
    Ok(single_answer(import_one(&user, &options, value).await?))
}

/// DHIS2 answers a single value with 201 (stored) or 204 (deleted), and
/// the import summary's conflict as the error.
fn single_answer(summary: Response) -> Response {
    if summary.status() == axum::http::StatusCode::OK {
        axum::http::StatusCode::NO_CONTENT.into_response()
    } else {
        summary
    }
}

impl ImportOptions {
    fn default_strategy() -> Self {
        Self {
            dry_run: false,
            strategy: pb::ImportStrategy::CreateAndUpdate,
            strategy_name: "CREATE_AND_UPDATE".into(),
        }
    }
}
