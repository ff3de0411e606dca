//! A back service's own bearer token, fetched from the registry with its
//! client credentials and renewed before it expires. Aggregation uses it to
//! follow feeds; submission to follow the agency feed and read signing keys.

use std::time::{Duration, Instant};

use anyhow::Context;
use chiso_proto::registry::v1::{
    IssueTokenRequest, credential_service_client::CredentialServiceClient,
};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Mutex;
use tonic::transport::Channel;

/// A cached service token.
pub struct ServiceToken {
    registry: CredentialServiceClient<Channel>,
    client_id: String,
    secret: SecretString,
    cached: Mutex<Option<(String, Instant)>>,
}

impl ServiceToken {
    pub fn new(registry: Channel, client_id: String, secret: SecretString) -> Self {
        Self {
            registry: CredentialServiceClient::new(registry),
            client_id,
            secret,
            cached: Mutex::new(None),
        }
    }

    /// A token valid for at least another minute.
    pub async fn get(&self) -> anyhow::Result<String> {
        let mut cached = self.cached.lock().await;
        if let Some((token, renew_at)) = cached.as_ref()
            && Instant::now() < *renew_at
        {
            return Ok(token.clone());
        }
        let response = self
            .registry
            .clone()
            .issue_token(IssueTokenRequest {
                client_id: self.client_id.clone(),
                client_secret: self.secret.expose_secret().to_owned(),
            })
            .await
            .context("failed to get a service token from the registry")?
            .into_inner();
        let lifetime = Duration::from_secs(u64::try_from(response.expires_in).unwrap_or(0));
        let renew_at = Instant::now() + lifetime.saturating_sub(Duration::from_secs(60));
        *cached = Some((response.access_token.clone(), renew_at));
        Ok(response.access_token)
    }

    /// Forgets the cached token, e.g. after the callee rejected it.
    pub async fn invalidate(&self) {
        *self.cached.lock().await = None;
    }
}
