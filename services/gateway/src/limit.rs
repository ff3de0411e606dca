//! The front door's limits, kept at the edge, where the client's address is
//! known, and checked before any back service is asked: how often a client
//! may fail to log in, and how many registrations an address may file.
//!
//! Every login goes through [`Logins::issue_token`], whether it came as
//! `POST /api/v1/auth/token` or as HTTP Basic credentials on the DHIS2
//! paths, so both count in the same limits. A login takes a cell of each
//! limit before the registry checks it (an Argon2 run, 19 MiB and tens of
//! milliseconds of a core) and gives them back when the secret was right,
//! so only failures count and a client that knows its secret is never held
//! back by its own logins. A login whose caller hangs up keeps its cells:
//! the registry may have checked it anyway.

use std::net::{IpAddr, Ipv4Addr};

use chiso_proto::registry::v1::{
    IssueTokenRequest, IssueTokenResponse, credential_service_client::CredentialServiceClient,
};
use chiso_runtime::{
    limit::{KeyedLimit, TOO_MANY_REGISTRATIONS, refused},
    peer::FORWARDED_FOR,
};
use sha2::{Digest, Sha256};
use tonic::{Code, transport::Channel};
use tracing::{debug, warn};

use crate::{config::LimitsConfig, error::ApiError};

/// A client id as the limits key it: its SHA-256, so that a key has a
/// fixed size whatever a caller sends as an id.
type ClientKey = [u8; 32];

/// Where a caller without a known address is counted (router tests, which
/// run without connection info): all of them together.
const NO_ADDRESS: IpAddr = IpAddr::V4(Ipv4Addr::UNSPECIFIED);

/// Failed logins, counted three ways ([`LimitsConfig`]).
pub struct Logins {
    per_client_address: KeyedLimit<(ClientKey, IpAddr)>,
    per_address: KeyedLimit<IpAddr>,
    per_client: KeyedLimit<ClientKey>,
    /// The registry's answer is awaited this long (`requests.call_timeout_secs`):
    /// logins queue for the bounded hashing pool, and a queue too long to
    /// get through in time gives 503 instead of waiting for ever.
    call_timeout: Option<std::time::Duration>,
}

/// The limits of the gateway.
pub struct Limits {
    pub logins: Logins,
    registrations: KeyedLimit<IpAddr>,
}

impl Default for Limits {
    fn default() -> Self {
        Self::new(&LimitsConfig::default())
    }
}

impl Limits {
    pub fn new(config: &LimitsConfig) -> Self {
        Self {
            logins: Logins {
                per_client_address: KeyedLimit::new(config.login_per_client_address),
                per_address: KeyedLimit::new(config.login_per_address),
                per_client: KeyedLimit::new(config.login_per_client),
                call_timeout: None,
            },
            registrations: KeyedLimit::new(config.registration_per_address),
        }
    }

    /// Logins wait at most `timeout` for the registry.
    #[must_use]
    pub fn with_call_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.logins.call_timeout = Some(timeout);
        self
    }

    /// Takes one registration request's worth for `client`'s address.
    pub fn admit_registration(&self, client: Option<IpAddr>) -> Result<(), ApiError> {
        let address = client.unwrap_or(NO_ADDRESS);
        self.registrations.take(&address).map_err(|wait| {
            refusal("registration_per_address", &address, "");
            ApiError::from(tonic::Status::from(refused(TOO_MANY_REGISTRATIONS, wait)))
        })
    }
}

/// Why a login gave no token: the limits refused it before the registry
/// was asked (429), or the registry refused it. Kept apart so that the
/// token endpoint can answer the registry's refusals as RFC 6749 errors.
#[derive(Debug)]
pub enum LoginError {
    Limited(ApiError),
    Refused(tonic::Status),
}

impl From<LoginError> for ApiError {
    fn from(error: LoginError) -> Self {
        match error {
            LoginError::Limited(error) => error,
            LoginError::Refused(status) => status.into(),
        }
    }
}

/// The cells one login attempt took, given back if it succeeds.
struct Attempt<'a> {
    logins: &'a Logins,
    client: ClientKey,
    address: IpAddr,
}

impl Attempt<'_> {
    fn give_back(self) {
        let Self {
            logins,
            client,
            address,
        } = self;
        logins.per_client_address.give_back(&(client, address));
        logins.per_address.give_back(&address);
        logins.per_client.give_back(&client);
    }
}

impl Logins {
    /// Exchanges client credentials for a token at the registry, if the
    /// caller has failures left: the one place a login is made.
    pub async fn issue_token(
        &self,
        registry: &Channel,
        credentials: IssueTokenRequest,
        client: Option<IpAddr>,
    ) -> Result<IssueTokenResponse, LoginError> {
        let address = client.unwrap_or(NO_ADDRESS);
        let attempt = self
            .attempt(&credentials.client_id, address)
            .map_err(LoginError::Limited)?;
        let client_id = shown(&credentials.client_id);
        let mut request = tonic::Request::new(credentials);
        if let Some(timeout) = self.call_timeout {
            request.set_timeout(timeout);
        }
        if let Ok(value) = address.to_string().parse() {
            request.metadata_mut().insert(FORWARDED_FOR, value);
        }
        let answer = CredentialServiceClient::new(registry.clone())
            .issue_token(request)
            .await;
        match &answer {
            // A wrong secret or unknown id: the failure keeps its cells.
            // Bounded by the limits, so this log cannot be flooded.
            Err(status) if status.code() == Code::Unauthenticated => {
                warn!(%address, client_id, "login failed");
            }
            // Right, or refused for something other than the secret (a
            // missing field, the registry away): not a guess.
            _ => attempt.give_back(),
        }
        answer
            .map(tonic::Response::into_inner)
            .map_err(LoginError::Refused)
    }

