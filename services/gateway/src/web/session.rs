//! Web sessions: the browser's token in an `HttpOnly` cookie, renewal
//! before it expires, sign-out, and the CSRF rule for requests a cookie
//! authenticates (docs/WEBAPP.md, "Sessions").
//!
//! Two cookies, both `HttpOnly; SameSite=Strict` (and `Secure` when the
//! gateway serves TLS):
//! - `chiso_token`, `Path=/`: the registry's bearer token itself, so every
//!   API route accepts it as it accepts an `Authorization` header; it lives
//!   as long as the token (15 minutes at most).
//! - `chiso_session`, `Path=/api/v1/session`: an opaque random id, sent only
//!   to the session routes, naming the session the gateway keeps to renew
//!   the token.
//!
//! Renewing needs a token the registry signs, and the registry signs only
//! for a client id and secret: the session keeps the secret in this
//! gateway's memory (never on disk, never in a cookie), for as long as the
//! session is used and 8 hours at most, and renewal is a login like any
//! other ([`crate::limit::Logins::issue_token`]: the same limits, the same
//! hashing pool, the same revocation and dissolution checks). Sign-out and
//! an idle quarter of an hour forget it.

use std::{
    sync::Arc,
    time::{Duration, SystemTime},
};

use axum::http::{HeaderMap, HeaderValue, Method, header, request::Parts};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chiso_proto::registry::v1::IssueTokenRequest;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::error::ApiError;

/// The cookie holding the bearer token.
pub const TOKEN_COOKIE: &str = "chiso_token";
/// The cookie naming the gateway's session, for renewal and sign-out.
pub const SESSION_COOKIE: &str = "chiso_session";
/// Where the session cookie is sent: the session routes only.
pub const SESSION_PATH: &str = "/api/v1/session";
/// The header a cookie-authenticated write must carry: a cross-site form
/// cannot set it, and a cross-site script cannot without a CORS preflight,
/// which the gateway never grants.
pub const WEB_HEADER: &str = "x-chiso-web";

/// The longest a web session lasts from sign-in, renewals included: a
/// working day, after which the person signs in again.
pub const SESSION_CAP: Duration = Duration::from_secs(8 * 60 * 60);
/// How long a session is kept without a renewal: a token's lifetime and a
/// minute. The app renews well before its token expires while a page is
/// open; a closed or sleeping laptop's session ends with its token.
pub const SESSION_IDLE: Duration = Duration::from_secs(16 * 60);
/// Most sessions kept at once (each a few hundred bytes).
const CAPACITY: u64 = 100_000;

/// Whether cookies are marked `Secure`: set on the router when the gateway
/// serves TLS. A request extension, so router tests need not set it.
#[derive(Debug, Clone, Copy, Default)]
pub struct SecureCookies(pub bool);

/// One signed-in browser.
pub struct Session {
    pub client_id: String,
    secret: SecretString,
    /// When the session must end, whatever renewals happen.
    pub ends_at: SystemTime,
}

impl Session {
    /// The credentials to exchange again for a fresh token.
    pub fn credentials(&self) -> IssueTokenRequest {
        IssueTokenRequest {
            client_id: self.client_id.clone(),
            client_secret: self.secret.expose_secret().to_owned(),
        }
    }

    /// Seconds until the session's cap.
    pub fn remaining(&self) -> Duration {
        self.ends_at
            .duration_since(SystemTime::now())
            .unwrap_or_default()
    }
}

/// The sessions of this gateway, and the tokens signed out of it. Kept in
/// memory per replica: behind several replicas, renewal needs the replica
/// that signed the browser in (sticky sessions), or the person signs in
/// again when the token expires (docs/WEBAPP.md).
#[derive(Clone)]
pub struct Sessions {
    /// Keyed by the SHA-256 of the id, so that a memory dump does not
    /// hold usable cookie values next to their secrets.
    live: moka::sync::Cache<[u8; 32], Arc<Session>>,
    /// SHA-256 of tokens whose session signed out; refused from a cookie
    /// until they expire by themselves.
    signed_out: moka::sync::Cache<[u8; 32], ()>,
}

impl Default for Sessions {
    fn default() -> Self {
        Self {
            live: moka::sync::Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_live(SESSION_CAP)
                .time_to_idle(SESSION_IDLE)
                .build(),
            signed_out: moka::sync::Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_live(chiso_runtime::auth::MAX_TOKEN_TTL + Duration::from_secs(60))
                .build(),
        }
    }
}

