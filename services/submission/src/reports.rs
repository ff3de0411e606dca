//! Reports: the lifecycle writes (each one transaction with its feed event,
//! audit entry and idempotent answer) and the reads.

use std::collections::BTreeMap;

use base64::{Engine, engine::general_purpose::STANDARD};
use chiso_domain::{
    AdminUnitCode, AgencyCode, FieldErrors, Form, FormCode, LifecycleAction, PeriodCode, ReportKey,
    ReportStatus, ReportValues, Transition,
    date::vietnam_offset,
    signature::{SigningKey, signed_content, verify},
    transition,
};
use chiso_proto::{
    convert::submission::{
        ReportView, SignatureRequest, encode_report, report_change_kind, timestamp,
    },
    submission::v1 as pb,
};
use chiso_runtime::{
    ServiceError, ServiceResult,
    policy::{Resource, Scope},
};
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, sea_query::Expr,
};
use tokio::sync::Notify;

use crate::{
    audit::{self, Actor},
    catalogue::Definitions,
    entity::{audit as audit_log, report, report_value, report_version, unlock},
    events,
    idempotency::{self, IdempotencyKey},
    txn::{self, WriteTxn},
};

/// Where a write goes.
#[derive(Debug, Clone)]
pub enum Target {
    /// Form, period and agency; the agency was checked against the copy of
    /// the tree and the caller's scope, and lies in `province`.
    Key {
        key: ReportKey,
        province: AdminUnitCode,
    },
    /// An existing report; outside `scope` it does not exist.
    Id { id: String, scope: Scope },
}

/// One lifecycle write, decoded and authorised.
#[derive(Debug, Clone)]
pub struct Write {
    pub action: LifecycleAction,
    pub target: Target,
    /// Values that replace the current ones (draft saves, submit with values).
    pub values: Option<ReportValues>,
    /// The etag the caller saw; empty to write over whatever is current.
    pub if_match: String,
    /// A paper report's date of receipt (officers and admins).
    pub received_on: Option<NaiveDate>,
    /// The signature sent, with the registry's key it names.
    pub signature: Option<(SignatureRequest, SigningKey)>,
    /// Review comment or revision reason.
    pub comment: String,
}

/// A report with one of its versions and that version's values.
#[derive(Debug, Clone)]
pub struct Stored {
    pub report: report::Model,
    pub version: report_version::Model,
    pub values: ReportValues,
}

/// The report's parsed key and province.
struct Parsed {
    key: ReportKey,
    province: AdminUnitCode,
    status: ReportStatus,
}

fn corrupt(id: &str, what: impl std::fmt::Display) -> ServiceError {
    ServiceError::Internal(anyhow::anyhow!("report {id}: stored {what}"))
}

fn parse_row(r: &report::Model) -> ServiceResult<Parsed> {
    Ok(Parsed {
        key: ReportKey {
            form: FormCode::parse(&r.form).map_err(|e| corrupt(&r.id, e))?,
            period: PeriodCode::parse(&r.period).map_err(|e| corrupt(&r.id, e))?,
            agency: AgencyCode::parse(&r.agency_code).map_err(|e| corrupt(&r.id, e))?,
        },
        province: AdminUnitCode::parse(&r.province_code).map_err(|e| corrupt(&r.id, e))?,
        status: parse_status(&r.id, &r.status)?,
    })
}

fn parse_status(id: &str, s: &str) -> ServiceResult<ReportStatus> {
    s.parse::<ReportStatus>().map_err(|e| corrupt(id, e))
}

/// The etag of a report: its revision, which every write moves.
pub fn etag(r: &report::Model) -> String {
    r.revision.to_string()
}

/// The answer for a report that does not exist or that the caller may not see.
pub fn no_report(id: &str) -> ServiceError {
    ServiceError::NotFound(format!("no report has id {id}"))
}

fn form_of<'a>(defs: &'a Definitions, key: &ReportKey) -> ServiceResult<&'a Form> {
    defs.form(&key.form)
        .ok_or_else(|| ServiceError::Internal(anyhow::anyhow!("form {} is not loaded", key.form)))
}

/// Stored integers back into values, by the catalogue's value types.
fn values_of(defs: &Definitions, rows: Vec<report_value::Model>) -> ServiceResult<ReportValues> {
    rows.into_iter()
        .map(|v| {
            let code = v
                .data_element
                .parse()
                .map_err(|e| corrupt(&v.report_id, e))?;
            let value = defs
                .catalogue
                .element(&code)
                .and_then(|e| e.value_type.value_of(v.value))
                .ok_or_else(|| corrupt(&v.report_id, format!("value {} of {code}", v.value)))?;
            Ok((code, value))
        })
        .collect()
}

async fn read_values(
    db: &impl ConnectionTrait,
    defs: &Definitions,
    report_id: &str,
    version: i32,
) -> ServiceResult<ReportValues> {
    let rows = report_value::Entity::find()
        .filter(report_value::Column::ReportId.eq(report_id))
        .filter(report_value::Column::Version.eq(version))
        .all(db)
        .await?;
    values_of(defs, rows)
}

async fn read_version(
    db: &impl ConnectionTrait,
    report_id: &str,
    version: i32,
) -> ServiceResult<Option<report_version::Model>> {
    Ok(
        report_version::Entity::find_by_id((report_id.to_owned(), version))
            .one(db)
            .await?,
    )
}

/// Whether an unlock of (form, period, agency) is in force at `now`.
async fn unlocked(
    db: &impl ConnectionTrait,
    key: &ReportKey,
    now: DateTime<Utc>,
) -> ServiceResult<bool> {
    Ok(unlock::Entity::find()
        .filter(unlock::Column::Form.eq(key.form.as_str()))
        .filter(unlock::Column::Period.eq(key.period.to_string()))
        .filter(unlock::Column::AgencyCode.eq(key.agency.as_str()))
        .filter(unlock::Column::Until.gt(now))
        .one(db)
        .await?
        .is_some())
}

/// Whether the agency may change the report now: not locked, or unlocked.
async fn editable(
    db: &impl ConnectionTrait,
    form: &Form,
    key: &ReportKey,
    now: DateTime<Utc>,
) -> ServiceResult<bool> {
    let today = now.with_timezone(&vietnam_offset()).date_naive();
    Ok(!form.is_locked(&key.period, today) || unlocked(db, key, now).await?)
}

