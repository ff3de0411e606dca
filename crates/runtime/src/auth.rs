//! Bearer tokens: Ed25519-signed JWTs. Only the registry holds a private
//! key; every service verifies with the public keys it is configured with,
//! found by the token's `kid` (the key's RFC 7638 thumbprint), so that two
//! keys can be live at once while the signing key is rotated
//! (docs/SECURITY.md, "Rotating the token signing key").

use std::{path::Path, sync::Arc, time::Duration};

use anyhow::Context;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chiso_domain::{AdminUnitCode, AgencyCode};
use ed25519_dalek::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey,
    spki::der::pem::LineEnding,
};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tonic::{Request, Status};

use crate::{config::VerifyConfig, error::ServiceError};

const ISSUER: &str = "chiso";
const AUDIENCE: &str = "chiso";

/// The longest a token may live: a token cannot be taken back once issued,
/// so its lifetime bounds how long a revoked secret or a removed key keeps
/// working. Signers refuse longer lifetimes and verifiers refuse tokens
/// that claim one.
pub const MAX_TOKEN_TTL: Duration = Duration::from_secs(15 * 60);

/// Clock difference between services tolerated on `exp` and `nbf`.
const LEEWAY_SECS: u64 = 30;

pub use chiso_domain::Role;

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub subject: String,
    pub role: Role,
    pub agency: Option<AgencyCode>,
    pub province: Option<AdminUnitCode>,
    /// The provinces an integrator reads; empty for every other role.
    pub grants: Arc<[AdminUnitCode]>,
}

/// The OAuth2 scope a token of `role` carries: the role's name. What a
/// caller may do is decided by its role through the one policy
/// (`crate::policy`), so a scope narrower than the role would be a promise
/// no service keeps; a client may ask for its role's scope, or for none.
pub fn scope_of(role: Role) -> &'static str {
    role.as_str()
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    role: Role,
    scope: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    agency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    province: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    grants: Vec<String>,
    iss: String,
    aud: String,
    iat: i64,
    nbf: i64,
    exp: i64,
    /// When the client last presented its secret (OpenID Connect's
    /// `auth_time`): a renewed token carries its session's start, so a
    /// session ends however often it is renewed. Absent in tokens from
    /// before it existed: then `iat`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    auth_time: Option<i64>,
    /// Random and unique per token, so that a token can be named (in logs,
    /// in a revocation list) apart from another one issued the same second.
    jti: String,
}

/// An Ed25519 public key that verifies tokens, with its key id.
#[derive(Clone)]
pub struct PublicKey {
    kid: String,
    /// The raw key, base64url without padding (the JWK `x`).
    x: String,
    key: DecodingKey,
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PublicKey").field("kid", &self.kid).finish()
    }
}

impl PublicKey {
    /// A key from its SPKI PEM (`jwt-public.pem`).
    pub fn from_pem(pem: &[u8]) -> anyhow::Result<Self> {
        let pem = std::str::from_utf8(pem).context("public key PEM is not text")?;
        let key = ed25519_dalek::VerifyingKey::from_public_key_pem(pem)
            .context("invalid Ed25519 public key PEM")?;
        Self::from_verifying_key(&key)
    }

    /// A key from a file, naming the file when it cannot be used.
    pub fn from_file(path: &Path) -> anyhow::Result<Self> {
        let pem = std::fs::read(path)
            .with_context(|| format!("failed to read JWT public key {}", path.display()))?;
        Self::from_pem(&pem).with_context(|| format!("in {}", path.display()))
    }

    fn from_verifying_key(key: &ed25519_dalek::VerifyingKey) -> anyhow::Result<Self> {
        let x = URL_SAFE_NO_PAD.encode(key.as_bytes());
        let decoding = DecodingKey::from_ed_components(&x).context("unusable Ed25519 key")?;
        Ok(Self {
            kid: thumbprint(&x),
            x,
            key: decoding,
        })
    }

    /// The key id tokens signed with this key carry.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The key as a JWK (RFC 7517, RFC 8037).
    pub fn jwk(&self) -> Jwk {
        Jwk {
            kty: "OKP".into(),
            crv: "Ed25519".into(),
            x: self.x.clone(),
            kid: self.kid.clone(),
            alg: "EdDSA".into(),
            key_use: "sig".into(),
        }
    }
}

