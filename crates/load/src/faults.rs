//! Submissions that must survive faults, and the check that they did.
//!
//! `submit` sends each agency's quarterly report through the gateway with
//! an `Idempotency-Key` of its own, and retries a request that failed or
//! went unanswered with the same key (with backoff) until it is
//! acknowledged; every acknowledgement is appended to a log. `verify` reads
//! the log back against the API: each acknowledged report stored exactly
//! once with the id, version and values acknowledged, no report in the
//! province the log does not know of, and each province's aggregate equal to
//! sum(numerator) / sum(denominator) × 100 recomputed from the reports read
//! back.

use std::{
    collections::{BTreeMap, BTreeSet},
    io::Write,
    path::PathBuf,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use futures::{StreamExt, stream};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::{
    api::{Api, Body},
    setup::{self, Agency, Forms, PoolArgs, QUARTERLY, values_json},
};

/// Options of `chiso-load submit`.
#[derive(Debug, clap::Args)]
pub struct SubmitArgs {
    #[command(flatten)]
    pub pool: PoolArgs,
    /// Reports a second (0: as fast as `--concurrency` allows).
    #[arg(long, default_value_t = 0.0)]
    pub rate: f64,
    /// Reports in flight at most.
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// File every acknowledged report is appended to (JSON lines).
    #[arg(long)]
    pub log: PathBuf,
    /// File created once the agencies exist and submissions start.
    #[arg(long)]
    pub ready_file: Option<PathBuf>,
    /// Seconds a report may keep failing before the run fails.
    #[arg(long, default_value_t = 180)]
    pub give_up_secs: u64,
}

/// One acknowledged report, as logged.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Acknowledged {
    pub agency: String,
    pub province: String,
    pub form: String,
    pub period: String,
    pub report_id: String,
    pub version: i64,
    pub values_hash: String,
    pub idempotency_key: String,
    pub attempts: u32,
}

/// SHA-256 of the values as `element=value` lines in element order.
pub fn values_hash<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let sorted: BTreeMap<&str, &str> = pairs.into_iter().collect();
    let mut hasher = Sha256::new();
    for (element, value) in sorted {
        hasher.update(element.as_bytes());
        hasher.update(b"=");
        hasher.update(value.as_bytes());
        hasher.update(b"\n");
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn pairs(values: &[Value]) -> Vec<(&str, &str)> {
    values
        .iter()
        .map(|v| {
            (
                v["data_element"].as_str().unwrap_or_default(),
                v["value"].as_str().unwrap_or_default(),
            )
        })
        .collect()
}

/// Whether a failed answer may succeed when sent again: the stack was
/// unavailable, overloaded or slow, never a refusal of the request itself.
fn retryable(status: u16) -> bool {
    matches!(status, 401 | 408 | 429 | 500 | 502 | 503 | 504)
}

/// Creates the agencies, then submits one quarterly report each.
pub async fn submit(api: &Api, args: &SubmitArgs) -> anyhow::Result<()> {
    let forms = Forms::load()?;
    let agencies = setup::agencies(api, &args.pool, &forms.quarterly).await?;
    let period = Forms::current(&forms.quarterly)?.to_string();
    let log = Arc::new(Mutex::new(
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&args.log)
            .with_context(|| format!("--log {}", args.log.display()))?,
    ));
    if let Some(ready) = &args.ready_file {
        std::fs::write(ready, "submitting\n").context("--ready-file")?;
    }
    eprintln!("submitting {} reports", agencies.len());
    let started = Instant::now();
    let retries = AtomicU64::new(0);
    let give_up = Duration::from_secs(args.give_up_secs);
    let interval = (args.rate > 0.0).then(|| Duration::from_secs_f64(1.0 / args.rate));
    let failures: Vec<String> = stream::iter(agencies.iter().enumerate())
        .map(|(i, agency)| {
            let (forms, period, log, retries) = (&forms, &period, log.clone(), &retries);
            async move {
                if let Some(step) = interval {
                    tokio::time::sleep_until((started + step * i as u32).into()).await;
                }
                match submit_one(api, forms, agency, period, give_up).await {
                    Ok(ack) => {
                        retries.fetch_add(u64::from(ack.attempts - 1), Ordering::Relaxed);
                        let line = serde_json::to_string(&ack).expect("plain data");
                        let mut file = log.lock().expect("log lock");
                        writeln!(file, "{line}")
                            .and_then(|()| file.flush())
                            .map_err(|e| e.to_string())
                    }
                    Err(e) => Err(format!("{}: {e:#}", agency.code)),
                }
            }
        })
        .buffer_unordered(args.concurrency.max(1))
        .filter_map(|r| async move { r.err() })
        .collect()
        .await;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{} reports acknowledged in {secs:.2} s ({:.0}/s), {} retries",
        agencies.len() - failures.len(),
        (agencies.len() - failures.len()) as f64 / secs,
        retries.load(Ordering::Relaxed)
    );
    if !failures.is_empty() {
        for f in failures.iter().take(20) {
            eprintln!("not acknowledged: {f}");
        }
        bail!("{} reports were never acknowledged", failures.len());
    }
    Ok(())
}