/// A stored version on the wire; `with_values` false for list entries.
fn view(
    form: &Form,
    parsed: &Parsed,
    s: &Stored,
    editable: bool,
    with_values: bool,
) -> ServiceResult<pb::Report> {
    let v = &s.version;
    let status = parse_status(&s.report.id, &v.status)?;
    Ok(encode_report(&ReportView {
        id: &s.report.id,
        form,
        period: &parsed.key.period,
        agency: &parsed.key.agency,
        province: &parsed.province,
        version: v.version,
        status,
        values: with_values.then_some(&s.values),
        etag: etag(&s.report),
        created_at: s.report.created_at,
        updated_at: v.updated_at,
        submitted_at: v.submitted_at,
        submitted_by: v.submitted_by.as_deref(),
        received_on: v.received_on,
        days_late: u32::try_from(v.days_late).unwrap_or(0),
        editable,
        review: v.reviewed_at.map(|at| {
            (
                v.reviewed_by.as_deref().unwrap_or_default(),
                at,
                v.review_comment.as_deref().unwrap_or_default(),
            )
        }),
        signature: match (&v.key_id, &v.signature, v.signed_at) {
            (Some(k), Some(sig), Some(at)) => Some((k.as_str(), sig.as_str(), at)),
            _ => None,
        },
    }))
}

fn value_rows(
    report_id: &str,
    version: i32,
    province: &str,
    values: &ReportValues,
) -> Vec<report_value::ActiveModel> {
    values
        .iter()
        .map(|(code, value)| report_value::ActiveModel {
            report_id: Set(report_id.to_owned()),
            version: Set(version),
            data_element: Set(code.to_string()),
            province_code: Set(province.to_owned()),
            value: Set(value.as_integer()),
        })
        .collect()
}

/// Rows a batch of writes adds, inserted together by [`Inserts::flush`]:
/// an import of thousands of reports costs a few statements instead of
/// several per report. Updates and deletes are not deferred, so a write that
/// reads back what an earlier one in the same transaction inserted must come
/// after a flush.
#[derive(Default)]
pub struct Inserts {
    reports: Vec<report::ActiveModel>,
    versions: Vec<report_version::ActiveModel>,
    values: Vec<report_value::ActiveModel>,
    events: Vec<crate::entity::outbox::ActiveModel>,
    audit: Vec<audit_log::ActiveModel>,
}

/// Rows per INSERT: under SQLite's 32,766 bound parameters for the widest
/// table (the audit log's 17 columns), and large enough that a statement's
/// round trip is small next to its rows.
const ROWS_PER_INSERT: usize = 1_000;

/// From this many rows a table's rows go in by `COPY` on PostgreSQL. Fewer
/// go in one INSERT: a `COPY` costs a second round trip, and its end
/// (`CopyDone`, a few bytes written after the data) can wait for the
/// server's delayed ACK, as sqlx leaves Nagle's algorithm on.
const COPY_FROM_ROWS: usize = 1_000;

