//! Aggregation follows the change feed from a durable cursor.

use chiso_tests::spawn_stack;

use crate::{computers_report, register_quang_ngai};

#[tokio::test]
async fn restarted_aggregation_counts_each_report_exactly_once() {
    let mut stack = spawn_stack().await;
    let (admin, credentials) = register_quang_ngai(&stack).await;
    let first = stack.token(&credentials[0].1, &credentials[0].2).await;
    let second = stack.token(&credentials[1].1, &credentials[1].2).await;

    let (status, body) = stack
        .post("/api/v1/reports", Some(&first), &computers_report(120, 114))
        .await;
    assert_eq!(status, 201, "{body}");
    stack.wait_for_feed(&admin, 1).await;

    stack.stop_aggregation().await;
    let (status, body) = stack
        .post(
            "/api/v1/reports",
            Some(&second),
            &computers_report(380, 266),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, error) = stack
        .get(
            "/api/v1/aggregates?indicator=computer_equipment_rate&area=51&period=2018",
            &admin,
        )
        .await;
    assert_eq!(
        status, 503,
        "aggregation is down, so the gateway answers 503: {error}"
    );
    assert_eq!(error["code"], "unavailable");

    stack.start_aggregation().await;
    stack.wait_for_feed(&admin, 2).await;
    assert_eq!(aggregate(&stack, &admin).await, (380, 500, 2));

    // A second restart with nothing new replays nothing.
    stack.stop_aggregation().await;
    stack.start_aggregation().await;
    stack.wait_for_feed(&admin, 2).await;
    assert_eq!(aggregate(&stack, &admin).await, (380, 500, 2));

    // A resubmission is a new version that replaces the agency's values.
    let (status, body) = stack
        .post("/api/v1/reports", Some(&first), &computers_report(100, 100))
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["version"], 2);
    stack.wait_for_feed(&admin, 3).await;
    assert_eq!(aggregate(&stack, &admin).await, (366, 480, 2));
    stack.shutdown().await;
}

async fn aggregate(stack: &chiso_tests::TestStack, admin: &str) -> (i64, i64, i64) {
    let (status, body) = stack
        .get(
            "/api/v1/aggregates?indicator=computer_equipment_rate&area=51&period=2018",
            admin,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    (
        body["numerator"].as_i64().unwrap(),
        body["denominator"].as_i64().unwrap(),
        body["agencies_reporting"].as_i64().unwrap(),
    )
}