/// The RFC 7638 thumbprint of an Ed25519 key: base64url of the SHA-256 of
/// its required members in lexical order, without whitespace. `x` is
/// base64url, so it needs no JSON escaping.
fn thumbprint(x: &str) -> String {
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

/// A public key as a JWK.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    pub kty: String,
    pub crv: String,
    pub x: String,
    pub kid: String,
    pub alg: String,
    #[serde(rename = "use")]
    pub key_use: String,
}

/// A JWK Set (RFC 7517 §5): the keys tokens may be signed with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JwkSet {
    pub keys: Vec<Jwk>,
}

/// Signs tokens (registry only).
#[derive(Clone)]
pub struct TokenSigner {
    key: Arc<EncodingKey>,
    public: PublicKey,
    ttl: Duration,
}

impl TokenSigner {
    /// A signer from a PKCS#8 PEM private key; `ttl` is at most
    /// [`MAX_TOKEN_TTL`] and more than zero.
    pub fn from_pem(pem: &[u8], ttl: Duration) -> anyhow::Result<Self> {
        anyhow::ensure!(
            !ttl.is_zero() && ttl <= MAX_TOKEN_TTL,
            "token lifetime must be 1 to {} seconds, got {}",
            MAX_TOKEN_TTL.as_secs(),
            ttl.as_secs()
        );
        let text = std::str::from_utf8(pem).context("private key PEM is not text")?;
        let signing = ed25519_dalek::SigningKey::from_pkcs8_pem(text)
            .context("invalid Ed25519 private key PEM")?;
        let key = EncodingKey::from_ed_pem(pem).context("invalid Ed25519 private key PEM")?;
        Ok(Self {
            key: Arc::new(key),
            public: PublicKey::from_verifying_key(&signing.verifying_key())?,
            ttl,
        })
    }

    pub fn from_file(path: &Path, ttl: Duration) -> anyhow::Result<Self> {
        let pem = std::fs::read(path)
            .with_context(|| format!("failed to read JWT private key {}", path.display()))?;
        Self::from_pem(&pem, ttl).with_context(|| format!("in {}", path.display()))
    }

    /// The public half of the signing key; its `kid` is in every token.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// How long the tokens it signs live.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Returns the token and its lifetime in seconds; its session starts now.
    pub fn sign(&self, principal: &Principal) -> anyhow::Result<(String, i64)> {
        self.sign_session(principal, chrono::Utc::now().timestamp())
    }

    /// A token of the session that started at `auth_time` (Unix seconds):
    /// what a renewal signs. Returns the token and its lifetime in seconds.
    pub fn sign_session(
        &self,
        principal: &Principal,
        auth_time: i64,
    ) -> anyhow::Result<(String, i64)> {
        let now = chrono::Utc::now().timestamp();
        let ttl = i64::try_from(self.ttl.as_secs()).context("token lifetime out of range")?;
        let mut jti = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut jti);
        let claims = Claims {
            sub: principal.subject.clone(),
            role: principal.role,
            scope: scope_of(principal.role).to_owned(),
            agency: principal.agency.as_ref().map(ToString::to_string),
            province: principal.province.as_ref().map(ToString::to_string),
            grants: principal.grants.iter().map(ToString::to_string).collect(),
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            iat: now,
            nbf: now,
            exp: now + ttl,
            auth_time: Some(auth_time),
            jti: URL_SAFE_NO_PAD.encode(jti),
        };
        let header = Header {
            kid: Some(self.public.kid.clone()),
            ..Header::new(Algorithm::EdDSA)
        };
        let token =
            jsonwebtoken::encode(&header, &claims, &self.key).context("failed to sign token")?;
        Ok((token, ttl))
    }
}

/// Verifies tokens (every service).
#[derive(Clone)]
pub struct TokenVerifier {
    /// The keys tokens may be signed with: the current one, and during a
    /// rotation the previous one. Two at most, so a list.
    keys: Arc<[PublicKey]>,
    validation: Arc<Validation>,
    /// Tokens this verifier accepted, with what they say and when they
    /// expire: a client sends the same token with every request, and an
    /// Ed25519 verification costs about 35 µs, a quarter of a REST call's
    /// CPU when each call was verified at the gateway and again behind it
    /// (docs/BENCHMARKS.md). Keyed by the exact token text, so only what
    /// verified before is taken from here; kept a minute at most and never
    /// past the token's expiry. The keys are fixed for the verifier's life,
    /// so a remembered token's key is still accepted.
    accepted: moka::sync::Cache<String, (Principal, i64)>,
}

