//! The aggregation service layer: applying feed events and summing facts.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use anyhow::Context;
use chiso_domain::{
    AdminUnitCode, AgencyHistory, Count, DataElement, PeriodCode, ReportKey, ReportVersion, Totals,
    Value,
    catalogue::{Decimal, ValueType},
};
use chiso_runtime::ServiceResult;
use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, DatabaseConnection,
    DatabaseTransaction, DbErr, EntityTrait, QueryFilter, QuerySelect, sea_query::OnConflict,
};

use crate::entity::{agency_tree, catalogue_definition, fact, feed_cursor};

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

/// What a report event does to the facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactChange {
    /// The version's values now count: they replace the agency's facts of
    /// the same form and period.
    Replace,
    /// The report stopped counting (returned): its facts go.
    Remove,
}

/// One submission-feed event, decoded, as the store applies it.
#[derive(Debug, Clone)]
pub enum FeedEvent {
    /// A report event that changes what counts.
    Report(ReportVersion, FactChange),
    /// A catalogue definition (`catalogue::DATA_ELEMENT` and the others),
    /// as protobuf bytes.
    Definition {
        kind: &'static str,
        code: String,
        payload: Vec<u8>,
    },
    /// Changes nothing here (a draft revision, an unlock, a kind this build
    /// does not know); only the cursor moves past it.
    Nothing,
}