async fn insert_all<A>(txn: &WriteTxn, rows: Vec<A>) -> ServiceResult<()>
where
    A: sea_orm::ActiveModelTrait + Send,
{
    let mut rows = if rows.len() >= COPY_FROM_ROWS {
        match txn::copy_rows(txn, rows).await? {
            Some(rows) => rows,
            None => return Ok(()),
        }
    } else {
        rows
    };
    while !rows.is_empty() {
        let rest = rows.split_off(rows.len().min(ROWS_PER_INSERT));
        let chunk = std::mem::replace(&mut rows, rest);
        A::Entity::insert_many(chunk)
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

impl Inserts {
    /// Inserts everything held, parents before children.
    pub async fn flush(&mut self, txn: &WriteTxn) -> ServiceResult<()> {
        insert_all(txn, std::mem::take(&mut self.reports)).await?;
        insert_all(txn, std::mem::take(&mut self.versions)).await?;
        insert_all(txn, std::mem::take(&mut self.values)).await?;
        insert_all(txn, std::mem::take(&mut self.events)).await?;
        insert_all(txn, std::mem::take(&mut self.audit)).await?;
        Ok(())
    }
}

/// The status a stored report row holds.
pub fn status_of(row: &report::Model) -> ServiceResult<ReportStatus> {
    Ok(parse_row(row)?.status)
}

/// The current status and values of the report at `key`, read (and locked)
/// inside the caller's transaction.
pub async fn current_in(
    txn: &impl ConnectionTrait,
    defs: &Definitions,
    key: &ReportKey,
) -> ServiceResult<Option<(ReportStatus, ReportValues)>> {
    let mut found = current_many(txn, defs, std::slice::from_ref(key)).await?;
    found
        .remove(key)
        .map(|(row, values)| Ok((status_of(&row)?, values)))
        .transpose()
}

/// The rows of the reports at `keys` and their current values, read (and
/// locked until commit on PostgreSQL) inside the caller's transaction, a
/// few statements for any number of keys; keys with no report are absent.
pub async fn current_many(
    txn: &impl ConnectionTrait,
    defs: &Definitions,
    keys: &[ReportKey],
) -> ServiceResult<BTreeMap<ReportKey, (report::Model, ReportValues)>> {
    let mut by_form_period: BTreeMap<(&str, String), Vec<&str>> = BTreeMap::new();
    for key in keys {
        by_form_period
            .entry((key.form.as_str(), key.period.to_string()))
            .or_default()
            .push(key.agency.as_str());
    }
    // The agencies as one JSON parameter the database unpacks: one
    // statement whatever their number. An `IN` list of a thousand
    // parameters a statement cost 40 ms each to plan; and on PostgreSQL the
    // codes are joined, not tested with `IN (SELECT …)`: right after an
    // import its statistics still say the table is empty, and the planner
    // then unpacked the whole list again for every report of the period
    // (48 s to find none of 9,091 agencies next to 9,091 reports).
    let backend = txn.get_database_backend();
    let mut rows = Vec::new();
    for ((form, period), agencies) in by_form_period {
        let agencies = serde_json::to_string(&agencies)
            .map_err(|e| ServiceError::Internal(anyhow::anyhow!("agency codes as JSON: {e}")))?;
        let found = if backend == sea_orm::DbBackend::Postgres {
            report::Entity::find()
                .from_raw_sql(sea_orm::Statement::from_sql_and_values(
                    backend,
                    "SELECT r.* FROM reports r \
                     JOIN json_array_elements_text($3::json) AS k(code) ON r.agency_code = k.code \
                     WHERE r.form = $1 AND r.period = $2 FOR UPDATE OF r",
                    [form.into(), period.into(), agencies.into()],
                ))
                .all(txn)
                .await?
        } else {
            report::Entity::find()
                .filter(report::Column::Form.eq(form))
                .filter(report::Column::Period.eq(&period))
                .filter(Expr::cust_with_values(
                    "agency_code IN (SELECT value FROM json_each(?))",
                    [agencies],
                ))
                .all(txn)
                .await?
        };
        rows.extend(found);
    }
    let mut values: BTreeMap<(String, i32), Vec<report_value::Model>> = BTreeMap::new();
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let mut any = Condition::any();
        for r in chunk {
            any = any.add(
                Condition::all()
                    .add(report_value::Column::ReportId.eq(&r.id))
                    .add(report_value::Column::Version.eq(r.version)),
            );
        }
        for v in report_value::Entity::find().filter(any).all(txn).await? {
            values
                .entry((v.report_id.clone(), v.version))
                .or_default()
                .push(v);
        }
    }
    let mut out = BTreeMap::new();
    for row in rows {
        let key = parse_row(&row)?.key;
        let stored = values
            .remove(&(row.id.clone(), row.version))
            .unwrap_or_default();
        out.insert(key, (row, values_of(defs, stored)?));
    }
    Ok(out)
}

/// Applies one lifecycle write in one transaction: the row read (locked),
/// the etag compared, the transition and lock checked, values checked on
/// submit, every table written, the feed event, audit entry and answer
/// recorded; wakes the sequencer when it wrote a feed event.
pub async fn write(
    db: &DatabaseConnection,
    defs: &Definitions,
    actor: &Actor,
    idem: Option<&IdempotencyKey>,
    w: &Write,
    sequencer: &Notify,
) -> ServiceResult<pb::Report> {
    let now = Utc::now();
    let txn = WriteTxn::begin(db).await?;
    let mut inserts = Inserts::default();
    let (answer, published) = write_in(&txn, defs, actor, w, now, None, &mut inserts).await?;
    inserts.flush(&txn).await?;
    if let Some(idem) = idem {
        idempotency::remember(&txn, idem, &answer, now).await?;
    }
    txn.commit().await?;
    if published {
        sequencer.notify_one();
    }
    Ok(answer)
}

/// [`write`] inside a transaction the caller holds, so several writes (an
/// import of many reports) commit or roll back together. Returns the answer
/// and whether a feed event was written (the caller wakes the sequencer
/// after committing). An error leaves the transaction for the caller to
/// drop; nothing it wrote is committed. `known` is the report's row when
/// the caller has read it already in this transaction (`Some(None)`: there
/// is none); the rows it adds wait in `inserts` for the caller's flush.
pub async fn write_in(
    txn: &impl ConnectionTrait,
    defs: &Definitions,
    actor: &Actor,
    w: &Write,
    now: chrono::DateTime<Utc>,
    known: Option<Option<report::Model>>,
    inserts: &mut Inserts,
) -> ServiceResult<(pb::Report, bool)> {
    use LifecycleAction as A;
    let today = now.with_timezone(&vietnam_offset()).date_naive();

    // The one read of the report row, locked until commit on PostgreSQL.
    let row = match (&w.target, known) {
        (Target::Key { .. }, Some(known)) => known,
        (Target::Key { key, .. }, None) => {
            report::Entity::find()
                .filter(report::Column::Form.eq(key.form.as_str()))
                .filter(report::Column::Period.eq(key.period.to_string()))
                .filter(report::Column::AgencyCode.eq(key.agency.as_str()))
                .lock_exclusive()
                .one(txn)
                .await?
        }
        (Target::Id { id, scope }, _) => Some(
            report::Entity::find_by_id(id.clone())
                .lock_exclusive()
                .one(txn)
                .await?
                .filter(|r| scope.covers(Resource::agency(&r.agency_code, &r.province_code)))
                .ok_or_else(|| no_report(id))?,
        ),
    };
    let parsed = match (&row, &w.target) {
        (Some(r), _) => parse_row(r)?,
        (None, Target::Key { key, province }) => Parsed {
            key: key.clone(),
            province: province.clone(),
            // Unused: there is no report yet.
            status: ReportStatus::Draft,
        },
        (None, Target::Id { id, .. }) => return Err(no_report(id)),
    };
    let (key, province) = (&parsed.key, &parsed.province);
    let form = form_of(defs, key)?;

    if !w.if_match.is_empty() {
        let current = row.as_ref().map(etag).unwrap_or_default();
        if w.if_match != current {
            return Err(ServiceError::StaleVersion(format!(
                "the report changed since etag {}: its etag is now {}",
                w.if_match,
                if current.is_empty() {
                    "none (no report)"
                } else {
                    &current
                }
            )));
        }
    }
    let from = row.as_ref().map(|_| parsed.status);
    let next = transition(from, w.action).map_err(ServiceError::FailedPrecondition)?;

    let locked = form.is_locked(&key.period, today);
    let unlocked_now = locked && unlocked(txn, key, now).await?;
    if locked && !unlocked_now && matches!(w.action, A::SaveDraft | A::Submit | A::Revise) {
        let lock = form
            .lock_date(&key.period)
            .map(chiso_domain::date::format_date);
        return Err(ServiceError::FailedPrecondition(format!(
            "entry for form {} period {} closed on {}: a province officer can unlock it",
            key.form,
            key.period,
            lock.unwrap_or_default()
        )));
    }

    let current = match &row {
        Some(r) => {
            let version = read_version(txn, &r.id, r.version)
                .await?
                .ok_or_else(|| corrupt(&r.id, format!("version {} is missing", r.version)))?;
            let values = read_values(txn, defs, &r.id, r.version).await?;
            Some((version, values))
        }
        None => None,
    };
    let before = current.as_ref().map(|(_, v)| v);
    let values: ReportValues = match w.action {
        A::SaveDraft | A::Submit => w
            .values
            .clone()
            .or_else(|| before.cloned())
            .unwrap_or_default(),
        _ => before.cloned().unwrap_or_default(),
    };
    let version_no = match (next, &row) {
        (Transition::NewVersion(_), Some(r)) => r.version + 1,
        (Transition::NewVersion(_), None) => 1,
        (Transition::Same(_), Some(r)) => r.version,
        (Transition::Same(_), None) => unreachable!("the lifecycle moves no missing report"),
    };

    // Submitting: every compulsory value, every rule, the signature; all
    // failures at once, nothing stored.
    let mut signed = None;
    let mut days_late = 0u32;
    let mut received_on = None;
    if w.action == A::Submit {
        let mut errors = FieldErrors::new();
        for code in defs.missing(form, &values) {
            errors.push(
                "values",
                format!("`{code}` is compulsory on form {}", form.code),
            );
        }
        for f in defs.rule_failures(&values) {
            errors.push(
                "values",
                format!(
                    "rule {}: {} ({}) [{}]",
                    f.rule, f.message, f.message_en, f.detail
                ),
            );
        }
        if let Some((sent, signing_key)) = &w.signature {
            let content = signed_content(key, version_no, &values);
            match verify(signing_key, &key.agency, now, &content, &sent.signature) {
                Ok(()) => signed = Some((sent.key_id.clone(), STANDARD.encode(sent.signature))),
                Err(e) => errors.push(format!("signature.{}", e.field()), e.to_string()),
            }
        }
        if !errors.is_empty() {
            return Err(errors.into());
        }
        let received = w.received_on.unwrap_or(today);
        days_late = match w.received_on {
            Some(day) => form.lateness(&key.period, day),
            None => form.lateness_at(&key.period, now),
        }
        .unwrap_or(0);
        received_on = Some(received);
    }

    let status = next.status();
    let revision = row.as_ref().map_or(1, |r| r.revision + 1);
    let report_id = row
        .as_ref()
        .map(|r| r.id.clone())
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let report_model = report::Model {
        id: report_id.clone(),
        form: key.form.to_string(),
        period: key.period.to_string(),
        agency_code: key.agency.to_string(),
        province_code: province.to_string(),
        version: version_no,
        status: status.as_str().to_owned(),
        revision,
        created_at: row.as_ref().map_or(now, |r| r.created_at),
        updated_at: now,
    };
    match &row {
        None => inserts
            .reports
            .push(report::ActiveModel::from(report_model.clone())),
        Some(r) => {
            // Compare-and-set on the revision read above.
            let updated = report::Entity::update_many()
                .col_expr(report::Column::Version, Expr::value(version_no))
                .col_expr(report::Column::Status, Expr::value(status.as_str()))
                .col_expr(report::Column::Revision, Expr::value(revision))
                .col_expr(report::Column::UpdatedAt, Expr::value(now))
                .filter(report::Column::Id.eq(&r.id))
                .filter(report::Column::Revision.eq(r.revision))
                .exec(txn)
                .await?;
            if updated.rows_affected != 1 {
                return Err(ServiceError::StaleVersion(
                    "the report changed while this write ran: read it again".into(),
                ));
            }
        }
    }

    let mut version_model = match (&current, next) {
        (Some((v, _)), Transition::Same(_)) => v.clone(),
        _ => report_version::Model {
            report_id: report_id.clone(),
            version: version_no,
            province_code: province.to_string(),
            status: status.as_str().to_owned(),
            created_at: now,
            updated_at: now,
            submitted_at: None,
            submitted_by: None,
            received_on: None,
            days_late: 0,
            reviewed_by: None,
            reviewed_at: None,
            review_comment: None,
            key_id: None,
            signature: None,
            signed_at: None,
        },
    };
    version_model.status = status.as_str().to_owned();
    version_model.updated_at = now;
    match w.action {
        A::Submit => {
            version_model.submitted_at = Some(now);
            version_model.submitted_by = Some(actor.subject().to_owned());
            version_model.received_on = received_on;
            version_model.days_late = i32::try_from(days_late).unwrap_or(i32::MAX);
            if let Some((key_id, signature)) = &signed {
                version_model.key_id = Some(key_id.clone());
                version_model.signature = Some(signature.clone());
                version_model.signed_at = Some(now);
            }
        }
        A::Accept | A::Return => {
            version_model.reviewed_by = Some(actor.subject().to_owned());
            version_model.reviewed_at = Some(now);
            version_model.review_comment = Some(w.comment.clone());
        }
        _ => {}
    }
    match next {
        Transition::NewVersion(_) => inserts
            .versions
            .push(report_version::ActiveModel::from(version_model.clone())),
        Transition::Same(_) => {
            // `from(model)` marks every column unchanged: mark them set, the
            // key excepted, so the update writes them.
            let mut active = sea_orm::ActiveModelTrait::reset_all(
                report_version::ActiveModel::from(version_model.clone()),
            );
            active.report_id = sea_orm::ActiveValue::Unchanged(report_id.clone());
            active.version = sea_orm::ActiveValue::Unchanged(version_no);
            report_version::Entity::update(active).exec(txn).await?;
        }
    }
    let values_change = matches!(next, Transition::NewVersion(_)) || w.values.is_some();
    if values_change {
        // A new version has no values yet: only a draft saved again does.
        if matches!(next, Transition::Same(_)) {
            report_value::Entity::delete_many()
                .filter(report_value::Column::ReportId.eq(&report_id))
                .filter(report_value::Column::Version.eq(version_no))
                .exec(txn)
                .await?;
        }
        inserts.values.extend(value_rows(
            &report_id,
            version_no,
            province.as_str(),
            &values,
        ));
    }

    let stored = Stored {
        report: report_model,
        version: version_model,
        values,
    };
    let answer = view(form, &parsed, &stored, !locked || unlocked_now, true)?;
    let published = match report_change_kind(w.action) {
        Some(kind) => {
            let counts = match w.action {
                A::Submit => form.aggregation_basis.counts(true, false),
                A::Accept => form.aggregation_basis.counts(true, true),
                _ => false,
            };
            let change = pb::ReportChange {
                kind: kind.into(),
                report: Some(answer.clone()),
                counts,
                unlock: None,
            };
            inserts
                .events
                .push(events::row(events::report_payload(change, now), now));
            true
        }
        None => false,
    };
    inserts.audit.push(audit::row(
        actor,
        now,
        audit::Entry {
            report_id: Some(&report_id),
            form: key.form.as_str(),
            period: &key.period.to_string(),
            agency: key.agency.as_str(),
            province: province.as_str(),
            action: w.action.as_str(),
            version: version_no,
            status_before: from,
            status_after: Some(status),
            values_before: before,
            values_after: Some(&stored.values),
            comment: &w.comment,
            ..Default::default()
        },
    ));
    Ok((answer, published))
}

/// A province officer's unlock, decoded and authorised.
#[derive(Debug, Clone)]
pub struct UnlockGrant {
    pub key: ReportKey,
    pub province: AdminUnitCode,
    pub reason: String,
    pub until: DateTime<Utc>,
}

/// Grants (or replaces) an unlock, with its feed event and audit entry.
pub async fn unlock(
    db: &DatabaseConnection,
    defs: &Definitions,
    actor: &Actor,
    idem: Option<&IdempotencyKey>,
    grant: &UnlockGrant,
    sequencer: &Notify,
) -> ServiceResult<pb::Unlock> {
    let now = Utc::now();
    let key = &grant.key;
    let form = form_of(defs, key)?;
    let txn = chiso_runtime::db::begin_write(db).await?;
    unlock::Entity::delete_many()
        .filter(unlock::Column::Form.eq(key.form.as_str()))
        .filter(unlock::Column::Period.eq(key.period.to_string()))
        .filter(unlock::Column::AgencyCode.eq(key.agency.as_str()))
        .exec(&txn)
        .await?;
    unlock::Entity::insert(unlock::ActiveModel {
        form: Set(key.form.to_string()),
        period: Set(key.period.to_string()),
        agency_code: Set(key.agency.to_string()),
        province_code: Set(grant.province.to_string()),
        reason: Set(grant.reason.clone()),
        until: Set(grant.until),
        granted_by: Set(actor.subject().to_owned()),
        granted_at: Set(now),
    })
    .exec_without_returning(&txn)
    .await?;
    let answer = pb::Unlock {
        form: key.form.to_string(),
        period: key.period.to_string(),
        agency_code: key.agency.to_string(),
        reason: grant.reason.clone(),
        until: Some(timestamp(grant.until)),
        granted_by: actor.subject().to_owned(),
        granted_at: Some(timestamp(now)),
    };
    // The event carries the report as it stands, when there is one.
    let row = report::Entity::find()
        .filter(report::Column::Form.eq(key.form.as_str()))
        .filter(report::Column::Period.eq(key.period.to_string()))
        .filter(report::Column::AgencyCode.eq(key.agency.as_str()))
        .one(&txn)
        .await?;
    let (report, report_id, version) = match &row {
        Some(r) => {
            let parsed = parse_row(r)?;
            let version = read_version(&txn, &r.id, r.version)
                .await?
                .ok_or_else(|| corrupt(&r.id, "current version is missing"))?;
            let values = read_values(&txn, defs, &r.id, r.version).await?;
            let stored = Stored {
                report: r.clone(),
                version,
                values,
            };
            (
                view(form, &parsed, &stored, true, true)?,
                Some(r.id.clone()),
                r.version,
            )
        }
        None => (
            pb::Report {
                form: key.form.to_string(),
                period: key.period.to_string(),
                agency_code: key.agency.to_string(),
                province_code: grant.province.to_string(),
                ..Default::default()
            },
            None,
            0,
        ),
    };
    let change = pb::ReportChange {
        kind: pb::ReportChangeKind::Unlocked.into(),
        report: Some(report),
        counts: false,
        unlock: Some(answer.clone()),
    };
    events::append(&txn, events::report_payload(change, now), now).await?;
    audit::record(
        &txn,
        actor,
        now,
        audit::Entry {
            report_id: report_id.as_deref(),
            form: key.form.as_str(),
            period: &key.period.to_string(),
            agency: key.agency.as_str(),
            province: grant.province.as_str(),
            action: LifecycleAction::Unlock.as_str(),
            version,
            comment: &grant.reason,
            ..Default::default()
        },
    )
    .await?;
    if let Some(idem) = idem {
        idempotency::remember(&txn, idem, &answer, now).await?;
    }
    txn.commit().await?;
    sequencer.notify_one();
    Ok(answer)
}

/// How a read names a report.
#[derive(Debug, Clone)]
pub enum Lookup {
    Id(String),
    Key(ReportKey),
}

/// The report `lookup` names, if the caller's `scope` covers it.
async fn find(
    db: &DatabaseConnection,
    lookup: &Lookup,
    scope: &Scope,
) -> ServiceResult<report::Model> {
    let (row, shown) = match lookup {
        Lookup::Id(id) => (
            report::Entity::find_by_id(id.clone()).one(db).await?,
            id.clone(),
        ),
        Lookup::Key(k) => (
            report::Entity::find()
                .filter(report::Column::Form.eq(k.form.as_str()))
                .filter(report::Column::Period.eq(k.period.to_string()))
                .filter(report::Column::AgencyCode.eq(k.agency.as_str()))
                .one(db)
                .await?,
            format!("{} {} {}", k.form, k.period, k.agency),
        ),
    };
    row.filter(|r| scope.covers(Resource::agency(&r.agency_code, &r.province_code)))
        .ok_or_else(|| match lookup {
            Lookup::Id(_) => no_report(&shown),
            Lookup::Key(_) => ServiceError::NotFound(format!("no report for {shown}")),
        })
}

/// One version (the current one when `version` is 0) with its values.
pub async fn get(
    db: &DatabaseConnection,
    defs: &Definitions,
    lookup: &Lookup,
    version: i32,
    scope: &Scope,
) -> ServiceResult<pb::Report> {
    let r = find(db, lookup, scope).await?;
    let parsed = parse_row(&r)?;
    let form = form_of(defs, &parsed.key)?;
    let wanted = if version == 0 { r.version } else { version };
    let v = read_version(db, &r.id, wanted).await?.ok_or_else(|| {
        ServiceError::NotFound(format!("report {} has no version {wanted}", r.id))
    })?;
    let values = read_values(db, defs, &r.id, wanted).await?;
    let editable = editable(db, form, &parsed.key, Utc::now()).await?;
    view(
        form,
        &parsed,
        &Stored {
            report: r,
            version: v,
            values,
        },
        editable,
        true,
    )
}

/// Every version of a report, oldest first, with values.
pub async fn versions(
    db: &DatabaseConnection,
    defs: &Definitions,
    id: &str,
    scope: &Scope,
) -> ServiceResult<Vec<pb::Report>> {
    let r = find(db, &Lookup::Id(id.to_owned()), scope).await?;
    let parsed = parse_row(&r)?;
    let form = form_of(defs, &parsed.key)?;
    let editable = editable(db, form, &parsed.key, Utc::now()).await?;
    let versions = report_version::Entity::find()
        .filter(report_version::Column::ReportId.eq(&r.id))
        .order_by_asc(report_version::Column::Version)
        .all(db)
        .await?;
    let mut values: BTreeMap<i32, Vec<report_value::Model>> = BTreeMap::new();
    for v in report_value::Entity::find()
        .filter(report_value::Column::ReportId.eq(&r.id))
        .all(db)
        .await?
    {
        values.entry(v.version).or_default().push(v);
    }
    versions
        .into_iter()
        .map(|v| {
            let vals = values_of(defs, values.remove(&v.version).unwrap_or_default())?;
            view(
                form,
                &parsed,
                &Stored {
                    report: r.clone(),
                    version: v,
                    values: vals,
                },
                editable,
                true,
            )
        })
        .collect()
}

/// What a report list is limited to.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub form: Option<FormCode>,
    pub period: Option<PeriodCode>,
    pub agency: Option<AgencyCode>,
    pub province: Option<AdminUnitCode>,
    pub status: Option<ReportStatus>,
}

