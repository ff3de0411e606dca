//! ImportValues: many values for many reports (a DHIS2 data value set, a
//! CSV file) in one request. Values are grouped into reports by form,
//! period and agency; each report then goes through the ordinary lifecycle
//! write (`reports::write_in`), all inside one transaction: every check a
//! single submission gets, and all of it committed or none.

use std::collections::BTreeMap;

use chiso_domain::{
    AgencyCode, DataElementCode, Form, FormCode, LifecycleAction, PeriodCode, ReportKey,
    ReportStatus, ReportValues,
};
use chiso_proto::{
    convert::submission::{ReportKeyRequest, decode_received_on},
    submission::v1 as pb,
};
use chiso_runtime::{
    ServiceError, ServiceResult,
    policy::{Action, Resource, Scope, scope as policy_scope},
};
use chrono::Utc;

use super::{Submission, reporting_agency};
use crate::{
    audit::Actor,
    catalogue::Definitions,
    idempotency::{self, IdempotencyKey},
    reports::{self, Target, Write},
    txn::WriteTxn,
};

/// A conflict: what it is about, why, and the value's index (-1: a report).
pub(super) type Conflict = (String, String, i32);

/// A value placed in its report: (index in the request, element, raw value).
type Entry = (i32, DataElementCode, String);

/// One report's share of the import.
struct Group<'d> {
    key: ReportKey,
    province: chiso_domain::AdminUnitCode,
    form: &'d Form,
    values: Vec<Entry>,
}

/// What the strategy makes of one report's values (DHIS2's import count).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct Counts {
    pub imported: i32,
    pub updated: i32,
    pub ignored: i32,
    pub deleted: i32,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, o: Self) {
        self.imported += o.imported;
        self.updated += o.updated;
        self.ignored += o.ignored;
        self.deleted += o.deleted;
    }
}

/// The values a report ends with under `strategy`, and what changed.
fn merge(
    strategy: pb::ImportStrategy,
    current: &ReportValues,
    incoming: &ReportValues,
) -> (ReportValues, Counts) {
    use pb::ImportStrategy as S;
    let mut out = current.clone();
    let mut c = Counts::default();
    for (code, value) in incoming {
        let existing = current.get(code);
        match (strategy, existing) {
            (S::Delete, Some(_)) => {
                out.remove(code);
                c.deleted += 1;
            }
            (S::Delete, None) => c.ignored += 1,
            (_, Some(v)) if v == value => c.ignored += 1,
            (S::Create, Some(_)) => c.ignored += 1,
            (S::Update, None) => c.ignored += 1,
            (_, Some(_)) => {
                out.insert(code.clone(), *value);
                c.updated += 1;
            }
            (_, None) => {
                out.insert(code.clone(), *value);
                c.imported += 1;
            }
        }
    }
    (out, c)
}

/// The form a value belongs to: the one named, or the only one holding its
/// element for its period's type.
fn form_for<'d>(
    defs: &'d Definitions,
    named: Option<&'d Form>,
    element: &DataElementCode,
    period: &PeriodCode,
) -> Result<&'d Form, String> {
    let holds = |f: &Form| f.elements().any(|e| &e.code == element);
    if let Some(form) = named {
        return if holds(form) {
            Ok(form)
        } else {
            Err(format!("form {} has no element {element}", form.code))
        };
    }
    let candidates: Vec<&Form> = defs
        .forms
        .values()
        .filter(|f| f.period_type == period.period_type() && holds(f))
        .collect();
    match candidates.as_slice() {
        [one] => Ok(one),
        [] => Err(format!(
            "no {} form holds {element}: give the data set",
            period.period_type()
        )),
        _ => Err(format!(
            "{element} is on several {} forms: give the data set",
            period.period_type()
        )),
    }
}

/// Most values one import takes: a province's whole year of every form is
/// well under this, and it bounds what one request can make the service hold.
pub const MAX_IMPORT_VALUES: usize = 1_000_000;

