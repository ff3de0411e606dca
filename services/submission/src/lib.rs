//! chiso submission: the catalogue, report forms and periods, every version
//! of every report, and the change feed aggregation follows.

pub mod config;

mod api;
mod audit;
mod catalogue;
mod entity;
mod events;
mod follower;
mod idempotency;
mod keys;
mod migration;
mod reports;
mod txn;

use std::{net::SocketAddr, sync::Arc, time::Duration};

use chiso_proto::submission::v1::{
    catalogue_service_server::CatalogueServiceServer,
    change_feed_service_server::ChangeFeedServiceServer, form_service_server::FormServiceServer,
    report_service_server::ReportServiceServer,
};
use chiso_runtime::{
    Boxed,
    auth::{AuthInterceptor, TokenVerifier},
    db, feed,
    grpc::{self, AuthenticatedServices, GrpcServer},
    revocations::Revocations,
    service_token::ServiceToken,
};
use sea_orm::DatabaseConnection;
use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;

pub use api::REQUEST_ID;
pub use config::SubmissionConfig;

/// A built submission service, bound to its port and ready to serve.
pub struct Application {
    server: GrpcServer,
    background: Background,
}

/// The tasks that run beside the server.
struct Background {
    db: DatabaseConnection,
    cache: Arc<catalogue::Cache>,
    sequencer: Arc<Notify>,
    head: watch::Sender<i64>,
    poll: Duration,
    registry: tonic::transport::Channel,
    token: Arc<ServiceToken>,
    streams: CancellationToken,
    agencies: follower::AgencyCopy,
    /// Revoked clients, polled from the registry.
    revocations: Revocations,
    idempotency: chrono::Duration,
}

impl Application {
    /// Connects the database, runs migrations, loads the catalogue and binds
    /// the listener (port 0 picks one; see `local_addr`).
    pub fn build(config: SubmissionConfig) -> Boxed<Self> {
        Box::pin(Self::start(config))
    }

    async fn start(config: SubmissionConfig) -> anyhow::Result<Self> {
        let db = db::connect_and_migrate::<migration::Migrator>(&config.database).await?;
        let verifier = TokenVerifier::from_config(&config.auth)?;
        let registry = grpc::channel(&config.registry_url, &config.tls)?;
        let token = Arc::new(ServiceToken::new(
            registry.clone(),
            config.service_account.client_id.clone(),
            config.service_account.secret.clone(),
        ));
        let cache = Arc::new(catalogue::Cache::new(&db).await?);
        let poll = Duration::from_millis(config.feed_poll_ms);
        let streams = CancellationToken::new();
        let (head, follow) = feed::Follow::new(events::head(&db).await?, poll, streams.clone());
        let sequencer = Arc::new(Notify::new());
        let agencies = follower::AgencyCopy::load(&db).await?;
        let state = Arc::new(api::Submission {
            db: db.clone(),
            cache: cache.clone(),
            follow,
            sequencer: sequencer.clone(),
            keys: keys::Keys::new(registry.clone(), token.clone()),
            agencies: agencies.clone(),
            trusted_proxies: config.trusted_proxies.clone(),
        });
        let revocations = Revocations::default();
        let services = AuthenticatedServices::new(
            AuthInterceptor::new(verifier)
                .with_revocations(revocations.clone())
                .with_resolver(follower::current_province(agencies.clone())),
        )
        .add_service(CatalogueServiceServer::new(api::CatalogueApi(
            state.clone(),
        )))
        .add_service(FormServiceServer::new(api::FormApi(state.clone())))
        .add_service(ReportServiceServer::new(api::ReportApi(state.clone())))
        .add_service(ChangeFeedServiceServer::new(api::FeedApi(state)));
        let server = GrpcServer::bind_authenticated(
            "submission",
            config.grpc.addr,
            &config.tls,
            streams.clone(),
            services,
        )
        .await?
        .with_metrics(&config.metrics, &db)
        .await?;
        Ok(Self {
            server,
            background: Background {
                db,
                cache,
                sequencer,
                head,
                poll,
                registry,
                token,
                streams,
                agencies,
                revocations,
                idempotency: chrono::Duration::hours(
                    i64::try_from(config.idempotency_hours).unwrap_or(24),
                ),
            },
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// Where `/metrics` is served, when it is.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.server.metrics_addr()
    }

    /// Serves, numbers the feed, follows the agency feed and the catalogue
    /// version until `shutdown` is cancelled.
    pub fn run_until_stopped(self, shutdown: CancellationToken) -> Boxed<()> {
        Box::pin(async move {
            let b = self.background;
            let stop = shutdown.child_token();
            let head = b.head.subscribe();
            let tasks = [
                tokio::spawn(events::sequencer(
                    b.db.clone(),
                    b.sequencer,
                    b.head,
                    b.poll,
                    stop.clone(),
                )),
                tokio::spawn(b.revocations.follow_registry(
                    b.registry.clone(),
                    b.token.clone(),
                    b.poll,
                    stop.clone(),
                )),
                tokio::spawn(follower::run(
                    b.db.clone(),
                    b.agencies,
                    b.registry,
                    b.token,
                    stop.clone(),
                )),
                tokio::spawn(idempotency::sweep(
                    b.db.clone(),
                    b.idempotency,
                    stop.clone(),
                )),
                tokio::spawn(chiso_runtime::metrics::publish_feed_head(
                    "submission",
                    "submission.changes",
                    b.db.clone(),
                    events::FEED_HEAD,
                    head,
                    stop.clone(),
                )),
                tokio::spawn(b.cache.follow(b.db, b.poll, stop.clone())),
            ];
            let served = self.server.serve(shutdown).await;
            stop.cancel();
            b.streams.cancel();
            for task in tasks {
                task.await.ok();
            }
            served
        })
    }
}
