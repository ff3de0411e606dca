//! chiso registry: agencies, the organisation tree, credentials and tokens.

pub mod config;

mod api;
pub mod csv_import;
mod entity;
mod migration;
mod secrets;
mod signing_keys;
mod store;

use std::{sync::Arc, time::Duration};

use anyhow::Context;
use chiso_proto::registry::v1::{
    agency_service_server::AgencyServiceServer, credential_service_server::CredentialServiceServer,
    registration_service_server::RegistrationServiceServer,
    signing_key_service_server::SigningKeyServiceServer,
};
use chiso_runtime::{
    Boxed,
    auth::{AuthInterceptor, Role, TokenSigner, TokenVerifier},
    db,
    feed::Follow,
    grpc::{AuthenticatedServices, GrpcServer},
    limit::KeyedLimit,
    revocations::Revocations,
};
use secrecy::ExposeSecret;
use tokio_util::sync::CancellationToken;

pub use config::RegistryConfig;

/// The registry service.
pub struct Application;

impl Application {
    /// Connects the database, runs migrations, loads keys and binds the
    /// listener: the server it returns reports its address (`local_addr`, for
    /// port 0) and serves until stopped (`run_until_stopped`).
    pub fn build(config: RegistryConfig) -> Boxed<GrpcServer> {
        Box::pin(Self::start(config))
    }

    async fn start(config: RegistryConfig) -> anyhow::Result<GrpcServer> {
        let db = db::connect_and_migrate::<migration::Migrator>(&config.database).await?;
        let signer = TokenSigner::from_file(&config.auth.jwt_private_key_file, config.token_ttl())?;
        let verifier = TokenVerifier::from_config(&config.auth.verify())?;
        check_signing_key(&signer, &verifier)?;
        let hasher = secrets::Hasher::start(config.hashing_concurrency())
            .await
            .context("failed to start the secret hasher")?;

        let mut static_clients = vec![api::StaticClient {
            client_id: config.bootstrap_admin.client_id.clone(),
            secret_hash: hasher
                .hash(config.bootstrap_admin.secret.expose_secret().to_owned())
                .await
                .context("failed to hash the bootstrap admin secret")?,
            role: Role::Admin,
        }];
        for (client_id, secret) in &config.service_accounts {
            static_clients.push(api::StaticClient {
                client_id: client_id.clone(),
                secret_hash: hasher
                    .hash(secret.expose_secret().to_owned())
                    .await
                    .context("failed to hash a service account secret")?,
                role: Role::Service,
            });
        }

        let streams = CancellationToken::new();
        let (feed_head, follow) = Follow::new(
            store::agency_feed_head(&db).await?,
            Duration::from_millis(config.feed_poll_ms),
            streams.clone(),
        );
        // The registry refuses revoked clients' tokens like every service,
        // from its own table (every replica polls it; this one also adds
        // its own revocations at once).
        let revocations = Revocations::default();
        let remembered = chrono::Duration::from_std(signer.ttl()).unwrap_or_default()
            + chrono::Duration::minutes(1);
        tokio::spawn(revocations.clone().follow(
            {
                let db = db.clone();
                move |since| {
                    let db = db.clone();
                    async move {
                        let as_of = chrono::Utc::now();
                        let since = since.unwrap_or(as_of - remembered);
                        Ok((store::revoked_since(&db, since).await?, as_of))
                    }
                }
            },
            Duration::from_millis(config.feed_poll_ms),
            streams.child_token(),
        ));
        tokio::spawn(chiso_runtime::metrics::publish_feed_head(
            "registry",
            "registry.agencies",
            db.clone(),
            store::feed::AGENCY_FEED_HEAD,
            feed_head.subscribe(),
            streams.child_token(),
        ));
        let state = Arc::new(api::Registry {
            revocations: revocations.clone(),
            db: db.clone(),
            signer,
            verifier: verifier.clone(),
            session_cap: config.session_cap(),
            hasher,
            static_clients,
            feed_head,
            follow,
            rotation_grace: config.rotation_grace(),
            registration_limit: KeyedLimit::new(config.registration.rate()),
            trusted_proxies: config.trusted_proxies,
        });
        let services = AuthenticatedServices::new(
            AuthInterceptor::new(verifier).with_revocations(revocations),
        )
        .add_service(AgencyServiceServer::new(api::AgencyApi(state.clone())))
        .add_service(CredentialServiceServer::new(api::CredentialApi(
            state.clone(),
        )))
        .add_service(RegistrationServiceServer::new(api::RegistrationApi(
            state.clone(),
        )))
        .add_service(SigningKeyServiceServer::new(api::SigningKeyApi(state)));
        GrpcServer::bind_authenticated("registry", config.grpc.addr, &config.tls, streams, services)
            .await?
            .with_metrics(&config.metrics, &db)
            .await
    }
}

/// A registry signing with a key it does not accept itself would issue
/// tokens every service refuses: a rotation step done out of order
/// (docs/SECURITY.md, "Rotating the token signing key").
fn check_signing_key(signer: &TokenSigner, verifier: &TokenVerifier) -> anyhow::Result<()> {
    let kid = signer.public_key().kid();
    anyhow::ensure!(
        verifier.accepts(kid),
        "auth.jwt_private_key_file: its public key (kid {kid}) is neither \
         auth.jwt_public_key_file nor auth.jwt_previous_public_key_file"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use chiso_runtime::auth::{PublicKey, generate_keypair};

    use super::*;

    #[test]
    fn the_registry_signs_only_with_a_key_it_accepts() {
        let (old_private, old_public) = generate_keypair().unwrap();
        let (_, new_public) = generate_keypair().unwrap();
        let key = |pem: &str| PublicKey::from_pem(pem.as_bytes()).unwrap();
        let signer =
            TokenSigner::from_pem(old_private.as_bytes(), Duration::from_secs(900)).unwrap();
        // Step 2 of a rotation: the new key is current, the old one (still
        // signing) previous.
        let both = TokenVerifier::from_keys(vec![key(&new_public), key(&old_public)]).unwrap();
        check_signing_key(&signer, &both).unwrap();
        let only_new = TokenVerifier::from_keys(vec![key(&new_public)]).unwrap();
        let err = check_signing_key(&signer, &only_new).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "auth.jwt_private_key_file: its public key (kid {}) is neither \
                 auth.jwt_public_key_file nor auth.jwt_previous_public_key_file",
                key(&old_public).kid()
            )
        );
    }
}
