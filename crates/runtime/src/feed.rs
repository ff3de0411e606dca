//! Ordered, resumable change feeds (submission's reports, the registry's
//! agencies): sequence numbers that commit in order, and a server stream that
//! sends everything after a cursor and then follows new entries.

use std::{future::Future, pin::Pin, time::Duration};

use sea_orm::{ConnectionTrait, Statement};
use tokio::sync::{mpsc, watch};
use tokio_stream::{Stream, wrappers::ReceiverStream};
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use crate::{
    ServiceError, ServiceResult,
    policy::{Action, Resource, authorize, caller},
};

/// Entries read per batch while catching up.
pub const BATCH: u64 = 256;

/// Takes the next sequence number from the one-row `head_table`, inside the
/// writing transaction. The row stays locked until commit, so a reader never
/// sees entry n+1 before entry n.
pub async fn next_seq(txn: &impl ConnectionTrait, head_table: &str) -> ServiceResult<i64> {
    let backend = txn.get_database_backend();
    let row = txn
        .query_one_raw(Statement::from_string(
            backend,
            format!(
                "UPDATE {head_table} SET last_seq = last_seq + 1 WHERE id = 1 RETURNING last_seq"
            ),
        ))
        .await?
        .ok_or_else(|| ServiceError::Internal(anyhow::anyhow!("{head_table} row is missing")))?;
    Ok(row.try_get("", "last_seq")?)
}

/// The highest committed sequence number.
pub async fn head(db: &impl ConnectionTrait, head_table: &str) -> ServiceResult<i64> {
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(Statement::from_string(
            backend,
            format!("SELECT last_seq FROM {head_table} WHERE id = 1"),
        ))
        .await?
        .ok_or_else(|| ServiceError::Internal(anyhow::anyhow!("{head_table} row is missing")))?;
    Ok(row.try_get("", "last_seq")?)
}

/// What a feed's server stream needs to follow new entries.
#[derive(Clone)]
pub struct Follow {
    /// Latest sequence number committed by this process; wakes followers.
    pub head: watch::Receiver<i64>,
    /// How often to re-read without a wake-up (writes by other replicas).
    pub poll: Duration,
    /// Ends every stream at shutdown so the server can stop.
    pub stop: CancellationToken,
}

/// A stream of every entry after `cursor`, then of new ones as they commit.
/// `fetch(after)` returns up to [`BATCH`] entries after `after`, in order.
pub fn stream<T, F, Fut>(follow: Follow, cursor: i64, fetch: F) -> ReceiverStream<Result<T, Status>>
where
    T: Send + 'static,
    F: Fn(i64) -> Fut + Send + 'static,
    Fut: Future<Output = ServiceResult<Vec<(i64, T)>>> + Send,
{
    let (tx, rx) = mpsc::channel(BATCH as usize);
    tokio::spawn(async move {
        let Follow {
            mut head,
            poll,
            stop,
        } = follow;
        let mut cursor = cursor;
        loop {
            let batch = match fetch(cursor).await {
                Ok(batch) => batch,
                Err(err) => {
                    tracing::warn!(error = %err, "change feed read failed");
                    let _ = tx.send(Err(Status::from(err))).await;
                    return;
                }
            };
            let caught_up = (batch.len() as u64) < BATCH;
            for (seq, entry) in batch {
                if tx.send(Ok(entry)).await.is_err() {
                    return;
                }
                cursor = seq;
            }
            if caught_up {
                tokio::select! {
                    _ = head.changed() => {}
                    () = tokio::time::sleep(poll) => {}
                    () = tx.closed() => return,
                    () = stop.cancelled() => return,
                }
            }
        }
    });
    ReceiverStream::new(rx)
}

/// The server stream of a `Watch…` call: what every feed RPC answers.
pub type FeedStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

/// A feed cursor from a request: the last sequence number the caller
/// applied, zero or more.
pub fn decode_cursor(after_seq: i64) -> Result<i64, ServiceError> {
    if after_seq < 0 {
        return Err(ServiceError::field("after_seq", "must be zero or more"));
    }
    Ok(after_seq)
}

/// Answers a `Watch…` call: the caller must be allowed to follow feeds, and
/// gets every entry after `after_seq`, then new ones as they commit.
/// `fetch(db, after)` reads up to [`BATCH`] entries after `after`, in order,
/// already encoded.
pub fn watch<Req, Db, T, F, Fut>(
    request: &Request<Req>,
    after_seq: i64,
    follow: &Follow,
    db: &Db,
    fetch: F,
) -> Result<Response<FeedStream<T>>, Status>
where
    Db: Clone + Send + Sync + 'static,
    T: Send + 'static,
    F: Fn(Db, i64) -> Fut + Send + 'static,
    Fut: Future<Output = ServiceResult<Vec<(i64, T)>>> + Send,
{
    authorize(&caller(request)?, Action::FollowFeed, Resource::Global)?;
    let after = decode_cursor(after_seq)?;
    let db = db.clone();
    let entries = stream(follow.clone(), after, move |after| fetch(db.clone(), after));
    Ok(Response::new(Box::pin(entries)))
}
