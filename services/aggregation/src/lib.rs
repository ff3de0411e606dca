//! chiso aggregation: follows the submission change feed and computes
//! indicators over groups of agencies and periods.

pub mod config;

mod api;
mod entity;
mod follower;
mod migration;
mod store;
mod token;

use std::{net::SocketAddr, sync::Arc};

use chiso_proto::aggregation::v1::aggregation_service_server::AggregationServiceServer;
use chiso_runtime::{
    auth::{AuthInterceptor, TokenVerifier},
    db, grpc,
};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::{service::interceptor::InterceptedService, transport::server::Router};
use tonic_health::server::HealthReporter;

pub use config::AggregationConfig;

/// A built aggregation service, bound to its port and ready to serve.
pub struct Application {
    listener: TcpListener,
    router: Router,
    reporter: HealthReporter,
    addr: SocketAddr,
    follower: follower::Follower,
}

impl Application {
    pub async fn build(config: AggregationConfig) -> anyhow::Result<Self> {
        let db = db::connect_and_migrate::<migration::Migrator>(&config.database).await?;
        let verifier = TokenVerifier::from_file(&config.auth.jwt_public_key_file)?;
        let submission = grpc::channel(&config.submission_url, &config.tls)?;
        let registry = grpc::channel(&config.registry_url, &config.tls)?;
        let token = Arc::new(token::ServiceToken::new(
            registry,
            config.service_account.client_id.clone(),
            config.service_account.secret.clone(),
        ));
        let follower = follower::Follower {
            db: db.clone(),
            submission: submission.clone(),
            token: token.clone(),
        };
        let state = Arc::new(api::Aggregation {
            db,
            submission,
            token,
        });
        let (router, reporter) =
            grpc::server_with_health(&["chiso.aggregation.v1.AggregationService"], &config.tls)
                .await?;
        let router = router.add_service(InterceptedService::new(
            AggregationServiceServer::new(api::AggregationApi(state)),
            AuthInterceptor::new(verifier),
        ));
        let listener = grpc::bind(config.grpc.addr).await?;
        let addr = listener.local_addr()?;
        Ok(Self {
            listener,
            router,
            reporter,
            addr,
            follower,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves and follows the feed until `shutdown` is cancelled.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        tracing::info!(addr = %self.addr, "aggregation listening");
        let follower = tokio::spawn(self.follower.run(shutdown.clone()));
        let served = grpc::serve(self.router, self.listener, self.reporter, shutdown).await;
        follower.await.ok();
        served
    }
}
