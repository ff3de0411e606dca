//! The aggregation service layer: applying feed events and summing facts.

use std::collections::BTreeMap;

use anyhow::Context;
use chiso_domain::{
    AdminUnitCode, AgencyCode, AgencyHistory, FormCode, PeriodCode, Received, ReportKey,
    ReportVersion, TreeVersion,
};
use chiso_runtime::ServiceResult;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, DatabaseConnection,
    DatabaseTransaction, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::OnConflict,
};

use crate::entity::{agency_tree, catalogue_definition, fact, feed_cursor, report_state};

/// Name of the submission feed in `feed_cursors`.
pub const SUBMISSION_FEED: &str = "submission";
/// Name of the registry's agency feed in `feed_cursors`.
pub const REGISTRY_FEED: &str = "registry";

/// The last sequence number applied from `feed`; 0 before the first.
#[tracing::instrument(name = "db.cursor", skip_all)]
pub async fn cursor(db: &DatabaseConnection, feed: &str) -> ServiceResult<i64> {
    Ok(feed_cursor::Entity::find_by_id(feed.to_owned())
        .one(db)
        .await?
        .map_or(0, |c| c.last_seq))
}

/// What happened to a report, as far as aggregation cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportEvent {
    Submitted,
    Accepted,
    Returned,
    /// A new draft version of a submitted or returned report.
    Revised,
}

/// One submission-feed event, decoded, as the store applies it.
#[derive(Debug, Clone)]
pub enum FeedEvent {
    Report {
        report: ReportVersion,
        event: ReportEvent,
        /// Whether the version's values now count under the form's
        /// aggregation basis: they replace the agency's facts of the same
        /// form and period. A returned report's facts go.
        counts: bool,
    },
    /// A catalogue definition (`catalogue::DATA_ELEMENT` and the others),
    /// as protobuf bytes.
    Definition {
        kind: &'static str,
        code: String,
        payload: Vec<u8>,
    },
    /// Changes nothing here (an unlock, a kind this build does not know);
    /// only the cursor moves past it.
    Nothing,
}

impl FeedEvent {
    /// What the event does to the facts of its report's key, if anything:
    /// `Some(true)` its values replace them, `Some(false)` they go.
    fn fact_change(&self) -> Option<(&ReportVersion, bool)> {
        match self {
            Self::Report {
                report,
                counts: true,
                ..
            } => Some((report, true)),
            Self::Report {
                report,
                event: ReportEvent::Returned,
                ..
            } => Some((report, false)),
            _ => None,
        }
    }
}

/// Where a report stands after `event`, given where it stood: a report
/// counts as received from its first submission, with that submission's
/// lateness, through any revision; a returned one is not received until it
/// is submitted again (then with the new lateness).
pub fn next_state(
    previous: Option<Received>,
    event: ReportEvent,
    days_late: u32,
) -> Option<Received> {
    match (event, previous) {
        (ReportEvent::Returned, _) => Some(Received::Returned),
        (ReportEvent::Submitted | ReportEvent::Accepted, Some(r @ Received::Received { .. })) => {
            Some(r)
        }
        (ReportEvent::Submitted | ReportEvent::Accepted, _) => {
            Some(Received::Received { days_late })
        }
        (ReportEvent::Revised, previous) => previous,
    }
}

/// What [`apply_batch`] did, for the in-memory model to follow.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    /// Events above the cursor, now applied.
    pub events: usize,
    /// Catalogue definitions among them: the in-memory catalogue is stale.
    pub definitions: usize,
    /// (agency, period) whose facts changed: re-read them.
    pub touched: Vec<(AgencyCode, PeriodCode)>,
    /// New states of reports, in order.
    pub states: Vec<(FormCode, PeriodCode, AgencyCode, Received)>,
}

/// Rows per multi-row `INSERT`: at most 8 columns a row keeps a statement
/// under SQLite's 32,766 and PostgreSQL's 65,535 bound parameters.
const ROWS_PER_INSERT: usize = 1_000;
/// Keys per `DELETE`: (agency, period, form) is three parameters a key.
const KEYS_PER_DELETE: usize = 500;

