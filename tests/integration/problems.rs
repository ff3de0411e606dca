//! Problem details through the real stack: every error is
//! `application/problem+json` with a stable code, fields named as the client
//! sent them, the request id, and a detail in Vietnamese unless the client
//! prefers English; a back service that is down is a 503 with `Retry-After`.

use chiso_tests::spawn_stack;
use reqwest::{
    Client,
    header::{ACCEPT_LANGUAGE, CONTENT_LANGUAGE, CONTENT_TYPE, RETRY_AFTER},
};
use serde_json::{Value, json};

use crate::{documents_rate_path, register_quang_ngai};

/// The parts of a problem that depend on the error, not the request:
/// `code`, `detail` and `errors` (without pointers), after checking the rest
/// is well formed.
pub fn essentials(body: &Value) -> Value {
    let code = body["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no code: {body}"));
    assert_eq!(body["type"], format!("urn:chiso:problem:{code}"), "{body}");
    assert!(body["status"].is_u64(), "{body}");
    assert!(body["title"].is_string(), "{body}");
    assert!(
        body["instance"]
            .as_str()
            .is_some_and(|i| i.starts_with('/')),
        "{body}"
    );
    let mut kept = json!({"code": code, "detail": body["detail"]});
    if let Some(errors) = body["errors"].as_array() {
        let errors: Vec<Value> = errors
            .iter()
            .map(|e| json!({"field": e["field"], "detail": e["detail"]}))
            .collect();
        kept["errors"] = json!(errors);
    }
    kept
}

/// A raw answer: status, headers, JSON body.
async fn exchange(request: reqwest::RequestBuilder) -> (u16, reqwest::header::HeaderMap, Value) {
    let response = request.send().await.expect("gateway unreachable");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.json().await.expect("a JSON body");
    (status, headers, body)
}

