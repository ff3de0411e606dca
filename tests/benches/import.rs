//! A 100,000-value DHIS2 import: `POST /api/dataValueSets` with a JSON
//! value set, then the same values as DHIS2 CSV, each completing (submitting)
//! every report it fills, through the gateway, the submission service's
//! validation, lifecycle, audit and change feed. Baseline measured in the
//! same run on PostgreSQL: `COPY` of the same rows into a table shaped like
//! `report_values`, PostgreSQL's own fastest way in.
//!
//! `cargo bench -p chiso-tests --bench import` (SQLite), or with
//! `CHISO_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres`.
//! `CHISO_BENCH_VALUES` (default 100000) sizes each import. Prints Markdown
//! for docs/BENCHMARKS.md. The stack runs in this process, so its peak
//! resident memory during an import is the import's cost to every service.

use std::time::{Duration, Instant};

use anyhow::Context;
use chiso_domain::{PeriodCode, sample};
use chiso_tests::{TestStack, spawn_stack};
use serde_json::json;

const FORM: &str = "it_fast_quarterly";

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// (element, period, agency, value) rows of one import.
type Rows = Vec<(String, String, String, String)>;

struct Measured {
    values: usize,
    bytes: usize,
    seconds: f64,
    peak_growth_mib: f64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let wanted = setting("CHISO_BENCH_VALUES", 100_000);
    // RUST_LOG=chiso_submission=info shows where an import's time goes.
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .init();
    }
    let stack = spawn_stack().await;
    let backend = if chiso_tests::on_postgres() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let admin = stack.admin_token().await;
    let catalogue = chiso_domain::seed::catalogue()?;
    let form = chiso_domain::seed::forms(&catalogue)?
        .into_iter()
        .find(|f| f.code.as_str() == FORM)
        .context("the quarterly seed form")?;
    let period = PeriodCode::containing(form.period_type, chiso_domain::today())
        .context("this quarter")?
        .to_string();
    let per_report = sample::sample_values(&form, 1, 0).len();
    let reports = wanted.div_ceil(per_report);
    let started = Instant::now();
    let codes = stack
        .province_departments(&admin, reports * 2, FORM, &period)
        .await?;
    eprintln!(
        "set up {} agencies in {:.1} s",
        codes.len(),
        started.elapsed().as_secs_f64()
    );
    let rows = |codes: &[String]| -> Rows {
        codes
            .iter()
            .flat_map(|code| {
                sample::sample_values(&form, sample::seed_of(code), 0)
                    .into_iter()
                    .map(|(element, value)| (element, period.clone(), code.clone(), value))
            })
            .collect()
    };
    let json_rows = rows(&codes[..reports]);
    let csv_rows = rows(&codes[reports..]);

    let body = json!({
        "dataSet": FORM,
        "completeDate": chiso_domain::date::format_date(chiso_domain::today()),
        "dataValues": json_rows.iter().map(|(de, pe, ou, v)| json!({
            "dataElement": de, "period": pe, "orgUnit": ou, "value": v,
            "categoryOptionCombo": "default", "attributeOptionCombo": "default",
        })).collect::<Vec<_>>(),
    })
    .to_string();
    let json = import(&stack, &admin, "application/json", body, json_rows.len()).await?;
    // The JSON import's feed events (one a report) are numbered and applied
    // by the aggregation service after its answer, on the same cores and
    // database: measured next to that work, the CSV import ran some 40 %
    // slower at 100,000 values than alone.
    let settled = settle(&stack, &admin).await?;
    eprintln!("the aggregation service applied the JSON import's events in {settled:.1} s");

    // DHIS2 CSV has no completeDate: the reports are saved as drafts, the
    // same rows written, without the submission's rules and feed event.
    let mut body = String::from("dataelement,period,orgunit,catoptcombo,attroptcombo,value\n");
    for (de, pe, ou, v) in &csv_rows {
        body.push_str(&format!("{de},{pe},{ou},,,{v}\n"));
    }
    let csv = import(&stack, &admin, "application/csv", body, csv_rows.len()).await?;

    let copy = if chiso_tests::on_postgres() {
        Some(copy_baseline(&json_rows)?)
    } else {
        None
    };

    println!(
        "| import ({backend}, {FORM}, one request) | values | body | time | values/s | peak memory growth | ratio to COPY |"
    );
    println!("|---|---|---|---|---|---|---|");
    let ratio = |rate: f64| {
        copy.map(|c| format!("{:.3}", rate / c))
            .unwrap_or_else(|| "n/a".into())
    };
    for (name, m) in [
        (
            "DHIS2 JSON value set, completed (submits each report)",
            &json,
        ),
        ("the same values as DHIS2 CSV (drafts)", &csv),
    ] {
        let rate = m.values as f64 / m.seconds;
        println!(
            "| {name} | {} | {:.1} MiB | {:.2} s | {rate:.0} | {:.0} MiB | {} |",
            m.values,
            m.bytes as f64 / 1048576.0,
            m.seconds,
            m.peak_growth_mib,
            ratio(rate)
        );
    }
    if let Some(rate) = copy {
        println!(
            "| baseline: PostgreSQL `COPY` of the same rows into a `report_values`-shaped table | {} | | {:.2} s | {rate:.0} | | 1.000 |",
            json_rows.len(),
            json_rows.len() as f64 / rate
        );
    }
    stack.shutdown().await;
    Ok(())
}