/// Applies a batch of submission-feed events, in feed order, and moves the
/// cursor to the batch's last sequence number, all in one transaction: a
/// crash leaves either the whole batch with its cursor or none of it.
/// Events at or below the cursor were applied before and are skipped.
///
/// The facts end exactly as applying the events one by one would leave
/// them: for each (agency, period, form) only the key's last report event
/// in the batch decides, since a replace or a remove overwrites whatever
/// came before it. So the batch deletes the facts of every key it touches
/// and inserts the values of the keys whose last event is a replace.
#[tracing::instrument(name = "db.apply_batch", skip_all, fields(events = events.len()))]
pub async fn apply_batch(
    db: &DatabaseConnection,
    events: &[(i64, FeedEvent)],
    state_of: impl Fn(&FormCode, &PeriodCode, &AgencyCode) -> Option<Received>,
) -> ServiceResult<Applied> {
    let txn = chiso_runtime::db::begin_write(db).await?;
    let current = cursor_in(&txn, SUBMISSION_FEED).await?;
    let fresh: Vec<&(i64, FeedEvent)> = events.iter().filter(|(seq, _)| *seq > current).collect();
    let Some(last_seq) = fresh.iter().map(|(seq, _)| *seq).max() else {
        return Ok(Applied::default());
    };
    let mut latest: BTreeMap<ReportKey, Option<&ReportVersion>> = BTreeMap::new();
    let mut states: BTreeMap<ReportKey, (Received, &AdminUnitCode)> = BTreeMap::new();
    let mut state_log = Vec::new();
    let mut definitions = 0;
    for (_, event) in &fresh {
        if let Some((report, replace)) = event.fact_change() {
            latest.insert(report_key(report), replace.then_some(report));
        }
        match event {
            FeedEvent::Report { report, event, .. } => {
                let key = report_key(report);
                let previous = match states.get(&key) {
                    Some((s, _)) => Some(*s),
                    None => state_of(&key.form, &key.period, &key.agency),
                };
                if let Some(state) = next_state(previous, *event, report.days_late)
                    && Some(state) != previous
                {
                    state_log.push((key.form.clone(), key.period, key.agency.clone(), state));
                    states.insert(key, (state, &report.province));
                }
            }
            FeedEvent::Definition {
                kind,
                code,
                payload,
            } => {
                // One statement each, in feed order, so a later definition
                // of the same code wins as it would one by one.
                store_definition(&txn, kind, code, payload.clone()).await?;
                definitions += 1;
            }
            FeedEvent::Nothing => {}
        }
    }
    let keys: Vec<&ReportKey> = latest.keys().collect();
    for chunk in keys.chunks(KEYS_PER_DELETE) {
        let any_key = chunk.iter().fold(Condition::any(), |any, key| {
            any.add(
                Condition::all()
                    .add(fact::Column::AgencyCode.eq(key.agency.as_str()))
                    .add(fact::Column::Period.eq(key.period.to_string()))
                    .add(fact::Column::Form.eq(key.form.as_str())),
            )
        });
        fact::Entity::delete_many()
            .filter(any_key)
            .exec(&txn)
            .await?;
    }
    let rows: Vec<fact::ActiveModel> = latest
        .values()
        .flatten()
        .flat_map(|report| fact_rows(report))
        .collect();
    insert_all::<fact::Entity, _>(&txn, rows).await?;
    store_states(&txn, &states).await?;
    move_cursor(&txn, SUBMISSION_FEED, last_seq).await?;
    txn.commit().await?;
    Ok(Applied {
        events: fresh.len(),
        definitions,
        touched: latest
            .keys()
            .map(|k| (k.agency.clone(), k.period))
            .collect(),
        states: state_log,
    })
}

fn report_key(report: &ReportVersion) -> ReportKey {
    ReportKey {
        form: report.form.clone(),
        period: report.period,
        agency: report.agency.clone(),
    }
}