/// The parts of a streamed import, put together: options from whichever part
/// gives them (the same each time), values in order. Nothing comes back
/// unless the last part said `end`, so a sender that failed part-way (a
/// broken upload, a file that stopped parsing) imports nothing.
pub(super) async fn collect(
    mut parts: tonic::Streaming<pb::ImportValuesRequest>,
) -> ServiceResult<pb::ImportValuesRequest> {
    let mut whole = pb::ImportValuesRequest::default();
    let mut ended = false;
    while let Some(part) = parts.message().await.map_err(|status| {
        ServiceError::InvalidArgument(chiso_domain::FieldErrors::single(
            "values",
            format!(
                "the import was cut short ({}): nothing was stored",
                status.message()
            ),
        ))
    })? {
        if ended {
            return Err(ServiceError::field(
                "end",
                "a part came after the one marked as the last",
            ));
        }
        let pb::ImportValuesRequest {
            form,
            values,
            strategy,
            dry_run,
            complete,
            received_on,
            request_id,
            default_period,
            default_agency_code,
            end,
        } = part;
        let mut errors = chiso_domain::FieldErrors::new();
        for (name, into, given) in [
            ("form", &mut whole.form, form),
            ("received_on", &mut whole.received_on, received_on),
            ("request_id", &mut whole.request_id, request_id),
            ("default_period", &mut whole.default_period, default_period),
            (
                "default_agency_code",
                &mut whole.default_agency_code,
                default_agency_code,
            ),
        ] {
            if given.is_empty() {
                continue;
            }
            if into.is_empty() {
                *into = given;
            } else if *into != given {
                errors.push(
                    name,
                    format!("is `{into}` in one part and `{given}` in another"),
                );
            }
        }
        if strategy != 0 {
            if whole.strategy != 0 && whole.strategy != strategy {
                errors.push("strategy", "differs between parts");
            }
            whole.strategy = strategy;
        }
        whole.dry_run |= dry_run;
        whole.complete |= complete;
        if whole.values.len() + values.len() > MAX_IMPORT_VALUES {
            errors.push(
                "values",
                format!("an import takes at most {MAX_IMPORT_VALUES} values: split the file"),
            );
        }
        if !errors.is_empty() {
            return Err(errors.into());
        }
        whole.values.extend(values);
        ended = end;
    }
    if !ended {
        return Err(ServiceError::field(
            "end",
            "the import ended before its last part: nothing was stored",
        ));
    }
    Ok(whole)
}

