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
        let (client_id, secret) = decode(encoded).ok_or_else(|| {
            ApiError::unauthenticated("Basic credentials must be base64 of client_id:client_secret")
        })?;
        let key: [u8; 32] = Sha256::digest(format!("{client_id}:{secret}").as_bytes()).into();
        if let Some(token) = self.0.get(&key).await {
            return Ok(token);
        }
        let credentials = IssueTokenRequest {
            client_id,
            client_secret: secret,
        };
        let issued = logins.issue_token(registry, credentials, client).await?;
        self.0.insert(key, issued.access_token.clone()).await;
        Ok(issued.access_token)
    }
}

/// The credentials part of an `Authorization` value whose scheme is Basic,
/// in any case (auth schemes are case-insensitive, RFC 9110 §11.1).
pub fn credentials(header: &str) -> Option<&str> {
    let (scheme, credentials) = header.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("basic")
        .then_some(credentials.trim())
}

/// `client_id` and `client_secret` from base64 of `client_id:client_secret`
/// (RFC 7617: the id is what comes before the first colon).
pub fn decode(encoded: &str) -> Option<(String, String)> {
    let decoded = STANDARD.decode(encoded.trim()).ok()?;
    let pair = String::from_utf8(decoded).ok()?;
    let (client_id, secret) = pair.split_once(':')?;
    Some((client_id.to_owned(), secret.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_basic_scheme_is_case_insensitive_and_decodes_to_a_pair() {
        for header in ["Basic YTpiOmM=", "basic YTpiOmM=", "BASIC  YTpiOmM= "] {
            let encoded = credentials(header).unwrap();
            assert_eq!(
                decode(encoded),
                Some(("a".to_owned(), "b:c".to_owned())),
                "{header}"
            );
        }
        for header in ["Bearer YTpi", "Basic", "BasicYTpi"] {
            assert_eq!(credentials(header), None, "{header}");
        }
        // Not base64, not UTF-8, no colon.
        for encoded in ["not base64", "/w==", "YWI="] {
            assert_eq!(decode(encoded), None, "{encoded}");
        }
    }
}
