//! Revoked clients, so that their tokens stop working at every service
//! within seconds rather than when they expire.
//!
//! Why a list rather than asking the registry on every call: the back
//! services are called directly by other systems and must keep answering
//! while the registry is down, and a call per request would double the
//! registry's load. Tokens live at most a token lifetime, so the list only
//! needs the revocations of that long ago: each service polls the
//! registry's `ListRevokedClients` at the pace it follows the agency feed
//! and refuses, in its [`AuthInterceptor`](crate::auth::AuthInterceptor),
//! every token whose subject is on it. The registry fills its own list from
//! its database the same way, so that every replica refuses too.

use std::{
    collections::HashMap,
    future::Future,
    sync::{Arc, RwLock},
    time::Duration,
};

use chiso_proto::registry::v1::{
    ListRevokedClientsRequest, credential_service_client::CredentialServiceClient,
};
use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;

use crate::{grpc::with_bearer, service_token::ServiceToken};

/// How long a revocation is remembered: longer than any token lives (15
/// minutes at most, plus the verifier's leeway).
const REMEMBERED: Duration = Duration::from_secs(2 * 3600);

/// How far each poll reaches back past the previous one: a revocation
/// stamped just before a poll may commit just after it.
const OVERLAP: Duration = Duration::from_secs(10);

/// How often a service without a feed poll of its own reads the list: the
/// "within seconds" a revoked client's tokens keep working at most.
pub const POLL: Duration = Duration::from_secs(2);

/// The clients known to be revoked, with when.
#[derive(Clone, Default)]
pub struct Revocations(Arc<RwLock<HashMap<String, DateTime<Utc>>>>);

impl Revocations {
    /// Whether `client_id`'s credentials were revoked.
    pub fn is_revoked(&self, client_id: &str) -> bool {
        self.0
            .read()
            .expect("never poisoned: nothing panics under the lock")
            .contains_key(client_id)
    }

    /// Records revocations, forgetting those too old to matter.
    pub fn add(&self, revoked: impl IntoIterator<Item = (String, DateTime<Utc>)>) {
        let oldest = Utc::now() - chrono::Duration::from_std(REMEMBERED).unwrap_or_default();
        let mut map = self.0.write().expect("never poisoned");
        map.extend(revoked);
        map.retain(|_, at| *at >= oldest);
    }

    /// How many revocations are remembered.
    pub fn len(&self) -> usize {
        self.0.read().expect("never poisoned").len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Polls `source` every `every` until `stop`: each call gets the instant
    /// to read from (none at first: every revocation a live token could
    /// outlive) and returns the revocations and the instant it read at.
    /// Failures are logged and retried at the next tick.
    pub async fn follow<F, Fut>(self, mut source: F, every: Duration, stop: CancellationToken)
    where
        F: FnMut(Option<DateTime<Utc>>) -> Fut,
        Fut: Future<Output = anyhow::Result<(Vec<(String, DateTime<Utc>)>, DateTime<Utc>)>>,
    {
        let overlap = chrono::Duration::from_std(OVERLAP).unwrap_or_default();
        let mut since = None;
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = tick.tick() => {}
            }
            match source(since).await {
                Ok((revoked, as_of)) => {
                    if !revoked.is_empty() {
                        tracing::debug!(count = revoked.len(), "revocations received");
                    }
                    self.add(revoked);
                    since = Some(as_of - overlap);
                }
                Err(err) => {
                    tracing::warn!(error = format!("{err:#}"), "could not read revocations");
                }
            }
        }
    }

    /// [`Revocations::follow`] reading the registry's `ListRevokedClients`
    /// with the service's own token.
    pub async fn follow_registry(
        self,
        registry: Channel,
        token: Arc<ServiceToken>,
        every: Duration,
        stop: CancellationToken,
    ) {
        let source = move |since: Option<DateTime<Utc>>| {
            let mut client = CredentialServiceClient::new(registry.clone());
            let token = token.clone();
            async move {
                let bearer = token.get().await?;
                let request = ListRevokedClientsRequest {
                    revoked_since: since
                        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
                        .unwrap_or_default(),
                };
                let answer = match client
                    .list_revoked_clients(with_bearer(request, &bearer)?)
                    .await
                {
                    Ok(answer) => answer.into_inner(),
                    Err(status) => {
                        if status.code() == tonic::Code::Unauthenticated {
                            token.invalidate().await;
                        }
                        return Err(status.into());
                    }
                };
                let instant = |raw: &str| {
                    DateTime::parse_from_rfc3339(raw)
                        .map(|t| t.with_timezone(&Utc))
                        .map_err(|e| anyhow::anyhow!("registry sent instant `{raw}`: {e}"))
                };
                let revoked = answer
                    .clients
                    .iter()
                    .map(|c| Ok((c.client_id.clone(), instant(&c.revoked_at)?)))
                    .collect::<anyhow::Result<Vec<_>>>()?;
                Ok((revoked, instant(&answer.as_of)?))
            }
        };
        self.follow(source, every, stop).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_revocations_are_forgotten() {
        let list = Revocations::default();
        let now = Utc::now();
        list.add([
            ("fresh".to_owned(), now),
            ("stale".to_owned(), now - chrono::Duration::hours(3)),
        ]);
        assert!(list.is_revoked("fresh"));
        assert!(!list.is_revoked("stale"));
        assert!(!list.is_revoked("other"));
        assert_eq!(list.len(), 1);
    }

    #[tokio::test]
    async fn polls_from_where_it_last_read_less_an_overlap() {
        let list = Revocations::default();
        let stop = CancellationToken::new();
        let asked = Arc::new(std::sync::Mutex::new(Vec::new()));
        let read_at = Utc::now();
        let source = {
            let asked = asked.clone();
            let stop = stop.clone();
            move |since: Option<DateTime<Utc>>| {
                let mut asked = asked.lock().unwrap();
                asked.push(since);
                if asked.len() == 2 {
                    stop.cancel();
                }
                let first = asked.len() == 1;
                async move {
                    Ok((
                        if first {
                            vec![("c1".to_owned(), read_at)]
                        } else {
                            Vec::new()
                        },
                        read_at,
                    ))
                }
            }
        };
        list.clone()
            .follow(source, Duration::from_millis(1), stop)
            .await;
        assert!(list.is_revoked("c1"));
        let asked = asked.lock().unwrap();
        assert_eq!(asked[0], None);
        assert_eq!(
            asked[1],
            Some(read_at - chrono::Duration::from_std(OVERLAP).unwrap())
        );
    }
}
