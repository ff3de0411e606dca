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
    db, grpc,
};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::{service::interceptor::InterceptedService, transport::server::Router};
use tonic_health::server::HealthReporter;

pub use config::SubmissionConfig;

/// A built submission service, bound to its port and ready to serve.
pub struct Application {
    listener: TcpListener,
    router: Router,
    reporter: HealthReporter,
    addr: SocketAddr,
    stop: CancellationToken,
}

impl Application {
    pub async fn build(config: SubmissionConfig) -> anyhow::Result<Self> {
        let db = db::connect_and_migrate::<migration::Migrator>(&config.database).await?;
        let verifier = TokenVerifier::from_file(&config.auth.jwt_public_key_file)?;
        let head = store::head(&db).await?;
        let stop = CancellationToken::new();
        let state = Arc::new(api::Submission {
            db,
            head: tokio::sync::watch::Sender::new(head),
            poll: Duration::from_millis(config.feed_poll_ms),
            stop: stop.clone(),
        });
        let auth = AuthInterceptor::new(verifier);
        let (router, reporter) = grpc::server_with_health(
            &[
                "chiso.submission.v1.CatalogueService",
                "chiso.submission.v1.ReportService",
                "chiso.submission.v1.ChangeFeedService",
            ],
            &config.tls,
        )
        .await?;
        let router = router
            .add_service(InterceptedService::new(
                CatalogueServiceServer::new(api::CatalogueApi(state.clone())),
                auth.clone(),
            ))
            .add_service(InterceptedService::new(
                ReportServiceServer::new(api::ReportApi(state.clone())),
                auth.clone(),
            ))
            .add_service(InterceptedService::new(
                ChangeFeedServiceServer::new(api::FeedApi(state)),
                auth,
            ));
        let listener = grpc::bind(config.grpc.addr).await?;
        let addr = listener.local_addr()?;
        Ok(Self {
            listener,
            router,
            reporter,
            addr,
            stop,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        tracing::info!(addr = %self.addr, "submission listening");
        let stop = self.stop.clone();
        let watcher = shutdown.clone();
        // Feed streams never end by themselves; end them so shutdown can finish.
        tokio::spawn(async move {
            watcher.cancelled().await;
            stop.cancel();
        });
        grpc::serve(self.router, self.listener, self.reporter, shutdown).await
    }
}
