//! The token endpoint as an OAuth2 client sees it (RFC 6749 §4.4): a form,
//! JSON or HTTP Basic each give a token; every refusal is an RFC 6749 error
//! with its status; the token names its key, which `/.well-known/jwks.json`
//! publishes and which verifies it; its claims are bounded; and a token
//! whose key id is missing or unknown is refused over REST and gRPC.

use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};
use chiso_runtime::grpc;
use chiso_tests::{
    TestStack,
    proto::registry::v1::{GetAgencyRequest, agency_service_client::AgencyServiceClient},
    spawn_stack,
};
use ed25519_dalek::Verifier;
use serde_json::{Value, json};

use crate::register_quang_ngai;

/// An answer of the token endpoint: status, the headers that matter, body.
struct Answer {
    status: u16,
    cache_control: Option<String>,
    pragma: Option<String>,
    www_authenticate: Option<String>,
    body: Value,
}

async fn read(response: reqwest::Response) -> Answer {
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let (cache_control, pragma, www_authenticate) = (
        header("cache-control"),
        header("pragma"),
        header("www-authenticate"),
    );
    Answer {
        status: response.status().as_u16(),
        cache_control,
        pragma,
        www_authenticate,
        body: response.json().await.expect("a JSON body"),
    }
}

/// `POST /api/v1/auth/token` with a form body (values need no escaping
/// here: ids, hex secrets and scope names) and optional Basic credentials.
async fn form(stack: &TestStack, pairs: &[(&str, &str)], basic: Option<(&str, &str)>) -> Answer {
    let body = pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let mut request = stack
        .http
        .post(format!("{}/api/v1/auth/token", stack.gateway_url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body);
    if let Some((id, secret)) = basic {
        let encoded = STANDARD.encode(format!("{id}:{secret}"));
        request = request.header("authorization", format!("Basic {encoded}"));
    }
    read(request.send().await.expect("gateway reachable")).await
}

async fn json_body(stack: &TestStack, body: &Value) -> Answer {
    let request = stack
        .http
        .post(format!("{}/api/v1/auth/token", stack.gateway_url))
        .json(body);
    read(request.send().await.expect("gateway reachable")).await
}

/// Checks a token answer for an agency of province 51, and returns the token.
fn agency_token(answer: &Answer) -> String {
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.cache_control.as_deref(), Some("no-store"));
    assert_eq!(answer.pragma.as_deref(), Some("no-cache"));
    let token = answer.body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        answer.body,
        json!({"access_token": token, "token_type": "Bearer", "expires_in": 600,
               "scope": "agency_reporter", "role": "agency_reporter", "agency_code": "000.00.15.H51",
               "province_code": "51"})
    );
    token
}

/// The JSON of a token's header (0) or claims (1), not verified.
fn part(token: &str, index: usize) -> Value {
    let encoded = token.split('.').nth(index).expect("three parts");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(encoded).unwrap()).unwrap()
}

/// `token` with its header replaced by `header` (the signature no longer
/// matches, which is never reached: the key id is checked first).
fn with_header(token: &str, header: &Value) -> String {
    let (_, rest) = token.split_once('.').unwrap();
    format!("{}.{rest}", URL_SAFE_NO_PAD.encode(header.to_string()))
}