/// Upserts the batch's final report states.
async fn store_states(
    txn: &DatabaseTransaction,
    states: &BTreeMap<ReportKey, (Received, &AdminUnitCode)>,
) -> Result<(), DbErr> {
    let rows: Vec<report_state::ActiveModel> = states
        .iter()
        .map(|(key, (state, province))| {
            let (name, days_late) = match state {
                Received::Received { days_late } => ("received", *days_late),
                _ => ("returned", 0),
            };
            report_state::ActiveModel {
                form: Set(key.form.to_string()),
                period: Set(key.period.to_string()),
                agency_code: Set(key.agency.to_string()),
                province_code: Set(province.to_string()),
                state: Set(name.to_owned()),
                days_late: Set(i32::try_from(days_late).unwrap_or(i32::MAX)),
            }
        })
        .collect();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        report_state::Entity::insert_many(rows.by_ref().take(ROWS_PER_INSERT))
            .on_conflict(
                OnConflict::columns([
                    report_state::Column::Form,
                    report_state::Column::Period,
                    report_state::Column::AgencyCode,
                ])
                .update_columns([report_state::Column::State, report_state::Column::DaysLate])
                .to_owned(),
            )
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

/// The facts a counting report version stands for: one per value.
fn fact_rows(report: &ReportVersion) -> impl Iterator<Item = fact::ActiveModel> + '_ {
    let period = report.period.to_string();
    report
        .values
        .iter()
        .map(move |(code, value)| fact::ActiveModel {
            agency_code: Set(report.agency.to_string()),
            period: Set(period.clone()),
            data_element: Set(code.to_string()),
            form: Set(report.form.to_string()),
            province_code: Set(report.province.to_string()),
            value: Set(value.as_integer()),
            report_id: Set(report.id.clone()),
            report_version: Set(report.version),
        })
}