/// One page of reports in id order (creation order), current versions
/// without values, and the token of the next page.
pub async fn list(
    db: &DatabaseConnection,
    defs: &Definitions,
    filter: &ListFilter,
    scope: &Scope,
    page_size: u64,
    after: Option<&str>,
) -> ServiceResult<(Vec<pb::Report>, String)> {
    let mut query = report::Entity::find();
    if let Some(f) = &filter.form {
        query = query.filter(report::Column::Form.eq(f.as_str()));
    }
    if let Some(p) = &filter.period {
        query = query.filter(report::Column::Period.eq(p.to_string()));
    }
    if let Some(a) = &filter.agency {
        query = query.filter(report::Column::AgencyCode.eq(a.as_str()));
    }
    if let Some(p) = &filter.province {
        query = query.filter(report::Column::ProvinceCode.eq(p.as_str()));
    }
    if let Some(s) = filter.status {
        query = query.filter(report::Column::Status.eq(s.as_str()));
    }
    query = match scope {
        Scope::Everywhere => query,
        Scope::Province(p) => query.filter(report::Column::ProvinceCode.eq(p.as_str())),
        Scope::Provinces(granted) => query
            .filter(report::Column::ProvinceCode.is_in(granted.iter().map(AdminUnitCode::as_str))),
        Scope::Agency(a) => query.filter(report::Column::AgencyCode.eq(a.as_str())),
    };
    if let Some(after) = after {
        query = query.filter(report::Column::Id.gt(after));
    }
    let rows = query
        .order_by_asc(report::Column::Id)
        .limit(page_size + 1)
        .all(db)
        .await?;
    let more = rows.len() as u64 > page_size;
    let rows: Vec<report::Model> = rows.into_iter().take(page_size as usize).collect();
    let next = if more {
        rows.last().map(|r| r.id.clone()).unwrap_or_default()
    } else {
        String::new()
    };
    // The current versions in one query: every version of the page's
    // reports by a flat `IN` list, the current one kept here. An `OR` of one
    // `(id, version)` pair per report nested a thousand levels deep on a
    // full page, and rendering it overflowed a worker thread's stack.
    let current: BTreeMap<&str, i32> = rows.iter().map(|r| (r.id.as_str(), r.version)).collect();
    let mut versions: BTreeMap<String, report_version::Model> = if rows.is_empty() {
        BTreeMap::new()
    } else {
        report_version::Entity::find()
            .filter(report_version::Column::ReportId.is_in(current.keys().copied()))
            .all(db)
            .await?
            .into_iter()
            .filter(|v| current.get(v.report_id.as_str()) == Some(&v.version))
            .map(|v| (v.report_id.clone(), v))
            .collect()
    };
    let now = Utc::now();
    let today = now.with_timezone(&vietnam_offset()).date_naive();
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let parsed = parse_row(&r)?;
        let form = form_of(defs, &parsed.key)?;
        let v = versions
            .remove(&r.id)
            .ok_or_else(|| corrupt(&r.id, "current version is missing"))?;
        // Lists judge the lock alone; GetReport also looks for an unlock.
        let editable = !form.is_locked(&parsed.key.period, today);
        out.push(view(
            form,
            &parsed,
            &Stored {
                report: r,
                version: v,
                values: ReportValues::new(),
            },
            editable,
            false,
        )?);
    }
    Ok((out, next))
}

