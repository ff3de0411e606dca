//! Throughput of the real stack, with baselines measured in the same run.
//!
//! `cargo bench -p chiso-tests --bench stack` (SQLite), or with
//! `CHISO_TEST_DATABASE_URL` for PostgreSQL. Prints a Markdown table for
//! docs/BENCHMARKS.md. Counts are small enough for a 2-core machine.

use std::time::{Duration, Instant};

use chiso_domain::{PeriodCode, PeriodType};
use chiso_runtime::grpc::with_bearer;
use chiso_tests::{
    TestStack,
    proto::{
        aggregation::v1::{
            GetAggregateRequest, aggregation_service_client::AggregationServiceClient,
        },
        registry::v1::{
            AgencyKind, CreateAgencyRequest, IssueCredentialsRequest,
            agency_service_client::AgencyServiceClient,
            credential_service_client::CredentialServiceClient,
        },
        submission::v1::{
            DataValue, SubmitReportRequest, report_service_client::ReportServiceClient,
        },
    },
    spawn_stack,
};
use futures::{StreamExt, stream};
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

const AGENCIES: usize = 40;
const CONCURRENCY: usize = 8;
const QUERIES: usize = 400;
const HEALTH_CHECKS: usize = 2000;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let stack = spawn_stack().await;
    let backend = if chiso_tests::on_postgres() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let admin = stack
        .grpc_token(&stack.admin_client_id, &stack.admin_secret)
        .await;
    let tokens = setup_agencies(&stack, &admin).await?;

    // Baseline: the cheapest gRPC round trip (health check) on the same transport.
    let health = HealthClient::new(stack.channel(stack.submission_addr));
    let started = Instant::now();
    stream::iter(0..HEALTH_CHECKS)
        .for_each_concurrent(CONCURRENCY, |_| {
            let mut client = health.clone();
            async move {
                client
                    .check(HealthCheckRequest {
                        service: String::new(),
                    })
                    .await
                    .expect("health");
            }
        })
        .await;
    let health_rate = HEALTH_CHECKS as f64 / started.elapsed().as_secs_f64();

    // Submissions: every agency reports this quarter's quarterly form.
    let quarter = PeriodCode::containing(PeriodType::Quarterly, chiso_domain::today())
        .expect("today is in a quarter")
        .to_string();
    let reports = ReportServiceClient::new(stack.channel(stack.submission_addr));
    let total = tokens.len();
    let started = Instant::now();
    stream::iter(tokens)
        .for_each_concurrent(CONCURRENCY, |token| {
            let mut client = reports.clone();
            let period = quarter.clone();
            async move {
                let values = [
                    ("documents_sent", "400"),
                    ("documents_sent_electronic", "350"),
                    ("documents_signed_digitally", "300"),
                    ("documents_to_higher_levels", "40"),
                    ("documents_to_higher_levels_electronic", "30"),
                    ("online_meetings", "3"),
                ]
                .map(|(c, v)| DataValue::new(c, v))
                .to_vec();
                let request = SubmitReportRequest {
                    form: "it_fast_quarterly".into(),
                    period,
                    values,
                    ..Default::default()
                };
                client
                    .submit_report(with_bearer(request, &token).expect("request"))
                    .await
                    .expect("submit");
            }
        })
        .await;
    let submit_elapsed = started.elapsed();
    let submit_rate = total as f64 / submit_elapsed.as_secs_f64();
    stack.wait_for_feed(&admin).await;
    let feed_done = started.elapsed();

    // Aggregate queries over the province for each month.
    let aggregation = AggregationServiceClient::new(stack.channel(stack.aggregation_addr));
    let started = Instant::now();
    let latencies: Vec<Duration> = stream::iter(0..QUERIES)
        .map(|_| {
            let mut client = aggregation.clone();
            let quarter = quarter.clone();
            let admin = admin.clone();
            async move {
                let t = Instant::now();
                let request = GetAggregateRequest {
                    indicator: "electronic_document_rate".into(),
                    area: "51".into(),
                    period: quarter.clone(),
                    ..Default::default()
                };
                let answer = client
                    .get_aggregate(with_bearer(request, &admin).expect("request"))
                    .await
                    .expect("aggregate")
                    .into_inner();
                assert_eq!(answer.agencies_reporting, AGENCIES as i64);
                t.elapsed()
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let query_rate = QUERIES as f64 / started.elapsed().as_secs_f64();
    let mut sorted = latencies;
    sorted.sort();
    let p50 = sorted[sorted.len() / 2];
    let p99 = sorted[sorted.len() * 99 / 100];

    println!("| measure ({backend}, {CONCURRENCY} concurrent) | value | ratio to baseline |");
    println!("|---|---|---|");
    println!("| baseline: gRPC health check round trips | {health_rate:.0}/s | 1 |");
    println!(
        "| report submissions ({total} quarterly reports x 6 values) | {submit_rate:.0}/s | {:.3} |",
        submit_rate / health_rate
    );
    println!(
        "| feed applied by aggregation (submit start to last event) | {:.2} s for {total} | - |",
        feed_done.as_secs_f64()
    );
    println!(
        "| aggregate queries ({AGENCIES} agencies) | {query_rate:.0}/s (p50 {:.1} ms, p99 {:.1} ms) | {:.3} |",
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3,
        query_rate / health_rate
    );
    stack.shutdown().await;
    Ok(())
}

/// Province 51 with `AGENCIES` departments; returns one agency token each.
async fn setup_agencies(stack: &TestStack, admin: &str) -> anyhow::Result<Vec<String>> {
    let mut agencies = AgencyServiceClient::new(stack.channel(stack.registry_addr));
    let mut credentials = CredentialServiceClient::new(stack.channel(stack.registry_addr));
    agencies
        .create_agency(with_bearer(
            CreateAgencyRequest {
                code: "000.00.00.H51".into(),
                admin_unit_code: "51".into(),
                name: "Tỉnh Quảng Ngãi".into(),
                kind: AgencyKind::ProvincialCommittee.into(),
                ..Default::default()
            },
            admin,
        )?)
        .await?;
    let mut tokens = Vec::new();
    for i in 1..=AGENCIES {
        let code = format!("000.00.{i:02}.H51");
        agencies
            .create_agency(with_bearer(
                CreateAgencyRequest {
                    code: code.clone(),
                    name: format!("Sở số {i}"),
                    kind: AgencyKind::Department.into(),
                    parent_code: "000.00.00.H51".into(),
                    ..Default::default()
                },
                admin,
            )?)
            .await?;
        let issued = credentials
            .issue_credentials(with_bearer(
                IssueCredentialsRequest { agency_code: code },
                admin,
            )?)
            .await?
            .into_inner();
        tokens.push(
            stack
                .grpc_token(&issued.client_id, &issued.client_secret)
                .await,
        );
    }
    Ok(tokens)
}
