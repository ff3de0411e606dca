//! chiso aggregation: follows the submission change feed and computes
//! indicators over groups of agencies and periods.

pub mod config;

mod api;
mod catalogue;
mod entity;
mod export;
mod follower;
mod migration;
mod model;
mod query;
mod request;
mod store;

use std::{net::SocketAddr, sync::Arc};

use chiso_proto::aggregation::v1::aggregation_service_server::AggregationServiceServer;
use chiso_runtime::{
    Boxed,
    auth::{AuthInterceptor, TokenVerifier},
    db,
    grpc::{self, AuthenticatedServices, GrpcServer},
    service_token::ServiceToken,
};
// The token moved to the runtime (submission needs it too); `crate::token`
// keeps naming it for the follower and the api.
use chiso_runtime::service_token as token;
use tokio_util::sync::CancellationToken;

pub use config::AggregationConfig;

/// A built aggregation service, bound to its port and ready to serve.
pub struct Application {
    server: GrpcServer,
    follower: Followers,
}

/// What the service follows besides serving: the feeds, and the registry's
/// revoked clients.
struct Followers {
    feeds: follower::Follower,
    revocations: chiso_runtime::revocations::Revocations,
}

impl Application {
    /// Connects the database, runs migrations and binds the listener.
    pub fn build(config: AggregationConfig) -> Boxed<Self> {
        Box::pin(Self::start(config))
    }

    async fn start(config: AggregationConfig) -> anyhow::Result<Self> {
        let db = db::connect_and_migrate::<migration::Migrator>(&config.database).await?;
        let verifier = TokenVerifier::from_config(&config.auth)?;
        let submission = grpc::channel(&config.submission_url, &config.tls)?;
        let registry = grpc::channel(&config.registry_url, &config.tls)?;
        let token = Arc::new(ServiceToken::new(
            registry.clone(),
            config.service_account.client_id.clone(),
            config.service_account.secret.clone(),
        ));
        let catalogue = catalogue::CatalogueCache::default();
        catalogue.reload(&db).await?;
        let loaded = std::time::Instant::now();
        let model = model::SharedModel::new(model::Model::load(&db).await?);
        tracing::info!(
            agencies = model.read().tree.len(),
            facts = model.read().facts.len(),
            ms = loaded.elapsed().as_millis() as u64,
            "loaded the answers' model"
        );
        let follower = follower::Follower {
            db: db.clone(),
            submission,
            registry,
            token,
            catalogue: catalogue.clone(),
            model: model.clone(),
        };
        let state = Arc::new(api::Aggregation {
            catalogue,
            model,
            min_group: config.min_group_size,
            plans: chiso_domain::seed::raw_plans()?,
            rankings: chiso_domain::seed::raw_rankings()?,
        });
        let revocations = chiso_runtime::revocations::Revocations::default();
        let follower = Followers {
            feeds: follower,
            revocations: revocations.clone(),
        };
        let services = AuthenticatedServices::new(
            AuthInterceptor::new(verifier)
                .with_revocations(revocations)
                .with_resolver(model::current_province(state.model.clone())),
        )
        .add_service(AggregationServiceServer::new(api::AggregationApi(state)));
        // Aggregation serves no endless streams, so nothing else needs the token.
        let server = GrpcServer::bind_authenticated(
            "aggregation",
            config.grpc.addr,
            &config.tls,
            CancellationToken::new(),
            services,
        )
        .await?
        .with_metrics(&config.metrics, &db)
        .await?;
        Ok(Self { server, follower })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// Where `/metrics` is served, when it is.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.server.metrics_addr()
    }

    /// Serves and follows the feed until `shutdown` is cancelled.
    pub fn run_until_stopped(self, shutdown: CancellationToken) -> Boxed<()> {
        // The follower runs inside this future rather than in a task of its
        // own, so whatever drops the future (a crash, an aborted task) stops
        // it too, mid-transaction if need be, as a killed process would.
        Box::pin(async move {
            let Followers { feeds, revocations } = self.follower;
            let (registry, token) = (feeds.registry.clone(), feeds.token.clone());
            let (served, (), ()) = tokio::join!(
                self.server.serve(shutdown.clone()),
                feeds.run(shutdown.clone()),
                revocations.follow_registry(
                    registry,
                    token,
                    chiso_runtime::revocations::POLL,
                    shutdown
                )
            );
            served
        })
    }
}
