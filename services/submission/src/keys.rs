//! Signing keys, fetched from the registry each time they are needed: a
//! revocation must count from the moment it is made, so nothing is cached.

use std::sync::Arc;

use chiso_domain::signature::SigningKey;
use chiso_proto::{
    convert::registry::decode_signing_key,
    registry::v1::{GetSigningKeyRequest, signing_key_service_client::SigningKeyServiceClient},
};
use chiso_runtime::{ServiceError, ServiceResult, grpc::with_bearer, service_token::ServiceToken};
use tonic::{Code, transport::Channel};

/// The registry's signing keys, read with this service's own token.
#[derive(Clone)]
pub struct Keys {
    /// The registry, also asked for agencies the feed has not brought yet.
    pub registry: Channel,
    pub token: Arc<ServiceToken>,
}

/// A key and its label.
#[derive(Debug, Clone)]
pub struct Key {
    pub key: SigningKey,
    pub label: String,
}

impl Keys {
    pub fn new(registry: Channel, token: Arc<ServiceToken>) -> Self {
        Self { registry, token }
    }

    /// The key `key_id`; `None` when the registry has no such key.
    pub async fn get(&self, key_id: &str) -> ServiceResult<Option<Key>> {
        let unavailable = |e: &dyn std::fmt::Display| {
            ServiceError::Unavailable(format!("registry signing keys: {e}"))
        };
        let token = self.token.get().await.map_err(|e| unavailable(&e))?;
        let request = with_bearer(
            GetSigningKeyRequest {
                key_id: key_id.to_owned(),
            },
            &token,
        )
        .map_err(ServiceError::Internal)?;
        let answer = SigningKeyServiceClient::new(self.registry.clone())
            .get_signing_key(request)
            .await;
        let wire = match answer {
            Ok(a) => a.into_inner(),
            Err(s) if matches!(s.code(), Code::NotFound | Code::InvalidArgument) => {
                return Ok(None);
            }
            Err(s) => {
                if s.code() == Code::Unauthenticated {
                    self.token.invalidate().await;
                }
                return Err(unavailable(&s));
            }
        };
        let key = decode_signing_key(&wire).map_err(|e| {
            ServiceError::Internal(anyhow::anyhow!(
                "registry sent an invalid key {key_id}: {e}"
            ))
        })?;
        Ok(Some(Key {
            key,
            label: wire.label,
        }))
    }
}
