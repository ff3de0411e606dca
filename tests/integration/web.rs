//! The web app's front door (issue 12): the page shell and its files with
//! their security headers, and the browser session: sign-in into an
//! `HttpOnly` cookie, the cookie accepted by the API, the CSRF rule on
//! cookie-signed writes, renewal, sign-out, and a revoked client that cannot
//! renew.

use chiso_tests::{TestStack, spawn_stack};
use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};

use crate::{documents_report, register_quang_ngai};

/// The cookies a sign-in or renewal set: name → the whole `Set-Cookie`.
fn set_cookies(response: &reqwest::Response) -> Vec<(String, String)> {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| {
            let text = v.to_str().unwrap().to_owned();
            let name = text.split('=').next().unwrap().to_owned();
            (name, text)
        })
        .collect()
}

fn cookie_value(set_cookie: &str) -> String {
    let pair = set_cookie.split(';').next().unwrap();
    pair.split_once('=').unwrap().1.to_owned()
}

/// A browser's cookie, as it would send it back.
struct Browser {
    token: String,
}

impl Browser {
    fn all(&self) -> String {
        format!("chiso_token={}", self.token)
    }
}

async fn request(
    stack: &TestStack,
    method: Method,
    path: &str,
    cookie: Option<&str>,
    extra: &[(&str, &str)],
    body: Option<&Value>,
) -> reqwest::Response {
    let mut request = stack
        .http
        .request(method, format!("{}{path}", stack.gateway_url));
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    request.send().await.expect("gateway reachable")
}

