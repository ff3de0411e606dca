//! Follows the submission change feed from the durable cursor, so a restart
//! neither loses nor repeats a report.

use std::{sync::Arc, time::Duration};

use anyhow::Context;
use backon::{BackoffBuilder, ExponentialBackoff, ExponentialBuilder};
use chiso_proto::{
    convert::{aggregation::decode_agency_history, submission::decode_report},
    registry::v1::{WatchAgenciesRequest, agency_service_client::AgencyServiceClient},
    submission::v1::{
        CatalogueChange, ReportChange, ReportChangeKind, WatchChangesRequest,
        catalogue_change::Definition, change_event::Change,
        change_feed_service_client::ChangeFeedServiceClient,
    },
};
use chiso_runtime::grpc::with_bearer;
use prost::Message;
use sea_orm::DatabaseConnection;
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;
use tracing::{debug, info, warn};

use crate::{
    catalogue::{self, CatalogueCache},
    store::{self, FactChange},
    token::ServiceToken,
};

/// Everything the followers need.
#[derive(Clone)]
pub struct Follower {
    pub db: DatabaseConnection,
    pub submission: Channel,
    pub registry: Channel,
    pub token: Arc<ServiceToken>,
    pub catalogue: CatalogueCache,
}

const MAX_BACKOFF: Duration = Duration::from_secs(10);

impl Follower {
    /// Follows both feeds until `stop` is cancelled.
    pub async fn run(self, stop: CancellationToken) {
        let agencies = self.clone();
        tokio::join!(
            retrying("submission", stop.clone(), || self.follow_reports()),
            retrying("registry", stop, || agencies.follow_agencies()),
        );
    }

    async fn follow_reports(&self) -> anyhow::Result<()> {
        let after_seq = store::cursor(&self.db, store::SUBMISSION_FEED).await?;
        let token = self.token.get().await?;
        let mut client = ChangeFeedServiceClient::new(self.submission.clone());
        let response = client
            .watch_changes(with_bearer(WatchChangesRequest { after_seq }, &token)?)
            .await;
        let mut stream = self.opened(response, "submission").await?;
        info!(after_seq, "following the submission change feed");
        while let Some(event) = stream.message().await.context("change feed broke")? {
            match event.change {
                Some(Change::Report(change)) => self.apply_report(event.seq, &change).await?,
                Some(Change::Catalogue(change)) => self.apply_definition(event.seq, change).await?,
                None => {
                    // Still moves the cursor: an event this build does not
                    // know is skipped once, not read again on every restart.
                    store::skip(&self.db, store::SUBMISSION_FEED, event.seq).await?;
                    debug!(seq = event.seq, "feed event of an unknown kind skipped");
                }
            }
        }
        Ok(())
    }

    async fn apply_report(&self, seq: i64, change: &ReportChange) -> anyhow::Result<()> {
        let kind = ReportChangeKind::try_from(change.kind).unwrap_or_default();
        let effect = match (change.counts, kind) {
            (true, _) => FactChange::Replace,
            (false, ReportChangeKind::Returned) => FactChange::Remove,
            (false, _) => FactChange::Keep,
        };
        // A draft revision or an unlock (which may come before any report
        // exists) changes nothing that counts: only the cursor moves.
        if effect == FactChange::Keep {
            store::skip(&self.db, store::SUBMISSION_FEED, seq).await?;
            debug!(seq, ?kind, "report event that changes no facts");
            return Ok(());
        }
        let wire = change
            .report
            .as_ref()
            .with_context(|| format!("feed event {seq} has no report"))?;
        let report = decode_report(wire, &self.catalogue.get())
            .with_context(|| format!("feed event {seq} is not a valid report"))?;
        let applied = store::apply(&self.db, seq, &report, effect).await?;
        debug!(seq, applied, agency = %report.agency, ?kind, ?effect, "report event");
        Ok(())
    }

    async fn apply_definition(&self, seq: i64, change: CatalogueChange) -> anyhow::Result<()> {
        let (kind, code, payload) = match change.definition {
            Some(Definition::DataElement(d)) => {
                (catalogue::DATA_ELEMENT, d.code.clone(), d.encode_to_vec())
            }
            Some(Definition::Indicator(i)) => {
                (catalogue::INDICATOR, i.code.clone(), i.encode_to_vec())
            }
            Some(Definition::Rule(r)) => (catalogue::RULE, r.code.clone(), r.encode_to_vec()),
            Some(Definition::Form(f)) => (catalogue::FORM, f.code.clone(), f.encode_to_vec()),
            None => {
                store::skip(&self.db, store::SUBMISSION_FEED, seq).await?;
                return Ok(());
            }
        };
        let applied = store::apply_definition(&self.db, seq, kind, &code, payload).await?;
        if applied {
            self.catalogue.reload(&self.db).await?;
        }
        debug!(seq, applied, kind, code, "catalogue event");
        Ok(())
    }
}

impl Follower {
    async fn follow_agencies(&self) -> anyhow::Result<()> {
        let after_seq = store::cursor(&self.db, store::REGISTRY_FEED).await?;
        let token = self.token.get().await?;
        let response = AgencyServiceClient::new(self.registry.clone())
            .watch_agencies(with_bearer(WatchAgenciesRequest { after_seq }, &token)?)
            .await;
        let mut stream = self.opened(response, "registry").await?;
        info!(after_seq, "following the registry agency feed");
        while let Some(change) = stream.message().await.context("agency feed broke")? {
            let Some(agency) = &change.agency else {
                debug!(
                    seq = change.seq,
                    "agency feed entry without an agency skipped"
                );
                continue;
            };
            let history = decode_agency_history(agency, &change.versions).with_context(|| {
                format!("agency feed entry {} is not a valid agency", change.seq)
            })?;
            let applied = store::apply_agency(&self.db, change.seq, &history).await?;
            debug!(seq = change.seq, applied, agency = %agency.code, "agency feed entry");
        }
        Ok(())
    }

    /// The stream of an opened feed; a rejected token is dropped so the next attempt gets a new one.
    async fn opened<T>(
        &self,
        response: Result<tonic::Response<tonic::Streaming<T>>, tonic::Status>,
        feed: &str,
    ) -> anyhow::Result<tonic::Streaming<T>> {
        match response {
            Ok(r) => Ok(r.into_inner()),
            Err(status) if status.code() == tonic::Code::Unauthenticated => {
                self.token.invalidate().await;
                Err(status).with_context(|| format!("{feed} rejected the service token"))
            }
            Err(status) => Err(status).with_context(|| format!("failed to open the {feed} feed")),
        }
    }
}

/// Delays between attempts to follow a feed: exponential from 200 ms, with
/// jitter so replicas that lost the same upstream do not reconnect in
/// lockstep, and never exhausted (a follower retries until stopped). Jitter
/// adds up to as much again as the delay, so the cap is half the longest wait.
fn backoff() -> ExponentialBackoff {
    ExponentialBuilder::new()
        .with_min_delay(Duration::from_millis(200))
        .with_factor(2.0)
        .with_max_delay(MAX_BACKOFF / 2)
        .with_jitter()
        .without_max_times()
        .build()
}

/// Runs `follow` again after each interruption, backing off, until `stop`.
async fn retrying<F, Fut>(feed: &'static str, stop: CancellationToken, follow: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
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
                warn!(feed, error = format!("{err:#}"), retry_in = ?delay, "feed interrupted");
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
mod tests {
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