pub(super) async fn import_values(
    state: &Submission,
    actor: &Actor,
    scope: &Scope,
    req: &pb::ImportValuesRequest,
    idem: Option<&IdempotencyKey>,
) -> ServiceResult<pb::ImportSummary> {
    let defs = state.cache.get();
    let started = std::time::Instant::now();
    let mut phases: Vec<(&str, u128)> = Vec::new();
    let mut mark = |name: &'static str| phases.push((name, started.elapsed().as_millis()));
    let strategy = match pb::ImportStrategy::try_from(req.strategy).unwrap_or_default() {
        pb::ImportStrategy::Unspecified => pb::ImportStrategy::CreateAndUpdate,
        s => s,
    };
    let named = match req.form.trim() {
        "" => None,
        raw => {
            let code =
                FormCode::parse(raw).map_err(|e| ServiceError::field("form", e.to_string()))?;
            Some(defs.form(&code).ok_or_else(|| {
                ServiceError::field("form", format!("no report form has code {code}"))
            })?)
        }
    };
    let received_on = decode_received_on(&req.received_on)?;
    let mut conflicts: Vec<Conflict> = Vec::new();

    // Group the values by report, naming every value that cannot be placed.
    let mut groups: BTreeMap<(FormCode, PeriodCode, AgencyCode), Vec<Entry>> = BTreeMap::new();
    for (i, v) in req.values.iter().enumerate() {
        let index = i32::try_from(i).unwrap_or(i32::MAX);
        let element = DataElementCode::parse(&v.data_element)
            .ok()
            .filter(|c| defs.catalogue.element(c).is_some());
        let period_text = match v.period.as_str() {
            "" => req.default_period.as_str(),
            given => given,
        };
        let agency_text = match v.agency_code.as_str() {
            "" => req.default_agency_code.as_str(),
            given => given,
        };
        let period = PeriodCode::parse(period_text).ok();
        let agency = AgencyCode::parse(agency_text).ok();
        let Some(element) = element else {
            conflicts.push((v.data_element.clone(), "no such data element".into(), index));
            continue;
        };
        let Some(period) = period else {
            conflicts.push((period_text.to_owned(), "not a period code".into(), index));
            continue;
        };
        let Some(agency) = agency else {
            conflicts.push((
                agency_text.to_owned(),
                "not an organisation unit code".into(),
                index,
            ));
            continue;
        };
        match form_for(&defs, named, &element, &period) {
            Ok(form) => groups
                .entry((form.code.clone(), period, agency))
                .or_default()
                .push((index, element, v.value.trim().to_owned())),
            Err(why) => conflicts.push((element.to_string(), why, index)),
        }
    }

    mark("grouped");
    // Each report: the agency existed, is expected, and is the caller's to write.
    let mut resolved = Vec::new();
    for ((form, period, agency), values) in groups {
        let request = ReportKeyRequest {
            form,
            period,
            agency: Some(agency.clone()),
        };
        match reporting_agency(
            state,
            &defs,
            &actor.principal,
            scope,
            Action::SubmitReport,
            request,
        )
        .await
        {
            Ok((key, province, form)) => {
                if received_on.is_some() {
                    policy_scope(&actor.principal, Action::EnterPaperReport)?.check(
                        Action::EnterPaperReport,
                        Resource::agency(key.agency.as_str(), province.as_str()),
                    )?;
                }
                if req.complete && form.signature_required {
                    conflicts.push((
                        key.to_string(),
                        format!(
                            "form {} needs the agency's signature: submit it through /api/v1/reports",
                            form.code
                        ),
                        -1,
                    ));
                    continue;
                }
                resolved.push(Group {
                    key,
                    province,
                    form,
                    values,
                })
            }
            Err(e) => conflicts.push((agency.to_string(), e.to_string(), -1)),
        }
    }

    mark("authorized");
    // Values checked against their elements, every bad one named.
    let mut parsed = Vec::with_capacity(resolved.len());
    for g in resolved {
        let mut values = ReportValues::new();
        for (index, code, raw) in &g.values {
            let raw = match raw.to_ascii_lowercase().as_str() {
                "true" => "yes".to_owned(),
                "false" => "no".to_owned(),
                _ => raw.clone(),
            };
            let element = defs.catalogue.element(code).expect("checked above");
            if strategy == pb::ImportStrategy::Delete {
                // A deletion names a value; what it was does not matter.
                if let Ok(v) = element
                    .check_value(&raw)
                    .or_else(|_| element.check_value("0"))
                {
                    values.insert(code.clone(), v);
                }
                continue;
            }
            if let Err(why) = (defs.allowed(g.form))(code) {
                conflicts.push((code.to_string(), why, *index));
                continue;
            }
            match element.check_value(&raw) {
                Ok(v) => {
                    if values.insert(code.clone(), v).is_some() {
                        conflicts.push((
                            code.to_string(),
                            format!("given twice for {}", g.key),
                            *index,
                        ));
                    }
                }
                Err(why) => conflicts.push((code.to_string(), why, *index)),
            }
        }
        parsed.push((g.key, g.province, values));
    }
    let sent = req.values.len();
    let summarise = |conflicts: Vec<Conflict>, counts: Counts, reports: i32| {
        summary(conflicts, counts, sent, req.dry_run, reports)
    };
    if !conflicts.is_empty() {
        return Ok(summarise(conflicts, Counts::default(), 0));
    }

    // Every report written in one transaction, through the ordinary
    // lifecycle: the existing reports read in a few statements, the rows of
    // new ones inserted together at the end.
    let now = Utc::now();
    let txn = WriteTxn::begin(&state.db).await?;
    let keys: Vec<ReportKey> = parsed.iter().map(|(key, _, _)| key.clone()).collect();
    mark("checked");
    let mut existing = reports::current_many(&txn, &defs, &keys).await?;
    mark("read");
    let mut inserts = reports::Inserts::default();
    let mut counts = Counts::default();
    let mut written = 0;
    let mut published = false;
    for (key, province, incoming) in parsed {
        let current = existing.remove(&key);
        let (status, before) = match &current {
            Some((row, values)) => (Some(reports::status_of(row)?), values.clone()),
            None => (None, ReportValues::new()),
        };
        let (after, c) = merge(strategy, &before, &incoming);
        counts += c;
        let finished = matches!(
            status,
            Some(ReportStatus::Submitted | ReportStatus::Accepted)
        );
        if after == before && (!req.complete || finished) {
            continue;
        }
        let target = || Target::Key {
            key: key.clone(),
            province: province.clone(),
        };
        let write = |action, values: Option<ReportValues>| Write {
            action,
            target: target(),
            values,
            if_match: String::new(),
            received_on,
            signature: None,
            comment: "import".into(),
        };
        let mut steps = Vec::new();
        if matches!(
            status,
            Some(ReportStatus::Submitted | ReportStatus::Accepted | ReportStatus::Returned)
        ) {
            steps.push(write(LifecycleAction::Revise, None));
        }
        steps.push(if req.complete {
            write(LifecycleAction::Submit, Some(after))
        } else {
            write(LifecycleAction::SaveDraft, Some(after))
        });
        let mut known = Some(current.map(|(row, _)| row));
        for (n, step) in steps.iter().enumerate() {
            if n > 0 {
                // The step before wrote a version this one reads back.
                inserts.flush(&txn).await?;
            }
            match reports::write_in(&txn, &defs, actor, step, now, known.take(), &mut inserts).await
            {
                Ok((_, event)) => published |= event,
                Err(e) => {
                    conflicts.extend(refusal(&key, -1, e)?);
                    break;
                }
            }
        }
        written += 1;
    }
    if !conflicts.is_empty() {
        // Dropped: everything written above is rolled back.
        return Ok(summarise(conflicts, Counts::default(), 0));
    }
    mark("written");
    // A dry run inserts too, so the database's own checks answer it.
    inserts.flush(&txn).await?;
    mark("inserted");
    let answer = summarise(conflicts, counts, written);
    finish(state, txn, idem, &answer, now, published).await?;
    mark("committed");
    tracing::info!(?phases, "import phases (ms since start)");
    Ok(answer)
}

