//! chiso registry: agencies, the organisation tree, credentials and tokens.

pub mod config;

mod api;
mod csv_import;
mod entity;
mod limit;
mod migration;
mod secrets;
mod signing_keys;
mod store;

use std::{net::SocketAddr, sync::Arc};

use anyhow::Context;
use chiso_proto::registry::v1::{
    agency_service_server::AgencyServiceServer, credential_service_server::CredentialServiceServer,
    registration_service_server::RegistrationServiceServer,
    signing_key_service_server::SigningKeyServiceServer,
};
use chiso_runtime::{
    auth::{AuthInterceptor, Role, TokenSigner, TokenVerifier},
    db,
    grpc::GrpcServer,
};
use secrecy::ExposeSecret;
use tokio_util::sync::CancellationToken;
use tonic::service::interceptor::InterceptedService;

pub use config::RegistryConfig;

/// A built registry, bound to its port and ready to serve.
pub struct Application {
    server: GrpcServer,
}

impl Application {
    /// Connects the database, runs migrations, loads keys and binds the listener.
    pub async fn build(config: RegistryConfig) -> anyhow::Result<Self> {
        let db = db::connect_and_migrate::<migration::Migrator>(&config.database).await?;
        let signer = TokenSigner::from_file(&config.auth.jwt_private_key_file, config.token_ttl())?;
        let verifier = TokenVerifier::from_file(&config.auth.jwt_public_key_file)?;

        let mut static_clients = vec![api::StaticClient {
            client_id: config.bootstrap_admin.client_id.clone(),
            secret_hash: secrets::hash(config.bootstrap_admin.secret.expose_secret().to_owned())
                .await
                .context("failed to hash the bootstrap admin secret")?,
            role: Role::Admin,
        }];
        for (client_id, secret) in &config.service_accounts {
            static_clients.push(api::StaticClient {
                client_id: client_id.clone(),
                secret_hash: secrets::hash(secret.expose_secret().to_owned())
                    .await
                    .context("failed to hash a service account secret")?,
                role: Role::Service,
            });
        }

        let head = tokio::sync::watch::Sender::new(store::agency_feed_head(&db).await?);
        let streams = CancellationToken::new();
        let follow = chiso_runtime::feed::Follow {
            head: head.subscribe(),
            poll: std::time::Duration::from_millis(config.feed_poll_ms),
            stop: streams.clone(),
        };
        let state = Arc::new(api::Registry {
            db,
            signer,
            static_clients,
            feed_head: head,
            follow,
            rotation_grace: config.rotation_grace(),
            registration_limit: limit::RegistrationLimit::new(
                config.registration.burst,
                config.registration.per_hour,
            ),
            trust_forwarded_for: config.registration.trust_forwarded_for,
        });
        let auth = AuthInterceptor::new(verifier);
        let server = GrpcServer::bind(
            "registry",
            config.grpc.addr,
            &config.tls,
            &[
                "chiso.registry.v1.AgencyService",
                "chiso.registry.v1.CredentialService",
                "chiso.registry.v1.RegistrationService",
                "chiso.registry.v1.SigningKeyService",
            ],
            streams,
            |router| {
                router
                    .add_service(InterceptedService::new(
                        AgencyServiceServer::new(api::AgencyApi(state.clone())),
                        auth.clone(),
                    ))
                    .add_service(InterceptedService::new(
                        CredentialServiceServer::new(api::CredentialApi(state.clone())),
                        auth.clone(),
                    ))
                    .add_service(InterceptedService::new(
                        RegistrationServiceServer::new(api::RegistrationApi(state.clone())),
                        auth.clone(),
                    ))
                    .add_service(InterceptedService::new(
                        SigningKeyServiceServer::new(api::SigningKeyApi(state)),
                        auth,
                    ))
            },
        )
        .await?;
        Ok(Self { server })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// Serves until `shutdown` is cancelled.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        self.server.serve(shutdown).await
    }
}