/// One report, sent until acknowledged with the same idempotency key.
async fn submit_one(
    api: &Api,
    forms: &Forms,
    agency: &Agency,
    period: &str,
    give_up: Duration,
) -> anyhow::Result<Acknowledged> {
    let key = format!("chiso-load-{QUARTERLY}-{period}-{}", agency.code);
    let values = values_json(&forms.quarterly, &agency.code, 0);
    let body = json!({
        "form": QUARTERLY,
        "period": period,
        "agency_code": agency.code,
        "values": values,
    });
    let sent_hash = values_hash(pairs(&values));
    let started = Instant::now();
    let mut attempts = 0u32;
    let mut last = String::new();
    while started.elapsed() < give_up {
        attempts += 1;
        let answer = api
            .call(
                reqwest::Method::POST,
                "/api/v1/reports",
                Some(Body::Json(&body)),
                &[("idempotency-key", &key)],
            )
            .await;
        match answer {
            Ok(a) if a.status.is_success() => {
                let report = a.body;
                let stored = report["values"].as_array().cloned().unwrap_or_default();
                let stored_hash = values_hash(pairs(&stored));
                if stored_hash != sent_hash {
                    bail!("acknowledged with other values than sent: {report}");
                }
                return Ok(Acknowledged {
                    agency: agency.code.clone(),
                    province: agency.province.clone(),
                    form: QUARTERLY.into(),
                    period: period.to_owned(),
                    report_id: report["id"].as_str().context("no id")?.to_owned(),
                    version: report["version"].as_i64().context("no version")?,
                    values_hash: stored_hash,
                    idempotency_key: key,
                    attempts,
                });
            }
            Ok(a) if retryable(a.status.as_u16()) => {
                if a.status.as_u16() == 401 {
                    // A token the stack no longer takes: sign in again (the
                    // registry may be down; then the next round tries).
                    let _ = api.renew().await;
                }
                last = format!("{} {}", a.status, a.body);
            }
            Ok(a) => bail!("refused (attempt {attempts}): {} {}", a.status, a.body),
            Err(e) => last = format!("{e}"),
        }
        let backoff = Duration::from_millis(100 * 2u64.pow(attempts.min(5)));
        tokio::time::sleep(backoff.min(Duration::from_secs(2))).await;
    }
    bail!("gave up after {attempts} attempts; last: {last}")
}

/// Options of `chiso-load verify`.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The acknowledgement log `submit` wrote.
    #[arg(long)]
    pub log: PathBuf,
    /// Seconds to wait for the aggregation service to catch up.
    #[arg(long, default_value_t = 120)]
    pub wait_secs: u64,
}

