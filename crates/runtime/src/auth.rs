//! Bearer tokens: Ed25519-signed JWTs. Only the registry holds the private
//! key; every other service verifies with the public key.

use std::{path::Path, sync::Arc, time::Duration};

use anyhow::Context;
use chiso_domain::{AdminUnitCode, AgencyCode};
use ed25519_dalek::pkcs8::{EncodePrivateKey, EncodePublicKey, spki::der::pem::LineEnding};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use tonic::{Request, Status};

use crate::error::ServiceError;

const ISSUER: &str = "chiso";
const AUDIENCE: &str = "chiso";

pub use chiso_domain::Role;

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub subject: String,
    pub role: Role,
    pub agency: Option<AgencyCode>,
    pub province: Option<AdminUnitCode>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    agency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    province: Option<String>,
    iss: String,
    aud: String,
    iat: i64,
    exp: i64,
}

/// Signs tokens (registry only).
#[derive(Clone)]
pub struct TokenSigner {
    key: Arc<EncodingKey>,
    ttl: Duration,
}

impl TokenSigner {
    pub fn from_pem(pem: &[u8], ttl: Duration) -> anyhow::Result<Self> {
        let key = EncodingKey::from_ed_pem(pem).context("invalid Ed25519 private key PEM")?;
        Ok(Self {
            key: Arc::new(key),
            ttl,
        })
    }

    pub fn from_file(path: &Path, ttl: Duration) -> anyhow::Result<Self> {
        let pem = std::fs::read(path)
            .with_context(|| format!("failed to read JWT private key {}", path.display()))?;
        Self::from_pem(&pem, ttl)
    }

    /// Returns the token and its lifetime in seconds.
    pub fn sign(&self, principal: &Principal) -> anyhow::Result<(String, i64)> {
        let now = chrono::Utc::now().timestamp();
        let ttl = i64::try_from(self.ttl.as_secs()).unwrap_or(3600);
        let claims = Claims {
            sub: principal.subject.clone(),
            role: principal.role,
            agency: principal.agency.as_ref().map(ToString::to_string),
            province: principal.province.as_ref().map(ToString::to_string),
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            iat: now,
            exp: now + ttl,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::EdDSA), &claims, &self.key)
            .context("failed to sign token")?;
        Ok((token, ttl))
    }
}

/// Verifies tokens (every service).
#[derive(Clone)]
pub struct TokenVerifier {
    key: Arc<DecodingKey>,
    validation: Arc<Validation>,
    /// Tokens this verifier accepted, with what they say and when they
    /// expire: a client sends the same token with every request, and an
    /// Ed25519 verification costs about 35 µs, a quarter of a REST call's
    /// CPU when each call was verified at the gateway and again behind it
    /// (docs/BENCHMARKS.md). Keyed by the exact token text, so only what
    /// verified before is taken from here; kept a minute at most and never
    /// past the token's expiry.
    accepted: moka::sync::Cache<String, (Principal, i64)>,
}

/// How long an accepted token is remembered, at most.
const ACCEPTED_FOR: std::time::Duration = std::time::Duration::from_secs(60);
/// Most tokens remembered at once.
const ACCEPTED_CAPACITY: u64 = 100_000;

impl TokenVerifier {
    pub fn from_pem(pem: &[u8]) -> anyhow::Result<Self> {
        let key = DecodingKey::from_ed_pem(pem).context("invalid Ed25519 public key PEM")?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.leeway = 30;
        Ok(Self {
            key: Arc::new(key),
            validation: Arc::new(validation),
            accepted: moka::sync::Cache::builder()
                .max_capacity(ACCEPTED_CAPACITY)
                .time_to_live(ACCEPTED_FOR)
                .build(),
        })
    }

    pub fn from_file(path: &Path) -> anyhow::Result<Self> {
        let pem = std::fs::read(path)
            .with_context(|| format!("failed to read JWT public key {}", path.display()))?;
        Self::from_pem(&pem)
    }

    pub fn verify(&self, token: &str) -> Result<Principal, ServiceError> {
        let now = jsonwebtoken::get_current_timestamp() as i64;
        if let Some((principal, exp)) = self.accepted.get(token)
            && now < exp
        {
            return Ok(principal);
        }
        let data = jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation)
            // jsonwebtoken's texts name its own types (`unknown variant none,
            // expected one of HS256…`): only expiry is worth telling a client.
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                    ServiceError::Unauthenticated("invalid bearer token: expired".into())
                }
                _ => ServiceError::Unauthenticated("invalid bearer token".into()),
            })?;
        let c = data.claims;
        let exp = c.exp;
        let bad = |what: &str| {
            ServiceError::Unauthenticated(format!("invalid bearer token: bad {what} claim"))
        };
        let principal = Principal {
            subject: c.sub,
            role: c.role,
            agency: c
                .agency
                .map(|a| AgencyCode::parse(&a))
                .transpose()
                .map_err(|_| bad("agency"))?,
            province: c
                .province
                .map(|p| AdminUnitCode::parse(&p))
                .transpose()
                .map_err(|_| bad("province"))?,
        };
        // Within the validation's leeway a token may verify just after its
        // expiry; it is then not remembered.
        if now < exp {
            self.accepted
                .insert(token.to_owned(), (principal.clone(), exp));
        }
        Ok(principal)
    }

    /// Parses an `Authorization` header value.
    pub fn verify_header(&self, header: &str) -> Result<Principal, ServiceError> {
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .ok_or_else(|| {
                ServiceError::Unauthenticated("authorization must be `Bearer <token>`".into())
            })?;
        self.verify(token.trim())
    }
}

