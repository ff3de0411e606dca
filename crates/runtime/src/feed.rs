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

impl Follow {
    /// Followers of a feed whose last committed sequence number is `head`,
    /// and the sender that wakes them after each local commit; they re-read
    /// every `poll` anyway and end when `stop` is cancelled.
    pub fn new(head: i64, poll: Duration, stop: CancellationToken) -> (watch::Sender<i64>, Self) {
        let head = watch::Sender::new(head);
        let follow = Self {
            head: head.subscribe(),
            poll,
            stop,
        };
        (head, follow)
    }
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

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use sea_orm::{ConnectOptions, Database, TransactionTrait};
    use tokio_stream::StreamExt;

    use super::*;

    /// An in-memory feed: entries `seq -> seq * 10`, read as `fetch` reads a table.
    #[derive(Clone, Default)]
    struct Log(Arc<Mutex<Vec<i64>>>);

    impl Log {
        fn append(&self, n: i64) {
            let mut entries = self.0.lock().unwrap();
            for _ in 0..n {
                let seq = entries.len() as i64 + 1;
                entries.push(seq);
            }
        }

        fn fetch(
            &self,
        ) -> impl Fn(i64) -> std::future::Ready<ServiceResult<Vec<(i64, i64)>>> + Send + 'static
        {
            let log = self.clone();
            move |after| {
                let entries = log.0.lock().unwrap();
                let batch = entries
                    .iter()
                    .filter(|seq| **seq > after)
                    .take(BATCH as usize)
                    .map(|seq| (*seq, seq * 10))
                    .collect();
                std::future::ready(Ok(batch))
            }
        }
    }

    fn follow(head: &watch::Sender<i64>, stop: &CancellationToken) -> Follow {
        Follow {
            head: head.subscribe(),
            // Long enough that only a wake-up explains a prompt delivery.
            poll: Duration::from_secs(60),
            stop: stop.clone(),
        }
    }

    async fn take(stream: &mut ReceiverStream<Result<i64, Status>>, n: usize) -> Vec<i64> {
        let mut got = Vec::with_capacity(n);
        while got.len() < n {
            let next = tokio::time::timeout(Duration::from_secs(5), stream.next())
                .await
                .expect("the feed went quiet")
                .expect("the feed ended")
                .expect("the feed failed");
            got.push(next);
        }
        got
    }

    #[tokio::test]
    async fn a_stream_sends_every_entry_after_the_cursor_in_order_across_batches() {
        let log = Log::default();
        let n = 2 * BATCH as i64 + 7;
        log.append(n);
        let (head, stop) = (watch::Sender::new(n), CancellationToken::new());

        let mut all = stream(follow(&head, &stop), 0, log.fetch());
        let want: Vec<i64> = (1..=n).map(|s| s * 10).collect();
        assert_eq!(take(&mut all, n as usize).await, want);

        // Resuming after a cursor gives exactly what follows it.
        let mut resumed = stream(follow(&head, &stop), BATCH as i64, log.fetch());
        let want: Vec<i64> = (BATCH as i64 + 1..=n).map(|s| s * 10).collect();
        assert_eq!(take(&mut resumed, want.len()).await, want);
        stop.cancel();
    }

    #[tokio::test]
    async fn a_caught_up_stream_follows_new_entries_once_each_and_ends_at_shutdown() {
        let log = Log::default();
        log.append(3);
        let (head, stop) = (watch::Sender::new(3), CancellationToken::new());
        let mut entries = stream(follow(&head, &stop), 1, log.fetch());
        assert_eq!(take(&mut entries, 2).await, [20, 30]);

        log.append(2);
        head.send_replace(5);
        assert_eq!(take(&mut entries, 2).await, [40, 50]);

        // A wake-up with nothing new sends nothing again.
        head.send_replace(5);
        log.append(1);
        head.send_replace(6);
        assert_eq!(take(&mut entries, 1).await, [60]);

        stop.cancel();
        let end = tokio::time::timeout(Duration::from_secs(5), entries.next()).await;
        assert!(matches!(end, Ok(None)), "the stream should end at shutdown");
    }