/// Reads everything acknowledged back through the API; fails naming every
/// mismatch.
pub async fn verify(api: &Api, args: &VerifyArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.log)
        .with_context(|| format!("--log {}", args.log.display()))?;
    let mut acked: BTreeMap<(String, String, String), Acknowledged> = BTreeMap::new();
    let mut problems = Vec::new();
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let ack: Acknowledged = serde_json::from_str(line)
            .with_context(|| format!("{} line {}", args.log.display(), n + 1))?;
        let key = (ack.form.clone(), ack.period.clone(), ack.agency.clone());
        if let Some(before) = acked.get(&key)
            && before.report_id != ack.report_id
        {
            problems.push(format!(
                "{}: acknowledged twice as different reports {} and {}",
                ack.agency, before.report_id, ack.report_id
            ));
        }
        acked.insert(key, ack);
    }
    if acked.is_empty() {
        bail!("{} holds no acknowledged report", args.log.display());
    }

    // Each acknowledged report, read back; its values feed the recomputed
    // aggregate.
    let read_back: Vec<(Option<String>, Option<Sums>)> = stream::iter(acked.values())
        .map(|ack| async move {
            let path = format!(
                "/api/v1/reports/by-key/{}/{}/{}",
                ack.form, ack.period, ack.agency
            );
            let report = match api.get(&path).await {
                Ok(a) if a.status.is_success() => a.body,
                Ok(a) => {
                    return (
                        Some(format!("{}: lost: {} {}", ack.agency, a.status, a.body)),
                        None,
                    );
                }
                Err(e) => return (Some(format!("{}: unreadable: {e}", ack.agency)), None),
            };
            let stored = report["values"].as_array().cloned().unwrap_or_default();
            let hash = values_hash(pairs(&stored));
            let mut wrong = Vec::new();
            if report["id"].as_str() != Some(&ack.report_id) {
                wrong.push(format!(
                    "id {} (acknowledged {})",
                    report["id"], ack.report_id
                ));
            }
            if report["version"].as_i64() != Some(ack.version) {
                wrong.push(format!(
                    "version {} (acknowledged {}): a retry made another version",
                    report["version"], ack.version
                ));
            }
            if hash != ack.values_hash {
                wrong.push("values differ from those acknowledged".into());
            }
            if report["status"].as_str() != Some("submitted") {
                wrong.push(format!("status {}", report["status"]));
            }
            let sums = Sums::of(&ack.province, &ack.period, &stored);
            let problem =
                (!wrong.is_empty()).then(|| format!("{}: {}", ack.agency, wrong.join("; ")));
            let sums = match sums {
                Ok(sums) => Some(sums),
                Err(e) => return (Some(format!("{}: {e:#}", ack.agency)), None),
            };
            (problem, sums)
        })
        .buffer_unordered(16)
        .collect()
        .await;
    let mut groups: BTreeMap<(String, String), Recomputed> = BTreeMap::new();
    for (problem, sums) in read_back {
        problems.extend(problem);
        if let Some(sums) = sums {
            let group = groups.entry((sums.province, sums.period)).or_default();
            group.reports += 1;
            group.numerator += sums.numerator;
            group.denominator += sums.denominator;
        }
    }
    for ack in acked.values() {
        groups
            .entry((ack.province.clone(), ack.period.clone()))
            .or_default()
            .agencies
            .insert(ack.agency.clone());
    }

    // Per province and period: no report the log does not know of, and the
    // aggregate equal to the sums of the raw values.
    let wait = Duration::from_secs(args.wait_secs);
    for ((province, period), raw) in &groups {
        problems.extend(check_province(api, province, period, raw, wait).await?);
    }
    if !problems.is_empty() {
        for p in &problems {
            eprintln!("MISMATCH {p}");
        }
        bail!(
            "{} problems among {} acknowledged reports",
            problems.len(),
            acked.len()
        );
    }
    println!(
        "verified {} acknowledged reports (each stored once, same id, version and values) and {} aggregates",
        acked.len(),
        groups.len()
    );
    Ok(())
}

/// One report's two elements of `electronic_document_rate`.
struct Sums {
    province: String,
    period: String,
    numerator: i64,
    denominator: i64,
}

impl Sums {
    fn of(province: &str, period: &str, values: &[Value]) -> anyhow::Result<Self> {
        let number = |element: &str| -> anyhow::Result<i64> {
            let v = values
                .iter()
                .find(|v| v["data_element"] == element)
                .with_context(|| format!("no {element} among the stored values"))?;
            v["value"]
                .as_str()
                .context("a value without text")?
                .parse()
                .with_context(|| format!("{element}: not a whole number: {v}"))
        };
        Ok(Self {
            province: province.to_owned(),
            period: period.to_owned(),
            numerator: number("documents_sent_electronic")?,
            denominator: number("documents_sent")?,
        })
    }
}

