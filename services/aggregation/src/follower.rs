//! Follows the submission change feed from the durable cursor, so a restart
//! neither loses nor repeats a report.

use std::{sync::Arc, time::Duration};

use anyhow::Context;
use chiso_proto::{
    convert::submission::decode_report,
    registry::v1::{WatchAgenciesRequest, agency_service_client::AgencyServiceClient},
    submission::v1::{
        WatchChangesRequest, change_event::Change,
        change_feed_service_client::ChangeFeedServiceClient,
    },
};
use chiso_runtime::grpc::with_bearer;
use sea_orm::DatabaseConnection;
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;
use tracing::{debug, info, warn};

use crate::{store, token::ServiceToken};

/// Everything the followers need.
#[derive(Clone)]
pub struct Follower {
    pub db: DatabaseConnection,
    pub submission: Channel,
    pub registry: Channel,
    pub token: Arc<ServiceToken>,
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
                Some(Change::ReportSubmitted(report)) => {
                    let report = decode_report(&report).with_context(|| {
                        format!("feed event {} is not a valid report", event.seq)
                    })?;
                    let applied = store::apply(&self.db, event.seq, &report).await?;
                    debug!(seq = event.seq, applied, agency = %report.agency, "feed event");
                }
                None => debug!(seq = event.seq, "feed event of an unknown kind skipped"),
            }
        }
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
            let applied =
                store::apply_agency(&self.db, change.seq, agency, &change.versions).await?;
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

/// Runs `follow` again after each interruption, backing off, until `stop`.
async fn retrying<F, Fut>(feed: &'static str, stop: CancellationToken, follow: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let mut backoff = Duration::from_millis(200);
    loop {
        let result = tokio::select! {
            result = follow() => result,
            () = stop.cancelled() => return,
        };
        match result {
            Ok(()) => backoff = Duration::from_millis(200),
            Err(err) => {
                warn!(feed, error = format!("{err:#}"), retry_in = ?backoff, "feed interrupted");
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            () = stop.cancelled() => return,
        }
    }
}
