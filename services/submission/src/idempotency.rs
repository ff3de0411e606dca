//! Idempotent writes: a `request_id` names a write of one caller and
//! method; its first answer is stored in the write's own transaction and
//! replayed for the same request, and the same id with another request is
//! refused.

use std::future::Future;

use chiso_domain::FieldErrors;
use chiso_runtime::{ServiceError, ServiceResult};
use chrono::{DateTime, Utc};
use prost::Message;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
};
use sha2::{Digest, Sha256};

use crate::entity::idempotency_key;

/// Longest request id accepted.
pub const MAX_REQUEST_ID: usize = 128;

/// One write's idempotency key and the hash of its request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey {
    subject: String,
    method: &'static str,
    key: String,
    hash: String,
}

impl IdempotencyKey {
    /// The key of `request` (with its `request_id` already cleared) sent by
    /// `subject` to `method`; `None` when `request_id` is empty.
    pub fn new(
        subject: &str,
        method: &'static str,
        request_id: &str,
        cleared: &impl Message,
    ) -> Result<Option<Self>, FieldErrors> {
        if request_id.is_empty() {
            return Ok(None);
        }
        if request_id.len() > MAX_REQUEST_ID
            || !request_id.bytes().all(|b| (0x20..=0x7e).contains(&b))
        {
            return Err(FieldErrors::single(
                "request_id",
                format!("must be at most {MAX_REQUEST_ID} printable ASCII characters"),
            ));
        }
        Ok(Some(Self {
            subject: subject.to_owned(),
            method,
            key: request_id.to_owned(),
            hash: request_hash(method, cleared),
        }))
    }

    pub fn request_id(&self) -> &str {
        &self.key
    }
}