/// A province's aggregate recomputed by the verifier from the reports it
/// read back: sum(numerator) / sum(denominator) × 100.
#[derive(Default)]
struct Recomputed {
    agencies: BTreeSet<String>,
    reports: u64,
    numerator: i64,
    denominator: i64,
}

/// Agencies of `province` with a report of the quarterly form for `period`,
/// whatever its status, every page.
async fn stored_agencies(
    api: &Api,
    province: &str,
    period: &str,
) -> anyhow::Result<BTreeSet<String>> {
    let mut agencies = BTreeSet::new();
    let mut token = String::new();
    loop {
        let mut path = format!(
            "/api/v1/reports?form={QUARTERLY}&period={period}&province={province}&page_size=1000"
        );
        if !token.is_empty() {
            path.push_str(&format!("&page_token={token}"));
        }
        let answer = api.call(reqwest::Method::GET, &path, None, &[]).await?;
        let next = answer.next_page.clone();
        let page = answer.ok("the report list")?;
        for r in page.as_array().context("the report list is not a list")? {
            if let Some(agency) = r["agency_code"].as_str() {
                agencies.insert(agency.to_owned());
            }
        }
        match next {
            Some(next) if !next.is_empty() => token = next,
            _ => return Ok(agencies),
        }
    }
}

async fn check_province(
    api: &Api,
    province: &str,
    period: &str,
    raw: &Recomputed,
    wait: Duration,
) -> anyhow::Result<Vec<String>> {
    let mut problems = Vec::new();
    let stored = stored_agencies(api, province, period).await?;
    let unknown: Vec<&String> = stored.difference(&raw.agencies).collect();
    if !unknown.is_empty() {
        problems.push(format!(
            "province {province}: {} stored reports were never acknowledged, e.g. {:?}",
            unknown.len(),
            unknown.iter().take(5).collect::<Vec<_>>()
        ));
    }
    let started = Instant::now();
    let path = format!(
        "/api/v1/aggregates?indicator=electronic_document_rate&area={province}&period={period}"
    );
    loop {
        let aggregate = api.get(&path).await?.ok("the aggregate")?;
        let numerator = aggregate["numerator_exact"]
            .as_str()
            .and_then(|n| n.parse::<i64>().ok());
        let denominator = aggregate["denominator_exact"]
            .as_str()
            .and_then(|n| n.parse::<i64>().ok());
        let reporting = aggregate["agencies_reporting"].as_u64();
        let value = aggregate["value"].as_f64();
        let expected_value = 100.0 * raw.numerator as f64 / raw.denominator as f64;
        let agrees = numerator == Some(raw.numerator)
            && denominator == Some(raw.denominator)
            && reporting == Some(raw.reports)
            && value.is_some_and(|v| {
                (v - expected_value).abs() <= 1e-9 * expected_value.abs().max(1.0)
            });
        if agrees {
            eprintln!(
                "province {province}: aggregate agrees with {} reports after {:.1} s",
                raw.reports,
                started.elapsed().as_secs_f64()
            );
            return Ok(problems);
        }
        if started.elapsed() > wait {
            problems.push(format!(
                "province {province}: the API answers {}/{} over {} agencies (value {}), the raw reports give {}/{} over {} (value {expected_value})",
                aggregate["numerator_exact"],
                aggregate["denominator_exact"],
                aggregate["agencies_reporting"],
                aggregate["value"],
                raw.numerator,
                raw.denominator,
                raw.reports,
            ));
            return Ok(problems);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_values_whatever_their_order() {
        let a = values_hash([("b", "2"), ("a", "1")]);
        let b = values_hash([("a", "1"), ("b", "2")]);
        assert_eq!(a, b);
        assert_ne!(a, values_hash([("a", "1"), ("b", "3")]));
        assert_ne!(a, values_hash([("a", "1")]));
    }

    #[test]
    fn retries_only_what_may_succeed_later() {
        for status in [401, 408, 429, 500, 502, 503, 504] {
            assert!(retryable(status), "{status}");
        }
        for status in [400, 403, 404, 409, 412, 422] {
            assert!(!retryable(status), "{status}");
        }
    }
}
