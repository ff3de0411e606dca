//! `chiso-load`: load, soak and fault driver for a running chiso stack.
//!
//! - `run`: open-loop mixed traffic through the gateway (aggregate,
//!   completeness and ranking reads, signed yearly submissions of 44 values,
//!   DHIS2 data value set imports) and straight to the aggregation service's
//!   gRPC, with its own agencies and keys made through the public API; per
//!   kind: count, errors by status, throughput, p50/p99/p99.9 from the
//!   instant each request was due. `--find-max` steps the rate up to find
//!   the highest rate held for `--duration` without errors.
//! - `submit`: one quarterly report per new agency, each retried with the
//!   same idempotency key until acknowledged, every acknowledgement logged.
//! - `verify`: the log read back against the API (docs/BENCHMARKS.md, "Faults").
//!
//! A small tokio driver rather than `goose`: goose schedules closed-loop
//! users (a user waits for its answer before its next request), so a slow
//! stack lowers the load it is offered and hides its own latency; this run
//! needs requests due at fixed instants, measured from then, and a gRPC
//! kind and set-up that goose's HTTP-only transactions do not carry.

mod api;
mod faults;
mod setup;
mod stats;
mod traffic;

use std::{process::ExitCode, sync::Arc, time::Duration};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use serde_json::json;

use crate::{
    api::{Api, Target},
    setup::{Forms, PoolArgs},
    traffic::{Mix, Plan, Watched, World},
};

#[derive(Debug, Parser)]
#[command(
    version,
    about = "Load, soak and fault driver for a running chiso stack"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Mixed open-loop traffic at a rate; with --find-max, the highest rate held without errors.
    Run(RunArgs),
    /// One quarterly report per new agency, retried with the same idempotency key until acknowledged.
    Submit {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        args: faults::SubmitArgs,
    },
    /// Checks every acknowledged report and each province's aggregate against the API.
    Verify {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        args: faults::VerifyArgs,
    },
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    #[command(flatten)]
    target: Target,
    #[command(flatten)]
    pool: PoolArgs,
    /// Requests a second offered (with --find-max: the first step).
    #[arg(long, default_value_t = 50.0)]
    rate: f64,
    /// How long to send (with --find-max: how long the found rate must hold).
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    duration: Duration,
    /// Shares of each kind of request.
    #[arg(long, default_value = "reads=70,submit=20,dhis2=5,grpc=5")]
    mix: Mix,
    /// Prints JSON instead of Markdown tables.
    #[arg(long)]
    json: bool,
    /// Steps the rate up (×--step for --probe each) until a step has errors
    /// or its p99 passes --p99-ms, then holds the last good rate for
    /// --duration (lowering it by a tenth while that fails).
    #[arg(long)]
    find_max: bool,
    /// The p99 latency (all kinds) a held rate must stay under.
    #[arg(long, default_value_t = 500.0)]
    p99_ms: f64,
    /// How long each --find-max step lasts.
    #[arg(long, default_value = "15s", value_parser = parse_duration)]
    probe: Duration,
    /// Factor between --find-max steps.
    #[arg(long, default_value_t = 1.5)]
    step: f64,
    /// Length of a reporting window (p99 and memory per window).
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    window: Duration,
    /// A process whose resident memory is read every window: NAME=PID (repeatable).
    #[arg(long)]
    watch: Vec<Watched>,
    /// Requests in flight beyond which a due request counts as an error
    /// (`client overload`) instead of being sent.
    #[arg(long, default_value_t = 2000)]
    max_in_flight: usize,
}

