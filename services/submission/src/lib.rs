//! chiso submission: the indicator catalogue, periods, reports and the change feed.

pub mod config;

mod api;
mod entity;
mod migration;
mod store;

use std::{sync::Arc, time::Duration};

use chiso_proto::submission::v1::{
    catalogue_service_server::CatalogueServiceServer,
    change_feed_service_server::ChangeFeedServiceServer,
    report_service_server::ReportServiceServer,
};
use chiso_runtime::{
    Boxed,
    auth::{AuthInterceptor, TokenVerifier},
    db, feed,
    grpc::{AuthenticatedServices, GrpcServer},
};
use tokio_util::sync::CancellationToken;

pub use config::SubmissionConfig;

/// The submission service.
pub struct Application;

impl Application {
    /// Connects the database, runs migrations and binds the listener: the
    /// server it returns reports its address (`local_addr`, for port 0) and
    /// serves until stopped (`run_until_stopped`).
    pub fn build(config: SubmissionConfig) -> Boxed<GrpcServer> {
        Box::pin(Self::start(config))
    }

    async fn start(config: SubmissionConfig) -> anyhow::Result<GrpcServer> {
        let db = db::connect_and_migrate::<migration::Migrator>(&config.database).await?;
        let verifier = TokenVerifier::from_file(&config.auth.jwt_public_key_file)?;
        let stop = CancellationToken::new();
        let (head, follow) = feed::Follow::new(
            store::head(&db).await?,
            Duration::from_millis(config.feed_poll_ms),
            stop.clone(),
        );
        let state = Arc::new(api::Submission { db, head, follow });
        let services = AuthenticatedServices::new(AuthInterceptor::new(verifier))
            .add_service(CatalogueServiceServer::new(api::CatalogueApi(
                state.clone(),
            )))
            .add_service(ReportServiceServer::new(api::ReportApi(state.clone())))
            .add_service(ChangeFeedServiceServer::new(api::FeedApi(state)));
        GrpcServer::bind_authenticated("submission", config.grpc.addr, &config.tls, stop, services)
            .await
    }
}
