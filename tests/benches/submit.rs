//! Report submission: throughput and latency of the yearly IT-application
//! report (44 values, signed), through REST and directly over gRPC, with
//! baselines measured in the same run:
//!
//! - (a) the bare authenticated gRPC round trip (`GetFeedHead`, no database);
//! - (b) on PostgreSQL, the database's own rate for the same rows inserted by
//!   `pgbench` with a custom script, once plain and once with every
//!   transaction first updating one shared feed-head row (the design this
//!   service had before its outbox and sequencer).
//!
//! `cargo bench -p chiso-tests --bench submit` (SQLite), or with
//! `CHISO_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres`.
//! `CHISO_BENCH_REPORTS` (per phase, default 3000) and
//! `CHISO_BENCH_CONCURRENCY` (default 16) size the run. Prints Markdown for
//! docs/BENCHMARKS.md.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context;
use base64::{Engine, engine::general_purpose::STANDARD};
use chiso_domain::{AgencyCode, FormCode, PeriodCode, ReportKey, sample, signature};
use chiso_runtime::grpc::with_bearer;
use chiso_tests::{
    TestStack,
    proto::{
        convert::submission::decode_values,
        registry::v1::{
            RegisterSigningKeyRequest, signing_key_service_client::SigningKeyServiceClient,
        },
        submission::v1::{
            DataValue, GetFeedHeadRequest, Signature, SubmitReportRequest,
            change_feed_service_client::ChangeFeedServiceClient,
            report_service_client::ReportServiceClient,
        },
    },
    spawn_stack,
};
use futures::{StreamExt, stream};
use hdrhistogram::Histogram;
use serde_json::json;

const FORM: &str = "it_application_yearly";

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One prepared submission: the agency's report for this year, signed.
#[derive(Clone)]
struct Prepared {
    agency: String,
    values: Vec<DataValue>,
    signature: Signature,
}

/// Rate and latency of one phase.
struct Measured {
    count: usize,
    rate: f64,
    p50_ms: f64,
    p99_ms: f64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let per_phase = setting("CHISO_BENCH_REPORTS", 3000);
    let concurrency = setting("CHISO_BENCH_CONCURRENCY", 16);
    let stack = spawn_stack().await;
    let backend = if chiso_tests::on_postgres() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let admin = stack
        .grpc_token(&stack.admin_client_id, &stack.admin_secret)
        .await;
    let started = Instant::now();
    let mut prepared = prepare(&stack, &admin, per_phase * 3).await?;
    eprintln!(
        "set up {} agencies with keys and signed reports in {:.1} s",
        prepared.len(),
        started.elapsed().as_secs_f64()
    );

    let rtt = baseline(&stack, &admin, concurrency, per_phase * 4).await?;
    let grpc_batch: Vec<Prepared> = prepared.drain(..per_phase).collect();
    let grpc = submit_grpc(&stack, &admin, concurrency, grpc_batch).await?;
    let rest_batch: Vec<Prepared> = prepared.drain(..per_phase).collect();
    let rest = submit_rest(&stack, &admin, concurrency, rest_batch, None).await?;
    let paced_rate = rest.rate * 0.7;
    let paced = submit_rest(&stack, &admin, concurrency * 4, prepared, Some(paced_rate)).await?;
    let pg = if chiso_tests::on_postgres() {
        pgbench().ok()
    } else {
        None
    };

    let year = chiso_domain::today().format("%Y");
    println!(
        "| measure ({backend}, {concurrency} in flight, yearly form {year}, 44 values, signed) | rate | p50 | p99 | ratio to gRPC round trip |"
    );
    println!("|---|---|---|---|---|");
    let row = |name: &str, m: &Measured| {
        println!(
            "| {name} ({} reports) | {:.0}/s | {:.1} ms | {:.1} ms | {:.3} |",
            m.count,
            m.rate,
            m.p50_ms,
            m.p99_ms,
            m.rate / rtt.rate
        );
    };
    row("baseline (a): gRPC `GetFeedHead` round trips", &rtt);
    row("submissions over gRPC", &grpc);
    row("submissions over REST through the gateway", &rest);
    row(
        &format!("REST paced at 70% of its rate ({paced_rate:.0}/s offered)"),
        &paced,
    );
    if let Some((plain, locked)) = pg {
        println!(
            "| baseline (b): pgbench, the same rows (1 report + 44 values per transaction), 8 clients | {plain:.0}/s | | | {:.3} |",
            plain / rtt.rate
        );
        println!(
            "| pgbench, each transaction first updating one shared feed-head row | {locked:.0}/s | | | {:.3} |",
            locked / rtt.rate
        );
        println!(
            "\nREST submissions reach {:.2} of PostgreSQL's own plain insert rate and {:.2} of its rate behind a shared row.",
            rest.rate / plain,
            rest.rate / locked
        );
    }
    stack.shutdown().await;
    Ok(())
}