#[tokio::test]
async fn a_422_names_each_field_with_its_pointer_and_the_request_id() {
    let stack = spawn_stack().await;
    let admin = stack.admin_token().await;
    let (status, headers, body) = exchange(
        stack
            .http
            .post(format!("{}/api/v1/agencies", stack.gateway_url))
            .bearer_auth(&admin)
            .header("x-request-id", "problem-test-1")
            .json(
                &json!({"code": "H51", "admin_unit_code": "5x", "name": "Tỉnh Quảng Ngãi",
                          "kind": "provincial_committee"}),
            ),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(headers[CONTENT_TYPE], "application/problem+json");
    assert_eq!(headers[CONTENT_LANGUAGE], "en");
    assert_eq!(body["type"], "urn:chiso:problem:invalid_argument");
    assert_eq!(body["title"], "Invalid input");
    assert_eq!(body["status"], 422);
    assert_eq!(body["instance"], "/api/v1/agencies");
    assert_eq!(body["request_id"], "problem-test-1");
    let errors = body["errors"].as_array().unwrap();
    let named: Vec<(&str, &str)> = errors
        .iter()
        .map(|e| (e["field"].as_str().unwrap(), e["pointer"].as_str().unwrap()))
        .collect();
    assert_eq!(
        named,
        [("code", "/code"), ("admin_unit_code", "/admin_unit_code")],
        "{body}"
    );
    assert!(errors.iter().all(|e| e["detail"].is_string()), "{body}");
    stack.shutdown().await;
}

#[tokio::test]
async fn details_are_vietnamese_by_default_and_english_on_request() {
    let stack = spawn_stack().await;
    let admin = stack.admin_token().await;
    // A client that states no language: the test clients say `en`.
    let plain = Client::new();
    let missing = format!("{}/api/v1/agencies/000.00.99.H51", stack.gateway_url);
    let (status, headers, body) = exchange(plain.get(&missing).bearer_auth(&admin)).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(headers[CONTENT_LANGUAGE], "vi");
    assert_eq!(body["code"], "not_found");
    assert_eq!(body["title"], "Không tìm thấy");
    assert_eq!(body["detail"], "Không tìm thấy tài nguyên được yêu cầu.");
    for (language, lang, title) in [
        ("vi-VN, en;q=0.5", "vi", "Không tìm thấy"),
        ("fr", "vi", "Không tìm thấy"),
        ("fr, en;q=0.4, vi;q=0.3", "en", "Not found"),
        ("en-GB", "en", "Not found"),
    ] {
        let (_, headers, body) = exchange(
            plain
                .get(&missing)
                .bearer_auth(&admin)
                .header(ACCEPT_LANGUAGE, language),
        )
        .await;
        assert_eq!(headers[CONTENT_LANGUAGE], lang, "{language}");
        assert_eq!(body["title"], title, "{language}");
    }
    // In English, the registry's own specific words.
    let (_, _, body) = exchange(stack.http.get(&missing).bearer_auth(&admin)).await;
    assert!(
        body["detail"].as_str().unwrap().contains("000.00.99.H51"),
        "{body}"
    );
    stack.shutdown().await;
}

#[tokio::test]
async fn framework_refusals_on_the_real_server_are_problems() {
    let stack = spawn_stack().await;
    let admin = stack.admin_token().await;
    let url = |path: &str| format!("{}{path}", stack.gateway_url);
    let cases = [
        (stack.http.get(url("/api/v1/nowhere")), 404, "not_found"),
        (
            stack.http.patch(url("/api/v1/agencies")),
            405,
            "method_not_allowed",
        ),
        (
            stack
                .http
                .post(url("/api/v1/agencies"))
                .bearer_auth(&admin)
                .header(CONTENT_TYPE, "application/jsonXYZ")
                .body("{}"),
            415,
            "unsupported_media_type",
        ),
        (
            stack
                .http
                .post(url("/api/v1/agencies"))
                .bearer_auth(&admin)
                .header(CONTENT_TYPE, "application/json")
                .body(format!(r#"{{"name": "{}"}}"#, "x".repeat(70_000))),
            413,
            "payload_too_large",
        ),
        (
            stack
                .http
                .get(url("/api/v1/officers?province=51&x=1"))
                .bearer_auth(&admin),
            422,
            "invalid_argument",
        ),
        (
            stack.http.get(url("/api/dataElements")),
            401,
            "unauthenticated",
        ),
        // The DHIS2 paths' JSON bodies are as strict as the REST API's.
        (
            stack
                .http
                .post(url("/api/completeDataSetRegistrations"))
                .bearer_auth(&admin)
                .header(CONTENT_TYPE, "application/jsonXYZ")
                .body(r#"{"completeDataSetRegistrations": []}"#),
            415,
            "unsupported_media_type",
        ),
        (
            stack
                .http
                .post(url("/api/completeDataSetRegistrations"))
                .bearer_auth(&admin)
                .header(CONTENT_TYPE, "application/json")
                .body(
                    r#"{"completeDataSetRegistrations": [], "completeDataSetRegistrations": []}"#,
                ),
            422,
            "invalid_argument",
        ),
        (
            stack
                .http
                .post(url("/api/completeDataSetRegistrations"))
                .bearer_auth(&admin)
                .header(CONTENT_TYPE, "application/json")
                .body(r#"{"completeDataSetRegistrations": []} trailing"#),
            422,
            "invalid_argument",
        ),
    ];
    for (request, status, code) in cases {
        let (got, headers, body) = exchange(request).await;
        assert_eq!((got, body["code"].as_str()), (status, Some(code)), "{body}");
        assert_eq!(headers[CONTENT_TYPE], "application/problem+json", "{body}");
        assert_eq!(body["status"], status, "{body}");
        assert_eq!(
            body["request_id"].as_str(),
            headers["x-request-id"].to_str().ok(),
            "{body}"
        );
    }
    stack.shutdown().await;
}

#[tokio::test]
async fn a_back_service_that_is_down_is_a_503_with_retry_after() {
    let mut stack = spawn_stack().await;
    let (admin, _) = register_quang_ngai(&stack).await;
    stack.stop_aggregation().await;
    let (status, headers, body) = exchange(
        stack
            .http
            .get(format!(
                "{}{}",
                stack.gateway_url,
                documents_rate_path("51")
            ))
            .bearer_auth(&admin),
    )
    .await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(headers[RETRY_AFTER], "5");
    assert_eq!(
        essentials(&body),
        json!({"code": "unavailable", "detail": "service temporarily unavailable, try again"})
    );
    assert!(!body.to_string().contains("127.0.0.1"), "{body}");
    stack.start_aggregation().await;
    stack.shutdown().await;
}

#[tokio::test]
async fn names_and_codes_with_hidden_characters_are_named_fields() {
    let stack = spawn_stack().await;
    let admin = stack.admin_token().await;
    let (status, body) = stack
        .post(
            "/api/v1/agencies",
            Some(&admin),
            &json!({"code": "000.00.00.H51\u{200B}", "admin_unit_code": "51",
                    "name": "Tỉnh Quảng\u{202E} Ngãi", "kind": "provincial_committee"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        essentials(&body)["errors"],
        json!([
            {"field": "code",
             "detail": "is not an agency code: it contains the invisible character U+200B"},
            {"field": "name",
             "detail": "must not contain invisible or direction-changing characters (found U+202E)"},
        ])
    );
    stack.shutdown().await;
}