#[tokio::test]
async fn a_form_json_and_http_basic_each_give_a_token_that_works() {
    let stack = spawn_stack().await;
    let (_, credentials) = register_quang_ngai(&stack).await;
    let (_, id, secret) = &credentials[0];
    let grant = ("grant_type", "client_credentials");

    let tokens = [
        agency_token(
            &form(
                &stack,
                &[grant, ("client_id", id), ("client_secret", secret)],
                None,
            )
            .await,
        ),
        agency_token(
            &form(
                &stack,
                &[grant, ("scope", "agency_reporter")],
                Some((id, secret)),
            )
            .await,
        ),
        agency_token(&json_body(&stack, &json!({"client_id": id, "client_secret": secret})).await),
        agency_token(
            &json_body(
                &stack,
                &json!({"grant_type": "client_credentials", "client_id": id,
                        "client_secret": secret, "scope": "agency_reporter"}),
            )
            .await,
        ),
    ];
    // Each is its own token, and the scheme name may be in any case.
    let jtis: std::collections::BTreeSet<String> = tokens
        .iter()
        .map(|t| part(t, 1)["jti"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(jtis.len(), 4);
    for (token, scheme) in tokens.iter().zip(["bearer", "BEARER", "BeArEr", "Bearer"]) {
        let response = stack
            .http
            .get(format!(
                "{}/api/v1/agencies/000.00.15.H51",
                stack.gateway_url
            ))
            .header("authorization", format!("{scheme} {token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200, "{scheme}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "000.00.15.H51");
    }
    stack.shutdown().await;
}

/// Every refusal has its RFC 6749 error: 400, or 401 with
/// `WWW-Authenticate` for `invalid_client`; none is cached.
#[tokio::test]
async fn each_refusal_is_its_rfc_6749_error() {
    let stack = spawn_stack().await;
    let (_, credentials) = register_quang_ngai(&stack).await;
    let (_, id, secret) = &credentials[0];
    let grant = ("grant_type", "client_credentials");
    let (id, secret) = (id.as_str(), secret.as_str());
    let cases: Vec<(Answer, u16, &str, &str)> = vec![
        (
            form(
                &stack,
                &[("client_id", id), ("client_secret", secret)],
                None,
            )
            .await,
            400,
            "invalid_request",
            "grant_type is required: client_credentials",
        ),
        (
            form(&stack, &[grant, ("client_id", id)], None).await,
            400,
            "invalid_request",
            "client_secret is required",
        ),
        (
            form(
                &stack,
                &[grant, ("client_id", id), ("client_secret", secret)],
                Some((id, secret)),
            )
            .await,
            400,
            "invalid_request",
            "client credentials were sent both as HTTP Basic and in the body; send them one way",
        ),
        (
            form(
                &stack,
                &[
                    ("grant_type", "password"),
                    ("client_id", id),
                    ("client_secret", secret),
                ],
                None,
            )
            .await,
            400,
            "unsupported_grant_type",
            "only the client_credentials grant is supported",
        ),
        (
            form(&stack, &[grant, ("scope", "admin")], Some((id, secret))).await,
            400,
            "invalid_scope",
            "this client's scope is agency_reporter; ask for it or leave scope out",
        ),
        (
            json_body(
                &stack,
                &json!({"client_id": id, "client_secret": secret, "scope": "agency\\admin"}),
            )
            .await,
            400,
            "invalid_scope",
            "scope must be scope names separated by single spaces",
        ),
        (
            form(
                &stack,
                &[grant, ("client_id", id), ("client_secret", "wrong")],
                None,
            )
            .await,
            401,
            "invalid_client",
            "unknown client id or wrong secret",
        ),
        (
            form(&stack, &[grant], Some(("agency-unknown", secret))).await,
            401,
            "invalid_client",
            "unknown client id or wrong secret",
        ),
        (
            form(&stack, &[grant], None).await,
            401,
            "invalid_client",
            "no client authentication: send HTTP Basic, or client_id and client_secret",
        ),
    ];
    for (i, (answer, status, error, description)) in cases.into_iter().enumerate() {
        assert_eq!(answer.status, status, "case {i}: {}", answer.body);
        assert_eq!(
            answer.body,
            json!({"error": error, "error_description": description}),
            "case {i}"
        );
        assert_eq!(
            answer.cache_control.as_deref(),
            Some("no-store"),
            "case {i}"
        );
        let challenge = (status == 401).then(|| r#"Basic realm="chiso""#.to_owned());
        assert_eq!(answer.www_authenticate, challenge, "case {i}");
    }
    stack.shutdown().await;
}

/// The token's header names an EdDSA key by `kid`; its claims are all
/// there and bounded; the JWKS publishes that key, and the key verifies
/// the token's signature.
#[tokio::test]
async fn a_token_names_a_key_the_jwks_publishes_and_that_key_verifies_it() {
    let stack = spawn_stack().await;
    let before = chrono::Utc::now().timestamp();
    let token = stack.admin_token().await;
    let after = chrono::Utc::now().timestamp();

    let header = part(&token, 0);
    let kid = header["kid"].as_str().expect("a kid").to_owned();
    assert_eq!(header, json!({"alg": "EdDSA", "typ": "JWT", "kid": kid}));
    let claims = part(&token, 1);
    let iat = claims["iat"].as_i64().unwrap();
    let exp = claims["exp"].as_i64().unwrap();
    assert!((before..=after).contains(&iat), "{claims}");
    assert_eq!(claims["nbf"], iat);
    assert_eq!(exp - iat, 600, "the stack's configured lifetime");
    assert!(exp - iat <= 900);
    assert!(!claims["jti"].as_str().unwrap().is_empty());
    for (claim, value) in [
        ("iss", "chiso"),
        ("aud", "chiso"),
        ("sub", "admin"),
        ("role", "admin"),
        ("scope", "admin"),
    ] {
        assert_eq!(claims[claim], value, "{claim}");
    }

    let response = stack
        .http
        .get(format!("{}/.well-known/jwks.json", stack.gateway_url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        response.headers()["cache-control"].to_str().unwrap(),
        "public, max-age=300"
    );
    let jwks: Value = response.json().await.unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1, "{jwks}");
    let jwk = &keys[0];
    assert_eq!(
        (
            &jwk["kty"],
            &jwk["crv"],
            &jwk["alg"],
            &jwk["use"],
            &jwk["kid"]
        ),
        (
            &json!("OKP"),
            &json!("Ed25519"),
            &json!("EdDSA"),
            &json!("sig"),
            &json!(kid)
        )
    );
    let x: [u8; 32] = URL_SAFE_NO_PAD
        .decode(jwk["x"].as_str().unwrap())
        .unwrap()
        .try_into()
        .expect("32 bytes");
    let key = ed25519_dalek::VerifyingKey::from_bytes(&x).unwrap();
    let (signed, signature) = token.rsplit_once('.').unwrap();
    let signature: [u8; 64] = URL_SAFE_NO_PAD
        .decode(signature)
        .unwrap()
        .try_into()
        .unwrap();
    key.verify(
        signed.as_bytes(),
        &ed25519_dalek::Signature::from_bytes(&signature),
    )
    .expect("the published key verifies the token");
    stack.shutdown().await;
}

/// A token without a `kid`, with an unknown one, or with `alg` none or
/// HS256 is refused at the gateway and by a back service called directly.
#[tokio::test]
async fn tokens_without_a_known_key_or_with_another_algorithm_are_refused() {
    let stack = spawn_stack().await;
    let token = stack.admin_token().await;
    let header = part(&token, 0);
    let kid = header["kid"].as_str().unwrap();
    let (signed, _) = token.rsplit_once('.').unwrap();
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(json!({"alg": "none", "typ": "JWT", "kid": kid}).to_string()),
        signed.split_once('.').unwrap().1
    );
    let forged = [
        (
            with_header(&token, &json!({"alg": "EdDSA", "typ": "JWT"})),
            "invalid bearer token: no key id (kid)",
        ),
        (
            with_header(
                &token,
                &json!({"alg": "EdDSA", "typ": "JWT", "kid": "retired-key"}),
            ),
            "invalid bearer token: unknown key id (kid)",
        ),
        (
            with_header(&token, &json!({"alg": "HS256", "typ": "JWT", "kid": kid})),
            "invalid bearer token: algorithm not allowed, only EdDSA",
        ),
        (unsigned, "invalid bearer token: malformed"),
    ];
    let mut registry = AgencyServiceClient::new(stack.channel(stack.registry_addr));
    for (forged, message) in forged {
        let (status, body) = stack.get("/api/v1/agencies", &forged).await;
        assert_eq!(status, 401, "{message}: {body}");
        assert!(body.to_string().contains(message), "{message}: {body}");
        let request = grpc::with_bearer(
            GetAgencyRequest {
                code: "000.00.00.H51".into(),
                ..Default::default()
            },
            &forged,
        )
        .unwrap();
        let refused = registry.get_agency(request).await.unwrap_err();
        assert_eq!(
            (refused.code(), refused.message()),
            (tonic::Code::Unauthenticated, message)
        );
    }
    stack.shutdown().await;
}