/// Province 51 with `n` departments created today, each with a registered
/// signing key and its signed yearly report ready to send.
async fn prepare(stack: &TestStack, admin: &str, n: usize) -> anyhow::Result<Vec<Prepared>> {
    let catalogue = chiso_domain::seed::catalogue()?;
    let form = chiso_domain::seed::forms(&catalogue)?
        .into_iter()
        .find(|f| f.code.as_str() == FORM)
        .context("the yearly seed form")?;
    let period =
        PeriodCode::containing(form.period_type, chiso_domain::today()).context("this year")?;
    // Submissions start once the submission service's copy of the tree (it
    // follows the registry's feed) has every agency, so no phase pays for
    // the catch-up.
    let codes = stack
        .province_departments(admin, n, FORM, &period.to_string())
        .await?;
    let catalogue = Arc::new(catalogue);
    let keys = SigningKeyServiceClient::new(stack.channel(stack.registry_addr));
    let prepared = stream::iter(codes)
        .map(|code| {
            let mut keys = keys.clone();
            let (catalogue, form, period) = (catalogue.clone(), form.clone(), period);
            let admin = admin.to_owned();
            async move {
                let secret = ed25519_dalek::SigningKey::from_bytes(
                    &sample::seed_of(&code)
                        .to_le_bytes()
                        .repeat(4)
                        .try_into()
                        .expect("32 bytes"),
                );
                let key = keys
                    .register_signing_key(with_bearer(
                        RegisterSigningKeyRequest {
                            agency_code: code.clone(),
                            public_key: STANDARD.encode(secret.verifying_key().to_bytes()),
                            label: "bench".into(),
                        },
                        &admin,
                    )?)
                    .await?
                    .into_inner();
                let values: Vec<DataValue> =
                    sample::sample_values(&form, sample::seed_of(&code), 0)
                        .into_iter()
                        .map(|(c, v)| DataValue::new(c, v))
                        .collect();
                let typed = decode_values(&values, &catalogue, |_| Ok(()))
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                let content = signature::signed_content(
                    &ReportKey {
                        form: FormCode::parse(FORM)?,
                        period,
                        agency: AgencyCode::parse(&code)?,
                    },
                    1,
                    &typed,
                );
                let signed = ed25519_dalek::Signer::sign(&secret, &content);
                anyhow::Ok(Prepared {
                    agency: code,
                    values,
                    signature: Signature {
                        key_id: key.key_id,
                        signature: STANDARD.encode(signed.to_bytes()),
                        signed_at: None,
                    },
                })
            }
        })
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(prepared)
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid bounds")
}

fn measured(count: usize, elapsed: Duration, latencies: &Histogram<u64>) -> Measured {
    Measured {
        count,
        rate: count as f64 / elapsed.as_secs_f64(),
        p50_ms: latencies.value_at_quantile(0.5) as f64 / 1e3,
        p99_ms: latencies.value_at_quantile(0.99) as f64 / 1e3,
    }
}

