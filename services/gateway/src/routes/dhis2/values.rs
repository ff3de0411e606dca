//! `GET /api/dataValueSets` (JSON, and CSV at `/api/dataValueSets.csv` or
//! with `Accept: text/csv`): the current values of reports, as DHIS2 data
//! values, selected by data set (a chiso form), period (`period=` or
//! `startDate` / `endDate`) and organisation unit (`orgUnit=`, with
//! `children=true` for everything under it).

use axum::{
    Json,
    extract::RawQuery,
    http::{HeaderMap, header},
    response::{IntoResponse, Response},
};
use chiso_domain::PeriodCode;
use chiso_proto::submission::v1 as pb;
use serde_json::{Value, json};

use super::{
    Selection, id_scheme_problem, import_summary, is_id_scheme, period_type, selected_reports,
    upload,
};
use crate::{
    error::{ApiError, ApiResult},
    extract::{AuthUser, IdempotencyKey},
};

fn instant(t: Option<&prost_types::Timestamp>) -> String {
    t.and_then(|t| chrono::DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32))
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3f").to_string())
        .unwrap_or_default()
}

/// Every selected value, as DHIS2 data values.
async fn values(user: &AuthUser, raw: Option<String>) -> ApiResult<Vec<Value>> {
    let selection = Selection::parse(raw)?;
    let mut out = Vec::new();
    for listed in selected_reports(user, &selection).await? {
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
                k if is_id_scheme(k) => {
                    if let Some(problem) = id_scheme_problem(&value) {
                        return Err(ApiError::field(k, problem));
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

/// DHIS2's import summary of a data value set.
fn import_answer(summary: pb::ImportSummary, options: &ImportOptions, complete: bool) -> Response {
    import_summary(
        summary,
        json!({"dryRun": options.dry_run, "importStrategy": options.strategy_name}),
        &[(
            "dataSetComplete",
            json!(if complete { "true" } else { "false" }),
        )],
    )
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
