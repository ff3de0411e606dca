//! The report lifecycle over REST, through the gateway to the real
//! submission service: ETag and If-Match, Idempotency-Key replays, field
//! names in errors, and the audit trail's client address and request id.

use chiso_tests::{TestStack, spawn_stack};
use reqwest::Method;
use serde_json::{Value, json};

use crate::{documents_report, register_quang_ngai, registry_credentials::officer, this_quarter};

/// One gateway answer, with the headers these tests read.
#[derive(Debug)]
struct Answer {
    status: u16,
    etag: Option<String>,
    request_id: Option<String>,
    body: Value,
}

/// Sends `body` (JSON, when given) with `headers` as `token`.
async fn send(
    stack: &TestStack,
    method: Method,
    path: &str,
    token: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> Answer {
    let mut request = stack
        .http
        .request(method, format!("{}{path}", stack.gateway_url))
        .bearer_auth(token);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.expect("gateway unreachable");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let (status, etag, request_id) = (
        response.status().as_u16(),
        header("etag"),
        header("x-request-id"),
    );
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Answer {
        status,
        etag,
        request_id,
        body,
    }
}

fn fields(body: &Value) -> Vec<&str> {
    body["errors"]
        .as_array()
        .map(|f| f.iter().map(|v| v["field"].as_str().unwrap()).collect())
        .unwrap_or_default()
}

/// The `If-Match` of a report answer: its `ETag`, which must be the strong,
/// quoted form of the body's `etag`.
fn if_match(answer: &Answer) -> String {
    let etag = answer
        .etag
        .clone()
        .expect("single-report answers carry an ETag");
    assert_eq!(
        etag,
        format!("\"{}\"", answer.body["etag"].as_str().unwrap())
    );
    etag
}

const SO_TTTT: &str = "000.00.15.H51";

#[tokio::test]
async fn a_draft_is_saved_submitted_and_accepted_with_etags_and_an_audit_trail() {
    let stack = spawn_stack().await;
    let (admin, credentials) = register_quang_ngai(&stack).await;
    let (_, client_id, secret) = &credentials[0];
    let agency = stack.token(client_id, secret).await;
    let (officer_id, officer_secret) = officer(&stack, &admin, "51").await;
    let officer = stack.token(&officer_id, &officer_secret).await;
    let quarter = this_quarter();
    let draft_path = format!("/api/v1/reports/it_fast_quarterly/{quarter}/{SO_TTTT}/draft");

    // A partial draft; numbers and text alike are stored as text.
    let partial = json!({"values": [
        {"data_element": "documents_sent", "value": 120},
        {"data_element": "documents_sent_electronic", "value": "114"},
    ]});
    let key = [
        ("idempotency-key", "draft-1"),
        ("x-request-id", "it-draft-1"),
    ];
    let saved = send(
        &stack,
        Method::PUT,
        &draft_path,
        &agency,
        &key,
        Some(&partial),
    )
    .await;
    assert_eq!(saved.status, 200, "{:?}", saved.body);
    assert_eq!(saved.request_id.as_deref(), Some("it-draft-1"));
    assert_eq!(
        (
            saved.body["status"].as_str(),
            saved.body["version"].as_i64()
        ),
        (Some("draft"), Some(1))
    );
    assert_eq!(
        saved.body["values"],
        json!([{"data_element": "documents_sent", "value": "120"},
               {"data_element": "documents_sent_electronic", "value": "114"}])
    );
    let first_etag = if_match(&saved);
    let id = saved.body["id"].as_str().unwrap().to_owned();

    // The same key and request: the first answer again, nothing written.
    let replay = send(
        &stack,
        Method::PUT,
        &draft_path,
        &agency,
        &key,
        Some(&partial),
    )
    .await;
    assert_eq!(replay.status, 200, "{:?}", replay.body);
    assert_eq!(replay.body, saved.body);
    assert_eq!(replay.etag, saved.etag);
    // The same key, another request: refused, named as the header.
    let other = json!({"values": [{"data_element": "documents_sent", "value": "121"}]});
    let reused = send(
        &stack,
        Method::PUT,
        &draft_path,
        &agency,
        &key,
        Some(&other),
    )
    .await;
    assert_eq!(reused.status, 422, "{:?}", reused.body);
    assert_eq!(
        fields(&reused.body),
        ["Idempotency-Key"],
        "{:?}",
        reused.body
    );

    // Bad values are named by their place in the body: the service's
    // bound check and the gateway's refusal of exponents alike.
    for bad in [json!(-1), json!("mười"), json!(1.2e2)] {
        let body = json!({"values": [{"data_element": "documents_sent", "value": bad}]});
        let refused = send(&stack, Method::PUT, &draft_path, &agency, &[], Some(&body)).await;
        assert_eq!(refused.status, 422, "{bad}: {:?}", refused.body);
        assert_eq!(
            fields(&refused.body),
            ["values[0].value"],
            "{bad}: {:?}",
            refused.body
        );
    }

    // A stale If-Match changes nothing.
    let stale = [("if-match", "\"not-the-etag\"")];
    let refused = send(
        &stack,
        Method::PUT,
        &draft_path,
        &agency,
        &stale,
        Some(&other),
    )
    .await;
    assert_eq!(refused.status, 412, "{:?}", refused.body);
    assert_eq!(
        refused.body["code"], "precondition_failed",
        "{:?}",
        refused.body
    );
    let by_key = format!("/api/v1/reports/by-key/it_fast_quarterly/{quarter}/{SO_TTTT}");
    let unchanged = send(&stack, Method::GET, &by_key, &agency, &[], None).await;
    assert_eq!(unchanged.status, 200, "{:?}", unchanged.body);
    assert_eq!(unchanged.etag.as_deref(), Some(first_etag.as_str()));
    assert_eq!(unchanged.body["values"], saved.body["values"]);

    // The whole report, with the current etag; then submitted by id.
    let full = json!({"values": documents_report(120, 114)["values"]});
    let current = [("if-match", first_etag.as_str())];
    let completed = send(
        &stack,
        Method::PUT,
        &draft_path,
        &agency,
        &current,
        Some(&full),
    )
    .await;
    assert_eq!(completed.status, 200, "{:?}", completed.body);
    let draft_etag = if_match(&completed);
    assert_ne!(draft_etag, first_etag, "every write changes the etag");
    let submitted = send(
        &stack,
        Method::POST,
        &format!("/api/v1/reports/{id}/submit"),
        &agency,
        &[("if-match", draft_etag.as_str())],
        None,
    )
    .await;
    assert_eq!(submitted.status, 200, "{:?}", submitted.body);
    assert_eq!(submitted.body["status"], "submitted");
    assert_eq!(submitted.body["values"].as_array().unwrap().len(), 6);
    let submitted_etag = if_match(&submitted);

    // The officer accepts; the draft's etag is stale by now.
    let accept = format!("/api/v1/reports/{id}/accept");
    let late = [("if-match", draft_etag.as_str())];
    let refused = send(&stack, Method::POST, &accept, &officer, &late, None).await;
    assert_eq!(refused.status, 412, "{:?}", refused.body);
    let fresh = [("if-match", submitted_etag.as_str())];
    let accepted = send(&stack, Method::POST, &accept, &officer, &fresh, None).await;
    assert_eq!(accepted.status, 200, "{:?}", accepted.body);
    assert_eq!(accepted.body["status"], "accepted");
    assert_eq!(accepted.body["review"]["reviewed_by"], officer_id.as_str());
    let accept_request = accepted.request_id.clone().expect("a generated request id");

    let read = send(
        &stack,
        Method::GET,
        &format!("/api/v1/reports/{id}"),
        &agency,
        &[],
        None,
    )
    .await;
    assert_eq!(read.status, 200, "{:?}", read.body);
    assert_eq!(read.etag, accepted.etag);
    assert_eq!(
        read.body["status"], "accepted",
        "{:?} vs accepted {:?}",
        read.body, accepted.body
    );
    let listed = send(
        &stack,
        Method::GET,
        &format!("/api/v1/reports?agency={SO_TTTT}&status=accepted"),
        &officer,
        &[],
        None,
    )
    .await;
    assert_eq!(listed.status, 200, "{:?}", listed.body);
    let ids: Vec<&str> = listed
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [id.as_str()]);

    // Only the changes are audited: two saves, the submit and the accept,
    // each with the address it came from and the request that made it.
    let audit = send(
        &stack,
        Method::GET,
        &format!("/api/v1/reports/{id}/audit"),
        &officer,
        &[],
        None,
    )
    .await;
    assert_eq!(audit.status, 200, "{:?}", audit.body);
    let entries = audit.body.as_array().unwrap();
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["save_draft", "save_draft", "submit", "accept"],
        "{:?}",
        audit.body
    );
    for entry in entries {
        assert_eq!(entry["address"], "127.0.0.1", "{entry}");
    }
    assert_eq!(entries[0]["request_id"], "it-draft-1");
    assert_eq!(entries[0]["values_after"], saved.body["values"]);
    assert_eq!(entries[3]["request_id"], accept_request.as_str());
    assert_eq!(entries[3]["actor"], officer_id.as_str());
    assert_eq!(
        (
            entries[3]["status_before"].as_str(),
            entries[3]["status_after"].as_str()
        ),
        (Some("submitted"), Some("accepted"))
    );
    let by_agency = send(
        &stack,
        Method::GET,
        &format!("/api/v1/agencies/{SO_TTTT}/audit"),
        &officer,
        &[],
        None,
    )
    .await;
    assert_eq!(by_agency.status, 200, "{:?}", by_agency.body);
    assert_eq!(by_agency.body, audit.body, "one report, so the same trail");
    stack.shutdown().await;
}

