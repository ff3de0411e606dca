//! Follows the submission change feed from the durable cursor, so a restart
//! neither loses nor repeats a report.

use std::{sync::Arc, time::Duration};

use anyhow::Context;
use chiso_proto::submission::v1::{
    WatchChangesRequest, change_event::Change, change_feed_service_client::ChangeFeedServiceClient,
};
use chiso_runtime::grpc::with_bearer;
use sea_orm::DatabaseConnection;
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;
use tracing::{debug, info, warn};

use crate::{store, token::ServiceToken};

/// Everything the follower needs.
pub struct Follower {
    pub db: DatabaseConnection,
    pub submission: Channel,
    pub token: Arc<ServiceToken>,
}

const MAX_BACKOFF: Duration = Duration::from_secs(10);

impl Follower {
    /// Runs until `stop` is cancelled, reconnecting with backoff on errors.
    pub async fn run(self, stop: CancellationToken) {
        let mut backoff = Duration::from_millis(200);
        loop {
            let result = tokio::select! {
                result = self.follow_once() => result,
                () = stop.cancelled() => return,
            };
            match result {
                Ok(()) => backoff = Duration::from_millis(200),
                Err(err) => {
                    warn!(error = format!("{err:#}"), retry_in = ?backoff, "change feed interrupted");
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
            tokio::select! {
                () = tokio::time::sleep(backoff) => {}
                () = stop.cancelled() => return,
            }
        }
    }

    async fn follow_once(&self) -> anyhow::Result<()> {
        let after_seq = store::cursor(&self.db, store::SUBMISSION_FEED).await?;
        let token = self.token.get().await?;
        let mut client = ChangeFeedServiceClient::new(self.submission.clone());
        let response = client
            .watch_changes(with_bearer(WatchChangesRequest { after_seq }, &token)?)
            .await;
        let mut stream = match response {
            Ok(r) => r.into_inner(),
            Err(status) if status.code() == tonic::Code::Unauthenticated => {
                self.token.invalidate().await;
                return Err(status).context("submission rejected the service token");
            }
            Err(status) => return Err(status).context("failed to open the change feed"),
        };
        info!(after_seq, "following the submission change feed");
        while let Some(event) = stream.message().await.context("change feed broke")? {
            match event.change {
                Some(Change::ReportSubmitted(report)) => {
                    let applied = store::apply(&self.db, event.seq, &report).await?;
                    debug!(seq = event.seq, applied, agency = %report.agency_code, "feed event");
                }
                None => debug!(seq = event.seq, "feed event of an unknown kind skipped"),
            }
        }
        Ok(())
    }
}