/// What an audit list is about.
#[derive(Debug, Clone)]
pub enum AuditOf {
    Report(String),
    Agency(AgencyCode),
}

/// One page of audit entries, oldest first, and the next page's token.
pub async fn audit_entries(
    db: &DatabaseConnection,
    of: &AuditOf,
    scope: &Scope,
    page_size: u64,
    after: i64,
) -> ServiceResult<(Vec<pb::AuditEntry>, String)> {
    let mut query = audit_log::Entity::find().filter(audit_log::Column::Id.gt(after));
    match of {
        AuditOf::Report(id) => {
            let r = find(db, &Lookup::Id(id.clone()), scope).await?;
            query = query.filter(audit_log::Column::ReportId.eq(r.id));
        }
        AuditOf::Agency(code) => {
            query = query.filter(audit_log::Column::AgencyCode.eq(code.as_str()));
            query = match scope {
                Scope::Everywhere => query,
                Scope::Province(p) => query.filter(audit_log::Column::ProvinceCode.eq(p.as_str())),
                Scope::Provinces(granted) => query.filter(
                    audit_log::Column::ProvinceCode
                        .is_in(granted.iter().map(AdminUnitCode::as_str)),
                ),
                Scope::Agency(a) if a == code => query,
                Scope::Agency(_) => return Ok((Vec::new(), String::new())),
            };
        }
    }
    let rows = query
        .order_by_asc(audit_log::Column::Id)
        .limit(page_size + 1)
        .all(db)
        .await?;
    let more = rows.len() as u64 > page_size;
    let rows: Vec<audit_log::Model> = rows.into_iter().take(page_size as usize).collect();
    let next = match (more, rows.last()) {
        (true, Some(last)) => last.id.to_string(),
        _ => String::new(),
    };
    let entries = rows
        .iter()
        .map(audit::encode)
        .collect::<ServiceResult<_>>()?;
    Ok((entries, next))
}