/// How long an accepted token is remembered, at most.
const ACCEPTED_FOR: std::time::Duration = std::time::Duration::from_secs(60);
/// Most tokens remembered at once.
const ACCEPTED_CAPACITY: u64 = 100_000;

impl TokenVerifier {
    /// A verifier accepting one key.
    pub fn from_pem(pem: &[u8]) -> anyhow::Result<Self> {
        Self::from_keys(vec![PublicKey::from_pem(pem)?])
    }

    /// A verifier accepting the configured keys: `jwt_public_key_file` and,
    /// during a rotation, `jwt_previous_public_key_file`.
    pub fn from_config(config: &VerifyConfig) -> anyhow::Result<Self> {
        let mut keys = vec![
            PublicKey::from_file(&config.jwt_public_key_file)
                .context("auth.jwt_public_key_file")?,
        ];
        if let Some(previous) = &config.jwt_previous_public_key_file {
            keys.push(PublicKey::from_file(previous).context("auth.jwt_previous_public_key_file")?);
        }
        Self::from_keys(keys)
    }

    /// A verifier accepting `keys`, which must be different keys.
    pub fn from_keys(keys: Vec<PublicKey>) -> anyhow::Result<Self> {
        anyhow::ensure!(!keys.is_empty(), "at least one public key is needed");
        for (i, key) in keys.iter().enumerate() {
            anyhow::ensure!(
                !keys[..i].iter().any(|k| k.kid == key.kid),
                "the same public key (kid {}) is configured twice",
                key.kid
            );
        }
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECS;
        Ok(Self {
            keys: keys.into(),
            validation: Arc::new(validation),
            accepted: moka::sync::Cache::builder()
                .max_capacity(ACCEPTED_CAPACITY)
                .time_to_live(ACCEPTED_FOR)
                .build(),
        })
    }

    /// Whether tokens signed with the key `kid` are accepted.
    pub fn accepts(&self, kid: &str) -> bool {
        self.keys.iter().any(|k| k.kid == kid)
    }

    /// The accepted keys, as published at `/.well-known/jwks.json`.
    pub fn jwks(&self) -> JwkSet {
        JwkSet {
            keys: self.keys.iter().map(PublicKey::jwk).collect(),
        }
    }

    pub fn verify(&self, token: &str) -> Result<Principal, ServiceError> {
        let now = jsonwebtoken::get_current_timestamp() as i64;
        if let Some((principal, exp)) = self.accepted.get(token)
            && now < exp
        {
            return Ok(principal);
        }
        let c = self.claims(token)?;
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
            grants: c
                .grants
                .iter()
                .map(|p| AdminUnitCode::parse(p))
                .collect::<Result<_, _>>()
                .map_err(|_| bad("grants"))?,
        };
        // Within the validation's leeway a token may verify just after its
        // expiry; it is then not remembered.
        if now < exp {
            self.accepted
                .insert(token.to_owned(), (principal.clone(), exp));
        }
        Ok(principal)
    }

    /// When the session of a valid `token` started (its `auth_time`, or
    /// `iat` for a token without one), in Unix seconds.
    pub fn session_start(&self, token: &str) -> Result<i64, ServiceError> {
        self.claims(token).map(|c| c.auth_time.unwrap_or(c.iat))
    }

    /// Verifies `token` (key, signature, issuer, audience, times, lifetime)
    /// and returns its claims.
    fn claims(&self, token: &str) -> Result<Claims, ServiceError> {
        let refused =
            |why: &str| ServiceError::Unauthenticated(format!("invalid bearer token: {why}"));
        let header = jsonwebtoken::decode_header(token).map_err(|e| refused(reason(e.kind())))?;
        // A token names its key; one without a name, or naming a key this
        // service does not hold, is refused before any signature check.
        let kid = header.kid.ok_or_else(|| refused("no key id (kid)"))?;
        let key = self
            .keys
            .iter()
            .find(|k| k.kid == kid)
            .ok_or_else(|| refused("unknown key id (kid)"))?;
        let data = jsonwebtoken::decode::<Claims>(token, &key.key, &self.validation)
            .map_err(|e| refused(reason(e.kind())))?;
        let c = data.claims;
        // Whoever holds a signing key could mint long-lived tokens; none
        // is honoured past the lifetime the registry may give.
        // Saturating: an `iat` near i64::MIN must not wrap the difference
        // to a negative, short-looking lifetime.
        if c.exp.saturating_sub(c.iat) > MAX_TOKEN_TTL.as_secs() as i64 {
            return Err(refused("lifetime longer than 15 minutes"));
        }
        Ok(c)
    }

    /// Parses an `Authorization` header value: `Bearer <token>`, the scheme
    /// in any case (RFC 9110 §11.1).
    pub fn verify_header(&self, header: &str) -> Result<Principal, ServiceError> {
        let token = bearer_token(header).ok_or_else(|| {
            ServiceError::Unauthenticated("authorization must be `Bearer <token>`".into())
        })?;
        self.verify(token)
    }
}

