//! ChangeFeedService: every numbered event after a cursor, then new ones.

use std::sync::Arc;

use chiso_proto::submission::v1::{self as pb, change_feed_service_server::ChangeFeedService};
use chiso_runtime::{
    feed,
    policy::{Action, Resource, authorize, caller},
};
use tonic::{Request, Response, Status};
use tracing::instrument;

use super::Submission;
use crate::events;

#[derive(Clone)]
pub struct FeedApi(pub Arc<Submission>);

#[tonic::async_trait]
impl ChangeFeedService for FeedApi {
    type WatchChangesStream = feed::FeedStream<pb::ChangeEvent>;

    #[instrument(skip_all, fields(after_seq = request.get_ref().after_seq))]
    async fn watch_changes(
        &self,
        request: Request<pb::WatchChangesRequest>,
    ) -> Result<Response<Self::WatchChangesStream>, Status> {
        let after_seq = request.get_ref().after_seq;
        feed::watch(
            &request,
            after_seq,
            &self.0.follow,
            &self.0.db,
            |db, after| async move { events::changes_after(&db, after, feed::BATCH).await },
        )
    }

    async fn get_feed_head(
        &self,
        request: Request<pb::GetFeedHeadRequest>,
    ) -> Result<Response<pb::FeedHead>, Status> {
        authorize(&caller(&request)?, Action::ReadFeedHead, Resource::Global)?;
        let last_seq = events::number_all(&self.0.db).await?;
        // The sequencer publishes the new head to open streams.
        self.0.sequencer.notify_one();
        Ok(Response::new(pb::FeedHead { last_seq }))
    }
}
