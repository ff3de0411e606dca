//! Fast tests of the token endpoint and the JWKS through the router: every
//! refusal here is decided before the registry is called, so the gRPC
//! channels connect lazily to nowhere.

use std::time::Duration;

use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode, header},
};
use chiso_runtime::auth::{
    Principal, PublicKey, Role, TokenSigner, TokenVerifier, generate_keypair,
};
use serde_json::{Value, json};
use tonic::transport::Endpoint;
use tower::ServiceExt;

use crate::{AppState, app};

/// The router, accepting the tokens of each key in `public_keys`.
fn router(public_keys: &[&str]) -> Router {
    let channel = || Endpoint::from_static("http://127.0.0.1:1").connect_lazy();
    let keys = public_keys
        .iter()
        .map(|pem| PublicKey::from_pem(pem.as_bytes()).unwrap())
        .collect();
    app(AppState {
        registry: channel(),
        submission: channel(),
        aggregation: channel(),
        verifier: TokenVerifier::from_keys(keys).unwrap(),
        trusted_proxies: Vec::new().into(),
        basic: Default::default(),
        limits: Default::default(),
        requests: Default::default(),
    })
}

/// Status, the headers asked for, and the JSON body.
async fn send(
    router: Router,
    request: Request<Body>,
    headers: &[header::HeaderName],
) -> (StatusCode, Vec<Option<String>>, Value) {
    let response = router.oneshot(request).await.unwrap();
    let status = response.status();
    let values = headers
        .iter()
        .map(|h| {
            response
                .headers()
                .get(h)
                .map(|v| v.to_str().unwrap().to_owned())
        })
        .collect();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, values, serde_json::from_slice(&bytes).unwrap())
}

fn token_request(content_type: &str, authorization: Option<&str>, body: &str) -> Request<Body> {
    let mut request =
        Request::post("/api/v1/auth/token").header(header::CONTENT_TYPE, content_type);
    if let Some(value) = authorization {
        request = request.header(header::AUTHORIZATION, value);
    }
    request.body(Body::from(body.to_owned())).unwrap()
}

const FORM: &str = "application/x-www-form-urlencoded";