/// A new Ed25519 key pair as (private PKCS#8 PEM, public SPKI PEM).
pub fn generate_keypair() -> anyhow::Result<(String, String)> {
    let signing = ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng);
    let private = signing
        .to_pkcs8_pem(LineEnding::LF)
        .context("failed to encode private key")?;
    let public = signing
        .verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .context("failed to encode public key")?;
    Ok((private.to_string(), public))
}

/// Writes a fresh key pair to `dir/jwt-private.pem` and `dir/jwt-public.pem`
/// unless both exist. Returns whether it wrote them.
pub fn ensure_keypair(dir: &Path) -> anyhow::Result<bool> {
    let private = dir.join("jwt-private.pem");
    let public = dir.join("jwt-public.pem");
    if private.exists() && public.exists() {
        return Ok(false);
    }
    std::fs::create_dir_all(dir).with_context(|| format!("failed to create {}", dir.display()))?;
    let (private_pem, public_pem) = generate_keypair()?;
    write_private(&private, &private_pem)?;
    std::fs::write(&public, public_pem)?;
    Ok(true)
}

/// Writes a secret file readable by its owner only.
pub fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("failed to write {}", path.display()))?;
    file.write_all(contents.as_bytes())?;
    Ok(())
}

/// tonic interceptor: verifies a bearer token when one is sent and stores the
/// [`Principal`] in the request; methods decide what they require.
#[derive(Clone)]
pub struct AuthInterceptor {
    verifier: TokenVerifier,
}

impl AuthInterceptor {
    pub fn new(verifier: TokenVerifier) -> Self {
        Self { verifier }
    }
}

impl tonic::service::Interceptor for AuthInterceptor {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        if let Some(value) = request.metadata().get("authorization") {
            let header = value
                .to_str()
                .map_err(|_| Status::unauthenticated("authorization header is not ASCII"))?;
            let principal = self.verifier.verify_header(header).map_err(Status::from)?;
            request.extensions_mut().insert(principal);
        }
        Ok(request)
    }
}

/// The caller, if it has one of `roles`.
pub fn require<T>(request: &Request<T>, roles: &[Role]) -> Result<Principal, ServiceError> {
    let principal = request
        .extensions()
        .get::<Principal>()
        .ok_or_else(|| ServiceError::Unauthenticated("a bearer token is required".into()))?;
    if roles.contains(&principal.role) {
        Ok(principal.clone())
    } else {
        let allowed: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        Err(ServiceError::PermissionDenied(format!(
            "this needs the role {}, the caller is {}",
            allowed.join(" or "),
            principal.role.as_str()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_tokens_verify() {
        let (private, public) = generate_keypair().unwrap();
        let signer = TokenSigner::from_pem(private.as_bytes(), Duration::from_secs(60)).unwrap();
        let verifier = TokenVerifier::from_pem(public.as_bytes()).unwrap();
        let principal = Principal {
            subject: "c1".into(),
            role: Role::Agency,
            agency: Some(AgencyCode::parse("000.00.15.H51").unwrap()),
            province: Some(AdminUnitCode::parse("51").unwrap()),
        };
        let (token, ttl) = signer.sign(&principal).unwrap();
        assert_eq!(ttl, 60);
        assert_eq!(verifier.verify(&token).unwrap(), principal);
        assert!(verifier.verify_header(&format!("Bearer {token}")).is_ok());
        assert!(verifier.verify(&format!("{token}x")).is_err());

        let (_, other_public) = generate_keypair().unwrap();
        let other = TokenVerifier::from_pem(other_public.as_bytes()).unwrap();
        assert!(
            other.verify(&token).is_err(),
            "a token from another key must fail"
        );
    }

    /// An accepted token is remembered, and only that exact token: a
    /// tampered copy is verified (and refused) as before; a token past its
    /// expiry, even within the leeway, is never taken from memory.
    #[test]
    fn accepted_tokens_are_remembered_until_they_expire() {
        let (private, public) = generate_keypair().unwrap();
        let verifier = TokenVerifier::from_pem(public.as_bytes()).unwrap();
        let principal = Principal {
            subject: "c1".into(),
            role: Role::ProvinceOfficer,
            agency: None,
            province: Some(AdminUnitCode::parse("51").unwrap()),
        };
        let signer = TokenSigner::from_pem(private.as_bytes(), Duration::from_secs(60)).unwrap();
        let (token, _) = signer.sign(&principal).unwrap();
        assert_eq!(verifier.verify(&token).unwrap(), principal);
        assert!(verifier.accepted.get(&token).is_some());
        assert_eq!(verifier.verify(&token).unwrap(), principal);
        // A signature byte changed (not the last character, whose low bits
        // base64url leaves unused).
        let at = token.len() - 10;
        let swapped = if &token[at..=at] == "A" { "B" } else { "A" };
        let tampered = format!("{}{swapped}{}", &token[..at], &token[at + 1..]);
        assert!(verifier.verify(&tampered).is_err());
        assert!(verifier.accepted.get(&tampered).is_none());
        // Expired at issue: accepted within the leeway, not remembered.
        let expired = TokenSigner::from_pem(private.as_bytes(), Duration::ZERO).unwrap();
        let (token, _) = expired.sign(&principal).unwrap();
        assert!(verifier.verify(&token).is_ok());
        assert!(verifier.accepted.get(&token).is_none());
    }
}
