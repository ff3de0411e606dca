//! Who may act on a report: an agency for itself, a province officer in its
//! own province only (the "an officer only in its province"), an
//! admin everywhere. Over REST, through the gateway.

use chiso_tests::spawn_stack;
use serde_json::json;

use crate::{documents_report, register_quang_ngai, registry_credentials::officer};

#[tokio::test]
async fn an_officer_acts_in_its_own_province_only() {
    let stack = spawn_stack().await;
    let (admin, credentials) = register_quang_ngai(&stack).await;
    let agency = stack.token(&credentials[0].1, &credentials[0].2).await;
    // Bình Định (52), with an officer of its own.
    let (status, body) = stack
        .post(
            "/api/v1/agencies",
            Some(&admin),
            &json!({"code": "000.00.00.H52", "admin_unit_code": "52", "name": "Tỉnh Bình Định",
                    "kind": "provincial_committee", "valid_from": "1989-07-01"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (id, secret) = officer(&stack, &admin, "52").await;
    let stranger = stack.token(&id, &secret).await;
    let (id, secret) = officer(&stack, &admin, "51").await;
    let own = stack.token(&id, &secret).await;

    let (status, report) = stack
        .post(
            "/api/v1/reports",
            Some(&agency),
            &documents_report(120, 114),
        )
        .await;
    assert_eq!(status, 201, "{report}");
    let id = report["id"].as_str().unwrap();

    // Another province's officer: the report does not exist for it, it
    // cannot review it, and it cannot enter one for an agency of 51.
    let (status, body) = stack.get(&format!("/api/v1/reports/{id}"), &stranger).await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = stack
        .post(
            &format!("/api/v1/reports/{id}/accept"),
            Some(&stranger),
            &json!({}),
        )
        .await;
    // The same answer as for a report that does not exist: ids reveal nothing.
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["code"], "not_found");
    let mut for_51 = documents_report(10, 5);
    for_51["agency_code"] = json!(credentials[1].0);
    let (status, body) = stack
        .post("/api/v1/reports", Some(&stranger), &for_51)
        .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["code"], "permission_denied");
    let (status, body) = stack.get("/api/v1/reports?province=51", &stranger).await;
    assert_eq!(
        (status, body),
        (200, json!([])),
        "another province lists nothing"
    );

    // Its own province's officer reads, reviews and enters reports there.
    let (status, body) = stack.get(&format!("/api/v1/reports/{id}"), &own).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = stack
        .post(
            &format!("/api/v1/reports/{id}/accept"),
            Some(&own),
            &json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "accepted");
    let (status, body) = stack.post("/api/v1/reports", Some(&own), &for_51).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["agency_code"], credentials[1].0.as_str());

    // An agency never acts for another agency.
    let mut other = documents_report(10, 5);
    other["agency_code"] = json!("000.00.00.H52");
    let (status, body) = stack.post("/api/v1/reports", Some(&agency), &other).await;
    assert_eq!(status, 403, "{body}");
    stack.shutdown().await;
}