/// A stored signature and what it was made over.
#[derive(Debug, Clone)]
pub struct StoredSignature {
    pub key: ReportKey,
    pub version: i32,
    pub content: Vec<u8>,
    /// Key id, base64 signature and the instant received; `None` when unsigned.
    pub signature: Option<(String, String, DateTime<Utc>)>,
}

/// The signature of one version (the current one when `version` is 0).
pub async fn signature(
    db: &DatabaseConnection,
    defs: &Definitions,
    id: &str,
    version: i32,
    scope: &Scope,
) -> ServiceResult<StoredSignature> {
    let r = find(db, &Lookup::Id(id.to_owned()), scope).await?;
    let parsed = parse_row(&r)?;
    let wanted = if version == 0 { r.version } else { version };
    let v = read_version(db, &r.id, wanted).await?.ok_or_else(|| {
        ServiceError::NotFound(format!("report {} has no version {wanted}", r.id))
    })?;
    let values = read_values(db, defs, &r.id, wanted).await?;
    Ok(StoredSignature {
        content: signed_content(&parsed.key, wanted, &values),
        key: parsed.key,
        version: wanted,
        signature: match (v.key_id, v.signature, v.signed_at) {
            (Some(k), Some(s), Some(at)) => Some((k, s, at)),
            _ => None,
        },
    })
}

