//! `/api/completeDataSetRegistrations`: DHIS2's record of which data sets
//! (chiso's report forms) an organisation unit completed for a period, and
//! when. A data value set carries values only; with the registrations a
//! migration also carries which reports were submitted and on what day, so
//! lateness and completeness come out the same.
//!
//! GET answers a registration for every selected report whose current
//! version is submitted or accepted (the selection of `/api/dataValueSets`).
//! POST submits each named report as it stands, all or nothing, through
//! the submission service's CompleteReports.

use axum::{
    Json,
    extract::RawQuery,
    response::{IntoResponse, Response},
};
use chiso_proto::submission::v1 as pb;
use serde_json::{Value, json};

use super::{Selection, id_scheme_problem, import_summary, is_id_scheme, selected_reports};
use crate::{
    error::{ApiError, ApiResult},
    extract::{ApiJson, AuthUser, IdempotencyKey},
};

/// Whether a listed report counts as complete in DHIS2's sense.
fn is_complete(report: &pb::Report) -> bool {
    matches!(
        pb::ReportStatus::try_from(report.status),
        Ok(pb::ReportStatus::Submitted | pb::ReportStatus::Accepted)
    )
}

/// One registration as DHIS2 writes it; `date` is the day the report counts
/// as received (`yyyy-MM-dd`), so a re-import keeps its lateness.
fn registration(report: &pb::Report) -> Value {
    json!({
        "dataSet": report.form,
        "period": report.period,
        "organisationUnit": report.agency_code,
        "attributeOptionCombo": "default",
        "date": report.received_on,
        "storedBy": report.submitted_by,
        "completed": true,
    })
}

/// `GET /api/completeDataSetRegistrations?dataSet=&period=|startDate=&endDate=&orgUnit=[&children=true]`.
pub async fn get_registrations(user: AuthUser, RawQuery(raw): RawQuery) -> ApiResult<Json<Value>> {
    let selection = Selection::parse(raw)?;
    let registrations: Vec<Value> = selected_reports(&user, &selection)
        .await?
        .iter()
        .filter(|r| is_complete(r))
        .map(registration)
        .collect();
    Ok(Json(
        json!({ "completeDataSetRegistrations": registrations }),
    ))
}

/// One registration as DHIS2 clients send it; `storedBy` and other fields
/// are accepted and ignored, as DHIS2 does.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SentRegistration {
    data_set: String,
    period: String,
    organisation_unit: String,
    #[serde(default)]
    date: Option<String>,
    #[serde(default)]
    completed: Option<bool>,
}

/// The body DHIS2 clients post.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SentRegistrations {
    #[serde(default)]
    complete_data_set_registrations: Vec<SentRegistration>,
}

/// The import options DHIS2 takes for registrations; only `dryRun` changes
/// anything.
fn dry_run(raw: Option<String>) -> Result<bool, ApiError> {
    let mut dry_run = false;
    for (key, value) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        match key.as_ref() {
            "dryRun" => dry_run = value.eq_ignore_ascii_case("true"),
            "importStrategy" | "strategy" => {
                if !matches!(
                    value.to_ascii_uppercase().as_str(),
                    "CREATE" | "UPDATE" | "CREATE_AND_UPDATE" | "NEW_AND_UPDATES"
                ) {
                    return Err(ApiError::field(
                        key.as_ref(),
                        "must be CREATE, UPDATE or CREATE_AND_UPDATE: a submitted report is reopened by a province officer returning it, not by deleting its registration",
                    ));
                }
            }
            k if is_id_scheme(k) => {
                if let Some(problem) = id_scheme_problem(&value) {
                    return Err(ApiError::field(k, problem));
                }
            }
            // Accepted for DHIS2 clients; chiso always imports synchronously.
            "preheatCache" | "skipExistingCheck" | "async" | "skipNotifications" => {}
            other => {
                return Err(ApiError::field(
                    other,
                    "is not a parameter here: dryRun, importStrategy, idScheme, dataSetIdScheme, orgUnitIdScheme",
                ));
            }
        }
    }
    Ok(dry_run)
}

/// The day of a DHIS2 date or timestamp (`2025-04-08`, `2025-04-08T09:30:00.000`).
fn day_of(date: &str) -> &str {
    let date = date.trim();
    date.split_once('T').map_or(date, |(day, _)| day)
}

