//! What a run measured: per kind of request the answers counted, errors by
//! status, throughput and latency percentiles, and per window (a minute in
//! a soak) the p99 and each watched process's resident memory.
//!
//! Latency counts from the instant a request was due, not from when it was
//! sent: an open-loop run whose client or server stalls shows the stall in
//! the percentiles (coordinated omission) instead of quietly sending less.

use std::{
    collections::BTreeMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use hdrhistogram::Histogram;
use serde_json::{Value, json};

fn histogram() -> Histogram<u64> {
    // Microseconds, up to ten minutes.
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid bounds")
}

fn ms(micros: u64) -> f64 {
    micros as f64 / 1e3
}

#[derive(Default)]
struct KindStats {
    latencies: Option<Histogram<u64>>,
    ok: u64,
    errors: BTreeMap<String, u64>,
}

/// One window of a run.
struct Window {
    latencies: Histogram<u64>,
    errors: u64,
    rss_kib: BTreeMap<String, u64>,
}

/// Collects the outcomes of a run.
pub struct Recorder {
    started: Instant,
    window: Duration,
    kinds: Mutex<BTreeMap<&'static str, KindStats>>,
    windows: Mutex<Vec<Window>>,
}

impl Recorder {
    pub fn new(started: Instant, window: Duration) -> Self {
        Self {
            started,
            window,
            kinds: Mutex::new(BTreeMap::new()),
            windows: Mutex::new(Vec::new()),
        }
    }

    fn window_of(&self, due: Instant) -> usize {
        (due.saturating_duration_since(self.started).as_secs_f64() / self.window.as_secs_f64())
            as usize
    }

    fn with_window<R>(&self, index: usize, f: impl FnOnce(&mut Window) -> R) -> R {
        let mut windows = self.windows.lock().expect("windows lock");
        while windows.len() <= index {
            windows.push(Window {
                latencies: histogram(),
                errors: 0,
                rss_kib: BTreeMap::new(),
            });
        }
        f(&mut windows[index])
    }

    /// One request of `kind`, due at `due`, ended now with `outcome` (an
    /// error is its label: `503`, `transport`, …).
    pub fn record(&self, kind: &'static str, due: Instant, outcome: Result<(), String>) {
        let micros = due.elapsed().as_micros() as u64;
        let window = self.window_of(due);
        let mut kinds = self.kinds.lock().expect("kinds lock");
        let stats = kinds.entry(kind).or_default();
        match outcome {
            Ok(()) => {
                stats.ok += 1;
                stats
                    .latencies
                    .get_or_insert_with(histogram)
                    .saturating_record(micros.max(1));
                drop(kinds);
                self.with_window(window, |w| w.latencies.saturating_record(micros.max(1)));
            }
            Err(label) => {
                *stats.errors.entry(label).or_default() += 1;
                drop(kinds);
                self.with_window(window, |w| w.errors += 1);
            }
        }
    }

    /// The resident memory of `name` at the end of window `index`.
    pub fn record_rss(&self, index: usize, name: &str, kib: u64) {
        self.with_window(index, |w| {
            w.rss_kib.insert(name.to_owned(), kib);
        });
    }

    /// Everything measured, `elapsed` being the run's length.
    pub fn summary(&self, offered_rate: f64, elapsed: Duration) -> Summary {
        let kinds = self.kinds.lock().expect("kinds lock");
        let secs = elapsed.as_secs_f64().max(1e-9);
        let mut all = histogram();
        let mut rows = Vec::new();
        let (mut total_ok, mut total_errors) = (0, 0);
        for (kind, stats) in kinds.iter() {
            let errors: u64 = stats.errors.values().sum();
            total_ok += stats.ok;
            total_errors += errors;
            let h = stats.latencies.clone().unwrap_or_else(histogram);
            all.add(&h).expect("same bounds");
            rows.push(Row::of(
                kind,
                stats.ok,
                errors,
                stats.errors.clone(),
                &h,
                secs,
            ));
        }
        let total = Row::of("all", total_ok, total_errors, BTreeMap::new(), &all, secs);
        let windows = self
            .windows
            .lock()
            .expect("windows lock")
            .iter()
            .map(|w| WindowRow {
                requests: w.latencies.len(),
                errors: w.errors,
                p99_ms: ms(w.latencies.value_at_quantile(0.99)),
                rss_kib: w.rss_kib.clone(),
            })
            .collect();
        Summary {
            offered_rate,
            seconds: secs,
            rows,
            total,
            windows,
        }
    }
}

/// One kind's figures.
#[derive(Debug, Clone)]
pub struct Row {
    pub kind: String,
    pub ok: u64,
    pub errors: u64,
    pub by_status: BTreeMap<String, u64>,
    pub throughput: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
}

impl Row {
    fn of(
        kind: &str,
        ok: u64,
        errors: u64,
        by_status: BTreeMap<String, u64>,
        h: &Histogram<u64>,
        secs: f64,
    ) -> Self {
        Self {
            kind: kind.to_owned(),
            ok,
            errors,
            by_status,
            throughput: ok as f64 / secs,
            p50_ms: ms(h.value_at_quantile(0.5)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            p999_ms: ms(h.value_at_quantile(0.999)),
            max_ms: ms(h.max()),
        }
    }

    fn json(&self) -> Value {
        json!({
            "kind": self.kind,
            "count": self.ok + self.errors,
            "ok": self.ok,
            "errors": self.errors,
            "errors_by_status": self.by_status,
            "throughput_per_s": round(self.throughput),
            "p50_ms": round(self.p50_ms),
            "p99_ms": round(self.p99_ms),
            "p999_ms": round(self.p999_ms),
            "max_ms": round(self.max_ms),
        })
    }
}

/// One window's figures.
#[derive(Debug, Clone)]
pub struct WindowRow {
    pub requests: u64,
    pub errors: u64,
    pub p99_ms: f64,
    pub rss_kib: BTreeMap<String, u64>,
}

/// A run's figures.
#[derive(Debug, Clone)]
pub struct Summary {
    pub offered_rate: f64,
    pub seconds: f64,
    pub rows: Vec<Row>,
    pub total: Row,
    pub windows: Vec<WindowRow>,
}

fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

impl Summary {
    pub fn errors(&self) -> u64 {
        self.total.errors
    }

    pub fn json(&self) -> Value {
        json!({
            "offered_rate_per_s": round(self.offered_rate),
            "seconds": round(self.seconds),
            "kinds": self.rows.iter().map(Row::json).collect::<Vec<_>>(),
            "total": self.total.json(),
            "windows": self.windows.iter().enumerate().map(|(i, w)| json!({
                "window": i,
                "requests": w.requests,
                "errors": w.errors,
                "p99_ms": round(w.p99_ms),
                "rss_kib": w.rss_kib,
            })).collect::<Vec<_>>(),
        })
    }

    /// A Markdown table, one row per kind and one for all.
    pub fn table(&self) -> String {
        let mut out = format!(
            "offered {:.0}/s for {:.0} s\n\n| kind | count | errors | throughput | p50 | p99 | p99.9 | max |\n|---|---|---|---|---|---|---|---|\n",
            self.offered_rate, self.seconds
        );
        for row in self.rows.iter().chain([&self.total]) {
            let errors = if row.by_status.is_empty() {
                row.errors.to_string()
            } else {
                let by: Vec<String> = row
                    .by_status
                    .iter()
                    .map(|(s, n)| format!("{s}: {n}"))
                    .collect();
                format!("{} ({})", row.errors, by.join(", "))
            };
            out.push_str(&format!(
                "| {} | {} | {} | {:.1}/s | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms |\n",
                row.kind,
                row.ok + row.errors,
                errors,
                row.throughput,
                row.p50_ms,
                row.p99_ms,
                row.p999_ms,
                row.max_ms
            ));
        }
        if self.windows.len() > 1 || self.windows.iter().any(|w| !w.rss_kib.is_empty()) {
            out.push_str(
                "\n| window | requests | errors | p99 | resident memory |\n|---|---|---|---|---|\n",
            );
            for (i, w) in self.windows.iter().enumerate() {
                let rss: Vec<String> = w
                    .rss_kib
                    .iter()
                    .map(|(n, k)| format!("{n} {:.1} MiB", *k as f64 / 1024.0))
                    .collect();
                out.push_str(&format!(
                    "| {} | {} | {} | {:.1} ms | {} |\n",
                    i + 1,
                    w.requests,
                    w.errors,
                    w.p99_ms,
                    rss.join(", ")
                ));
            }
        }
        out
    }
}

/// Resident memory of process `pid` in KiB (`VmRSS` of /proc/PID/status).
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_errors_by_label_and_latency_from_the_due_instant() {
        let started = Instant::now();
        let recorder = Recorder::new(started, Duration::from_secs(60));
        let due = Instant::now() - Duration::from_millis(250);
        recorder.record("submit", due, Ok(()));
        recorder.record("submit", Instant::now(), Err("503".into()));
        recorder.record("submit", Instant::now(), Err("503".into()));
        recorder.record("aggregate", Instant::now(), Err("transport".into()));
        let summary = recorder.summary(10.0, Duration::from_secs(2));
        let submit = summary.rows.iter().find(|r| r.kind == "submit").unwrap();
        assert_eq!((submit.ok, submit.errors), (1, 2));
        assert_eq!(submit.by_status.get("503"), Some(&2));
        // Due 250 ms ago: the wait before sending counts.
        assert!(submit.p50_ms >= 250.0, "{}", submit.p50_ms);
        assert_eq!(summary.total.errors, 3);
        assert_eq!(summary.total.ok, 1);
        assert!((submit.throughput - 0.5).abs() < 1e-9);
    }

    #[test]
    fn reads_resident_memory_of_this_process() {
        let kib = rss_kib(std::process::id()).expect("this process has a VmRSS");
        assert!(kib > 100, "{kib} KiB");
        assert_eq!(rss_kib(u32::MAX), None);
    }
}