fn digest(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

impl Sessions {
    /// Starts a session for credentials the registry has just accepted;
    /// returns the id for the session cookie.
    pub fn start(&self, client_id: String, secret: String) -> (String, Arc<Session>) {
        let mut id = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut id);
        let id = URL_SAFE_NO_PAD.encode(id);
        let session = Arc::new(Session {
            client_id,
            secret: SecretString::from(secret),
            ends_at: SystemTime::now() + SESSION_CAP,
        });
        self.live.insert(digest(&id), session.clone());
        (id, session)
    }

    /// The live session an id names; renews its idle time.
    pub fn get(&self, id: &str) -> Option<Arc<Session>> {
        let session = self.live.get(&digest(id))?;
        (session.remaining() > Duration::ZERO).then_some(session)
    }

    /// Ends a session, if it is live.
    pub fn end(&self, id: &str) {
        self.live.invalidate(&digest(id));
    }

    /// Refuses `token` from a cookie from now on (sign-out).
    pub fn sign_out_token(&self, token: &str) {
        self.signed_out.insert(digest(token), ());
    }

    /// Whether `token` was signed out.
    pub fn is_signed_out(&self, token: &str) -> bool {
        self.signed_out.contains_key(&digest(token))
    }
}

/// A cookie's value from the request's `Cookie` headers (RFC 6265 §5.4).
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim_matches('"'))
        .filter(|value| !value.is_empty())
}

/// A `Set-Cookie` value for `name`: `HttpOnly; SameSite=Strict`, `Secure`
/// under TLS; `max_age` zero deletes the cookie.
pub fn set_cookie(
    name: &str,
    value: &str,
    path: &str,
    max_age: Duration,
    secure: SecureCookies,
) -> HeaderValue {
    let secure = if secure.0 { "; Secure" } else { "" };
    let text = format!(
        "{name}={value}; Path={path}; Max-Age={}; HttpOnly; SameSite=Strict{secure}",
        max_age.as_secs()
    );
    // Values are base64url and JWTs (base64url and dots): always a valid header.
    HeaderValue::from_str(&text).expect("cookie values are header-safe")
}

/// The two `Set-Cookie` values that end a browser's session.
pub fn clear_cookies(secure: SecureCookies) -> [HeaderValue; 2] {
    [
        set_cookie(TOKEN_COOKIE, "", "/", Duration::ZERO, secure),
        set_cookie(SESSION_COOKIE, "", SESSION_PATH, Duration::ZERO, secure),
    ]
}

/// The CSRF rule for a request a cookie authenticates: a method that
/// changes something must carry `X-Chiso-Web: 1`, and its `Origin`, when
/// the browser sends one, must be this site. `SameSite=Strict` already keeps
/// the cookie off cross-site requests in current browsers; this holds in
/// those that ignore it, and against a sibling subdomain, which counts as
/// the same site.
pub fn check_csrf(parts: &Parts) -> Result<(), ApiError> {
    check_csrf_of(&parts.method, &parts.headers, parts.uri.authority())
}

fn check_csrf_of(
    method: &Method,
    headers: &HeaderMap,
    authority: Option<&http::uri::Authority>,
) -> Result<(), ApiError> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    let marked = headers
        .get(WEB_HEADER)
        .is_some_and(|v| v.as_bytes() == b"1");
    if !marked {
        return Err(csrf_refusal(
            "a write signed in by cookie must carry the X-Chiso-Web: 1 header",
        ));
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let host = authority.map(|a| a.as_str().to_owned()).or_else(|| {
            headers
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        });
        if !same_origin(origin.as_bytes(), host.as_deref()) {
            return Err(csrf_refusal(
                "a write signed in by cookie must come from this site (Origin)",
            ));
        }
    }
    Ok(())
}

/// Whether an `Origin` value names the host the request was sent to
/// (scheme aside: TLS may end at a proxy in front of the gateway).
fn same_origin(origin: &[u8], host: Option<&str>) -> bool {
    let (Ok(origin), Some(host)) = (std::str::from_utf8(origin), host) else {
        return false;
    };
    let Some((scheme, authority)) = origin.split_once("://") else {
        return false;
    };
    let default_port = match scheme {
        "http" => "80",
        "https" => "443",
        _ => return false,
    };
    let strip = |a: &str| {
        a.strip_suffix(&format!(":{default_port}"))
            .unwrap_or(a)
            .to_ascii_lowercase()
    };
    strip(authority) == strip(host)
}

fn csrf_refusal(message: &str) -> ApiError {
    ApiError::new(tonic::Code::PermissionDenied, message).vi(
        "Yêu cầu thay đổi dữ liệu bằng phiên đăng nhập trên trình duyệt phải đến từ chính trang \
         này (thiếu tiêu đề X-Chiso-Web hoặc Origin khác).",
    )
}