/// The token of a `Bearer <token>` header value, whatever the scheme's
/// case: auth schemes are case-insensitive (RFC 9110 §11.1), and clients
/// send `bearer` and `BEARER` too.
pub fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, token) = header.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Why a token was refused, in words that name no library or type.
fn reason(kind: &ErrorKind) -> &'static str {
    match kind {
        ErrorKind::ExpiredSignature => "expired",
        ErrorKind::ImmatureSignature => "not valid yet (nbf)",
        ErrorKind::InvalidSignature => "bad signature",
        ErrorKind::InvalidIssuer => "wrong issuer",
        ErrorKind::InvalidAudience => "wrong audience",
        ErrorKind::InvalidAlgorithm
        | ErrorKind::InvalidAlgorithmName
        | ErrorKind::MissingAlgorithm
        | ErrorKind::UnsupportedAlgorithm => "algorithm not allowed, only EdDSA",
        ErrorKind::MissingRequiredClaim(_) => "a required claim is missing",
        _ => "malformed",
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

/// The public key being rotated out, next to the pair in a keys folder:
/// `chiso up` accepts it while it exists.
pub const PREVIOUS_PUBLIC_KEY: &str = "jwt-previous-public.pem";

/// Starts a key rotation in `dir` (for `chiso up`, whose services all
/// restart together): the current public key becomes
/// [`PREVIOUS_PUBLIC_KEY`], still accepted, and a new pair replaces the
/// current one; the old private key is overwritten, since nothing signs
/// with it again. Refuses while a previous key is still there: two keys
/// live at once, never three. Returns the new and the old key ids.
pub fn rotate_keypair(dir: &Path) -> anyhow::Result<(String, String)> {
    let private = dir.join("jwt-private.pem");
    let public = dir.join("jwt-public.pem");
    let previous = dir.join(PREVIOUS_PUBLIC_KEY);
    anyhow::ensure!(
        !previous.exists(),
        "{} exists: a rotation is under way; remove it once every token signed \
         with its key has expired ({} minutes after the restart that began the rotation), \
         then rotate again",
        previous.display(),
        MAX_TOKEN_TTL.as_secs() / 60
    );
    let old = PublicKey::from_file(&public)?;
    let (private_pem, public_pem) = generate_keypair()?;
    let new = PublicKey::from_pem(public_pem.as_bytes())?;
    std::fs::rename(&public, &previous)
        .with_context(|| format!("failed to move {} aside", public.display()))?;
    write_private(&private, &private_pem)?;
    std::fs::write(&public, public_pem)
        .with_context(|| format!("failed to write {}", public.display()))?;
    Ok((new.kid, old.kid))
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
    /// Clients whose tokens are refused before they expire.
    revocations: crate::revocations::Revocations,
    /// What the service knows now of the caller, replacing what its token
    /// said when it was issued (an agency's current province).
    resolve: Option<Resolver>,
}

/// Brings a verified principal up to date from the service's own copy of
/// the registry, or refuses it.
pub type Resolver = Arc<dyn Fn(&mut Principal) -> Result<(), ServiceError> + Send + Sync>;

impl AuthInterceptor {
    pub fn new(verifier: TokenVerifier) -> Self {
        Self {
            verifier,
            revocations: Default::default(),
            resolve: None,
        }
    }

    /// Refuses the tokens of clients on `revocations`.
    pub fn with_revocations(mut self, revocations: crate::revocations::Revocations) -> Self {
        self.revocations = revocations;
        self
    }

    /// Passes every verified principal through `resolve`.
    pub fn with_resolver(mut self, resolve: Resolver) -> Self {
        self.resolve = Some(resolve);
        self
    }

    /// The caller an `authorization` header names, verified, not revoked and
    /// brought up to date.
    pub fn principal(&self, header: &str) -> Result<Principal, ServiceError> {
        let mut principal = self.verifier.verify_header(header)?;
        if self.revocations.is_revoked(&principal.subject) {
            return Err(ServiceError::Unauthenticated(
                "the credentials this token was issued for have been revoked".into(),
            ));
        }
        if let Some(resolve) = &self.resolve {
            resolve(&mut principal)?;
        }
        Ok(principal)
    }
}

impl tonic::service::Interceptor for AuthInterceptor {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        if let Some(value) = request.metadata().get("authorization") {
            let header = value
                .to_str()
                .map_err(|_| Status::unauthenticated("authorization header is not ASCII"))?;
            let principal = self.principal(header).map_err(Status::from)?;
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
    use serde_json::{Value, json};

    use super::*;

    fn province_officer() -> Principal {
        Principal {
            subject: "officer-1".into(),
            role: Role::ProvinceOfficer,
            agency: None,
            province: Some(AdminUnitCode::parse("51").unwrap()),
            grants: Arc::from([]),
        }
    }

    fn signer(private: &str) -> TokenSigner {
        TokenSigner::from_pem(private.as_bytes(), Duration::from_secs(60)).unwrap()
    }

    /// The JSON of a token's header or claims (`part` 0 or 1), unverified.
    fn part(token: &str, part: usize) -> Value {
        let encoded = token.split('.').nth(part).unwrap();
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(encoded).unwrap()).unwrap()
    }

    /// A token with `header` and `claims` as given, signed with `private`.
    fn forge(private: &str, header: Header, claims: &Value) -> String {
        let key = EncodingKey::from_ed_pem(private.as_bytes()).unwrap();
        jsonwebtoken::encode(&header, claims, &key).unwrap()
    }

    /// Claims a signer would write, issued now for `ttl` seconds.
    fn claims(ttl: i64) -> Value {
        let now = chrono::Utc::now().timestamp();
        json!({"sub": "officer-1", "role": "province_officer", "scope": "province_officer",
               "province": "51", "iss": "chiso", "aud": "chiso", "iat": now, "nbf": now,
               "exp": now + ttl, "jti": "j1"})
    }

    fn refusal(verifier: &TokenVerifier, token: &str) -> String {
        match verifier.verify(token) {
            Err(ServiceError::Unauthenticated(message)) => message,
            other => panic!("expected a 401, got {other:?}"),
        }
    }

    #[test]
    fn signed_tokens_verify() {
        let (private, public) = generate_keypair().unwrap();
        let signer = signer(&private);
        let verifier = TokenVerifier::from_pem(public.as_bytes()).unwrap();
        let principal = Principal {
            subject: "c1".into(),
            role: Role::AgencyReporter,
            agency: Some(AgencyCode::parse("000.00.15.H51").unwrap()),
            province: Some(AdminUnitCode::parse("51").unwrap()),
            grants: Arc::from([]),
        };
        let (token, ttl) = signer.sign(&principal).unwrap();
        assert_eq!(ttl, 60);
        assert_eq!(verifier.verify(&token).unwrap(), principal);
        assert!(verifier.verify_header(&format!("Bearer {token}")).is_ok());
        assert!(verifier.verify(&format!("{token}x")).is_err());

        let (_, other_public) = generate_keypair().unwrap();
        let other = TokenVerifier::from_pem(other_public.as_bytes()).unwrap();
        assert_eq!(
            refusal(&other, &token),
            "invalid bearer token: unknown key id (kid)",
            "a token from another key must fail"
        );
    }

    /// A token issued "at" i64::MIN once made `exp - iat` overflow: a
    /// panic in debug builds, and in release a wrapped, negative lifetime
    /// that passed the 15-minute bound, so whoever held the key could mint
    /// a token valid until any `exp`. Seen writing the `jwt` fuzz target
    /// (fuzz/fuzz_targets/jwt.rs), whose property would catch it.
    #[test]
    fn a_lifetime_past_i64_is_refused_not_wrapped() {
        let (private, public) = generate_keypair().unwrap();
        let verifier = TokenVerifier::from_pem(public.as_bytes()).unwrap();
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(verifier.keys[0].kid.clone());
        for iat in [i64::MIN, i64::MIN + 1, -(1 << 62)] {
            let mut c = claims(60);
            c["iat"] = json!(iat);
            c["exp"] = json!(chrono::Utc::now().timestamp() + 3600 * 24 * 365 * 100);
            let token = forge(&private, header.clone(), &c);
            assert_eq!(
                refusal(&verifier, &token),
                "invalid bearer token: lifetime longer than 15 minutes",
                "iat {iat}"
            );
        }
    }

    #[test]
    fn the_scheme_name_is_case_insensitive() {
        let (private, public) = generate_keypair().unwrap();
        let (token, _) = signer(&private).sign(&province_officer()).unwrap();
        let verifier = TokenVerifier::from_pem(public.as_bytes()).unwrap();
        for scheme in ["Bearer", "bearer", "BEARER", "BeArEr"] {
            let principal = verifier.verify_header(&format!("{scheme} {token}"));
            assert_eq!(principal.unwrap(), province_officer(), "{scheme}");
        }
        for header in ["Bearer", "Bearer ", "Basic abc", "Bearertoken", &token] {
            assert_eq!(bearer_token(header), None, "{header}");
            assert!(
                matches!(verifier.verify_header(header), Err(ServiceError::Unauthenticated(m))
                    if m == "authorization must be `Bearer <token>`"),
                "{header}"
            );
        }
        assert_eq!(bearer_token("bEaReR  abc "), Some("abc"));
    }

    /// Every claim is there: the standard ones bounded (`nbf` = `iat`,
    /// `exp` - `iat` = the lifetime), the key named by its thumbprint.
    #[test]
    fn claims_are_present_and_bounded() {
        let (private, public) = generate_keypair().unwrap();
        let signer = TokenSigner::from_pem(private.as_bytes(), MAX_TOKEN_TTL).unwrap();
        let before = chrono::Utc::now().timestamp();
        let (token, ttl) = signer.sign(&province_officer()).unwrap();
        let after = chrono::Utc::now().timestamp();
        assert_eq!(ttl, 900);

        let header = part(&token, 0);
        let kid = PublicKey::from_pem(public.as_bytes()).unwrap().kid;
        assert_eq!(header, json!({"alg": "EdDSA", "typ": "JWT", "kid": kid}));
        assert_eq!(signer.public_key().kid(), kid);

        let claims = part(&token, 1);
        let iat = claims["iat"].as_i64().unwrap();
        assert!((before..=after).contains(&iat), "{claims}");
        assert_eq!(claims["nbf"], iat);
        assert_eq!(claims["exp"], iat + 900);
        let jti = claims["jti"].as_str().unwrap();
        assert_eq!(URL_SAFE_NO_PAD.decode(jti).unwrap().len(), 16, "{jti}");
        let mut rest = claims.as_object().unwrap().clone();
        // The session starts when the secret is presented: at this signing.
        assert_eq!(claims["auth_time"], iat, "{claims}");
        for standard in ["iat", "nbf", "exp", "jti", "auth_time"] {
            rest.remove(standard);
        }
        assert_eq!(
            Value::Object(rest),
            json!({"sub": "officer-1", "role": "province_officer", "scope": "province_officer",
                   "province": "51", "iss": "chiso", "aud": "chiso"})
        );
    }

    #[test]
    fn every_token_has_its_own_jti() {
        let (private, _) = generate_keypair().unwrap();
        let signer = signer(&private);
        let jtis: std::collections::BTreeSet<String> = (0..50)
            .map(|_| {
                let (token, _) = signer.sign(&province_officer()).unwrap();
                part(&token, 1)["jti"].as_str().unwrap().to_owned()
            })
            .collect();
        assert_eq!(jtis.len(), 50);
    }

    #[test]
    fn a_signer_refuses_a_lifetime_over_15_minutes_or_of_zero() {
        let (private, _) = generate_keypair().unwrap();
        for secs in [0, 901, 3600] {
            let err = TokenSigner::from_pem(private.as_bytes(), Duration::from_secs(secs))
                .err()
                .expect("refused");
            assert_eq!(
                err.to_string(),
                format!("token lifetime must be 1 to 900 seconds, got {secs}")
            );
        }
    }

    /// A token without a `kid`, with a `kid` this verifier does not hold,
    /// not valid yet, or living longer than 15 minutes is refused, even
    /// when signed with the right key.
    #[test]
    fn tokens_without_a_known_kid_or_out_of_bounds_are_refused() {
        let (private, public) = generate_keypair().unwrap();
        let verifier = TokenVerifier::from_pem(public.as_bytes()).unwrap();
        let kid = PublicKey::from_pem(public.as_bytes()).unwrap().kid;
        let with_kid = |kid: Option<&str>| Header {
            kid: kid.map(str::to_owned),
            ..Header::new(Algorithm::EdDSA)
        };
        let good = forge(&private, with_kid(Some(&kid)), &claims(60));
        assert_eq!(verifier.verify(&good).unwrap(), province_officer());

        let cases = [
            (with_kid(None), claims(60), "no key id (kid)"),
            (
                with_kid(Some("another")),
                claims(60),
                "unknown key id (kid)",
            ),
            (
                with_kid(Some(&kid)),
                claims(901),
                "lifetime longer than 15 minutes",
            ),
            (with_kid(Some(&kid)), claims(-120), "expired"),
        ];
        for (header, claims, why) in cases {
            let token = forge(&private, header, &claims);
            assert_eq!(
                refusal(&verifier, &token),
                format!("invalid bearer token: {why}")
            );
        }
        let mut early = claims(600);
        early["nbf"] = json!(early["iat"].as_i64().unwrap() + 120);
        let token = forge(&private, with_kid(Some(&kid)), &early);
        assert_eq!(
            refusal(&verifier, &token),
            "invalid bearer token: not valid yet (nbf)"
        );
        for missing in ["nbf", "jti", "scope"] {
            let mut incomplete = claims(60);
            incomplete.as_object_mut().unwrap().remove(missing);
            let token = forge(&private, with_kid(Some(&kid)), &incomplete);
            let why = refusal(&verifier, &token);
            assert!(
                why == "invalid bearer token: a required claim is missing"
                    || why == "invalid bearer token: malformed",
                "{missing}: {why}"
            );
        }
    }

    /// The thumbprint is RFC 7638's: the example key of RFC 8037 A.3 has
    /// the thumbprint printed there, and jsonwebtoken's own computation
    /// agrees on a fresh key.
    #[test]
    fn the_kid_is_the_rfc_7638_thumbprint() {
        assert_eq!(
            thumbprint("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
        let (_, public) = generate_keypair().unwrap();
        let key = PublicKey::from_pem(public.as_bytes()).unwrap();
        let jwk: jsonwebtoken::jwk::Jwk =
            serde_json::from_value(serde_json::to_value(key.jwk()).unwrap()).unwrap();
        assert_eq!(
            jwk.thumbprint(jsonwebtoken::jwk::ThumbprintHash::SHA256)
                .unwrap(),
            key.kid()
        );
        assert_eq!(
            serde_json::to_value(key.jwk()).unwrap(),
            json!({"kty": "OKP", "crv": "Ed25519", "x": key.x, "kid": key.kid,
                   "alg": "EdDSA", "use": "sig"})
        );
    }

    /// Rotation: while the old and the new key are both configured, tokens
    /// of either verify and the JWKS lists both; once the old key is
    /// removed, its tokens are refused by their `kid`.
    #[test]
    fn rotation_keeps_two_keys_live_then_drops_the_old_one() {
        let (old_private, old_public) = generate_keypair().unwrap();
        let (new_private, new_public) = generate_keypair().unwrap();
        let old_key = PublicKey::from_pem(old_public.as_bytes()).unwrap();
        let new_key = PublicKey::from_pem(new_public.as_bytes()).unwrap();
        let (old_token, _) = signer(&old_private).sign(&province_officer()).unwrap();
        let (new_token, _) = signer(&new_private).sign(&province_officer()).unwrap();

        let both = TokenVerifier::from_keys(vec![new_key.clone(), old_key.clone()]).unwrap();
        assert_eq!(both.verify(&old_token).unwrap(), province_officer());
        assert_eq!(both.verify(&new_token).unwrap(), province_officer());
        let kids: Vec<String> = both.jwks().keys.into_iter().map(|k| k.kid).collect();
        assert_eq!(kids, [new_key.kid(), old_key.kid()]);
        assert!(both.accepts(old_key.kid()) && both.accepts(new_key.kid()));

        let after = TokenVerifier::from_keys(vec![new_key.clone()]).unwrap();
        assert_eq!(after.verify(&new_token).unwrap(), province_officer());
        assert_eq!(
            refusal(&after, &old_token),
            "invalid bearer token: unknown key id (kid)"
        );
        assert_eq!(after.jwks().keys, [new_key.jwk()]);

        let twice = TokenVerifier::from_keys(vec![new_key.clone(), new_key.clone()])
            .err()
            .expect("refused");
        assert_eq!(
            twice.to_string(),
            format!(
                "the same public key (kid {}) is configured twice",
                new_key.kid()
            )
        );
    }

    /// The configured files: the current key, and during a rotation the
    /// previous one.
    #[test]
    fn a_verifier_reads_the_current_and_the_previous_key_files() {
        let dir = tempfile::tempdir().unwrap();
        let (old_private, old_public) = generate_keypair().unwrap();
        let (_, new_public) = generate_keypair().unwrap();
        std::fs::write(dir.path().join("old.pem"), &old_public).unwrap();
        std::fs::write(dir.path().join("new.pem"), &new_public).unwrap();
        let (old_token, _) = signer(&old_private).sign(&province_officer()).unwrap();
        let mut config = VerifyConfig {
            jwt_public_key_file: dir.path().join("new.pem"),
            jwt_previous_public_key_file: Some(dir.path().join("old.pem")),
        };
        let verifier = TokenVerifier::from_config(&config).unwrap();
        assert_eq!(verifier.jwks().keys.len(), 2);
        assert!(verifier.verify(&old_token).is_ok());
        config.jwt_previous_public_key_file = None;
        let verifier = TokenVerifier::from_config(&config).unwrap();
        assert!(verifier.verify(&old_token).is_err());
        config.jwt_previous_public_key_file = Some(dir.path().join("missing.pem"));
        let err = TokenVerifier::from_config(&config).err().expect("refused");
        assert!(
            format!("{err:#}").starts_with("auth.jwt_previous_public_key_file: failed to read"),
            "{err:#}"
        );
    }

    /// `chiso keygen --rotate`: the old public key is kept as the previous
    /// one, a new pair replaces the current one, and a second rotation
    /// waits until the previous key is removed.
    #[test]
    fn rotating_a_keys_folder_keeps_the_old_public_key_aside() {
        let dir = tempfile::tempdir().unwrap();
        assert!(ensure_keypair(dir.path()).unwrap());
        let old_private = std::fs::read_to_string(dir.path().join("jwt-private.pem")).unwrap();
        let (old_token, _) = signer(&old_private).sign(&province_officer()).unwrap();

        let (new_kid, old_kid) = rotate_keypair(dir.path()).unwrap();
        assert_ne!(new_kid, old_kid);
        let config = VerifyConfig {
            jwt_public_key_file: dir.path().join("jwt-public.pem"),
            jwt_previous_public_key_file: Some(dir.path().join(PREVIOUS_PUBLIC_KEY)),
        };
        let verifier = TokenVerifier::from_config(&config).unwrap();
        let kids: Vec<String> = verifier.jwks().keys.into_iter().map(|k| k.kid).collect();
        assert_eq!(kids, [new_kid.clone(), old_kid]);
        assert!(verifier.verify(&old_token).is_ok());
        let new_signer =
            TokenSigner::from_file(&dir.path().join("jwt-private.pem"), MAX_TOKEN_TTL).unwrap();
        assert_eq!(new_signer.public_key().kid(), new_kid);

        let err = rotate_keypair(dir.path()).expect_err("refused");
        assert!(err.to_string().contains("a rotation is under way"), "{err}");
        std::fs::remove_file(dir.path().join(PREVIOUS_PUBLIC_KEY)).unwrap();
        let (newer_kid, was) = rotate_keypair(dir.path()).unwrap();
        assert_eq!(was, new_kid);
        assert_ne!(newer_kid, new_kid);
    }

    /// An accepted token is remembered, and only that exact token: a
    /// tampered copy is verified (and refused) as before; a token past its
    /// expiry, even within the leeway, is never taken from memory.
    #[test]
    fn accepted_tokens_are_remembered_until_they_expire() {
        let (private, public) = generate_keypair().unwrap();
        let verifier = TokenVerifier::from_pem(public.as_bytes()).unwrap();
        let principal = province_officer();
        let signer = signer(&private);
        let (token, _) = signer.sign(&principal).unwrap();
        assert_eq!(verifier.verify(&token).unwrap(), principal);
        assert!(verifier.accepted.get(&token).is_some());
        assert_eq!(verifier.verify(&token).unwrap(), principal);
        // A signature byte changed (not the last character, whose low bits
        // base64url leaves unused).
        let at = token.len() - 10;
        let swapped = if &token[at..=at] == "A" { "B" } else { "A" };
        let tampered = format!("{}{swapped}{}", &token[..at], &token[at + 1..]);
        assert_eq!(
            refusal(&verifier, &tampered),
            "invalid bearer token: bad signature"
        );
        assert!(verifier.accepted.get(&tampered).is_none());
        // Expired at issue (a lifetime no configuration may give): accepted
        // within the leeway, not remembered.
        let expired = TokenSigner {
            ttl: Duration::ZERO,
            ..signer
        };
        let (token, _) = expired.sign(&principal).unwrap();
        assert!(verifier.verify(&token).is_ok());
        assert!(verifier.accepted.get(&token).is_none());
    }
}
