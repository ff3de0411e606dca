//! The roles of issue 11 through the real services: viewers and integrators
//! read in their provinces and change nothing; a revoked client's tokens
//! stop within seconds; a dissolved agency's too; a moved agency acts in
//! its new province.

use std::time::{Duration, Instant};

use chiso_tests::{TestStack, spawn_stack};
use serde_json::{Value, json};

use crate::{documents_rate_path, documents_report, register_quang_ngai};

/// Registers Bình Định (52) with one department.
async fn register_binh_dinh(stack: &TestStack, admin: &str) {
    for agency in [
        json!({"code": "000.00.00.H52", "admin_unit_code": "52", "name": "Tỉnh Bình Định",
               "kind": "provincial_committee", "valid_from": "1989-07-01"}),
        json!({"code": "000.00.15.H52", "name": "Sở Thông tin và Truyền thông", "kind": "department",
               "parent_code": "000.00.00.H52", "valid_from": "2008-04-01"}),
    ] {
        let (status, body) = stack.post("/api/v1/agencies", Some(admin), &agency).await;
        assert_eq!(status, 201, "{body}");
    }
}

/// Issues staff credentials at `path` and logs in; returns (client id, token).
async fn staff(stack: &TestStack, admin: &str, path: &str, body: Value) -> (String, String) {
    let (status, issued) = stack.post(path, Some(admin), &body).await;
    assert_eq!(status, 201, "{issued}");
    let id = issued["client_id"].as_str().unwrap().to_owned();
    let token = stack
        .token(&id, issued["client_secret"].as_str().unwrap())
        .await;
    (id, token)
}