/// The current status and days late of each report of (form, period) among
/// `agencies`, by agency code.
pub async fn statuses(
    db: &DatabaseConnection,
    form: &FormCode,
    period: &PeriodCode,
    agencies: &[AgencyCode],
) -> ServiceResult<BTreeMap<String, (String, ReportStatus, i32)>> {
    if agencies.is_empty() {
        return Ok(BTreeMap::new());
    }
    let codes: Vec<&str> = agencies.iter().map(AgencyCode::as_str).collect();
    let rows = report::Entity::find()
        .filter(report::Column::Form.eq(form.as_str()))
        .filter(report::Column::Period.eq(period.to_string()))
        .filter(report::Column::AgencyCode.is_in(codes))
        .all(db)
        .await?;
    // A flat `IN` list, the current version kept here (see `list`: a nested
    // `OR` per report overflows the stack for a province's thousands).
    let current: BTreeMap<&str, i32> = rows.iter().map(|r| (r.id.as_str(), r.version)).collect();
    let late: BTreeMap<String, i32> = if rows.is_empty() {
        BTreeMap::new()
    } else {
        report_version::Entity::find()
            .filter(report_version::Column::ReportId.is_in(current.keys().copied()))
            .all(db)
            .await?
            .into_iter()
            .filter(|v| current.get(v.report_id.as_str()) == Some(&v.version))
            .map(|v| (v.report_id, v.days_late))
            .collect()
    };
    rows.into_iter()
        .map(|r| {
            let status = parse_status(&r.id, &r.status)?;
            let days = late.get(&r.id).copied().unwrap_or(0);
            Ok((r.agency_code.clone(), (r.id, status, days)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use chiso_domain::{PeriodType, date::today};
    use chiso_proto::convert::submission::decode_values;
    use sea_orm::{ConnectOptions, Database};
    use sea_orm_migration::MigratorTrait;

    use super::*;
    use crate::{catalogue, migration::Migrator};

    async fn db() -> DatabaseConnection {
        let mut options = ConnectOptions::new("sqlite::memory:");
        // One connection: every connection to `:memory:` is a database of its own.
        options.max_connections(1).min_connections(1);
        let db = Database::connect(options).await.unwrap();
        Migrator::up(&db, None).await.unwrap();
        db
    }

    fn actor(role: chiso_domain::Role) -> Actor {
        Actor {
            principal: chiso_runtime::auth::Principal {
                subject: "c1".into(),
                role,
                agency: None,
                province: None,
                grants: std::sync::Arc::from([]),
            },
            address: "127.0.0.1:1".into(),
            request_id: "r1".into(),
        }
    }

    #[tokio::test]
    async fn the_seed_is_stored_cached_and_on_the_feed() {
        let db = db().await;
        let defs = catalogue::load(&db).await.unwrap();
        assert_eq!(defs.version, 1);
        let (e, i, r) = (
            defs.catalogue.elements().len(),
            defs.catalogue.indicators().len(),
            defs.catalogue.rules().len(),
        );
        assert_eq!((e, i, r, defs.forms.len()), (46, 38, 22, 3));
        let events = events::changes_after(&db, 0, 1000).await.unwrap();
        let seqs: Vec<i64> = events.iter().map(|(s, _)| *s).collect();
        assert_eq!(seqs, (1..=(e + i + r + 3) as i64).collect::<Vec<_>>());
        assert_eq!(events::head(&db).await.unwrap(), seqs.len() as i64);
    }

    #[tokio::test]
    async fn a_report_moves_through_its_lifecycle_with_cas_feed_and_audit() {
        let db = db().await;
        let defs = catalogue::load(&db).await.unwrap();
        let wake = Notify::new();
        let form = defs.form(&"it_fast_quarterly".parse().unwrap()).unwrap();
        let key = ReportKey {
            form: form.code.clone(),
            period: PeriodCode::containing(PeriodType::Quarterly, today()).unwrap(),
            agency: AgencyCode::parse("000.00.15.H51").unwrap(),
        };
        let province = AdminUnitCode::parse("51").unwrap();
        let officer = actor(chiso_domain::Role::Admin);
        let values = |pairs: &[(&str, &str)]| {
            let wire: Vec<pb::DataValue> = pairs
                .iter()
                .map(|(c, v)| pb::DataValue::new(*c, *v))
                .collect();
            decode_values(&wire, &defs.catalogue, defs.allowed(form)).unwrap()
        };
        let draft = Write {
            action: LifecycleAction::SaveDraft,
            target: Target::Key {
                key: key.clone(),
                province: province.clone(),
            },
            values: Some(values(&[("documents_sent", "10")])),
            if_match: String::new(),
            received_on: None,
            signature: None,
            comment: String::new(),
        };
        let saved = write(&db, &defs, &officer, None, &draft, &wake)
            .await
            .unwrap();
        assert_eq!((saved.version, saved.etag.as_str()), (1, "1"));
        assert_eq!(saved.status, i32::from(pb::ReportStatus::Draft));

        // Submitting the draft as saved: every compulsory element is named.
        let submit = Write {
            action: LifecycleAction::Submit,
            values: None,
            ..draft.clone()
        };
        let err = write(&db, &defs, &officer, None, &submit, &wake)
            .await
            .unwrap_err();
        let ServiceError::InvalidArgument(errors) = err else {
            panic!("{err:?}")
        };
        assert_eq!(errors.0.len(), 5, "{errors}");
        assert!(errors.0.iter().all(|e| e.field == "values"));
        assert!(
            errors.0[0]
                .message
                .contains("`documents_sent_electronic` is compulsory")
        );

        // A rule that fails is named with both messages; nothing is stored.
        let full = values(&[
            ("documents_sent", "10"),
            ("documents_sent_electronic", "20"),
            ("documents_signed_digitally", "5"),
            ("documents_to_higher_levels", "3"),
            ("documents_to_higher_levels_electronic", "2"),
            ("online_meetings", "4"),
        ]);
        let bad = Write {
            values: Some(full.clone()),
            ..submit.clone()
        };
        let err = write(&db, &defs, &officer, None, &bad, &wake)
            .await
            .unwrap_err();
        let ServiceError::InvalidArgument(errors) = err else {
            panic!("{err:?}")
        };
        assert!(
            errors
                .0
                .iter()
                .any(|e| e.message.contains("rule document_chain")),
            "{errors}"
        );

        // A stale etag aborts; the right one submits.
        let mut good = Write {
            values: Some(values(&[
                ("documents_sent", "30"),
                ("documents_sent_electronic", "20"),
                ("documents_signed_digitally", "5"),
                ("documents_to_higher_levels", "3"),
                ("documents_to_higher_levels_electronic", "2"),
                ("online_meetings", "4"),
            ])),
            if_match: "7".into(),
            ..submit.clone()
        };
        let err = write(&db, &defs, &officer, None, &good, &wake)
            .await
            .unwrap_err();
        assert!(matches!(err, ServiceError::StaleVersion(_)), "{err:?}");
        good.if_match = saved.etag.clone();
        let submitted = write(&db, &defs, &officer, None, &good, &wake)
            .await
            .unwrap();
        assert_eq!(submitted.status, i32::from(pb::ReportStatus::Submitted));
        assert_eq!(
            (
                submitted.version,
                submitted.etag.as_str(),
                submitted.days_late
            ),
            (1, "2", 0)
        );

        // Revise: a new draft version copying the values.
        let revise = Write {
            action: LifecycleAction::Revise,
            target: Target::Id {
                id: submitted.id.clone(),
                scope: Scope::Everywhere,
            },
            values: None,
            if_match: String::new(),
            received_on: None,
            signature: None,
            comment: "sửa số liệu".into(),
        };
        let revised = write(&db, &defs, &officer, None, &revise, &wake)
            .await
            .unwrap();
        assert_eq!(
            (revised.version, revised.status),
            (2, i32::from(pb::ReportStatus::Draft))
        );
        assert_eq!(revised.values, submitted.values);
        // A draft cannot be revised again: the lifecycle says why.
        let err = write(&db, &defs, &officer, None, &revise, &wake)
            .await
            .unwrap_err();
        assert!(
            matches!(err, ServiceError::FailedPrecondition(ref m) if m.contains("draft")),
            "{err:?}"
        );

        // Two events wait, unnumbered, until the sequencer numbers them.
        let head = events::head(&db).await.unwrap();
        assert!(
            events::changes_after(&db, head, 10)
                .await
                .unwrap()
                .is_empty()
        );
        let (tx, _rx) = tokio::sync::watch::channel(head);
        let stop = tokio_util::sync::CancellationToken::new();
        let task = tokio::spawn(events::sequencer(
            db.clone(),
            std::sync::Arc::new(Notify::new()),
            tx,
            std::time::Duration::from_secs(60),
            stop.clone(),
        ));
        let mut numbered = Vec::new();
        for _ in 0..100 {
            numbered = events::changes_after(&db, head, 10).await.unwrap();
            if numbered.len() == 2 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        stop.cancel();
        task.await.unwrap();
        let kinds: Vec<(i64, i32, i32, bool)> = numbered
            .iter()
            .map(|(seq, e)| match &e.change {
                Some(pb::change_event::Change::Report(r)) => {
                    (*seq, r.kind, r.report.as_ref().unwrap().version, r.counts)
                }
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            kinds,
            [
                (head + 1, pb::ReportChangeKind::Submitted.into(), 1, true),
                (head + 2, pb::ReportChangeKind::Revised.into(), 2, false),
            ]
        );

        let (audit, _) = audit_entries(
            &db,
            &AuditOf::Report(submitted.id.clone()),
            &Scope::Everywhere,
            100,
            0,
        )
        .await
        .unwrap();
        let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
        assert_eq!(actions, ["save_draft", "submit", "revise"]);
        assert_eq!(audit[1].values_before, saved.values);
        assert_eq!(audit[1].values_after, submitted.values);
        assert_eq!(audit[2].comment, "sửa số liệu");
        assert_eq!(audit[2].address, "127.0.0.1:1");
    }
}