/// (a): the cheapest authenticated gRPC call on the same transport.
async fn baseline(
    stack: &TestStack,
    admin: &str,
    concurrency: usize,
    calls: usize,
) -> anyhow::Result<Measured> {
    let client = ChangeFeedServiceClient::new(stack.channel(stack.submission_addr));
    let started = Instant::now();
    let latencies: Vec<u64> = stream::iter(0..calls)
        .map(|_| {
            let mut client = client.clone();
            let request = with_bearer(GetFeedHeadRequest {}, admin).expect("request");
            async move {
                let t = Instant::now();
                client.get_feed_head(request).await.expect("feed head");
                t.elapsed().as_micros() as u64
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let elapsed = started.elapsed();
    let mut h = histogram();
    latencies.iter().for_each(|l| h.saturating_record(*l));
    Ok(measured(calls, elapsed, &h))
}

async fn submit_grpc(
    stack: &TestStack,
    admin: &str,
    concurrency: usize,
    batch: Vec<Prepared>,
) -> anyhow::Result<Measured> {
    let client = ReportServiceClient::new(stack.channel(stack.submission_addr));
    let year = chiso_domain::today().format("%Y").to_string();
    let count = batch.len();
    let started = Instant::now();
    let latencies: Vec<u64> = stream::iter(batch)
        .map(|p| {
            let mut client = client.clone();
            let request = with_bearer(
                SubmitReportRequest {
                    form: FORM.into(),
                    period: year.clone(),
                    agency_code: p.agency,
                    values: p.values,
                    signature: Some(p.signature),
                    ..Default::default()
                },
                admin,
            )
            .expect("request");
            async move {
                let t = Instant::now();
                client.submit_report(request).await.expect("submitted");
                t.elapsed().as_micros() as u64
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let elapsed = started.elapsed();
    let mut h = histogram();
    latencies.iter().for_each(|l| h.saturating_record(*l));
    Ok(measured(count, elapsed, &h))
}

/// Submissions through the gateway; with `rate`, offered at that pace (open
/// loop: latency counts from when each request was due, so a stall shows up
/// in the percentiles instead of slowing the offered load).
async fn submit_rest(
    stack: &TestStack,
    admin: &str,
    concurrency: usize,
    batch: Vec<Prepared>,
    rate: Option<f64>,
) -> anyhow::Result<Measured> {
    let url = format!("{}/api/v1/reports", stack.gateway_url);
    let year = chiso_domain::today().format("%Y").to_string();
    let bearer = format!("Bearer {}", stack.admin_token().await);
    let _ = admin;
    let count = batch.len();
    let started = Instant::now();
    let interval = rate.map(|r| Duration::from_secs_f64(1.0 / r));
    let latencies: Vec<u64> = stream::iter(batch.into_iter().enumerate())
        .map(|(i, p)| {
            let http = stack.http.clone();
            let (url, bearer) = (url.clone(), bearer.clone());
            let body = json!({
                "form": FORM,
                "period": year,
                "agency_code": p.agency,
                "values": p.values.iter().map(|v| json!({"data_element": v.data_element, "value": v.value})).collect::<Vec<_>>(),
                "signature": {"key_id": p.signature.key_id, "signature": p.signature.signature},
            });
            async move {
                let due = match interval {
                    Some(step) => {
                        let due = started + step * u32::try_from(i).unwrap_or(u32::MAX);
                        tokio::time::sleep_until(due.into()).await;
                        due
                    }
                    None => Instant::now(),
                };
                let response = http
                    .post(&url)
                    .header("authorization", &bearer)
                    .json(&body)
                    .send()
                    .await
                    .expect("sent");
                let status = response.status();
                assert!(
                    status.is_success(),
                    "{status}: {}",
                    response.text().await.unwrap_or_default()
                );
                due.elapsed().as_micros() as u64
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let elapsed = started.elapsed();
    let mut h = histogram();
    latencies.iter().for_each(|l| h.saturating_record(*l));
    Ok(measured(count, elapsed, &h))
}

/// (b): PostgreSQL's own rate for the rows a submission writes (a report
/// row and its 44 values), measured by pgbench in a scratch database, plain
/// and behind one shared feed-head row. Returns (plain, locked) tps.
fn pgbench() -> anyhow::Result<(f64, f64)> {
    use std::process::Command;
    let psql = |db: &str, sql: &str| {
        Command::new("psql")
            .args([
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "-d",
                db,
                "-q",
                "-c",
                sql,
            ])
            .status()
    };
    psql("postgres", "DROP DATABASE IF EXISTS chiso_bench_pg")?;
    psql("postgres", "CREATE DATABASE chiso_bench_pg")?;
    psql(
        "chiso_bench_pg",
        "CREATE TABLE reports (id uuid PRIMARY KEY, form text, period text, agency text, province text, version int, status text, submitted_at timestamptz);
         CREATE TABLE report_values (report_id uuid, version int, data_element text, province text, value bigint, PRIMARY KEY (report_id, version, data_element));
         CREATE TABLE feed_head (id int PRIMARY KEY, last_seq bigint);
         INSERT INTO feed_head VALUES (1, 0);",
    )?;
    let dir = tempfile::tempdir()?;
    // One statement writes the report and its values, as one transaction.
    let insert = "WITH r AS (INSERT INTO reports VALUES (gen_random_uuid(), 'it_application_yearly', '2026', 'x' || random(), '51', 1, 'submitted', now()) RETURNING id) \
         INSERT INTO report_values SELECT r.id, 1, 'element_' || g, '51', g * 7 FROM r, generate_series(1, 44) g;\n";
    let plain = dir.path().join("plain.sql");
    std::fs::write(&plain, format!("BEGIN;\n{insert}COMMIT;\n"))?;
    let locked = dir.path().join("locked.sql");
    std::fs::write(
        &locked,
        format!(
            "BEGIN;\nUPDATE feed_head SET last_seq = last_seq + 1 WHERE id = 1;\n{insert}COMMIT;\n"
        ),
    )?;
    let run = |script: &std::path::Path| -> anyhow::Result<f64> {
        let out = Command::new("pgbench")
            .args([
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "-n",
                "-c",
                "8",
                "-j",
                "2",
                "-T",
                "10",
                "-f",
            ])
            .arg(script)
            .arg("chiso_bench_pg")
            .output()
            .context("pgbench (apt-get install postgresql-client)")?;
        let text = String::from_utf8_lossy(&out.stdout);
        text.lines()
            .find_map(|l| {
                l.strip_prefix("tps = ")
                    .and_then(|r| r.split_whitespace().next())
                    .and_then(|n| n.parse().ok())
            })
            .with_context(|| format!("no tps in pgbench output: {text}"))
    };
    let result = (run(&plain)?, run(&locked)?);
    psql("postgres", "DROP DATABASE IF EXISTS chiso_bench_pg")?;
    Ok(result)
}