/// The token a request carries in its cookie, when it has no
/// `Authorization` header, after the CSRF rule and the sign-out list.
pub fn token_from_cookie(parts: &Parts) -> Result<Option<String>, ApiError> {
    let Some(token) = cookie(&parts.headers, TOKEN_COOKIE) else {
        return Ok(None);
    };
    check_csrf(parts)?;
    if parts
        .extensions
        .get::<Sessions>()
        .is_some_and(|s| s.is_signed_out(token))
    {
        return Err(ApiError::unauthenticated(
            "this session has signed out; sign in again",
        ));
    }
    Ok(Some(token.to_owned()))
}

/// The `exp` of a token already verified: seconds since the epoch.
pub fn token_expiry(token: &str) -> Option<i64> {
    let payload = token.split('.').nth(1)?;
    let claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    claims.get("exp")?.as_i64()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        map
    }

    #[test]
    fn cookies_are_found_by_exact_name_across_headers() {
        let h = headers(&[
            ("cookie", "a=1; chiso_token_x=2"),
            ("cookie", "chiso_token=abc.def; b=\"q\""),
        ]);
        assert_eq!(cookie(&h, TOKEN_COOKIE), Some("abc.def"));
        assert_eq!(cookie(&h, "b"), Some("q"));
        assert_eq!(cookie(&h, "chiso"), None);
        assert_eq!(
            cookie(&headers(&[("cookie", "chiso_token=")]), TOKEN_COOKIE),
            None
        );
    }

    #[test]
    fn set_cookie_is_http_only_strict_and_secure_under_tls() {
        let plain = set_cookie(
            "n",
            "v",
            "/",
            Duration::from_secs(900),
            SecureCookies(false),
        );
        assert_eq!(plain, "n=v; Path=/; Max-Age=900; HttpOnly; SameSite=Strict");
        let tls = set_cookie("n", "", "/p", Duration::ZERO, SecureCookies(true));
        assert_eq!(
            tls,
            "n=; Path=/p; Max-Age=0; HttpOnly; SameSite=Strict; Secure"
        );
    }

    #[test]
    fn cookie_writes_need_the_header_and_this_origin() {
        let host = [("host", "127.0.0.1:8080")];
        let check = |method: Method, extra: &[(&str, &str)]| {
            let mut pairs = host.to_vec();
            pairs.extend_from_slice(extra);
            check_csrf_of(&method, &headers(&pairs), None).map_err(|e| e.code())
        };
        assert_eq!(check(Method::GET, &[]), Ok(()));
        assert_eq!(check(Method::POST, &[]), Err("permission_denied"));
        assert_eq!(
            check(Method::POST, &[(WEB_HEADER, "0")]),
            Err("permission_denied")
        );
        assert_eq!(check(Method::POST, &[(WEB_HEADER, "1")]), Ok(()));
        assert_eq!(
            check(
                Method::DELETE,
                &[(WEB_HEADER, "1"), ("origin", "http://127.0.0.1:8080")]
            ),
            Ok(())
        );
        for origin in [
            "http://evil.example",
            "null",
            "http://127.0.0.1:8081",
            "file://x",
        ] {
            assert_eq!(
                check(Method::PUT, &[(WEB_HEADER, "1"), ("origin", origin)]),
                Err("permission_denied"),
                "{origin}"
            );
        }
        assert!(same_origin(
            b"https://chiso.gov.vn:443",
            Some("CHISO.gov.vn")
        ));
        assert!(!same_origin(
            b"https://chiso.gov.vn.evil.example",
            Some("chiso.gov.vn")
        ));
    }

    #[test]
    fn sessions_end_and_signed_out_tokens_are_remembered() {
        let sessions = Sessions::default();
        let (id, session) = sessions.start("agency-1".into(), "s3cret".into());
        assert_eq!(session.credentials().client_secret, "s3cret");
        assert!(session.remaining() > SESSION_CAP - Duration::from_secs(5));
        assert!(sessions.get(&id).is_some());
        assert!(sessions.get("another").is_none());
        sessions.end(&id);
        assert!(sessions.get(&id).is_none());
        assert!(!sessions.is_signed_out("t"));
        sessions.sign_out_token("t");
        assert!(sessions.is_signed_out("t"));
    }

    #[test]
    fn the_expiry_is_read_from_the_payload() {
        let payload = URL_SAFE_NO_PAD.encode(br#"{"exp": 1700000900, "sub": "a"}"#);
        assert_eq!(token_expiry(&format!("h.{payload}.s")), Some(1_700_000_900));
        assert_eq!(token_expiry("nonsense"), None);
    }
}