/// What [`apply_batch`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Applied {
    /// Events above the cursor, now applied.
    pub events: usize,
    /// Catalogue definitions among them: the in-memory catalogue is stale.
    pub definitions: usize,
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
) -> ServiceResult<Applied> {
    let txn = chiso_runtime::db::begin_write(db).await?;
    let current = cursor_in(&txn, SUBMISSION_FEED).await?;
    let fresh: Vec<&(i64, FeedEvent)> = events.iter().filter(|(seq, _)| *seq > current).collect();
    let Some(last_seq) = fresh.iter().map(|(seq, _)| *seq).max() else {
        return Ok(Applied::default());
    };
    let mut latest: BTreeMap<ReportKey, Option<&ReportVersion>> = BTreeMap::new();
    let mut definitions = 0;
    for (_, event) in &fresh {
        match event {
            FeedEvent::Report(report, change) => {
                let key = ReportKey {
                    form: report.form.clone(),
                    period: report.period,
                    agency: report.agency.clone(),
                };
                latest.insert(key, (*change == FactChange::Replace).then_some(report));
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
    move_cursor(&txn, SUBMISSION_FEED, last_seq).await?;
    txn.commit().await?;
    Ok(Applied {
        events: fresh.len(),
        definitions,
    })
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

/// The agencies of an area on a date: the People's Committee whose
/// administrative-unit code is `area` and everything under it then.
/// `None` when no such committee existed on that date.
#[tracing::instrument(name = "db.area_members", skip_all)]
pub async fn area_members(
    db: &DatabaseConnection,
    area: &AdminUnitCode,
    as_of: NaiveDate,
) -> ServiceResult<Option<Vec<String>>> {
    let active: Vec<agency_tree::Model> = agency_tree::Entity::find()
        .filter(agency_tree::Column::ValidFrom.lte(as_of))
        .filter(
            Condition::any()
                .add(agency_tree::Column::ValidTo.is_null())
                .add(agency_tree::Column::ValidTo.gt(as_of)),
        )
        .all(db)
        .await?;
    let Some(root) = active
        .iter()
        .find(|a| a.admin_unit_code.as_deref() == Some(area.as_str()))
    else {
        return Ok(None);
    };
    let mut children: HashMap<&str, Vec<&str>> = HashMap::new();
    for a in &active {
        if let Some(parent) = &a.parent_code {
            children
                .entry(parent.as_str())
                .or_default()
                .push(a.code.as_str());
        }
    }
    let mut members = vec![root.code.clone()];
    let mut queue = VecDeque::from([root.code.as_str()]);
    while let Some(code) = queue.pop_front() {
        for child in children.get(code).into_iter().flatten() {
            members.push((*child).to_owned());
            queue.push_back(child);
        }
    }
    Ok(Some(members))
}

/// The totals of `elements` over the given agencies for a period, and how
/// many of the agencies reported any of them. Values are read and summed
/// exactly in the domain (i128), never in SQL, so no sum can overflow.
#[tracing::instrument(name = "db.totals", skip_all)]
pub async fn totals(
    db: &DatabaseConnection,
    agencies: &[String],
    period: &PeriodCode,
    elements: &[&DataElement],
) -> ServiceResult<(Totals, i64)> {
    let rows: Vec<(String, String, i64)> = fact::Entity::find()
        .select_only()
        .column(fact::Column::AgencyCode)
        .column(fact::Column::DataElement)
        .column(fact::Column::Value)
        .filter(fact::Column::AgencyCode.is_in(agencies.iter().map(String::as_str)))
        .filter(fact::Column::Period.eq(period.to_string()))
        .filter(fact::Column::DataElement.is_in(elements.iter().map(|e| e.code.as_str())))
        .into_tuple()
        .all(db)
        .await?;
    let mut totals = Totals::new();
    let mut reporting = HashSet::new();
    for (agency, code, stored) in rows {
        let element = elements
            .iter()
            .find(|e| e.code.as_str() == code)
            .context("a fact of an element not asked for")?;
        let value = stored_value(element.value_type, stored)
            .with_context(|| format!("the stored fact {code} = {stored} is not a valid value"))?;
        totals.add(&element.code, &value);
        reporting.insert(agency);
    }
    Ok((totals, i64::try_from(reporting.len()).unwrap_or(i64::MAX)))
}

/// A stored integer back to the value it was, by the element's type.
fn stored_value(value_type: ValueType, stored: i64) -> Option<Value> {
    match value_type {
        ValueType::Count => Count::new(stored).ok().map(Value::Count),
        ValueType::Decimal { decimals } => Decimal::new(stored, decimals).map(Value::Decimal),
        ValueType::YesNo => match stored {
            0 => Some(Value::YesNo(false)),
            1 => Some(Value::YesNo(true)),
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use chiso_domain::{AgencyCode, DataElementCode, FormCode, ReportStatus, TreeVersion};
    use sea_orm::{ConnectOptions, Database, QueryOrder};
    use sea_orm_migration::MigratorTrait;

    use super::*;
    use crate::{catalogue, migration::Migrator};

    const SO_TTTT: &str = "000.00.15.H51";
    const BINH_SON: &str = "000.00.24.H51";

    /// Feed events with their sequence numbers, in feed order.
    type Events = Vec<(i64, FeedEvent)>;

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
        let event = FeedEvent::Report(report(agency, version, values), FactChange::Replace);
        (seq, event)
    }

    fn returned(seq: i64, agency: &str, version: i32, values: &[(&str, i64)]) -> (i64, FeedEvent) {
        let event = FeedEvent::Report(report(agency, version, values), FactChange::Remove);
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
            let applied = apply_batch(db, &before).await.unwrap();
            assert_eq!(applied.events, 2);
        }
        let applied = apply_batch(&batched, &batch).await.unwrap();
        assert_eq!(
            applied,
            Applied {
                events: 7,
                definitions: 1
            }
        );
        for event in &batch {
            apply_batch(&one_by_one, std::slice::from_ref(event))
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
        apply_batch(&db, &batch).await.unwrap();
        let replayed = apply_batch(&db, &batch).await.unwrap();
        assert_eq!(replayed, Applied::default());

        // A batch across the cursor applies its tail only: the return at
        // seq 2 was seen before (as something else) and must not apply again.
        let across = vec![
            returned(2, BINH_SON, 1, &[("documents_sent", 380)]),
            submitted(3, SO_TTTT, 2, &[("documents_sent", 100)]),
        ];
        let applied = apply_batch(&db, &across).await.unwrap();
        assert_eq!(applied.events, 1);
        assert_eq!(
            facts(&db).await,
            [
                fact(SO_TTTT, "documents_sent", 100, 2),
                fact(BINH_SON, "documents_sent", 380, 1),
            ]
        );
        assert_eq!(cursor(&db, SUBMISSION_FEED).await.unwrap(), 3);
        assert_eq!(apply_batch(&db, &[]).await.unwrap(), Applied::default());
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
        apply_batch(&db, &first).await.unwrap();
        assert_eq!(facts(&db).await.len(), agencies.len() * values.len());

        // Every agency resubmits with one value: the old rows all go.
        let seq0 = i64::try_from(agencies.len()).unwrap();
        let second: Vec<_> = agencies
            .iter()
            .zip(seq0 + 1..)
            .map(|(agency, seq)| submitted(seq, agency, 2, &[("documents_sent", 7)]))
            .collect();
        apply_batch(&db, &second).await.unwrap();
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