/// DHIS2's import summary of a request that sent `sent` items: SUCCESS with
/// the counts, or ERROR with the conflicts and every item ignored (nothing
/// was stored).
pub(super) fn summary(
    conflicts: Vec<Conflict>,
    counts: Counts,
    sent: usize,
    dry_run: bool,
    reports: i32,
) -> pb::ImportSummary {
    let ok = conflicts.is_empty();
    pb::ImportSummary {
        status: if ok { "SUCCESS" } else { "ERROR" }.into(),
        import_count: Some(if ok {
            pb::ImportCount {
                imported: counts.imported,
                updated: counts.updated,
                ignored: counts.ignored,
                deleted: counts.deleted,
            }
        } else {
            pb::ImportCount {
                ignored: i32::try_from(sent).unwrap_or(i32::MAX),
                ..Default::default()
            }
        }),
        conflicts: conflicts
            .into_iter()
            .map(|(object, value, index)| pb::ImportConflict {
                object,
                value,
                index,
            })
            .collect(),
        dry_run,
        reports: reports.max(0),
    }
}

/// A lifecycle write's refusal, as conflicts about the report (at `index`
/// of the request, -1 for the report as a whole); any other error (the
/// database, a corrupt row, a concurrent write) ends the whole request.
pub(super) fn refusal(
    key: &ReportKey,
    index: i32,
    e: ServiceError,
) -> ServiceResult<Vec<Conflict>> {
    match e {
        ServiceError::InvalidArgument(errors) => Ok(errors
            .0
            .into_iter()
            .map(|e| {
                (
                    key.to_string(),
                    format!("{}: {}", e.field, e.message),
                    index,
                )
            })
            .collect()),
        e @ (ServiceError::FailedPrecondition(_)
        | ServiceError::PermissionDenied(_)
        | ServiceError::NotFound(_)) => Ok(vec![(key.to_string(), e.to_string(), index)]),
        other => Err(other),
    }
}

/// Ends a request's transaction without conflicts: rolled back for a dry
/// run; otherwise committed with the answer a replay will get, and the
/// sequencer woken when feed events were written.
pub(super) async fn finish(
    state: &Submission,
    txn: WriteTxn,
    idem: Option<&IdempotencyKey>,
    answer: &pb::ImportSummary,
    now: chrono::DateTime<Utc>,
    published: bool,
) -> ServiceResult<()> {
    if answer.dry_run {
        txn.rollback().await?;
        return Ok(());
    }
    if let Some(idem) = idem {
        idempotency::remember(&txn, idem, answer, now).await?;
    }
    txn.commit().await?;
    if published {
        state.sequencer.notify_one();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use chiso_domain::{Value, value::Count};

    use super::*;

    fn values(pairs: &[(&str, i64)]) -> ReportValues {
        pairs
            .iter()
            .map(|(c, v)| {
                (
                    DataElementCode::parse(c).unwrap(),
                    Value::Count(Count::new(*v).unwrap()),
                )
            })
            .collect()
    }

    #[test]
    fn each_strategy_merges_as_dhis2_does() {
        use pb::ImportStrategy as S;
        let current = values(&[("a", 1), ("b", 2)]);
        let incoming = values(&[("b", 3), ("c", 4), ("a", 1)]);
        let (out, c) = merge(S::CreateAndUpdate, &current, &incoming);
        assert_eq!(out, values(&[("a", 1), ("b", 3), ("c", 4)]));
        assert_eq!((c.imported, c.updated, c.ignored, c.deleted), (1, 1, 1, 0));
        let (out, c) = merge(S::Create, &current, &incoming);
        assert_eq!(out, values(&[("a", 1), ("b", 2), ("c", 4)]));
        assert_eq!((c.imported, c.updated, c.ignored), (1, 0, 2));
        let (out, c) = merge(S::Update, &current, &incoming);
        assert_eq!(out, values(&[("a", 1), ("b", 3)]));
        assert_eq!((c.imported, c.updated, c.ignored), (0, 1, 2));
        let (out, c) = merge(S::Delete, &current, &values(&[("a", 9), ("z", 1)]));
        assert_eq!(out, values(&[("b", 2)]));
        assert_eq!((c.deleted, c.ignored), (1, 1));
    }
}
