//! The services survive their database going away: requests that need it
//! fail with 503 meanwhile and succeed again afterwards, with no service
//! restarted; aggregates, answered from memory, never stop.

use std::{future::Future, time::Duration};

use chiso_tests::{StackOptions, TestStack, on_postgres, spawn_stack_with};

use crate::{documents_report, register_quang_ngai};

/// Through a proxy that drops every connection and refuses new ones, as a
/// restart does, without disturbing the other tests sharing the server.
/// Ignored so that a run without PostgreSQL shows it as not run; `.ci/run`
/// runs it on PostgreSQL.
#[tokio::test]
#[ignore = "needs PostgreSQL: set CHISO_TEST_DATABASE_URL"]
async fn postgres_outage_gives_503_then_recovers() {
    assert!(on_postgres(), "needs CHISO_TEST_DATABASE_URL");
    let stack = spawn_stack_with(StackOptions {
        db_proxy: true,
        ..Default::default()
    })
    .await;
    let proxy = stack.db_proxy.clone().expect("proxy");
    outage_then_recovery(&stack, proxy.cut(), async { proxy.restore() }).await;
    stack.shutdown().await;
}

/// A real restart of the PostgreSQL server: `.ci/run` runs it alone, after
/// the suite, with the commands that stop and start the server.
#[tokio::test]
#[ignore = "stops the shared PostgreSQL server; .ci/run runs it on its own"]
async fn postgres_restart_gives_503_then_recovers() {
    assert!(on_postgres(), "needs CHISO_TEST_DATABASE_URL");
    let command = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("set {name}"));
    let (stop, start) = (
        command("CHISO_TEST_PG_STOP"),
        command("CHISO_TEST_PG_START"),
    );
    let stack = spawn_stack_with(StackOptions::default()).await;
    outage_then_recovery(&stack, run(stop), run(start)).await;
    stack.shutdown().await;
}

async fn run(command: String) {
    let status = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(&command)
        .status()
        .await
        .expect("runs");
    assert!(status.success(), "`{command}` failed: {status}");
}

async fn outage_then_recovery(
    stack: &TestStack,
    go_down: impl Future<Output = ()>,
    come_back: impl Future<Output = ()>,
) {
    let (admin, credentials) = register_quang_ngai(stack).await;
    let agency = stack.token(&credentials[0].1, &credentials[0].2).await;
    let second = stack.token(&credentials[1].1, &credentials[1].2).await;
    let (status, body) = stack
        .post(
            "/api/v1/reports",
            Some(&agency),
            &documents_report(120, 114),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    stack.wait_for_feed(&admin).await;

    go_down.await;
    let (status, body) = stack
        .post(
            "/api/v1/reports",
            Some(&second),
            &documents_report(130, 120),
        )
        .await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["code"], "unavailable");
    let (status, error) = stack.get("/api/v1/agencies/000.00.15.H51", &admin).await;
    assert_eq!(status, 503, "{error}");
    assert_eq!(error["code"], "unavailable");
    // Aggregates are answered from aggregation's model in memory: they go
    // on answering, as of the last batch applied, while the database is away.
    let (status, answer) = stack.get(&crate::documents_rate_path("51"), &admin).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        (&answer["numerator_exact"], &answer["denominator_exact"]),
        (&serde_json::json!("114"), &serde_json::json!("120"))
    );

    come_back.await;
    let mut recovered = None;
    for _ in 0..100 {
        let (status, body) = stack
            .post(
                "/api/v1/reports",
                Some(&second),
                &documents_report(130, 120),
            )
            .await;
        if status == 201 {
            recovered = Some(body);
            break;
        }
        assert_eq!(status, 503, "{body}");
        assert_eq!(body["code"], "unavailable");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let body = recovered.expect("submission recovered after the database came back");
    // Had the failed attempt stored anything, this submission would find
    // a submitted report and be refused.
    assert_eq!(body["version"], 1, "the failed attempt stored nothing");
    assert_eq!(body["status"], "submitted");
    let (status, body) = stack.get("/api/v1/agencies/000.00.15.H51", &admin).await;
    assert_eq!(status, 200, "{body}");

    // Aggregation's feed followers reconnect by themselves and apply it.
    stack.wait_for_feed(&admin).await;
    let (status, body) = stack.get(&crate::documents_rate_path("51"), &admin).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["denominator"], 250);
    assert_eq!(body["numerator"], 234);
}