/// `250ms`, `15s`, `10m`.
fn parse_duration(raw: &str) -> Result<Duration, String> {
    let raw = raw.trim();
    let (number, unit) = raw
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .map_or((raw, "s"), |at| raw.split_at(at));
    let n: f64 = number
        .parse()
        .map_err(|_| format!("`{raw}` is not a duration such as 60s, 10m or 500ms"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" | "min" => n * 60.0,
        _ => return Err(format!("`{raw}`: the unit must be ms, s or m")),
    };
    if !(secs > 0.0 && secs.is_finite()) {
        return Err(format!("`{raw}` must be longer than nothing"));
    }
    Ok(Duration::from_secs_f64(secs))
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Run(args) => run(args).await,
        Command::Submit { target, args } => {
            async {
                let api = Api::connect(&target).await?;
                faults::submit(&api, &args).await
            }
            .await
        }
        Command::Verify { target, args } => {
            async {
                let api = Api::connect(&target).await?;
                faults::verify(&api, &args).await
            }
            .await
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("Error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: RunArgs) -> anyhow::Result<()> {
    let api = Api::connect(&args.target).await?;
    let forms = Forms::load()?;
    let started = std::time::Instant::now();
    let agencies = setup::agencies(&api, &args.pool, &forms.yearly).await?;
    let keys = setup::keys(&api, &agencies).await?;
    setup::quarterly_reports(&api, &agencies, &forms).await?;
    eprintln!(
        "set up {} agencies in {} provinces (keys, one quarterly report each) in {:.1} s",
        agencies.len(),
        args.pool.provinces.len(),
        started.elapsed().as_secs_f64()
    );
    let world = Arc::new(World::new(api, forms, agencies, keys)?);
    traffic::smoke(&world, &args.mix).await?;
    let plan = |rate: f64, duration: Duration| Plan {
        rate,
        duration,
        mix: args.mix,
        window: args.window,
        watch: args.watch.clone(),
        max_in_flight: args.max_in_flight,
    };
    if !args.find_max {
        let summary = traffic::run(world, &plan(args.rate, args.duration)).await?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&summary.json())?);
        } else {
            print!("{}", summary.table());
        }
        if summary.errors() > 0 {
            bail!("{} requests failed", summary.errors());
        }
        return Ok(());
    }
    if args.step <= 1.0 {
        bail!("--step: must be more than 1, got {}", args.step);
    }
    let passes = |s: &stats::Summary| s.errors() == 0 && s.total.p99_ms <= args.p99_ms;
    let mut probes = Vec::new();
    let mut rate = args.rate;
    let mut good = None;
    loop {
        let summary = traffic::run(world.clone(), &plan(rate, args.probe)).await?;
        let ok = passes(&summary);
        eprintln!(
            "probe {rate:.0}/s for {:.0} s: {} errors, p99 {:.1} ms: {}",
            args.probe.as_secs_f64(),
            summary.errors(),
            summary.total.p99_ms,
            if ok { "held" } else { "not held" }
        );
        probes.push(json!({"rate": rate, "held": ok, "errors": summary.errors(), "p99_ms": summary.total.p99_ms}));
        if !ok {
            break;
        }
        good = Some(rate);
        rate *= args.step;
        // Let queues drain between steps.
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    let mut candidate = good.context("even the first --rate was not held: start lower")?;
    let mut held = None;
    for _ in 0..6 {
        tokio::time::sleep(Duration::from_secs(5)).await;
        let summary = traffic::run(world.clone(), &plan(candidate, args.duration)).await?;
        let ok = passes(&summary);
        eprintln!(
            "hold {candidate:.0}/s for {:.0} s: {} errors, p99 {:.1} ms: {}",
            args.duration.as_secs_f64(),
            summary.errors(),
            summary.total.p99_ms,
            if ok { "held" } else { "not held" }
        );
        if ok {
            held = Some(summary);
            break;
        }
        candidate *= 0.9;
    }
    let held = held.context("no rate was held for --duration")?;
    if args.json {
        let out = json!({"held_rate_per_s": candidate, "probes": probes, "hold": held.json()});
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!(
            "highest rate held for {:.0} s: {candidate:.0}/s\n",
            args.duration.as_secs_f64()
        );
        print!("{}", held.table());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_durations_and_names_the_forms() {
        assert_eq!(parse_duration("60s"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("5"), Ok(Duration::from_secs(5)));
        assert_eq!(
            parse_duration("1h").unwrap_err(),
            "`1h`: the unit must be ms, s or m"
        );
        assert_eq!(
            parse_duration("soon").unwrap_err(),
            "`soon` is not a duration such as 60s, 10m or 500ms"
        );
        assert!(parse_duration("0s").is_err());
    }
}
