//! Aggregation follows the change feed from a durable cursor.

use chiso_tests::spawn_stack;
use serde_json::json;

use crate::{documents_report, register_quang_ngai};

#[tokio::test]
async fn restarted_aggregation_counts_each_report_exactly_once() {
    let mut stack = spawn_stack().await;
    let (admin, credentials) = register_quang_ngai(&stack).await;
    let first = stack.token(&credentials[0].1, &credentials[0].2).await;
    let second = stack.token(&credentials[1].1, &credentials[1].2).await;

    let (status, body) = stack
        .post("/api/v1/reports", Some(&first), &documents_report(120, 114))
        .await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().unwrap().to_owned();
    stack.wait_for_feed(&admin).await;

    stack.stop_aggregation().await;
    let (status, body) = stack
        .post(
            "/api/v1/reports",
            Some(&second),
            &documents_report(380, 266),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, error) = stack.get(&crate::documents_rate_path("51"), &admin).await;
    assert_eq!(
        status, 503,
        "aggregation is down, so the gateway answers 503: {error}"
    );
    assert_eq!(error["code"], "unavailable");

    stack.start_aggregation().await;
    stack.wait_for_feed(&admin).await;
    assert_eq!(aggregate(&stack, &admin).await, (380, 500, 2));

    // A second restart with nothing new replays nothing.
    stack.stop_aggregation().await;
    stack.start_aggregation().await;
    stack.wait_for_feed(&admin).await;
    assert_eq!(aggregate(&stack, &admin).await, (380, 500, 2));

    // A revision is a new version: while it is a draft the submitted
    // figures stand; submitted, its values replace the agency's.
    let (status, body) = stack
        .post(
            &format!("/api/v1/reports/{id}/revise"),
            Some(&first),
            &json!({"reason": "sửa số liệu"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["version"].as_i64(), body["status"].as_str()),
        (Some(2), Some("draft"))
    );
    stack.wait_for_feed(&admin).await;
    assert_eq!(aggregate(&stack, &admin).await, (380, 500, 2));
    let (status, body) = stack
        .post("/api/v1/reports", Some(&first), &documents_report(100, 100))
        .await;
    assert!(status == 200 || status == 201, "{status} {body}");
    assert_eq!(body["version"], 2);
    stack.wait_for_feed(&admin).await;
    assert_eq!(aggregate(&stack, &admin).await, (366, 480, 2));
    stack.shutdown().await;
}

async fn aggregate(stack: &chiso_tests::TestStack, admin: &str) -> (i64, i64, i64) {
    let (status, body) = stack.get(&crate::documents_rate_path("51"), admin).await;
    assert_eq!(status, 200, "{body}");
    (
        body["numerator"].as_i64().unwrap(),
        body["denominator"].as_i64().unwrap(),
        body["agencies_reporting"].as_i64().unwrap(),
    )
}
