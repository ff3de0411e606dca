//! CompleteReports: many reports submitted as they stand (DHIS2's complete
//! data set registrations). Each goes through the ordinary lifecycle write
//! (`reports::write_in`, as SubmitReport without values), all inside one
//! transaction, so a batch is all or nothing like an import of values.

use chiso_domain::{LifecycleAction, ReportKey, ReportStatus};
use chiso_proto::{
    convert::submission::{decode_received_on, decode_report_key},
    submission::v1 as pb,
};
use chiso_runtime::{
    ServiceResult,
    policy::{Action, Resource, Scope, scope as policy_scope},
};
use chrono::{NaiveDate, Utc};

use super::{
    Submission,
    import::{Conflict, Counts, finish, refusal, summary},
    received_on_problem, reporting_agency,
};
use crate::{
    audit::Actor,
    idempotency::IdempotencyKey,
    reports::{self, Target, Write},
};

/// One completion, checked: its index in the request, the report, its
/// province, and the date it counts as received (`None`: today).
struct Checked {
    index: i32,
    key: ReportKey,
    province: chiso_domain::AdminUnitCode,
    received_on: Option<NaiveDate>,
}

/// The conflict for a form that needs a signature: an import cannot sign.
fn needs_signature(key: &ReportKey, index: i32) -> Conflict {
    (
        key.to_string(),
        format!(
            "form {} needs the agency's signature: the agency must sign and submit it through /api/v1/reports",
            key.form
        ),
        index,
    )
}

pub(super) async fn complete_reports(
    state: &Submission,
    actor: &Actor,
    scope: &Scope,
    req: &pb::CompleteReportsRequest,
    idem: Option<&IdempotencyKey>,
) -> ServiceResult<pb::ImportSummary> {
    let defs = state.cache.get();
    // Whose completion dates count: the policy's paper-report entrants'. For
    // anyone else a completion is a submission today, as DHIS2 records the
    // completion date of a user who cannot back-date it.
    let paper = policy_scope(&actor.principal, Action::EnterPaperReport).ok();
    let mut conflicts: Vec<Conflict> = Vec::new();
    let mut checked = Vec::with_capacity(req.completions.len());
    for (i, c) in req.completions.iter().enumerate() {
        let index = i32::try_from(i).unwrap_or(i32::MAX);
        let request = match decode_report_key(&c.form, &c.period, &c.agency_code) {
            Ok(r) => r,
            Err(errors) => {
                for e in errors.0 {
                    let object = match e.field.as_str() {
                        "form" => &c.form,
                        "period" => &c.period,
                        _ => &c.agency_code,
                    };
                    conflicts.push((object.clone(), e.message, index));
                }
                continue;
            }
        };
        let agency = request.agency.clone();
        let (key, province, form) = match reporting_agency(
            state,
            &defs,
            &actor.principal,
            scope,
            Action::SubmitReport,
            request,
        )
        .await
        {
            Ok(found) => found,
            Err(e) => {
                let object = agency.map(|a| a.to_string()).unwrap_or_default();
                conflicts.push((object, e.to_string(), index));
                continue;
            }
        };
        if form.signature_required {
            conflicts.push(needs_signature(&key, index));
            continue;
        }
        let may_backdate = paper
            .as_ref()
            .is_some_and(|s| s.covers(Resource::agency(key.agency.as_str(), province.as_str())));
        let received_on = if may_backdate {
            match decode_received_on(&c.received_on) {
                Ok(Some(day)) => match received_on_problem(day, &key.period) {
                    Some(problem) => {
                        conflicts.push((c.received_on.clone(), format!("date {problem}"), index));
                        continue;
                    }
                    None => Some(day),
                },
                Ok(None) => None,
                Err(errors) => {
                    for e in errors.0 {
                        conflicts.push((
                            c.received_on.clone(),
                            format!("date {}", e.message),
                            index,
                        ));
                    }
                    continue;
                }
            }
        } else {
            None
        };
        checked.push(Checked {
            index,
            key,
            province,
            received_on,
        });
    }
    // The reports that passed are written even when others did not, so
    // every conflict is named at once; the transaction is then dropped.
    let now = Utc::now();
    let txn = crate::txn::WriteTxn::begin(&state.db).await?;
    let mut counts = Counts::default();
    let mut written = 0;
    let mut published = false;
    let mut inserts = reports::Inserts::default();
    for c in checked {
        // Read inside the transaction, so a report named twice is submitted
        // once and then found complete.
        let status = reports::current_in(&txn, &defs, &c.key)
            .await?
            .map(|(status, _)| status);
        let write = |action| Write {
            action,
            target: Target::Key {
                key: c.key.clone(),
                province: c.province.clone(),
            },
            values: None,
            if_match: String::new(),
            received_on: c.received_on,
            signature: None,
            comment: "completion".into(),
        };
        let steps = match status {
            None => {
                conflicts.push((
                    c.key.to_string(),
                    "no values were saved for this report: import them first (a data value set)"
                        .into(),
                    c.index,
                ));
                continue;
            }
            Some(ReportStatus::Submitted | ReportStatus::Accepted) => {
                counts.ignored += 1;
                continue;
            }
            // Sent back by the province: completing it again resubmits it
            // as it stands, in a new version, as an import does.
            Some(ReportStatus::Returned) => vec![
                write(LifecycleAction::Revise),
                write(LifecycleAction::Submit),
            ],
            Some(ReportStatus::Draft) => vec![write(LifecycleAction::Submit)],
        };
        for (n, step) in steps.iter().enumerate() {
            if n > 0 {
                // The step before wrote a version this one reads back.
                inserts.flush(&txn).await?;
            }
            match reports::write_in(&txn, &defs, actor, step, now, None, &mut inserts).await {
                Ok((_, event)) => published |= event,
                Err(e) => {
                    conflicts.extend(refusal(&c.key, c.index, e)?);
                    break;
                }
            }
        }
        counts.imported += 1;
        written += 1;
    }
    let sent = req.completions.len();
    if !conflicts.is_empty() {
        // Dropped: everything written above is rolled back.
        conflicts.sort_by_key(|(_, _, index)| *index);
        return Ok(summary(conflicts, Counts::default(), sent, req.dry_run, 0));
    }
    inserts.flush(&txn).await?;
    let answer = summary(conflicts, counts, sent, req.dry_run, written);
    finish(state, txn, idem, &answer, now, published).await?;
    Ok(answer)
}