/// Waits until the aggregation service has applied every submission feed
/// event committed so far; the seconds it took.
async fn settle(stack: &TestStack, token: &str) -> anyhow::Result<f64> {
    use chiso_tests::proto::aggregation::v1::{
        GetFeedPositionRequest, aggregation_service_client::AggregationServiceClient,
    };
    let started = Instant::now();
    let head = stack.submission_head(token).await;
    let mut client = AggregationServiceClient::new(stack.channel(stack.aggregation_addr));
    while started.elapsed() < Duration::from_secs(600) {
        let request = chiso_runtime::grpc::with_bearer(GetFeedPositionRequest {}, token)?;
        if client.get_feed_position(request).await?.get_ref().last_seq >= head {
            return Ok(started.elapsed().as_secs_f64());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("the aggregation service did not reach feed position {head} in 10 minutes")
}

/// This process's resident memory now and at its peak since the last reset, in KiB.
fn memory() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|r| r.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

async fn import(
    stack: &TestStack,
    admin: &str,
    content_type: &str,
    body: String,
    values: usize,
) -> anyhow::Result<Measured> {
    let bytes = body.len();
    // Writing 5 resets the peak (VmHWM) to the current resident size.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let (before, _) = memory();
    let started = Instant::now();
    let response = stack
        .http
        .post(format!("{}/api/dataValueSets", stack.gateway_url))
        .header("authorization", format!("Bearer {admin}"))
        .header("content-type", content_type)
        .timeout(Duration::from_secs(600))
        .body(body)
        .send()
        .await?;
    let status = response.status();
    let answer: serde_json::Value = response.json().await?;
    let seconds = started.elapsed().as_secs_f64();
    let (_, peak) = memory();
    anyhow::ensure!(
        status == 200 && answer["status"] == "SUCCESS",
        "{status}: {}",
        serde_json::to_string(&answer["conflicts"].as_array().map(|c| &c[..c.len().min(5)]))?
    );
    let imported = answer["importCount"]["imported"].as_u64().unwrap_or(0);
    anyhow::ensure!(
        imported == values as u64,
        "imported {imported} of {values}: {answer}"
    );
    Ok(Measured {
        values,
        bytes,
        seconds,
        peak_growth_mib: peak.saturating_sub(before) as f64 / 1024.0,
    })
}

/// PostgreSQL's `COPY` of the same rows (as report values: a report id,
/// version, element, province, value) into a scratch database; values/s.
fn copy_baseline(rows: &Rows) -> anyhow::Result<f64> {
    use std::process::Command;
    let psql = |db: &str, sql: &str| -> anyhow::Result<()> {
        let status = Command::new("psql")
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
            .context("psql (apt-get install postgresql-client)")?;
        anyhow::ensure!(status.success(), "psql failed: {sql}");
        Ok(())
    };
    psql("postgres", "DROP DATABASE IF EXISTS chiso_bench_copy")?;
    psql("postgres", "CREATE DATABASE chiso_bench_copy")?;
    psql(
        "chiso_bench_copy",
        "CREATE TABLE report_values (report_id uuid, version int, data_element text, province text, value bigint, PRIMARY KEY (report_id, version, data_element))",
    )?;
    let ids: std::collections::HashMap<&str, uuid::Uuid> = rows
        .iter()
        .map(|(_, _, ou, _)| (ou.as_str(), uuid::Uuid::new_v4()))
        .collect();
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("values.csv");
    let mut text = String::new();
    for (de, _, ou, v) in rows {
        let number = match v.as_str() {
            "yes" => "1",
            "no" => "0",
            n => n,
        };
        text.push_str(&format!("{},1,{de},51,{number}\n", ids[ou.as_str()]));
    }
    std::fs::write(&file, text)?;
    let started = Instant::now();
    psql(
        "chiso_bench_copy",
        &format!(
            "\\copy report_values FROM '{}' WITH (FORMAT csv)",
            file.display()
        ),
    )?;
    let seconds = started.elapsed().as_secs_f64();
    psql("postgres", "DROP DATABASE IF EXISTS chiso_bench_copy")?;
    Ok(rows.len() as f64 / seconds)
}