/// Each malformed request gets its RFC 6749 error, 400, or 401 with
/// `WWW-Authenticate` for `invalid_client`; none is cached.
#[tokio::test]
async fn malformed_token_requests_get_rfc_6749_errors() {
    let (_, public) = generate_keypair().unwrap();
    let router = router(&[&public]);
    let cases = [
        (
            FORM,
            None,
            "client_id=a&client_secret=s",
            400,
            "invalid_request",
            "grant_type is required: client_credentials",
        ),
        (
            FORM,
            None,
            "grant_type=password&client_id=a&client_secret=s",
            400,
            "unsupported_grant_type",
            "only the client_credentials grant is supported",
        ),
        (
            "application/json",
            None,
            r#"{"grant_type": "authorization_code", "client_id": "a", "client_secret": "s"}"#,
            400,
            "unsupported_grant_type",
            "only the client_credentials grant is supported",
        ),
        (
            FORM,
            None,
            "grant_type=client_credentials&client_id=a&client_secret=s&scope=%22x%22",
            400,
            "invalid_scope",
            "scope must be scope names separated by single spaces",
        ),
        (
            FORM,
            None,
            "grant_type=client_credentials&client_id=a",
            400,
            "invalid_request",
            "client_secret is required",
        ),
        (
            FORM,
            None,
            "grant_type=client_credentials&client_id=a&client_id=a&client_secret=s",
            400,
            "invalid_request",
            "client_id is repeated",
        ),
        (
            "application/json",
            None,
            r#"{"client_id": "a", "client_secret": "s", "extra": 1}"#,
            400,
            "invalid_request",
            "unknown parameter: extra",
        ),
        (
            "application/json",
            None,
            r#"{"client_id": 7, "client_secret": "s"}"#,
            400,
            "invalid_request",
            "client_id must be a string",
        ),
        (
            "text/plain",
            None,
            "client_id=a",
            400,
            "invalid_request",
            "the body must be application/x-www-form-urlencoded (RFC 6749) or application/json",
        ),
        (
            "application/jsonx",
            None,
            "{}",
            400,
            "invalid_request",
            "the body must be application/x-www-form-urlencoded (RFC 6749) or application/json",
        ),
        (
            FORM,
            None,
            "grant_type=client_credentials",
            401,
            "invalid_client",
            "no client authentication: send HTTP Basic, or client_id and client_secret",
        ),
        (
            FORM,
            Some("Basic not base64"),
            "grant_type=client_credentials",
            401,
            "invalid_client",
            "Basic credentials must be base64 of client_id:client_secret",
        ),
        (
            FORM,
            Some("Bearer abc"),
            "grant_type=client_credentials",
            401,
            "invalid_client",
            "authenticate with HTTP Basic or with client_id and client_secret in the body",
        ),
    ];
    for (content_type, authorization, body, status, error, description) in cases {
        let (got, headers, answer) = send(
            router.clone(),
            token_request(content_type, authorization, body),
            &[
                header::CACHE_CONTROL,
                header::PRAGMA,
                header::WWW_AUTHENTICATE,
            ],
        )
        .await;
        assert_eq!(got.as_u16(), status, "{body}: {answer}");
        assert_eq!(
            answer,
            json!({"error": error, "error_description": description}),
            "{body}"
        );
        let challenge = (status == 401).then(|| r#"Basic realm="chiso""#.to_owned());
        assert_eq!(
            headers,
            [Some("no-store".into()), Some("no-cache".into()), challenge],
            "{body}"
        );
    }
}

/// During a rotation the JWKS lists both keys, by the kid their tokens
/// carry; it needs no token and may be cached.
#[tokio::test]
async fn the_jwks_lists_every_accepted_key_and_is_cacheable() {
    let (_, old) = generate_keypair().unwrap();
    let (_, new) = generate_keypair().unwrap();
    let kid = |pem: &str| {
        PublicKey::from_pem(pem.as_bytes())
            .unwrap()
            .kid()
            .to_owned()
    };
    for (keys, kids) in [
        (vec![new.as_str(), old.as_str()], vec![kid(&new), kid(&old)]),
        (vec![new.as_str()], vec![kid(&new)]),
    ] {
        let request = Request::get("/.well-known/jwks.json")
            .body(Body::empty())
            .unwrap();
        let (status, headers, body) = send(router(&keys), request, &[header::CACHE_CONTROL]).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(headers, [Some("public, max-age=300".to_owned())]);
        let listed: Vec<&str> = body["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap())
            .collect();
        assert_eq!(listed, kids);
        for key in body["keys"].as_array().unwrap() {
            assert_eq!(
                (&key["kty"], &key["crv"], &key["alg"], &key["use"]),
                (
                    &json!("OKP"),
                    &json!("Ed25519"),
                    &json!("EdDSA"),
                    &json!("sig")
                )
            );
        }
    }
}

/// `bearer`, `BEARER` and `BeArEr` are all the Bearer scheme.
#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive_on_rest_routes() {
    let (private, public) = generate_keypair().unwrap();
    let router = router(&[&public]);
    let signer = TokenSigner::from_pem(private.as_bytes(), Duration::from_secs(60)).unwrap();
    let admin = Principal {
        subject: "admin".into(),
        role: Role::Admin,
        agency: None,
        province: None,
        grants: std::sync::Arc::from([]),
    };
    let (token, _) = signer.sign(&admin).unwrap();
    for scheme in ["Bearer", "bearer", "BEARER", "BeArEr"] {
        // Past the extractor, the bad filter is the first thing refused.
        let request = Request::get("/api/v1/agencies?level=ward")
            .header(header::AUTHORIZATION, format!("{scheme} {token}"))
            .body(Body::empty())
            .unwrap();
        let (status, _, body) = send(router.clone(), request, &[]).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{scheme}: {body}");
    }
}