fn error_fields(body: &Value) -> Vec<String> {
    let list = body
        .get("errors")
        .or_else(|| body.get("fields"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    list.iter()
        .map(|f| f["field"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn viewers_and_integrators_read_in_their_provinces_and_change_nothing() {
    let stack = spawn_stack().await;
    let (admin, credentials) = register_quang_ngai(&stack).await;
    register_binh_dinh(&stack, &admin).await;
    let agency = stack.token(&credentials[0].1, &credentials[0].2).await;
    let (status, report) = stack
        .post(
            "/api/v1/reports",
            Some(&agency),
            &documents_report(120, 114),
        )
        .await;
    assert_eq!(status, 201, "{report}");
    let report = format!("/api/v1/reports/{}", report["id"].as_str().unwrap());

    let (viewer_id, viewer) = staff(
        &stack,
        &admin,
        "/api/v1/viewers",
        json!({"province_code": "51", "label": "Phó Chủ tịch UBND tỉnh"}),
    )
    .await;
    assert!(viewer_id.starts_with("viewer-"), "{viewer_id}");
    let (_, stranger) = staff(
        &stack,
        &admin,
        "/api/v1/viewers",
        json!({"province_code": "52"}),
    )
    .await;
    let (integrator_id, integrator) = staff(
        &stack,
        &admin,
        "/api/v1/integrators",
        json!({"granted_province_codes": ["52", "51"], "label": "Hệ thống báo cáo Chính phủ"}),
    )
    .await;
    assert!(integrator_id.starts_with("integrator-"), "{integrator_id}");
    let (_, foreign) = staff(
        &stack,
        &admin,
        "/api/v1/integrators",
        json!({"granted_province_codes": ["52"]}),
    )
    .await;

    // Reads in scope (once aggregation has the report): the report and its
    // province's aggregate.
    stack.wait_for_feed(&admin).await;
    for (who, token) in [("viewer", &viewer), ("integrator", &integrator)] {
        let (status, body) = stack.get(&report, token).await;
        assert_eq!(status, 200, "{who}: {body}");
        assert_eq!(body["agency_code"], credentials[0].0.as_str(), "{who}");
        let (status, body) = stack.get(&documents_rate_path("51"), token).await;
        assert_eq!(status, 200, "{who}: {body}");
        let (status, body) = stack.get("/api/v1/indicators", token).await;
        assert_eq!(status, 200, "{who}: {body}");
    }
    // Out of scope: another province's report does not exist for them; its
    // aggregate is refused.
    for (who, token) in [("viewer of 52", &stranger), ("integrator of 52", &foreign)] {
        let (status, body) = stack.get(&report, token).await;
        assert_eq!(status, 404, "{who}: {body}");
        assert_eq!(body["code"], "not_found", "{who}");
        let (status, body) = stack.get(&documents_rate_path("51"), token).await;
        assert_eq!(status, 403, "{who}: {body}");
        assert_eq!(body["code"], "permission_denied", "{who}");
        let (status, body) = stack.get("/api/v1/reports?province=51", token).await;
        assert_eq!((status, body), (200, json!([])), "{who}");
    }
    // They change nothing: no report, no review, no credentials, no agency.
    for (who, token) in [("viewer", &viewer), ("integrator", &integrator)] {
        let mut for_51 = documents_report(10, 5);
        for_51["agency_code"] = json!(credentials[1].0);
        let (status, body) = stack.post("/api/v1/reports", Some(token), &for_51).await;
        assert_eq!(status, 403, "{who}: {body}");
        assert_eq!(body["code"], "permission_denied", "{who}");
        let (status, body) = stack
            .post(&format!("{report}/accept"), Some(token), &json!({}))
            .await;
        assert_eq!(status, 403, "{who}: {body}");
        let (status, body) = stack
            .post(
                &format!("/api/v1/agencies/{}/credentials", credentials[0].0),
                Some(token),
                &json!({}),
            )
            .await;
        assert_eq!(status, 403, "{who}: {body}");
        let (status, body) = stack
            .post(
                "/api/v1/agencies",
                Some(token),
                &json!({"code": "000.00.16.H51", "name": "Sở Tài chính", "kind": "department",
                        "parent_code": "000.00.00.H51", "valid_from": "2008-04-01"}),
            )
            .await;
        assert_eq!(status, 403, "{who}: {body}");
        assert_eq!(body["code"], "permission_denied", "{who}");
    }

    // Only an admin issues them; bad grants are named.
    let officer = {
        let (id, secret) = crate::registry_credentials::officer(&stack, &admin, "51").await;
        stack.token(&id, &secret).await
    };
    let (status, body) = stack
        .post(
            "/api/v1/viewers",
            Some(&officer),
            &json!({"province_code": "51"}),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = stack
        .post(
            "/api/v1/integrators",
            Some(&admin),
            &json!({"granted_province_codes": []}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(error_fields(&body), ["granted_province_codes"]);
    let (status, body) = stack
        .post(
            "/api/v1/integrators",
            Some(&admin),
            &json!({"granted_province_codes": ["51", "5x", "51"]}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        error_fields(&body),
        ["granted_province_codes[1]", "granted_province_codes[2]"]
    );
    let (status, body) = stack
        .post(
            "/api/v1/integrators",
            Some(&admin),
            &json!({"granted_province_codes": ["99"]}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(error_fields(&body), ["granted_province_codes"]);
    stack.shutdown().await;
}

/// A login with `id` and `secret`: the status and the RFC 6749 `error`.
async fn login(stack: &TestStack, id: &str, secret: &str) -> (u16, String) {
    let (status, body) = stack
        .post(
            "/api/v1/auth/token",
            None,
            &json!({"client_id": id, "client_secret": secret}),
        )
        .await;
    (
        status,
        body["error"].as_str().unwrap_or_default().to_owned(),
    )
}

/// Polls `path` as `token` until it answers 401, for at most `within`;
/// returns how long it took.
async fn refused_within(stack: &TestStack, path: &str, token: &str, within: Duration) -> Duration {
    let started = Instant::now();
    loop {
        let (status, body) = stack.get(path, token).await;
        if status == 401 {
            assert_eq!(body["code"], "unauthenticated", "{body}");
            return started.elapsed();
        }
        assert_eq!(status, 200, "{path}: {body}");
        assert!(
            started.elapsed() < within,
            "{path} still answered {status} after {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_revoked_client_s_tokens_stop_within_seconds_at_every_service() {
    let stack = spawn_stack().await;
    let (admin, credentials) = register_quang_ngai(&stack).await;
    let (code, id, secret) = &credentials[0];
    let token = stack.token(id, secret).await;
    let (status, report) = stack
        .post("/api/v1/reports", Some(&token), &documents_report(120, 114))
        .await;
    assert_eq!(status, 201, "{report}");
    let report = format!("/api/v1/reports/{}", report["id"].as_str().unwrap());
    let own = format!("/api/v1/agencies/{code}");
    let aggregate = format!(
        "/api/v1/aggregates?data_element=documents_sent&agency={code}&period={}",
        crate::this_quarter()
    );
    // Each path is answered by another service: submission, registry, aggregation.
    stack.wait_for_feed(&admin).await;
    for path in [&report, &own, &aggregate] {
        let (status, body) = stack.get(path, &token).await;
        assert_eq!(status, 200, "{path}: {body}");
    }

    let (status, body) = stack
        .post(
            &format!("/api/v1/credentials/{id}/revoke"),
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    for path in [&report, &own, &aggregate] {
        let took = refused_within(&stack, path, &token, Duration::from_secs(10)).await;
        eprintln!("{path}: refused {took:?} after the revocation");
    }
    // And it gets no new token: to the token endpoint, it is no client.
    assert_eq!(
        login(&stack, id, secret).await,
        (401, "invalid_client".into())
    );
    stack.shutdown().await;
}

#[tokio::test]
async fn a_dissolved_agency_can_neither_log_in_nor_use_its_tokens() {
    let stack = spawn_stack().await;
    let (admin, credentials) = register_quang_ngai(&stack).await;
    // Bình Sơn district committee (000.00.24.H51) is dissolved today.
    let (code, id, secret) = &credentials[1];
    let token = stack.token(id, secret).await;
    let own = format!("/api/v1/agencies/{code}");
    let (status, body) = stack.get(&own, &token).await;
    assert_eq!(status, 200, "{body}");
    let today = chrono::Utc::now().date_naive().to_string();
    let (status, body) = stack
        .post(
            "/api/v1/agencies/reorganisations",
            Some(&admin),
            &json!({"effective_date": today, "legal_basis": "Nghị quyết 1674/NQ-UBTVQH15",
                    "operations": [{"type": "dissolve", "code": code}]}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    // The registry refuses at once, the submission service once its next
    // poll of the revocation list has run; then no report goes in.
    refused_within(&stack, &own, &token, Duration::from_secs(10)).await;
    refused_within(&stack, "/api/v1/reports", &token, Duration::from_secs(10)).await;
    let (status, body) = stack
        .post("/api/v1/reports", Some(&token), &documents_report(10, 5))
        .await;
    assert_eq!(status, 401, "{body}");
    // The dissolution revoked its client: to the token endpoint, it is no client.
    assert_eq!(
        login(&stack, id, secret).await,
        (401, "invalid_client".into())
    );
    stack.shutdown().await;
}

#[tokio::test]
async fn a_moved_agency_acts_in_its_new_province_with_the_token_it_had() {
    let stack = spawn_stack().await;
    let (admin, credentials) = register_quang_ngai(&stack).await;
    register_binh_dinh(&stack, &admin).await;
    let (code, id, secret) = &credentials[0];
    let token = stack.token(id, secret).await;
    // Once aggregation knows both provinces: its own province's aggregates
    // are open to it, the other's are not.
    stack.wait_for_feed(&admin).await;
    let (status, body) = stack.get(&documents_rate_path("51"), &token).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = stack.get(&documents_rate_path("52"), &token).await;
    assert_eq!(status, 403, "{body}");

    let today = chrono::Utc::now().date_naive().to_string();
    let (status, body) = stack
        .post(
            "/api/v1/agencies/reorganisations",
            Some(&admin),
            &json!({"effective_date": today, "legal_basis": "Quyết định 1/QĐ-TTg",
                    "operations": [{"type": "move", "code": code, "parent_code": "000.00.00.H52"}]}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    // The same token, issued while the agency was in 51: once the move has
    // reached the aggregation service, it reads in 52 and no longer in 51.
    let started = Instant::now();
    loop {
        let (in_52, _) = stack.get(&documents_rate_path("52"), &token).await;
        let (in_51, body) = stack.get(&documents_rate_path("51"), &token).await;
        if (in_52, in_51) == (200, 403) {
            assert_eq!(body["code"], "permission_denied");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "after the move: 52 {in_52}, 51 {in_51}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stack.shutdown().await;
}
