//! Fast tests of the whole router: extractors and decoding answer before any
//! back service is called, so the gRPC channels connect lazily to nowhere.

use std::time::Duration;

use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode, header},
};
use chiso_domain::{AdminUnitCode, Role};
use chiso_runtime::auth::{Principal, TokenSigner, TokenVerifier, generate_keypair};
use serde_json::{Value, json};
use tonic::transport::Endpoint;
use tower::ServiceExt;

use crate::{AppState, routes};

/// A port nothing listens on: calls that reach a back service fail fast.
const NOWHERE: &str = "http://127.0.0.1:1";

/// The gateway's router, and a signer whose tokens it accepts.
fn gateway() -> (Router, TokenSigner) {
    let (private, public) = generate_keypair().unwrap();
    let channel = || Endpoint::from_static(NOWHERE).connect_lazy();
    let state = AppState {
        registry: channel(),
        submission: channel(),
        aggregation: channel(),
        verifier: TokenVerifier::from_pem(public.as_bytes()).unwrap(),
        trusted_proxies: Vec::new().into(),
    };
    let signer = TokenSigner::from_pem(private.as_bytes(), Duration::from_secs(60)).unwrap();
    (routes::router(state), signer)
}

fn admin_token(signer: &TokenSigner) -> String {
    let admin = Principal {
        subject: "admin".into(),
        role: Role::Admin,
        agency: None,
        province: Some(AdminUnitCode::parse("51").unwrap()),
    };
    signer.sign(&admin).unwrap().0
}

/// Sends one request; the answer's status and body (JSON, or a string when not JSON).
async fn send(router: Router, request: Request<Body>) -> (StatusCode, Value) {
    let response = router.oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, body)
}

fn get(path: &str, authorization: Option<&[u8]>) -> Request<Body> {
    let mut request = Request::get(path);
    if let Some(value) = authorization {
        request = request.header(header::AUTHORIZATION, value);
    }
    request.body(Body::empty()).unwrap()
}

fn post_json(path: &str, token: Option<&str>, body: &str) -> Request<Body> {
    let mut request = Request::post(path).header(header::CONTENT_TYPE, "application/json");
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    request.body(Body::from(body.to_owned())).unwrap()
}

fn field_names(body: &Value) -> Vec<&str> {
    body["fields"]
        .as_array()
        .map(|f| f.iter().map(|v| v["field"].as_str().unwrap()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_missing_or_bad_bearer_token_is_a_json_401() {
    let (router, signer) = gateway();
    // Signed, but by a key the gateway does not trust.
    let (_, foreign) = gateway();
    let foreign = format!("Bearer {}", admin_token(&foreign));
    let cases: [(Option<&[u8]>, &str); 6] = [
        (None, "a bearer token is required"),
        (Some(b"Bearer not-a-jwt"), "invalid bearer token"),
        (
            Some(b"Basic YWRtaW46c2VjcmV0"),
            "authorization must be `Bearer <token>`",
        ),
        (Some(b"Bearer"), "authorization must be `Bearer <token>`"),
        (
            Some("Bearer caf\u{e9}".as_bytes()),
            "authorization header is not ASCII",
        ),
        (Some(foreign.as_bytes()), "invalid bearer token"),
    ];
    for (authorization, expected) in cases {
        let (status, body) = send(router.clone(), get("/api/v1/agencies", authorization)).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "{authorization:?}: {body}"
        );
        assert_eq!(body["code"], json!("unauthenticated"), "{body}");
        let message = body["message"].as_str().unwrap();
        assert!(message.starts_with(expected), "{authorization:?}: {body}");
    }
    // The same token signed by the gateway's key gets past the extractor.
    let token = admin_token(&signer);
    let (status, body) = send(
        router,
        get(
            "/api/v1/agencies?level=ward",
            Some(format!("Bearer {token}").as_bytes()),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
}

#[tokio::test]
async fn json_bodies_that_do_not_fit_are_422s_naming_the_field() {
    let (router, signer) = gateway();
    let token = admin_token(&signer);
    let cases = [
        (
            "/api/v1/auth/token",
            None,
            r#"{"client_id": "x"}"#,
            "client_secret",
        ),
        (
            "/api/v1/auth/token",
            None,
            r#"{"client_id": 7, "client_secret": "s"}"#,
            "client_id",
        ),
        (
            "/api/v1/auth/token",
            None,
            r#"{"client_id": "x", "client_secret": "s", "scope": "all"}"#,
            "scope",
        ),
        (
            "/api/v1/auth/token",
            None,
            r#"{"client_id": "x", "client_secret": "s", "grant_type": "password"}"#,
            "grant_type",
        ),
        (
            "/api/v1/reports",
            Some(token.as_str()),
            r#"{"period": "2018", "values": [{"data_element": "officials"}]}"#,
            "values[0].value",
        ),
        (
            "/api/v1/agencies",
            Some(token.as_str()),
            r#"{"code": "000.00.00.H51", "name": "Tỉnh Quảng Ngãi", "kind": "ministry"}"#,
            "kind",
        ),
        ("/api/v1/agencies", Some(token.as_str()), "{", "body"),
    ];
    for (path, token, body, field) in cases {
        let (status, answer) = send(router.clone(), post_json(path, token, body)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {answer}");
        assert_eq!(answer["code"], json!("invalid_argument"), "{answer}");
        assert_eq!(field_names(&answer), [field], "{body}: {answer}");
    }

    let not_json = Request::post("/api/v1/auth/token")
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from("client_id=x"))
        .unwrap();
    let (status, answer) = send(router, not_json).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(
        answer,
        json!({"code": "invalid_argument",
               "message": "the body must be JSON (Content-Type: application/json)"})
    );
}

#[tokio::test]
async fn bad_list_filters_are_named_before_any_call() {
    let (router, signer) = gateway();
    let bearer = format!("Bearer {}", admin_token(&signer));
    let (status, body) = send(
        router.clone(),
        get(
            "/api/v1/agencies?level=ward&kind=ministry",
            Some(bearer.as_bytes()),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(field_names(&body), ["level", "kind"]);
    assert_eq!(
        body["fields"][0]["message"],
        json!("`ward` is not one of province, district, commune")
    );
    let (status, body) = send(
        router,
        get("/api/v1/registrations?status=lost", Some(bearer.as_bytes())),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        body["fields"],
        json!([{"field": "status", "message": "`lost` is not one of pending, approved, rejected"}])
    );
}

#[tokio::test]
async fn an_unreachable_back_service_is_a_503_that_names_no_address() {
    let (router, signer) = gateway();
    let bearer = format!("Bearer {}", admin_token(&signer));
    let (status, body) = send(
        router,
        get("/api/v1/agencies/000.00.00.H51", Some(bearer.as_bytes())),
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["code"], json!("unavailable"));
    assert!(!body.to_string().contains("127.0.0.1"), "{body}");
}

#[tokio::test]
async fn an_unknown_route_is_a_404() {
    let (router, _) = gateway();
    for path in [
        "/api/v1/nothing",
        "/api/v2/agencies",
        "/api/v1/agencies/a/b/c",
    ] {
        let (status, body) = send(router.clone(), get(path, None)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        assert_eq!(body, json!(""), "{path}");
    }
}