#[tokio::test]
async fn a_submit_replayed_with_its_idempotency_key_is_answered_once() {
    let stack = spawn_stack().await;
    let (_, credentials) = register_quang_ngai(&stack).await;
    let (_, client_id, secret) = &credentials[0];
    let agency = stack.token(client_id, secret).await;

    let body = documents_report(120, 114);
    let key = [("idempotency-key", "submit-2025-q-1")];
    let first = send(
        &stack,
        Method::POST,
        "/api/v1/reports",
        &agency,
        &key,
        Some(&body),
    )
    .await;
    assert_eq!(first.status, 201, "{:?}", first.body);
    assert_eq!(first.body["status"], "submitted");
    let replay = send(
        &stack,
        Method::POST,
        "/api/v1/reports",
        &agency,
        &key,
        Some(&body),
    )
    .await;
    assert_eq!(replay.status, 201, "{:?}", replay.body);
    assert_eq!(replay.body, first.body);
    assert_eq!(replay.etag, first.etag);

    let versions = send(
        &stack,
        Method::GET,
        &format!(
            "/api/v1/reports/{}/versions",
            first.body["id"].as_str().unwrap()
        ),
        &agency,
        &[],
        None,
    )
    .await;
    assert_eq!(versions.status, 200, "{:?}", versions.body);
    assert_eq!(
        versions.body.as_array().unwrap().len(),
        1,
        "one version, not two"
    );

    let changed = documents_report(121, 114);
    let reused = send(
        &stack,
        Method::POST,
        "/api/v1/reports",
        &agency,
        &key,
        Some(&changed),
    )
    .await;
    assert_eq!(reused.status, 422, "{:?}", reused.body);
    assert_eq!(
        fields(&reused.body),
        ["Idempotency-Key"],
        "{:?}",
        reused.body
    );
    stack.shutdown().await;
}