/// Stores one catalogue definition, replacing an earlier one of the same kind and code.
async fn store_definition(
    txn: &DatabaseTransaction,
    kind: &str,
    code: &str,
    payload: Vec<u8>,
) -> Result<(), DbErr> {
    catalogue_definition::Entity::insert(catalogue_definition::ActiveModel {
        kind: Set(kind.to_owned()),
        code: Set(code.to_owned()),
        payload: Set(payload),
    })
    .on_conflict(
        OnConflict::columns([
            catalogue_definition::Column::Kind,
            catalogue_definition::Column::Code,
        ])
        .update_column(catalogue_definition::Column::Payload)
        .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

/// Inserts `rows` in as few statements as the parameter limits allow.
async fn insert_all<E, A>(txn: &DatabaseTransaction, rows: Vec<A>) -> Result<(), DbErr>
where
    E: EntityTrait,
    A: ActiveModelTrait<Entity = E> + Send,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        E::insert_many(rows.by_ref().take(ROWS_PER_INSERT))
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

/// Every catalogue definition learned from the feed.
#[tracing::instrument(name = "db.definitions", skip_all)]
pub async fn definitions(
    db: &DatabaseConnection,
) -> ServiceResult<Vec<catalogue_definition::Model>> {
    Ok(catalogue_definition::Entity::find().all(db).await?)
}

/// Applies a batch of agency-feed entries and moves the cursor to the
/// batch's last sequence number, in one transaction. Each entry's versions
/// replace the agency's rows in the tree copy, so an agency's last entry in
/// the batch decides; an entry without an agency (`None`) only moves the
/// cursor. Entries at or below the cursor are skipped. Returns how many
/// entries were above the cursor.
#[tracing::instrument(name = "db.apply_agencies", skip_all, fields(entries = entries.len()))]
pub async fn apply_agencies(
    db: &DatabaseConnection,
    entries: &[(i64, Option<AgencyHistory>)],
) -> ServiceResult<usize> {
    let txn = chiso_runtime::db::begin_write(db).await?;
    let current = cursor_in(&txn, REGISTRY_FEED).await?;
    let fresh: Vec<_> = entries.iter().filter(|(seq, _)| *seq > current).collect();
    let Some(last_seq) = fresh.iter().map(|(seq, _)| *seq).max() else {
        return Ok(0);
    };
    let latest: BTreeMap<&str, &AgencyHistory> = fresh
        .iter()
        .filter_map(|(_, history)| history.as_ref())
        .map(|h| (h.code.as_str(), h))
        .collect();
    let codes: Vec<&str> = latest.keys().copied().collect();
    for chunk in codes.chunks(KEYS_PER_DELETE) {
        agency_tree::Entity::delete_many()
            .filter(agency_tree::Column::Code.is_in(chunk.iter().copied()))
            .exec(&txn)
            .await?;
    }
    let rows: Vec<agency_tree::ActiveModel> = latest
        .values()
        .flat_map(|history| {
            history.versions.iter().map(|v| agency_tree::ActiveModel {
                code: Set(history.code.to_string()),
                valid_from: Set(v.valid_from),
                valid_to: Set(v.valid_to),
                parent_code: Set(v.parent.as_ref().map(ToString::to_string)),
                province_code: Set(v.province.to_string()),
                admin_unit_code: Set(history.admin_unit.as_ref().map(ToString::to_string)),
                kind: Set(history.kind.as_str().to_owned()),
                level: Set(history.level.as_str().to_owned()),
                name: Set(history.name.clone()),
                successors: Set(history
                    .successors
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(",")),
            })
        })
        .collect();
    insert_all::<agency_tree::Entity, _>(&txn, rows).await?;
    move_cursor(&txn, REGISTRY_FEED, last_seq).await?;
    txn.commit().await?;
    Ok(fresh.len())
}

/// `feed`'s cursor as this transaction sees it.
async fn cursor_in(txn: &DatabaseTransaction, feed: &str) -> Result<i64, DbErr> {
    Ok(feed_cursor::Entity::find_by_id(feed.to_owned())
        .one(txn)
        .await?
        .map_or(0, |c| c.last_seq))
}

/// Moves `feed`'s cursor to `seq`; the caller checked it lies ahead.
async fn move_cursor(txn: &DatabaseTransaction, feed: &str, seq: i64) -> Result<(), DbErr> {
    feed_cursor::Entity::insert(feed_cursor::ActiveModel {
        feed: Set(feed.to_owned()),
        last_seq: Set(seq),
    })
    .on_conflict(
        OnConflict::column(feed_cursor::Column::Feed)
            .update_column(feed_cursor::Column::LastSeq)
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

/// The tree copy as histories, for the model at start.
#[tracing::instrument(name = "db.load_tree", skip_all)]
pub async fn load_tree(db: &DatabaseConnection) -> anyhow::Result<Vec<AgencyHistory>> {
    let rows = agency_tree::Entity::find()
        .order_by_asc(agency_tree::Column::Code)
        .order_by_asc(agency_tree::Column::ValidFrom)
        .all(db)
        .await?;
    let mut out: Vec<AgencyHistory> = Vec::new();
    for row in rows {
        let what = || format!("stored agency {}", row.code);
        let code = AgencyCode::parse(&row.code).with_context(what)?;
        let version = TreeVersion {
            valid_from: row.valid_from,
            valid_to: row.valid_to,
            parent: row
                .parent_code
                .as_deref()
                .map(AgencyCode::parse)
                .transpose()
                .with_context(what)?,
            province: AdminUnitCode::parse(&row.province_code).with_context(what)?,
        };
        if let Some(last) = out.last_mut()
            && last.code == code
        {
            last.versions.push(version);
            continue;
        }
        out.push(AgencyHistory {
            code,
            kind: row
                .kind
                .parse()
                .map_err(anyhow::Error::msg)
                .with_context(what)?,
            level: row
                .level
                .parse()
                .map_err(anyhow::Error::msg)
                .with_context(what)?,
            admin_unit: row
                .admin_unit_code
                .as_deref()
                .map(AdminUnitCode::parse)
                .transpose()
                .with_context(what)?,
            name: row.name.clone(),
            successors: row
                .successors
                .split(',')
                .filter(|s| !s.is_empty())
                .map(AgencyCode::parse)
                .collect::<Result<_, _>>()
                .with_context(what)?,
            versions: vec![version],
        });
    }
    Ok(out)
}

/// One stored fact: agency, period, element and stored integer.
pub type FactRow = (String, String, String, i64);

/// Every fact, in pages, handed to `each` (a country holds tens of
/// millions: never all in one vector).
#[tracing::instrument(name = "db.load_facts", skip_all)]
pub async fn load_facts(
    db: &DatabaseConnection,
    mut each: impl FnMut(FactRow) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    use futures::TryStreamExt;
    let mut stream = fact::Entity::find()
        .select_only()
        .column(fact::Column::AgencyCode)
        .column(fact::Column::Period)
        .column(fact::Column::DataElement)
        .column(fact::Column::Value)
        .into_tuple::<FactRow>()
        .stream(db)
        .await?;
    while let Some(row) = stream.try_next().await? {
        each(row)?;
    }
    Ok(())
}

/// The facts of some (agency, period) pairs, as they now stand.
#[tracing::instrument(name = "db.facts_of", skip_all, fields(keys = keys.len()))]
pub async fn facts_of(
    db: &DatabaseConnection,
    keys: &[(AgencyCode, PeriodCode)],
) -> ServiceResult<Vec<FactRow>> {
    let mut out = Vec::new();
    for chunk in keys.chunks(KEYS_PER_DELETE) {
        let any_key = chunk
            .iter()
            .fold(Condition::any(), |any, (agency, period)| {
                any.add(
                    Condition::all()
                        .add(fact::Column::AgencyCode.eq(agency.as_str()))
                        .add(fact::Column::Period.eq(period.to_string())),
                )
            });
        out.extend(
            fact::Entity::find()
                .select_only()
                .column(fact::Column::AgencyCode)
                .column(fact::Column::Period)
                .column(fact::Column::DataElement)
                .column(fact::Column::Value)
                .filter(any_key)
                .into_tuple::<FactRow>()
                .all(db)
                .await?,
        );
    }
    Ok(out)
}

/// Every report state: form, period, agency and state.
#[tracing::instrument(name = "db.load_states", skip_all)]
pub async fn load_states(
    db: &DatabaseConnection,
) -> anyhow::Result<Vec<(FormCode, PeriodCode, AgencyCode, Received)>> {
    report_state::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|r| {
            let what = || format!("stored state of {} {} {}", r.form, r.period, r.agency_code);
            let state = match r.state.as_str() {
                "received" => Received::Received {
                    days_late: u32::try_from(r.days_late).unwrap_or(0),
                },
                _ => Received::Returned,
            };
            Ok((
                FormCode::parse(&r.form).with_context(what)?,
                PeriodCode::parse(&r.period).with_context(what)?,
                AgencyCode::parse(&r.agency_code).with_context(what)?,
                state,
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use chiso_domain::{Count, DataElementCode, ReportStatus, Value};
    use sea_orm::{ConnectOptions, Database, QueryOrder};
    use sea_orm_migration::MigratorTrait;

    use super::*;
    use crate::{catalogue, migration::Migrator};

    const SO_TTTT: &str = "000.00.15.H51";
    const BINH_SON: &str = "000.00.24.H51";

    /// Feed events with their sequence numbers, in feed order.
    type Events = Vec<(i64, FeedEvent)>;

    /// No report had a state before.
    fn none(_: &FormCode, _: &PeriodCode, _: &AgencyCode) -> Option<Received> {
        None
    }

    async fn db() -> DatabaseConnection {
        let mut options = ConnectOptions::new("sqlite::memory:");
        // One connection: every connection to `:memory:` is a database of its own.
        options.max_connections(1).min_connections(1);
        let db = Database::connect(options).await.unwrap();
        Migrator::up(&db, None).await.unwrap();
        db
    }

    fn report(agency: &str, version: i32, values: &[(&str, i64)]) -> ReportVersion {
        ReportVersion {
            id: format!("report-{agency}"),
            form: FormCode::parse("it_fast_quarterly").unwrap(),
            period: PeriodCode::parse("2025Q1").unwrap(),
            agency: AgencyCode::parse(agency).unwrap(),
            province: AdminUnitCode::parse("51").unwrap(),
            version,
            status: ReportStatus::Submitted,
            values: values
                .iter()
                .map(|(code, v)| {
                    (
                        DataElementCode::parse(code).unwrap(),
                        Value::Count(Count::new(*v).unwrap()),
                    )
                })
                .collect(),
            days_late: 0,
        }
    }

    fn submitted(seq: i64, agency: &str, version: i32, values: &[(&str, i64)]) -> (i64, FeedEvent) {
        let event = FeedEvent::Report {
            report: report(agency, version, values),
            event: ReportEvent::Submitted,
            counts: true,
        };
        (seq, event)
    }

    fn returned(seq: i64, agency: &str, version: i32, values: &[(&str, i64)]) -> (i64, FeedEvent) {
        let event = FeedEvent::Report {
            report: report(agency, version, values),
            event: ReportEvent::Returned,
            counts: false,
        };
        (seq, event)
    }

    /// Every fact as (agency, element, value, version), in key order.
    async fn facts(db: &DatabaseConnection) -> Vec<(String, String, i64, i32)> {
        fact::Entity::find()
            .order_by_asc(fact::Column::AgencyCode)
            .order_by_asc(fact::Column::DataElement)
            .all(db)
            .await
            .unwrap()
            .into_iter()
            .map(|f| (f.agency_code, f.data_element, f.value, f.report_version))
            .collect()
    }

    fn fact(agency: &str, element: &str, value: i64, version: i32) -> (String, String, i64, i32) {
        (agency.into(), element.into(), value, version)
    }

    /// Sở TTTT: submit, a revision's draft, the resubmission, a return.
    /// Bình Sơn: submit, a return, the resubmission with one value fewer.
    /// The first submissions are applied before the batch, so the batch
    /// must also remove facts it did not insert itself.
    fn lifecycle() -> (Events, Events) {
        let before = vec![
            submitted(
                1,
                SO_TTTT,
                1,
                &[("documents_sent", 120), ("online_meetings", 4)],
            ),
            submitted(
                2,
                BINH_SON,
                1,
                &[("documents_sent", 380), ("online_meetings", 9)],
            ),
        ];
        let batch = vec![
            (3, FeedEvent::Nothing),
            submitted(
                4,
                SO_TTTT,
                2,
                &[("documents_sent", 100), ("online_meetings", 5)],
            ),
            returned(
                5,
                BINH_SON,
                1,
                &[("documents_sent", 380), ("online_meetings", 9)],
            ),
            (
                6,
                FeedEvent::Definition {
                    kind: catalogue::FORM,
                    code: "it_fast_quarterly".into(),
                    payload: vec![1, 2, 3],
                },
            ),
            returned(
                7,
                SO_TTTT,
                2,
                &[("documents_sent", 100), ("online_meetings", 5)],
            ),
            (8, FeedEvent::Nothing),
            submitted(9, BINH_SON, 2, &[("documents_sent", 390)]),
        ];
        (before, batch)
    }

    #[tokio::test]
    async fn a_batch_leaves_exactly_what_one_by_one_would() {
        let (before, batch) = lifecycle();
        let batched = db().await;
        let one_by_one = db().await;
        for db in [&batched, &one_by_one] {
            let applied = apply_batch(db, &before, none).await.unwrap();
            assert_eq!(applied.events, 2);
        }
        let applied = apply_batch(&batched, &batch, none).await.unwrap();
        assert_eq!((applied.events, applied.definitions), (7, 1));
        // Both reports were returned once; Bình Sơn's resubmission leaves it received.
        assert_eq!(
            applied.states.last(),
            Some(&(
                FormCode::parse("it_fast_quarterly").unwrap(),
                PeriodCode::parse("2025Q1").unwrap(),
                AgencyCode::parse(BINH_SON).unwrap(),
                Received::Received { days_late: 0 }
            ))
        );
        for event in &batch {
            apply_batch(&one_by_one, std::slice::from_ref(event), none)
                .await
                .unwrap();
        }

        let expected = vec![fact(BINH_SON, "documents_sent", 390, 2)];
        assert_eq!(facts(&batched).await, expected);
        assert_eq!(facts(&one_by_one).await, expected);
        for db in [&batched, &one_by_one] {
            assert_eq!(cursor(db, SUBMISSION_FEED).await.unwrap(), 9);
            let stored = definitions(db).await.unwrap();
            assert_eq!(stored.len(), 1);
            assert_eq!(stored[0].payload, [1, 2, 3]);
        }
    }

    #[tokio::test]
    async fn events_at_or_below_the_cursor_are_skipped() {
        let db = db().await;
        let batch = vec![
            submitted(1, SO_TTTT, 1, &[("documents_sent", 120)]),
            submitted(2, BINH_SON, 1, &[("documents_sent", 380)]),
        ];
        apply_batch(&db, &batch, none).await.unwrap();
        let replayed = apply_batch(&db, &batch, none).await.unwrap();
        assert_eq!(replayed, Applied::default());

        // A batch across the cursor applies its tail only: the return at
        // seq 2 was seen before (as something else) and must not apply again.
        let across = vec![
            returned(2, BINH_SON, 1, &[("documents_sent", 380)]),
            submitted(3, SO_TTTT, 2, &[("documents_sent", 100)]),
        ];
        let applied = apply_batch(&db, &across, none).await.unwrap();
        assert_eq!(applied.events, 1);
        assert_eq!(
            facts(&db).await,
            [
                fact(SO_TTTT, "documents_sent", 100, 2),
                fact(BINH_SON, "documents_sent", 380, 1),
            ]
        );
        assert_eq!(cursor(&db, SUBMISSION_FEED).await.unwrap(), 3);
        assert_eq!(
            apply_batch(&db, &[], none).await.unwrap(),
            Applied::default()
        );
    }

    #[tokio::test]
    async fn a_full_batch_spans_several_statements() {
        // More keys than one DELETE takes and more rows than one INSERT.
        let agencies: Vec<String> = (0..KEYS_PER_DELETE + 100)
            .map(|i| format!("000.{:02}.{:02}.H51", i / 100, i % 100))
            .collect();
        let values = [("documents_sent", 10), ("online_meetings", 1)];
        assert!(agencies.len() * values.len() > ROWS_PER_INSERT);
        let first: Vec<_> = agencies
            .iter()
            .zip(1..)
            .map(|(agency, seq)| submitted(seq, agency, 1, &values))
            .collect();
        let db = db().await;
        apply_batch(&db, &first, none).await.unwrap();
        assert_eq!(facts(&db).await.len(), agencies.len() * values.len());

        // Every agency resubmits with one value: the old rows all go.
        let seq0 = i64::try_from(agencies.len()).unwrap();
        let second: Vec<_> = agencies
            .iter()
            .zip(seq0 + 1..)
            .map(|(agency, seq)| submitted(seq, agency, 2, &[("documents_sent", 7)]))
            .collect();
        apply_batch(&db, &second, none).await.unwrap();
        let after = facts(&db).await;
        assert_eq!(after.len(), agencies.len());
        assert!(
            after
                .iter()
                .all(|(_, e, v, ver)| e == "documents_sent" && *v == 7 && *ver == 2)
        );
        assert_eq!(cursor(&db, SUBMISSION_FEED).await.unwrap(), 2 * seq0);
    }

    fn history(code: &str, parent: Option<&str>, from: &str) -> AgencyHistory {
        AgencyHistory {
            code: AgencyCode::parse(code).unwrap(),
            kind: chiso_domain::AgencyKind::Department,
            level: chiso_domain::AdminLevel::Province,
            admin_unit: None,
            name: format!("Cơ quan {code}"),
            successors: Vec::new(),
            versions: vec![TreeVersion {
                valid_from: from.parse().unwrap(),
                valid_to: None,
                parent: parent.map(|p| AgencyCode::parse(p).unwrap()),
                province: AdminUnitCode::parse("51").unwrap(),
            }],
        }
    }

    #[tokio::test]
    async fn an_agency_batch_keeps_each_agencys_last_entry() {
        let db = db().await;
        let root = "000.00.00.H51";
        let entries = vec![
            (1, Some(history(SO_TTTT, Some(root), "2008-04-01"))),
            (2, Some(history(BINH_SON, Some(root), "1989-07-01"))),
            (3, Some(history(SO_TTTT, Some(BINH_SON), "2010-01-01"))),
            (4, None),
        ];
        assert_eq!(apply_agencies(&db, &entries).await.unwrap(), 4);
        assert_eq!(apply_agencies(&db, &entries).await.unwrap(), 0);
        let rows = agency_tree::Entity::find()
            .order_by_asc(agency_tree::Column::Code)
            .all(&db)
            .await
            .unwrap();
        // Kind and level travel with every version, for group answers.
        assert!(
            rows.iter()
                .all(|r| r.kind == "department" && r.level == "province"),
            "{rows:?}"
        );
        let rows: Vec<_> = rows
            .iter()
            .map(|r| {
                (
                    r.code.as_str(),
                    r.parent_code.as_deref(),
                    r.valid_from.to_string(),
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                (SO_TTTT, Some(BINH_SON), "2010-01-01".to_owned()),
                (BINH_SON, Some(root), "1989-07-01".to_owned()),
            ]
        );
        assert_eq!(cursor(&db, REGISTRY_FEED).await.unwrap(), 4);
    }
}