/// Hex SHA-256 of the method name and the encoded request.
fn request_hash(method: &str, cleared: &impl Message) -> String {
    let mut hasher = Sha256::new();
    hasher.update(method.as_bytes());
    hasher.update([0u8]);
    hasher.update(cleared.encode_to_vec());
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The stored answer for `key`, if the same request was answered before.
pub async fn replay<R: Message + Default>(
    db: &DatabaseConnection,
    key: &IdempotencyKey,
) -> ServiceResult<Option<R>> {
    let stored = idempotency_key::Entity::find_by_id((
        key.subject.clone(),
        key.method.to_owned(),
        key.key.clone(),
    ))
    .one(db)
    .await?;
    let Some(stored) = stored else {
        return Ok(None);
    };
    if stored.request_hash != key.hash {
        return Err(ServiceError::field(
            "request_id",
            "was already used for a different request",
        ));
    }
    R::decode(stored.response.as_slice())
        .map(Some)
        .map_err(|e| ServiceError::Internal(anyhow::anyhow!("stored answer does not decode: {e}")))
}

/// Stores the answer in the writer's transaction. A concurrent write with
/// the same key makes this a unique violation, which [`once`] turns into a
/// replay.
pub async fn remember(
    txn: &impl ConnectionTrait,
    key: &IdempotencyKey,
    response: &impl Message,
    at: DateTime<Utc>,
) -> ServiceResult<()> {
    idempotency_key::Entity::insert(idempotency_key::ActiveModel {
        subject: Set(key.subject.clone()),
        method: Set(key.method.to_owned()),
        key: Set(key.key.clone()),
        request_hash: Set(key.hash.clone()),
        response: Set(response.encode_to_vec()),
        created_at: Set(at),
    })
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

/// Runs a write whose key has no stored answer yet (the caller asked
/// [`replay`] first). A unique violation (the same key committed by a
/// concurrent request, or two first saves of one report) is answered by the
/// replay when there is one, else by running `write` again against what the
/// other request committed.
pub async fn once<R, F, Fut>(
    db: &DatabaseConnection,
    key: Option<&IdempotencyKey>,
    write: F,
) -> ServiceResult<R>
where
    R: Message + Default,
    F: Fn() -> Fut,
    Fut: Future<Output = ServiceResult<R>>,
{
    match write().await {
        Err(ServiceError::AlreadyExists(_)) => {
            if let Some(key) = key
                && let Some(answer) = replay(db, key).await?
            {
                return Ok(answer);
            }
            write().await
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chiso_proto::submission::v1::ReviewReportRequest;

    fn request(comment: &str) -> ReviewReportRequest {
        ReviewReportRequest {
            report_id: "r1".into(),
            comment: comment.into(),
            ..Default::default()
        }
    }

    #[test]
    fn keys_are_checked_and_hash_the_method_and_request() {
        assert_eq!(IdempotencyKey::new("c1", "m", "", &request("a")), Ok(None));
        let a = IdempotencyKey::new("c1", "accept", "k1", &request("a"))
            .unwrap()
            .unwrap();
        let same = IdempotencyKey::new("c1", "accept", "k1", &request("a"))
            .unwrap()
            .unwrap();
        let other_request = IdempotencyKey::new("c1", "accept", "k1", &request("b"))
            .unwrap()
            .unwrap();
        let other_method = IdempotencyKey::new("c1", "return", "k1", &request("a"))
            .unwrap()
            .unwrap();
        assert_eq!(a, same);
        assert_ne!(a.hash, other_request.hash);
        assert_ne!(a.hash, other_method.hash);
        assert_eq!(a.hash.len(), 64);
        for bad in ["x".repeat(129), "tab\there".into(), "khóa".into()] {
            let err = IdempotencyKey::new("c1", "m", &bad, &request("a")).unwrap_err();
            assert_eq!(err.0[0].field, "request_id");
        }
        assert!(IdempotencyKey::new("c1", "m", &"x".repeat(128), &request("a")).is_ok());
    }
}

/// Forgets keys stored before `now - retention`; returns how many.
pub async fn expire(
    db: &DatabaseConnection,
    retention: chrono::Duration,
    now: DateTime<Utc>,
) -> ServiceResult<u64> {
    Ok(idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::CreatedAt.lt(now - retention))
        .exec(db)
        .await?
        .rows_affected)
}

/// Sweeps expired keys every hour (and once at start) until `stop`.
pub async fn sweep(
    db: DatabaseConnection,
    retention: chrono::Duration,
    stop: tokio_util::sync::CancellationToken,
) {
    loop {
        match expire(&db, retention, Utc::now()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(expired = n, "idempotency keys forgotten"),
            Err(err) => tracing::warn!(error = %err, "idempotency sweep failed, retrying"),
        }
        tokio::select! {
            () = tokio::time::sleep(std::time::Duration::from_secs(3600)) => {}
            () = stop.cancelled() => return,
        }
    }
}

#[cfg(test)]
mod expiry_tests {
    use sea_orm_migration::MigratorTrait;

    use super::*;

    /// Keys older than the retention go, younger ones stay and still replay.
    #[tokio::test]
    async fn old_keys_are_forgotten_and_young_ones_kept() {
        let mut options = sea_orm::ConnectOptions::new("sqlite::memory:");
        // One connection: every connection to `:memory:` is a database of its own.
        options.max_connections(1).min_connections(1);
        let db = sea_orm::Database::connect(options).await.unwrap();
        crate::migration::Migrator::up(&db, None).await.unwrap();
        let now = Utc::now();
        let key = |k: &str| IdempotencyKey {
            subject: "agency-1".into(),
            method: "SubmitReport",
            key: k.into(),
            hash: "h".into(),
        };
        let answer = chiso_proto::submission::v1::FeedHead { last_seq: 7 };
        remember(&db, &key("old"), &answer, now - chrono::Duration::hours(25))
            .await
            .unwrap();
        remember(
            &db,
            &key("young"),
            &answer,
            now - chrono::Duration::hours(23),
        )
        .await
        .unwrap();
        assert_eq!(
            expire(&db, chrono::Duration::hours(24), now).await.unwrap(),
            1
        );
        let old: Option<chiso_proto::submission::v1::FeedHead> =
            replay(&db, &key("old")).await.unwrap();
        assert_eq!(old, None);
        let young: Option<chiso_proto::submission::v1::FeedHead> =
            replay(&db, &key("young")).await.unwrap();
        assert_eq!(young, Some(answer));
    }
}
