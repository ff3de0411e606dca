//! The change feed: writers append encoded events to an outbox inside their
//! own transaction; the [`sequencer`] numbers committed rows gap-free, in
//! short transactions of its own, so writers never wait on the feed head.

use std::{sync::Arc, time::Duration};

use chiso_proto::{
    convert::submission::timestamp,
    submission::v1::{self as pb, catalogue_change::Definition},
};
use chiso_runtime::{ServiceError, ServiceResult, feed};
use chrono::{DateTime, Utc};
use prost::Message;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityName,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, Statement,
};
use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

use crate::entity::outbox;

/// Table whose one row holds the feed's last sequence number.
pub const FEED_HEAD: &str = "feed_head";

/// Rows numbered per sequencer transaction at most: keeps the head row's
/// lock short when a backlog builds up.
const NUMBER_BATCH: u64 = 500;

/// An encoded catalogue event, without its sequence number.
pub fn catalogue_payload(definition: Definition, at: DateTime<Utc>) -> Vec<u8> {
    pb::ChangeEvent {
        seq: 0,
        at: Some(timestamp(at)),
        change: Some(pb::change_event::Change::Catalogue(pb::CatalogueChange {
            definition: Some(definition),
        })),
    }
    .encode_to_vec()
}

/// An encoded report event, without its sequence number.
pub fn report_payload(change: pb::ReportChange, at: DateTime<Utc>) -> Vec<u8> {
    pb::ChangeEvent {
        seq: 0,
        at: Some(timestamp(at)),
        change: Some(pb::change_event::Change::Report(change)),
    }
    .encode_to_vec()
}

/// Appends an event to the outbox, unnumbered, in the writer's transaction.
pub async fn append(
    txn: &impl ConnectionTrait,
    payload: Vec<u8>,
    at: DateTime<Utc>,
) -> ServiceResult<()> {
    outbox::Entity::insert(row(payload, at))
        .exec_without_returning(txn)
        .await?;
    Ok(())
}

/// The outbox row of an event, for writers that insert many at once; the
/// sequencer numbers it after commit like any other.
pub fn row(payload: Vec<u8>, at: DateTime<Utc>) -> outbox::ActiveModel {
    outbox::ActiveModel {
        seq: Set(None),
        at: Set(at),
        payload: Set(payload),
        ..Default::default()
    }
}

/// Numbered events after `after_seq`, oldest first; one query, no joins.
#[tracing::instrument(name = "db.changes_after", skip_all)]
pub async fn changes_after(
    db: &DatabaseConnection,
    after_seq: i64,
    limit: u64,
) -> ServiceResult<Vec<(i64, pb::ChangeEvent)>> {
    let rows: Vec<(Option<i64>, Vec<u8>)> = outbox::Entity::find()
        .select_only()
        .column(outbox::Column::Seq)
        .column(outbox::Column::Payload)
        .filter(outbox::Column::Seq.gt(after_seq))
        .order_by_asc(outbox::Column::Seq)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await?;
    rows.into_iter()
        .map(|(seq, payload)| {
            let seq = seq.unwrap_or_default();
            let mut event = pb::ChangeEvent::decode(payload.as_slice()).map_err(|e| {
                ServiceError::Internal(anyhow::anyhow!("feed event {seq} does not decode: {e}"))
            })?;
            event.seq = seq;
            Ok((seq, event))
        })
        .collect()
}

/// The highest numbered event.
pub async fn head(db: &DatabaseConnection) -> ServiceResult<i64> {
    feed::head(db, FEED_HEAD).await
}

/// Numbers committed outbox rows until `stop`: woken by `wake` after each
/// local commit, and every `poll` for rows other replicas wrote. Publishes
/// each new head on `head`, which wakes the feed streams.
pub async fn sequencer(
    db: DatabaseConnection,
    wake: Arc<Notify>,
    head: watch::Sender<i64>,
    poll: Duration,
    stop: CancellationToken,
) {
    loop {
        loop {
            match number_pending(&db).await {
                Ok((last, numbered)) => {
                    head.send_if_modified(|h| {
                        let moved = last > *h;
                        *h = (*h).max(last);
                        moved
                    });
                    if numbered < NUMBER_BATCH {
                        break;
                    }
                }
                Err(err) => {
                    warn!(error = %err, "feed sequencer failed, retrying");
                    break;
                }
            }
        }
        tokio::select! {
            () = wake.notified() => {}
            () = tokio::time::sleep(poll) => {}
            () = stop.cancelled() => return,
        }
    }
}

/// Numbers every committed event now and returns the head: the feed then
/// holds every change committed before the call (what `GetFeedHead`
/// promises), even if the sequencer has not run since.
pub async fn number_all(db: &DatabaseConnection) -> ServiceResult<i64> {
    loop {
        let (last, numbered) = number_pending(db).await?;
        if numbered < NUMBER_BATCH {
            return Ok(last);
        }
    }
}

/// One short transaction: takes the head row, gives the unnumbered rows it
/// can see the next sequence numbers in outbox-id order, moves the head.
/// Returns the head and how many rows it numbered.
async fn number_pending(db: &DatabaseConnection) -> ServiceResult<(i64, u64)> {
    let txn = chiso_runtime::db::begin_write(db).await?;
    let backend = txn.get_database_backend();
    // PostgreSQL: replicas' sequencers take turns on the head row. SQLite
    // serialises writers already (BEGIN IMMEDIATE).
    let lock = if backend == DbBackend::Postgres {
        " FOR UPDATE"
    } else {
        ""
    };
    let row = txn
        .query_one_raw(Statement::from_string(
            backend,
            format!("SELECT last_seq FROM {FEED_HEAD} WHERE id = 1{lock}"),
        ))
        .await?
        .ok_or_else(|| ServiceError::Internal(anyhow::anyhow!("{FEED_HEAD} row is missing")))?;
    let last: i64 = row.try_get("", "last_seq")?;
    // One statement numbers the batch: the oldest unnumbered rows, in id
    // order, get last + 1, last + 2, … (a row per UPDATE cost a round trip
    // per report at a thousand reports a second).
    let (p1, p2) = if backend == DbBackend::Postgres {
        ("$1", "$2")
    } else {
        ("?", "?")
    };
    let outbox = outbox::Entity.table_name();
    let numbered = txn
        .execute_raw(Statement::from_sql_and_values(
            backend,
            format!(
                "UPDATE {outbox} SET seq = {p1} + batch.rn \
                 FROM (SELECT id, row_number() OVER (ORDER BY id) AS rn FROM {outbox} \
                       WHERE seq IS NULL ORDER BY id LIMIT {p2}) AS batch \
                 WHERE {outbox}.id = batch.id"
            ),
            [last.into(), (NUMBER_BATCH as i64).into()],
        ))
        .await?
        .rows_affected();
    if numbered == 0 {
        txn.rollback().await?;
        return Ok((last, 0));
    }
    let seq = last + numbered as i64;
    txn.execute_raw(Statement::from_sql_and_values(
        backend,
        format!(
            "UPDATE {FEED_HEAD} SET last_seq = {} WHERE id = 1",
            if backend == DbBackend::Postgres {
                "$1"
            } else {
                "?"
            }
        ),
        [seq.into()],
    ))
    .await?;
    txn.commit().await?;
    debug!(from = last + 1, to = seq, "feed events numbered");
    Ok((seq, numbered))
}