    /// Takes a cell of each limit for a login, or refuses it, giving back
    /// what it took.
    fn attempt(&self, client_id: &str, address: IpAddr) -> Result<Attempt<'_>, ApiError> {
        let client: ClientKey = Sha256::digest(client_id.as_bytes()).into();
        let shown = shown(client_id);
        let refuse = |limit: &'static str, what: &str, wait| {
            refusal(limit, &address, &shown);
            ApiError::from(tonic::Status::from(refused(what, wait)))
        };
        self.per_client_address
            .take(&(client, address))
            .map_err(|wait| {
                refuse(
                    "login_per_client_address",
                    "too many failed logins for this client id from this address",
                    wait,
                )
            })?;
        if let Err(wait) = self.per_address.take(&address) {
            self.per_client_address.give_back(&(client, address));
            return Err(refuse(
                "login_per_address",
                "too many failed logins from this address",
                wait,
            ));
        }
        if let Err(wait) = self.per_client.take(&client) {
            self.per_client_address.give_back(&(client, address));
            self.per_address.give_back(&address);
            return Err(refuse(
                "login_per_client",
                "too many failed logins for this client id",
                wait,
            ));
        }
        Ok(Attempt {
            logins: self,
            client,
            address,
        })
    }
}

/// A client id as logs show it: whatever a caller sent, cut short.
fn shown(client_id: &str) -> String {
    client_id.chars().take(64).collect()
}

/// Counts and logs a refusal; a debug line only, since refusals are what
/// an attack is made of and a warning each would flood the log.
fn refusal(limit: &'static str, address: &IpAddr, client_id: &str) {
    metrics::counter!("limit_refusals_total", "limit" => limit).increment(1);
    debug!(limit, %address, client_id, "refused by a rate limit");
}

#[cfg(test)]
mod tests {
    use chiso_runtime::limit::Rate;

    use super::*;

    fn limits(per_client_address: u32, per_address: u32, per_client: u32) -> Limits {
        Limits::new(&LimitsConfig {
            login_per_client_address: Rate::new(per_client_address, 1),
            login_per_address: Rate::new(per_address, 1),
            login_per_client: Rate::new(per_client, 1),
            registration_per_address: Rate::new(1, 1),
        })
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    /// The message and wait of a refusal.
    fn refusal_of(result: Result<Attempt<'_>, ApiError>) -> String {
        let error = result.err().expect("refused");
        let (message, wait) = error.rate_limit().expect("a rate-limit error");
        assert!(wait.as_secs() > 3000, "{wait:?}");
        message
    }

    #[test]
    fn failures_count_per_client_and_address_then_per_address_then_per_client() {
        let limits = limits(2, 3, 4);
        let logins = &limits.logins;
        let (a, b, c) = (ip("192.0.2.1"), ip("192.0.2.2"), ip("192.0.2.3"));
        // Two failures for one id from one address, then that pair is stopped…
        logins.attempt("agency-1", a).unwrap();
        logins.attempt("agency-1", a).unwrap();
        assert!(
            refusal_of(logins.attempt("agency-1", a))
                .starts_with("too many failed logins for this client id from this address")
        );
        // …while the same id from elsewhere, and other ids from there, go on.
        logins.attempt("agency-1", b).unwrap();
        logins.attempt("agency-2", a).unwrap();
        // The address has used its three: spraying more ids is stopped.
        assert!(
            refusal_of(logins.attempt("agency-3", a))
                .starts_with("too many failed logins from this address")
        );
        // The id has failed three times (a, a, b); once more from c, then it
        // is stopped everywhere.
        logins.attempt("agency-1", c).unwrap();
        assert!(
            refusal_of(logins.attempt("agency-1", c))
                .starts_with("too many failed logins for this client id;")
        );
    }

    #[test]
    fn a_refused_or_successful_attempt_costs_nothing() {
        let limits = limits(1, 2, 5);
        let logins = &limits.logins;
        let a = ip("192.0.2.1");
        for _ in 0..5 {
            logins.attempt("agency-1", a).unwrap().give_back();
        }
        let _failed = logins.attempt("agency-1", a).unwrap();
        let pending = logins.attempt("agency-2", a).unwrap();
        // Refused by the address, agency-3 gives back the cell its pair took…
        assert!(refusal_of(logins.attempt("agency-3", a)).contains("from this address"));
        // …so once agency-2's login succeeds, agency-3 has its one try.
        pending.give_back();
        logins.attempt("agency-3", a).unwrap();
        assert!(refusal_of(logins.attempt("agency-3", a)).contains("for this client id"));
    }
}
