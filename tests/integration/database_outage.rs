//! The services survive their database going away: requests fail with 503
//! meanwhile and succeed again afterwards, with no service restarted.

use std::time::Duration;

use chiso_tests::{StackOptions, on_postgres, spawn_stack_with};

use crate::{computers_report, register_quang_ngai};

#[tokio::test]
async fn postgres_outage_gives_503_then_recovers() {
    if !on_postgres() {
        eprintln!("skipped: needs CHISO_TEST_DATABASE_URL (PostgreSQL)");
        return;
    }
    let stack = spawn_stack_with(StackOptions {
        db_proxy: true,
        ..Default::default()
    })
    .await;
    let proxy = stack.db_proxy.clone().expect("proxy");
    let (admin, credentials) = register_quang_ngai(&stack).await;
    let agency = stack.token(&credentials[0].1, &credentials[0].2).await;
    let (status, body) = stack
        .post(
            "/api/v1/reports",
            Some(&agency),
            &computers_report(120, 114),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    stack.wait_for_feed(&admin, 1).await;

    proxy.cut().await;
    let (status, body) = stack
        .post(
            "/api/v1/reports",
            Some(&agency),
            &computers_report(130, 120),
        )
        .await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["code"], "unavailable");
    let (status, _) = stack.get("/api/v1/agencies/000.00.15.H51", &admin).await;
    assert_eq!(status, 503);
    let (status, _) = stack
        .get(
            "/api/v1/aggregates?indicator=computer_equipment_rate&area=51&period=2018",
            &admin,
        )
        .await;
    assert_eq!(status, 503);

    proxy.restore();
    let mut recovered = None;
    for _ in 0..50 {
        let (status, body) = stack
            .post(
                "/api/v1/reports",
                Some(&agency),
                &computers_report(130, 120),
            )
            .await;
        if status == 201 {
            recovered = Some(body);
            break;
        }
        assert_eq!(status, 503, "{body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let body = recovered.expect("submission recovered after the database came back");
    assert_eq!(body["version"], 2, "the failed attempt stored nothing");
    let (status, body) = stack.get("/api/v1/agencies/000.00.15.H51", &admin).await;
    assert_eq!(status, 200, "{body}");

    // Aggregation's feed follower reconnects by itself and applies version 2.
    stack.wait_for_feed(&admin, 2).await;
    let (status, body) = stack
        .get(
            "/api/v1/aggregates?indicator=computer_equipment_rate&area=51&period=2018",
            &admin,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["denominator"], 130);
    assert_eq!(body["numerator"], 120);
    stack.shutdown().await;
}
