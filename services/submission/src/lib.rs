//! chiso submission: the indicator catalogue, periods, reports and the change feed.

pub mod config;

mod api;
mod entity;
mod migration;
mod store;

use std::{net::SocketAddr, sync::Arc, time::Duration};

use chiso_proto::submission::v1::{
    catalogue_service_server::CatalogueServiceServer,
    change_feed_service_server::ChangeFeedServiceServer,
    report_service_server::ReportServiceServer,
};
use chiso_runtime::{
    auth::{AuthInterceptor, TokenVerifier},
    db, feed,
    grpc::{AuthenticatedServices, GrpcServer},
};
use tokio_util::sync::CancellationToken;

pub use config::SubmissionConfig;

/// A built submission service, bound to its port and ready to serve.
pub struct Application {
    server: GrpcServer,
}

impl Application {
    pub async fn build(config: SubmissionConfig) -> anyhow::Result<Self> {
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
        let server = GrpcServer::bind_authenticated(
            "submission",
            config.grpc.addr,
            &config.tls,
            stop,
            services,
        )
        .await?;
        Ok(Self { server })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        self.server.serve(shutdown).await
    }
}