    #[tokio::test]
    async fn a_failed_read_ends_the_stream_with_the_error() {
        let (head, stop) = (watch::Sender::new(0), CancellationToken::new());
        let mut entries = stream(follow(&head, &stop), 0, |_| async {
            Err::<Vec<(i64, i64)>, _>(ServiceError::Unavailable("database: gone".into()))
        });
        let status = entries.next().await.unwrap().unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unavailable);
        assert!(entries.next().await.is_none());
    }

    #[test]
    fn a_cursor_is_zero_or_more() {
        assert_eq!(decode_cursor(0).unwrap(), 0);
        assert_eq!(decode_cursor(42).unwrap(), 42);
        let err = decode_cursor(-1).unwrap_err();
        assert!(matches!(err, ServiceError::InvalidArgument(e) if e.0[0].field == "after_seq"));
    }

    #[tokio::test]
    async fn sequence_numbers_count_up_and_only_commits_move_the_head() {
        let mut options = ConnectOptions::new("sqlite::memory:");
        // One connection: every connection to `:memory:` is a database of its own.
        options.max_connections(1).min_connections(1);
        let db = Database::connect(options).await.unwrap();
        for sql in [
            "CREATE TABLE feed_head (id INTEGER PRIMARY KEY, last_seq BIGINT NOT NULL)",
            "INSERT INTO feed_head (id, last_seq) VALUES (1, 0)",
        ] {
            db.execute_unprepared(sql).await.unwrap();
        }
        assert_eq!(head(&db, "feed_head").await.unwrap(), 0);

        let txn = db.begin().await.unwrap();
        assert_eq!(next_seq(&txn, "feed_head").await.unwrap(), 1);
        assert_eq!(next_seq(&txn, "feed_head").await.unwrap(), 2);
        txn.rollback().await.unwrap();
        assert_eq!(head(&db, "feed_head").await.unwrap(), 0);

        let txn = db.begin().await.unwrap();
        assert_eq!(next_seq(&txn, "feed_head").await.unwrap(), 1);
        txn.commit().await.unwrap();
        assert_eq!(head(&db, "feed_head").await.unwrap(), 1);
    }
}

/// Longest wait between two attempts to follow a feed.
pub const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// Delays between attempts to follow a feed: exponential from 200 ms, with
/// jitter so replicas that lost the same upstream do not reconnect in
/// lockstep, and never exhausted (a follower retries until stopped). Jitter
/// adds up to as much again as the delay, so the cap is half the longest wait.
pub fn backoff() -> backon::ExponentialBackoff {
    use backon::BackoffBuilder;
    backon::ExponentialBuilder::new()
        .with_min_delay(Duration::from_millis(200))
        .with_factor(2.0)
        .with_max_delay(MAX_BACKOFF / 2)
        .with_jitter()
        .without_max_times()
        .build()
}

/// Runs `follow` (one connection to a feed, until it breaks or ends) again
/// after each interruption, backing off, until `stop`: every feed follower
/// of every service resumes the same way.
pub async fn retrying<F, Fut>(feed: &'static str, stop: CancellationToken, follow: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let mut delays = backoff();
    loop {
        let result = tokio::select! {
            result = follow() => result,
            () = stop.cancelled() => return,
        };
        let delay = match result {
            // A feed that ended cleanly (the upstream stopped) starts afresh.
            Ok(()) => {
                delays = backoff();
                delays.next()
            }
            Err(err) => {
                let delay = delays.next();
                tracing::warn!(feed, error = format!("{err:#}"), retry_in = ?delay, "feed interrupted");
                delay
            }
        };
        tokio::select! {
            () = tokio::time::sleep(delay.unwrap_or(MAX_BACKOFF)) => {}
            () = stop.cancelled() => return,
        }
    }
}

#[cfg(test)]
mod backoff_tests {
    use super::*;

    #[test]
    fn delays_grow_with_jitter_stay_capped_and_never_run_out() {
        let delays: Vec<Duration> = backoff().take(50).collect();
        assert_eq!(delays.len(), 50);
        assert!(delays[0] >= Duration::from_millis(200));
        assert!(delays[0] <= Duration::from_millis(400));
        assert!(delays.iter().all(|d| *d <= MAX_BACKOFF));
        assert!(delays[49] >= MAX_BACKOFF / 2);
    }
}