async fn json_of(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

const WEB: (&str, &str) = ("x-chiso-web", "1");

async fn sign_in(stack: &TestStack, client_id: &str, secret: &str) -> Browser {
    let response = request(
        stack,
        Method::POST,
        "/api/v1/session",
        None,
        &[WEB],
        Some(&json!({"client_id": client_id, "client_secret": secret})),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let cookies = set_cookies(&response);
    let find = |name: &str| {
        cookies
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no {name} cookie in {cookies:?}"))
            .1
            .clone()
    };
    assert_eq!(cookies.len(), 1, "only the token's cookie: {cookies:?}");
    Browser {
        token: cookie_value(&find("chiso_token")),
    }
}

#[tokio::test]
async fn the_shell_and_its_files_are_served_with_a_strict_policy() {
    let stack = spawn_stack().await;
    for path in ["/", "/app", "/app/reports/it_fast_quarterly/2026Q4"] {
        let response = request(&stack, Method::GET, path, None, &[], None).await;
        assert_eq!(response.status(), 200, "{path}");
        let headers = response.headers().clone();
        assert_eq!(headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("script-src 'self';"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["referrer-policy"], "same-origin");
        let body = response.text().await.unwrap();
        assert!(body.contains(r#"<script type="module" src="/assets/app/main.js">"#));
    }

    // Files: typed, with an ETag that answers 304 when unchanged.
    let response = request(&stack, Method::GET, "/assets/app/main.js", None, &[], None).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "text/javascript; charset=utf-8"
    );
    assert_eq!(response.headers()[header::CACHE_CONTROL], "no-cache");
    let etag = response.headers()[header::ETAG]
        .to_str()
        .unwrap()
        .to_owned();
    let again = request(
        &stack,
        Method::GET,
        "/assets/app/main.js",
        None,
        &[("if-none-match", &etag)],
        None,
    )
    .await;
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(again.headers()[header::ETAG], etag.as_str());

    // A file that is not there: problem details, still under the policy.
    let missing = request(&stack, Method::GET, "/assets/app/nope.js", None, &[], None).await;
    assert!(missing.headers().contains_key("content-security-policy"));
    let (status, body) = json_of(missing).await;
    assert_eq!(status, 404);
    assert_eq!(body["code"], "not_found");
    // Notes for maintainers and files of unknown kinds are not served.
    let readme = request(
        &stack,
        Method::GET,
        "/assets/vendor/README.md",
        None,
        &[],
        None,
    )
    .await;
    assert_eq!(readme.status(), 404);
    stack.shutdown().await;
}

#[tokio::test]
async fn a_browser_signs_in_uses_the_cookie_renews_and_signs_out() {
    let stack = spawn_stack().await;
    let (admin, agencies) = register_quang_ngai(&stack).await;
    let (agency, client_id, secret) = agencies[0].clone();

    // Wrong secret: problem details, no cookie.
    let response = request(
        &stack,
        Method::POST,
        "/api/v1/session",
        None,
        &[WEB],
        Some(&json!({"client_id": client_id, "client_secret": "wrong"})),
    )
    .await;
    assert!(set_cookies(&response).is_empty());
    let (status, body) = json_of(response).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["code"], "unauthenticated");
    // A field left empty is named.
    let (status, body) = json_of(
        request(
            &stack,
            Method::POST,
            "/api/v1/session",
            None,
            &[WEB],
            Some(&json!({"client_id": client_id, "client_secret": ""})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"][0]["field"], "client_secret");

    // Sign-in: one HttpOnly, SameSite=Strict cookie (not Secure on plain
    // HTTP), the token only in it, who is signed in in the body.
    let response = request(
        &stack,
        Method::POST,
        "/api/v1/session",
        None,
        &[WEB, ("origin", &stack.gateway_url)],
        Some(&json!({"client_id": client_id, "client_secret": secret})),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
    let cookies = set_cookies(&response);
    assert_eq!(cookies.len(), 1, "nothing but the token: {cookies:?}");
    let token_cookie = &cookies.iter().find(|(n, _)| n == "chiso_token").unwrap().1;
    // The cookie lives as long as the token (the test stack's lifetime).
    let lifetime = token_cookie
        .split("; Max-Age=")
        .nth(1)
        .and_then(|rest| rest.split(';').next())
        .and_then(|secs| secs.parse::<u64>().ok())
        .expect("Max-Age");
    assert!((60..=900).contains(&lifetime), "{token_cookie}");
    assert!(
        token_cookie.ends_with(&format!(
            "; Path=/; Max-Age={lifetime}; HttpOnly; SameSite=Strict"
        )),
        "{token_cookie}"
    );
    let browser = Browser {
        token: cookie_value(token_cookie),
    };
    let (_, body) = json_of(response).await;
    assert_eq!(body["role"], "agency_reporter");
    assert_eq!(body["agency_code"], agency);
    assert_eq!(body["province_code"], "51");
    assert_eq!(body["client_id"], client_id);
    assert_eq!(body["token_expires_in"], lifetime);
    // The registry's session cap (8 hours), counted from this sign-in.
    assert_eq!(body["session_expires_in"], 28_800, "{body}");
    assert!(!body.to_string().contains(&browser.token));

    // The cookie stands in for the Authorization header.
    let (status, me) = json_of(
        request(
            &stack,
            Method::GET,
            "/api/v1/session",
            Some(&browser.all()),
            &[],
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["agency_code"], agency);
    assert!(me.get("session_expires_in").is_none(), "{me}");
    let (status, own) = json_of(
        request(
            &stack,
            Method::GET,
            &format!("/api/v1/agencies/{agency}"),
            Some(&format!("chiso_token={}", browser.token)),
            &[],
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{own}");
    assert_eq!(own["name"], "Sở Thông tin và Truyền thông");

    // CSRF: a cookie-signed write without the header, or from another
    // site, is refused before anything is stored; with both it goes through.
    let report = documents_report(120, 114);
    let token_only = format!("chiso_token={}", browser.token);
    for (extra, why) in [
        (vec![], "no X-Chiso-Web header"),
        (vec![("x-chiso-web", "yes")], "a header of another value"),
        (vec![WEB, ("origin", "http://evil.example")], "another site"),
    ] {
        let (status, body) = json_of(
            request(
                &stack,
                Method::POST,
                "/api/v1/reports",
                Some(&token_only),
                &extra,
                Some(&report),
            )
            .await,
        )
        .await;
        assert_eq!(status, 403, "{why}: {body}");
        assert_eq!(body["code"], "permission_denied", "{why}");
        assert!(
            body["detail"].as_str().unwrap().contains("cookie"),
            "{body}"
        );
    }
    let (status, stored) = json_of(
        request(
            &stack,
            Method::GET,
            &format!("/api/v1/reports?agency={agency}"),
            Some(&token_only),
            &[],
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(stored, json!([]), "a refused write stored nothing");
    let (status, submitted) = json_of(
        request(
            &stack,
            Method::POST,
            "/api/v1/reports",
            Some(&token_only),
            &[WEB, ("origin", &stack.gateway_url)],
            Some(&report),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{submitted}");
    assert_eq!(submitted["submitted_by"], client_id);
    // A bearer token needs no header: scripts are not browsers.
    let bearer = stack.token(&client_id, &secret).await;
    let (status, _) = stack
        .post(
            &format!(
                "/api/v1/reports/{}/revise",
                submitted["id"].as_str().unwrap()
            ),
            Some(&bearer),
            &json!({}),
        )
        .await;
    assert_eq!(status, 200);

    // Renewal: a fresh token in the cookie, the session's cap unchanged;
    // without the header it is refused like any cookie write.
    let refused = request(
        &stack,
        Method::POST,
        "/api/v1/session/renew",
        Some(&browser.all()),
        &[],
        None,
    )
    .await;
    assert_eq!(refused.status(), 403);
    // Tokens issued in the same second differ only by their jti.
    let renewed = request(
        &stack,
        Method::POST,
        "/api/v1/session/renew",
        Some(&browser.all()),
        &[WEB],
        None,
    )
    .await;
    assert_eq!(renewed.status(), 200);
    let cookies = set_cookies(&renewed);
    assert_eq!(cookies.len(), 1, "{cookies:?}");
    let fresh = cookie_value(&cookies[0].1);
    assert_ne!(fresh, browser.token);
    let (_, info) = json_of(renewed).await;
    assert_eq!(info["role"], "agency_reporter");
    // The session's start is carried over: its end does not move.
    let left = info["session_expires_in"].as_u64().unwrap();
    assert!((28_700..=28_800).contains(&left), "{info}");
    let browser = Browser { token: fresh };
    let (status, _) = json_of(
        request(
            &stack,
            Method::GET,
            "/api/v1/session",
            Some(&browser.all()),
            &[],
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);

    // Sign-out: the cookie cleared, the token refused from a cookie.
    let out = request(
        &stack,
        Method::DELETE,
        "/api/v1/session",
        Some(&browser.all()),
        &[WEB],
        None,
    )
    .await;
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    let cleared = set_cookies(&out);
    assert_eq!(cleared.len(), 1, "{cleared:?}");
    assert!(
        cleared
            .iter()
            .all(|(_, c)| c.contains("=; ") && c.contains("Max-Age=0")),
        "{cleared:?}"
    );
    let (status, body) = json_of(
        request(
            &stack,
            Method::GET,
            "/api/v1/session",
            Some(&browser.all()),
            &[],
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["code"], "unauthenticated");
    let again = request(
        &stack,
        Method::POST,
        "/api/v1/session/renew",
        Some(&browser.all()),
        &[WEB],
        None,
    )
    .await;
    assert_eq!(again.status(), 401);
    assert_eq!(set_cookies(&again).len(), 1, "the cookie is cleared again");
    // The same token as a bearer still works until it expires: sign-out
    // ends the browser's session, it cannot recall a token.
    let (status, _) = stack
        .get(&format!("/api/v1/agencies/{agency}"), &browser.token)
        .await;
    assert_eq!(status, 200);
    let _ = admin;
    stack.shutdown().await;
}

#[tokio::test]
async fn a_revoked_client_cannot_renew_its_session() {
    let stack = spawn_stack().await;
    let (admin, agencies) = register_quang_ngai(&stack).await;
    let (_, client_id, secret) = agencies[1].clone();
    let browser = sign_in(&stack, &client_id, &secret).await;

    let (status, revoked) = stack
        .post(
            &format!("/api/v1/credentials/{client_id}/revoke"),
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_eq!(status, 200, "{revoked}");
    let response = request(
        &stack,
        Method::POST,
        "/api/v1/session/renew",
        Some(&browser.all()),
        &[WEB],
        None,
    )
    .await;
    let cleared = set_cookies(&response);
    let (status, body) = json_of(response).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["code"], "unauthenticated");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("can no longer be renewed"),
        "{body}"
    );
    assert_eq!(cleared.len(), 1, "{cleared:?}");
    // The session is over: renewing again finds nothing to renew.
    let (status, body) = json_of(
        request(
            &stack,
            Method::POST,
            "/api/v1/session/renew",
            Some(&browser.all()),
            &[WEB],
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, 401);
    assert!(
        body["detail"].as_str().unwrap().contains("sign in again"),
        "{body}"
    );
    stack.shutdown().await;
}

#[tokio::test]
async fn session_errors_are_in_vietnamese_by_default() {
    let stack = spawn_stack().await;
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/session", stack.gateway_url))
        .header(WEB.0, WEB.1)
        .json(&json!({"client_id": "admin", "client_secret": "wrong-secret"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-language"], "vi");
    let (status, body) = json_of(response).await;
    assert_eq!(status, 401);
    assert_eq!(
        body["detail"],
        "Mã ứng dụng (client id) hoặc mật khẩu không đúng."
    );
    stack.shutdown().await;
}

/// A session ends at the registry's cap (8 hours from the sign-in that
/// presented the secret), however often it was renewed: a token whose
/// session started nine hours ago is not renewed, and the cookie is
/// cleared; one that started an hour ago is, with its start carried over.
#[tokio::test]
async fn a_session_past_its_cap_is_not_renewed() {
    use chiso_runtime::auth::{Principal, TokenSigner};

    let stack = spawn_stack().await;
    let (_, agencies) = register_quang_ngai(&stack).await;
    let (agency, client_id, _) = agencies[0].clone();
    let signer = TokenSigner::from_file(
        &stack.data_dir().join("keys/jwt-private.pem"),
        std::time::Duration::from_secs(600),
    )
    .unwrap();
    let principal = Principal {
        subject: client_id.clone(),
        role: chiso_domain::Role::AgencyReporter,
        agency: Some(chiso_domain::AgencyCode::parse(&agency).unwrap()),
        province: Some(chiso_domain::AdminUnitCode::parse("51").unwrap()),
        grants: std::sync::Arc::from([]),
    };
    let now = chrono::Utc::now().timestamp();
    let renew = async |started: i64| {
        let (token, _) = signer.sign_session(&principal, started).unwrap();
        let browser = Browser { token };
        let response = request(
            &stack,
            Method::POST,
            "/api/v1/session/renew",
            Some(&browser.all()),
            &[WEB],
            None,
        )
        .await;
        let cookies = set_cookies(&response);
        let (status, body) = json_of(response).await;
        (status, cookies, body)
    };

    let (status, cookies, body) = renew(now - 9 * 3600).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["code"], "unauthenticated");
    assert_eq!(cookies.len(), 1, "{cookies:?}");
    assert!(cookies[0].1.contains("Max-Age=0"), "{cookies:?}");

    let (status, cookies, body) = renew(now - 3600).await;
    assert_eq!(status, 200, "{body}");
    let left = body["session_expires_in"].as_i64().unwrap();
    assert!((7 * 3600 - 60..=7 * 3600).contains(&left), "{body}");
    // The fresh token carries the same start: renewing it again leaves the
    // same time.
    let token = cookie_value(&cookies[0].1);
    let again = request(
        &stack,
        Method::POST,
        "/api/v1/session/renew",
        Some(&Browser { token }.all()),
        &[WEB],
        None,
    )
    .await;
    let (status, body) = json_of(again).await;
    assert_eq!(status, 200, "{body}");
    let again_left = body["session_expires_in"].as_i64().unwrap();
    assert!(
        again_left <= left && again_left >= left - 5,
        "{left} then {again_left}"
    );
    stack.shutdown().await;
}
