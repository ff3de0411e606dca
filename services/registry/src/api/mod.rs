//! gRPC surface: decode the request into domain types, authorize with
//! `chiso_runtime::policy`, call the store, encode.

mod agencies;
mod credentials;
mod registrations;
mod signing_keys;

use std::sync::Arc;

use chiso_domain::{AgencyCode, FieldErrors, parse_date};
use chiso_proto::registry::v1 as pb;
use chiso_runtime::{
    ServiceError,
    auth::{Principal, Role, TokenSigner},
};
use chrono::NaiveDate;
use sea_orm::DatabaseConnection;

pub use agencies::AgencyApi;
pub use credentials::CredentialApi;
pub use registrations::RegistrationApi;
pub use signing_keys::SigningKeyApi;

/// A configured non-agency client (the bootstrap admin or a service account).
pub struct StaticClient {
    pub client_id: String,
    pub secret_hash: String,
    pub role: Role,
}

/// State shared by the registry's gRPC services.
pub struct Registry {
    pub db: DatabaseConnection,
    pub signer: TokenSigner,
    /// Reads the session start of a token being renewed.
    pub verifier: chiso_runtime::auth::TokenVerifier,
    /// How long after the secret was presented a session may be renewed.
    pub session_cap: std::time::Duration,
    /// Every Argon2 hash and check, a bounded number at a time.
    pub hasher: crate::secrets::Hasher,
    pub static_clients: Vec<StaticClient>,
    /// How long a rotated secret keeps working by default.
    pub rotation_grace: std::time::Duration,
    /// Limits registration requests per client address.
    pub registration_limit: chiso_runtime::limit::KeyedLimit<std::net::IpAddr>,
    /// Peers whose `x-forwarded-for` names the client (the gateway).
    pub trusted_proxies: Vec<chiso_runtime::peer::ProxyNet>,
    /// Latest agency-feed sequence number written by this process.
    pub feed_head: tokio::sync::watch::Sender<i64>,
    /// What open `WatchAgencies` streams follow.
    pub follow: chiso_runtime::feed::Follow,
    /// Clients whose tokens this registry refuses.
    pub revocations: chiso_runtime::revocations::Revocations,
}

impl Registry {
    /// Wakes `WatchAgencies` streams after a write; they also poll, so a
    /// failure here only delays them.
    pub async fn feed_written(&self) {
        if let Ok(head) = crate::store::agency_feed_head(&self.db).await {
            self.feed_head.send_replace(head);
        }
    }
}

fn optional(s: &str) -> Option<&str> {
    let s = s.trim();
    (!s.is_empty()).then_some(s)
}

fn parse_code(field: &str, raw: &str) -> Result<AgencyCode, ServiceError> {
    AgencyCode::parse(raw).map_err(|e| ServiceError::field(field, e.to_string()))
}

/// An optional date field: `None` when empty.
fn optional_date(errors: &mut FieldErrors, field: &str, raw: &str) -> Option<NaiveDate> {
    optional(raw).and_then(|d| errors.check(field, parse_date(d)))
}

fn encode_principal(p: &Principal) -> pb::Principal {
    pb::Principal {
        subject: p.subject.clone(),
        role: pb::Role::from(p.role).into(),
        agency_code: p
            .agency
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        province_code: p
            .province
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        granted_province_codes: p.grants.iter().map(ToString::to_string).collect(),
    }
}

/// Shared by every gRPC service of the registry.
type State = Arc<Registry>;