/// The registrations as completions; `completed: false` (DHIS2's way of
/// reopening) is refused, naming the registration.
fn completions(sent: SentRegistrations) -> Result<Vec<pb::ReportCompletion>, ApiError> {
    let mut refused = Vec::new();
    let mut out = Vec::with_capacity(sent.complete_data_set_registrations.len());
    for (i, r) in sent.complete_data_set_registrations.into_iter().enumerate() {
        if r.completed == Some(false) {
            refused.push((
                format!("completeDataSetRegistrations[{i}].completed"),
                "false is not taken: a submitted report is reopened by a province officer returning it (/api/v1/reports/{id}/return)"
                    .to_owned(),
            ));
            continue;
        }
        out.push(pb::ReportCompletion {
            form: r.data_set,
            period: r.period,
            agency_code: r.organisation_unit,
            received_on: r.date.as_deref().map(day_of).unwrap_or_default().to_owned(),
        });
    }
    if refused.is_empty() {
        Ok(out)
    } else {
        Err(ApiError::fields(refused))
    }
}

/// `POST /api/completeDataSetRegistrations` (JSON): each registration
/// submits its report as it stands; the registration's `date` is the day it
/// was received when the caller may enter paper reports (the submission
/// service's policy decides), otherwise today. All or nothing.
pub async fn post_registrations(
    user: AuthUser,
    IdempotencyKey(request_id): IdempotencyKey,
    RawQuery(raw): RawQuery,
    // Strict like every JSON body: the media type, no trailing data, no
    // repeated keys, errors naming the field (`completeDataSetRegistrations[0].period`).
    ApiJson(crate::routes::common::Object(sent)): ApiJson<
        crate::routes::common::Object<SentRegistrations>,
    >,
) -> ApiResult<Response> {
    let dry_run = dry_run(raw)?;
    let summary = user
        .reports()
        .complete_reports(pb::CompleteReportsRequest {
            completions: completions(sent)?,
            dry_run,
            request_id,
        })
        .await?
        .into_inner();
    Ok(import_summary(summary, json!({ "dryRun": dry_run }), &[]).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registrations_become_completions_with_the_day_received() {
        let sent: SentRegistrations = serde_json::from_value(json!({
            "completeDataSetRegistrations": [
                {"dataSet": "it_fast_quarterly", "period": "2026Q1", "organisationUnit": "000.00.15.H51",
                 "attributeOptionCombo": "default", "date": "2026-04-08T09:30:00.000", "storedBy": "x", "completed": true},
                {"dataSet": "it_fast_quarterly", "period": "2026Q2", "organisationUnit": "000.00.15.H51"},
            ]
        }))
        .unwrap();
        let got = completions(sent).unwrap();
        assert_eq!(
            got,
            [
                pb::ReportCompletion {
                    form: "it_fast_quarterly".into(),
                    period: "2026Q1".into(),
                    agency_code: "000.00.15.H51".into(),
                    received_on: "2026-04-08".into(),
                },
                pb::ReportCompletion {
                    form: "it_fast_quarterly".into(),
                    period: "2026Q2".into(),
                    agency_code: "000.00.15.H51".into(),
                    received_on: String::new(),
                },
            ]
        );
    }

    #[test]
    fn reopening_and_deleting_are_refused_by_name() {
        let sent: SentRegistrations = serde_json::from_value(json!({
            "completeDataSetRegistrations": [
                {"dataSet": "a", "period": "2026Q1", "organisationUnit": "u"},
                {"dataSet": "a", "period": "2026Q2", "organisationUnit": "u", "completed": false},
            ]
        }))
        .unwrap();
        assert_eq!(
            completions(sent).unwrap_err().field_names(),
            ["completeDataSetRegistrations[1].completed"]
        );
        assert_eq!(
            dry_run(Some("importStrategy=DELETE".into()))
                .unwrap_err()
                .field_names(),
            ["importStrategy"]
        );
        assert_eq!(
            dry_run(Some("dryRun=true&idScheme=name".into()))
                .unwrap_err()
                .field_names(),
            ["idScheme"]
        );
        assert!(
            dry_run(Some(
                "dryRun=true&idScheme=CODE&importStrategy=CREATE_AND_UPDATE".into()
            ))
            .unwrap()
        );
    }

    #[test]
    fn only_submitted_and_accepted_reports_are_complete() {
        let report = |status: pb::ReportStatus| pb::Report {
            form: "it_fast_quarterly".into(),
            period: "2026Q1".into(),
            agency_code: "000.00.15.H51".into(),
            status: status.into(),
            received_on: "2026-04-15".into(),
            submitted_by: "admin".into(),
            ..Default::default()
        };
        assert!(is_complete(&report(pb::ReportStatus::Submitted)));
        assert!(is_complete(&report(pb::ReportStatus::Accepted)));
        assert!(!is_complete(&report(pb::ReportStatus::Draft)));
        assert!(!is_complete(&report(pb::ReportStatus::Returned)));
        assert_eq!(
            registration(&report(pb::ReportStatus::Submitted)),
            json!({"dataSet": "it_fast_quarterly", "period": "2026Q1", "organisationUnit": "000.00.15.H51",
                   "attributeOptionCombo": "default", "date": "2026-04-15", "storedBy": "admin", "completed": true})
        );
    }
}
