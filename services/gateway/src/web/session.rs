//! Web sessions: the browser's token in an `HttpOnly` cookie, renewal
//! before it expires, sign-out, and the CSRF rule for requests a cookie
//! authenticates (docs/WEBAPP.md, "Sessions").
//!
//! One cookie, `chiso_token`, `HttpOnly; SameSite=Strict; Path=/` (and
//! `Secure` when the gateway serves TLS): the registry's bearer token
//! itself, so every API route accepts it as it accepts an `Authorization`
//! header.
//!
//! Nothing about a session is kept here: renewal hands the live token to
//! the registry (`RenewToken`), which signs a fresh one for the same client
//! with the session's start (`auth_time`) carried over, refuses a revoked
//! client, and refuses a session older than its cap (8 hours by default).
//! So any gateway replica renews any session, and no secret outlives the
//! sign-in request. A closed or sleeping laptop's session ends with its
//! token (15 minutes): an expired token cannot be renewed.

use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue, Method, header, request::Parts};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};

use crate::error::ApiError;

/// The cookie holding the bearer token.
pub const TOKEN_COOKIE: &str = "chiso_token";
/// The header a cookie-authenticated write must carry: a cross-site form
/// cannot set it, and a cross-site script cannot without a CORS preflight,
/// which the gateway never grants.
pub const WEB_HEADER: &str = "x-chiso-web";
/// Most signed-out tokens remembered at once (32 bytes each).
const CAPACITY: u64 = 100_000;

/// Whether cookies are marked `Secure`: set on the router when the gateway
/// serves TLS. A request extension, so router tests need not set it.
#[derive(Debug, Clone, Copy, Default)]
pub struct SecureCookies(pub bool);

/// Tokens signed out of this gateway: refused from a cookie until they
/// expire by themselves (15 minutes at most). Per replica: the cookie is
/// cleared at sign-out, so this only stops a copy of it taken before.
#[derive(Clone)]
pub struct Sessions {
    /// SHA-256 of the tokens, so that a memory dump holds no usable token.
    signed_out: moka::sync::Cache<[u8; 32], ()>,
}

impl Default for Sessions {
    fn default() -> Self {
        Self {
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
pub fn clear_cookies(secure: SecureCookies) -> [HeaderValue; 1] {
    [set_cookie(TOKEN_COOKIE, "", "/", Duration::ZERO, secure)]
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
    fn signed_out_tokens_are_remembered() {
        let sessions = Sessions::default();
        assert!(!sessions.is_signed_out("t"));
        sessions.sign_out_token("t");
        assert!(sessions.is_signed_out("t"));
        assert!(!sessions.is_signed_out("u"));
    }

    #[test]
    fn the_expiry_is_read_from_the_payload() {
        let payload = URL_SAFE_NO_PAD.encode(br#"{"exp": 1700000900, "sub": "a"}"#);
        assert_eq!(token_expiry(&format!("h.{payload}.s")), Some(1_700_000_900));
        assert_eq!(token_expiry("nonsense"), None);
    }
}
