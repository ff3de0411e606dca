//! HTTP Basic authentication with client credentials, as DHIS2 clients
//! send it. Each new (client id, secret) pair is exchanged for a token
//! through [`Logins::issue_token`], exactly as `POST /api/v1/auth/token`
//! is, so the registry's checks and the gateway's login limits apply to it,
//! failures included; the token is then kept for a minute under a hash of
//! the pair, so a script's thousand requests cost one Argon2 verification,
//! not a thousand (and one login against the limits). The secret itself is
//! never stored.

use std::{net::IpAddr, time::Duration};

use base64::{Engine, engine::general_purpose::STANDARD};
use chiso_proto::registry::v1::IssueTokenRequest;
use moka::future::Cache;
use sha2::{Digest, Sha256};
use tonic::transport::Channel;

use crate::{error::ApiError, limit::Logins};

/// How long a verified pair is trusted without asking the registry again:
/// short, so a revoked secret stops working within it.
const KEEP: Duration = Duration::from_secs(60);
/// Most pairs remembered at once.
const CAPACITY: u64 = 10_000;

/// Tokens of recently verified Basic credentials, keyed by a hash of them.
#[derive(Clone)]
pub struct BasicTokens(Cache<[u8; 32], String>);

impl Default for BasicTokens {
    fn default() -> Self {
        Self(
            Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_live(KEEP)
                .build(),
        )
    }
}

impl BasicTokens {
    /// The access token for a `Basic …` header's credentials.
    pub async fn token(
        &self,
        logins: &Logins,
        registry: &Channel,
        encoded: &str,
        client: Option<IpAddr>,
    ) -> Result<String, ApiError> {
        let bad = || {
            ApiError::unauthenticated("Basic credentials must be base64 of client_id:client_secret")
        };
        let decoded = STANDARD.decode(encoded.trim()).map_err(|_| bad())?;
        let pair = String::from_utf8(decoded).map_err(|_| bad())?;
        let (client_id, secret) = pair.split_once(':').ok_or_else(bad)?;
        let key: [u8; 32] = Sha256::digest(pair.as_bytes()).into();
        if let Some(token) = self.0.get(&key).await {
            return Ok(token);
        }
        let credentials = IssueTokenRequest {
            client_id: client_id.into(),
            client_secret: secret.into(),
        };
        let issued = logins.issue_token(registry, credentials, client).await?;
        self.0.insert(key, issued.access_token.clone()).await;
        Ok(issued.access_token)
    }
}
