//! Open-loop mixed traffic: requests are due at a fixed rate whatever the
//! stack answers, each of a kind drawn from the mix, and each measured from
//! the instant it was due.

use std::{
    collections::VecDeque,
    str::FromStr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use base64::{Engine, engine::general_purpose::STANDARD};
use chiso_domain::{AgencyCode, FormCode, PeriodCode, ReportKey, signature};
use chiso_proto::aggregation::v1::{GetAggregateRequest, GetCompletenessRequest};
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::{
    api::{Answer, Api},
    setup::{Agency, Forms, MONTHLY, QUARTERLY, YEARLY, signing_key, values_json},
    stats::{Recorder, Summary, rss_kib},
};

/// Shares of each kind of request, in parts (`reads=70,submit=20,dhis2=5,grpc=5`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mix {
    pub reads: u32,
    pub submit: u32,
    pub dhis2: u32,
    pub grpc: u32,
}

impl FromStr for Mix {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let mut mix = Mix {
            reads: 0,
            submit: 0,
            dhis2: 0,
            grpc: 0,
        };
        for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, share) = part
                .split_once('=')
                .ok_or_else(|| format!("`{part}` is not KIND=SHARE (e.g. reads=70)"))?;
            let share: u32 = share
                .trim()
                .parse()
                .map_err(|_| format!("{name}: `{share}` is not a whole number"))?;
            match name.trim() {
                "reads" => mix.reads = share,
                "submit" => mix.submit = share,
                "dhis2" => mix.dhis2 = share,
                "grpc" => mix.grpc = share,
                other => {
                    return Err(format!(
                        "`{other}` is not a kind: reads, submit, dhis2, grpc"
                    ));
                }
            }
        }
        if mix.reads + mix.submit + mix.dhis2 + mix.grpc == 0 {
            return Err("the shares add up to nothing".into());
        }
        Ok(mix)
    }
}

/// A kind of request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Aggregate,
    Completeness,
    Ranking,
    Submit,
    Dhis2,
    Grpc,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Aggregate => "aggregate",
            Kind::Completeness => "completeness",
            Kind::Ranking => "ranking",
            Kind::Submit => "submit",
            Kind::Dhis2 => "dhis2",
            Kind::Grpc => "grpc",
        }
    }
}

impl Mix {
    /// The kind of request number `i`: a fixed pseudo-random draw, so two
    /// runs of the same mix send the same sequence. Reads split evenly
    /// between aggregates, completeness and rankings.
    fn kind(&self, i: u64) -> Kind {
        let total = u64::from(self.reads + self.submit + self.dhis2 + self.grpc);
        let draw = splitmix(i) % (total * 3);
        let reads = u64::from(self.reads) * 3;
        let submit = reads + u64::from(self.submit) * 3;
        let dhis2 = submit + u64::from(self.dhis2) * 3;
        if draw < reads {
            match draw % 3 {
                0 => Kind::Aggregate,
                1 => Kind::Completeness,
                _ => Kind::Ranking,
            }
        } else if draw < submit {
            Kind::Submit
        } else if draw < dhis2 {
            Kind::Dhis2
        } else {
            Kind::Grpc
        }
    }
}

fn splitmix(i: u64) -> u64 {
    let mut z = i
        .wrapping_add(0x9E37_79B9_7F4A_7C15)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// An agency free to submit: its key and its yearly report so far.
struct Slot {
    agency: usize,
    key_id: String,
    /// Report id and version of its last submission.
    report: Option<(String, i32)>,
}

/// Everything a request needs.
pub struct World {
    api: Api,
    forms: Forms,
    agencies: Vec<Agency>,
    provinces: Vec<String>,
    idle: Mutex<VecDeque<Slot>>,
    quarter: String,
    year: PeriodCode,
    month: String,
}

impl World {
    pub fn new(
        api: Api,
        forms: Forms,
        agencies: Vec<Agency>,
        keys: Vec<String>,
    ) -> anyhow::Result<Self> {
        let mut provinces: Vec<String> = agencies.iter().map(|a| a.province.clone()).collect();
        provinces.sort();
        provinces.dedup();
        let idle = keys
            .into_iter()
            .enumerate()
            .map(|(agency, key_id)| Slot {
                agency,
                key_id,
                report: None,
            })
            .collect();
        Ok(Self {
            quarter: Forms::current(&forms.quarterly)?.to_string(),
            year: Forms::current(&forms.yearly)?,
            month: Forms::current(&forms.monthly)?.to_string(),
            api,
            forms,
            agencies,
            provinces,
            idle: Mutex::new(idle),
        })
    }

    fn province(&self, i: u64) -> &str {
        &self.provinces[(splitmix(i ^ 0x5eed) % self.provinces.len() as u64) as usize]
    }

    async fn send(&self, kind: Kind, i: u64) -> Result<(), String> {
        match kind {
            Kind::Aggregate => {
                let path = format!(
                    "/api/v1/aggregates?indicator=electronic_document_rate&area={}&period={}",
                    self.province(i),
                    self.quarter
                );
                answered(self.api.get(&path).await)
            }
            Kind::Completeness => {
                let path = format!(
                    "/api/v1/completeness?form={QUARTERLY}&period={}&area={}",
                    self.quarter,
                    self.province(i)
                );
                answered(self.api.get(&path).await)
            }
            Kind::Ranking => {
                let path = format!(
                    "/api/v1/rankings/provincial_departments?area={}&period={}",
                    self.province(i),
                    self.year
                );
                answered(self.api.get(&path).await)
            }
            Kind::Submit => self.submit().await,
            Kind::Dhis2 => self.dhis2(i).await,
            Kind::Grpc => self.grpc(i).await,
        }
    }

    /// A signed yearly report of 44 values from an agency not busy: its
    /// first submission, or a revision (revise, then submit the next
    /// version) of its last one.
    async fn submit(&self) -> Result<(), String> {
        let slot = self.idle.lock().expect("idle lock").pop_front();
        let Some(mut slot) = slot else {
            return Err("no idle agency".into());
        };
        let outcome = self.submit_as(&mut slot).await;
        self.idle.lock().expect("idle lock").push_back(slot);
        outcome
    }

    async fn submit_as(&self, slot: &mut Slot) -> Result<(), String> {
        let code = &self.agencies[slot.agency].code;
        let version = match &slot.report {
            None => 1,
            Some((id, _)) => {
                let revised = answer(
                    self.api
                        .post(
                            &format!("/api/v1/reports/{id}/revise"),
                            &json!({"reason": "chiso-load"}),
                        )
                        .await,
                )?;
                revised["version"]
                    .as_i64()
                    .ok_or("revise answered no version")? as i32
            }
        };
        let values = values_json(&self.forms.yearly, code, version as u64);
        let signed = self
            .sign(code, version, &values)
            .map_err(|e| format!("signing: {e:#}"))?;
        let body = json!({
            "form": YEARLY,
            "period": self.year.to_string(),
            "agency_code": code,
            "values": values,
            "signature": {"key_id": slot.key_id, "signature": signed},
        });
        let report = answer(self.api.post("/api/v1/reports", &body).await)?;
        let id = report["id"].as_str().ok_or("submit answered no id")?;
        slot.report = Some((id.to_owned(), version));
        Ok(())
    }

    fn sign(&self, code: &str, version: i32, values: &[Value]) -> anyhow::Result<String> {
        let pairs: Vec<(&str, &str)> = values
            .iter()
            .map(|v| {
                (
                    v["data_element"].as_str().unwrap_or_default(),
                    v["value"].as_str().unwrap_or_default(),
                )
            })
            .collect();
        let typed = chiso_domain::parse_values(&pairs, &self.forms.catalogue, |_| Ok(()))
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let content = signature::signed_content(
            &ReportKey {
                form: FormCode::parse(YEARLY)?,
                period: self.year,
                agency: AgencyCode::parse(code)?,
            },
            version,
            &typed,
        );
        let signed = ed25519_dalek::Signer::sign(&signing_key(code), &content);
        Ok(STANDARD.encode(signed.to_bytes()))
    }

    /// A DHIS2 data value set of this month's online-applications report,
    /// saved as the agency's draft (no `completeDate`), as an integration
    /// pushing its figures through the day would.
    async fn dhis2(&self, i: u64) -> Result<(), String> {
        let agency = &self.agencies[(splitmix(i) % self.agencies.len() as u64) as usize];
        let values: Vec<Value> = values_json(&self.forms.monthly, &agency.code, i)
            .into_iter()
            .map(|v| {
                let value = match v["value"].as_str() {
                    Some("yes") => "true",
                    Some("no") => "false",
                    Some(other) => other,
                    None => "",
                };
                json!({"dataElement": v["data_element"], "value": value})
            })
            .collect();
        let body = json!({
            "dataSet": MONTHLY,
            "period": self.month,
            "orgUnit": agency.code,
            "dataValues": values,
        });
        let summary = answer(self.api.post("/api/dataValueSets", &body).await)?;
        if summary["status"].as_str() == Some("ERROR") {
            return Err("import status ERROR".into());
        }
        Ok(())
    }

    /// `GetAggregate` or `GetCompleteness` straight to the aggregation service.
    async fn grpc(&self, i: u64) -> Result<(), String> {
        let mut client = self
            .api
            .aggregation()
            .ok_or("no --grpc-aggregation address")?;
        let area = self.province(i).to_owned();
        let outcome = if i.is_multiple_of(2) {
            client
                .get_aggregate(self.api.grpc(GetAggregateRequest {
                    indicator: "electronic_document_rate".into(),
                    area,
                    period: self.quarter.clone(),
                    ..Default::default()
                }))
                .await
                .map(drop)
        } else {
            client
                .get_completeness(self.api.grpc(GetCompletenessRequest {
                    form: QUARTERLY.into(),
                    period: self.quarter.clone(),
                    area,
                    ..Default::default()
                }))
                .await
                .map(drop)
        };
        outcome.map_err(|status| format!("grpc {:?}", status.code()))
    }
}

/// The error label of a failed REST call: its status, or `transport`.
fn answer(result: reqwest::Result<Answer>) -> Result<Value, String> {
    match result {
        Ok(a) if a.status.is_success() => Ok(a.body),
        Ok(a) => Err(a.status.as_u16().to_string()),
        Err(e) if e.is_timeout() => Err("timeout".into()),
        Err(_) => Err("transport".into()),
    }
}

fn answered(result: reqwest::Result<Answer>) -> Result<(), String> {
    answer(result).map(drop)
}

/// Processes whose resident memory is read at the end of every window.
#[derive(Debug, Clone)]
pub struct Watched {
    pub name: String,
    pub pid: u32,
}

impl FromStr for Watched {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let (name, pid) = raw
            .split_once('=')
            .ok_or_else(|| format!("`{raw}` is not NAME=PID"))?;
        let pid = pid
            .parse()
            .map_err(|_| format!("{name}: `{pid}` is not a process id"))?;
        Ok(Self {
            name: name.to_owned(),
            pid,
        })
    }
}

/// How one run goes.
pub struct Plan {
    pub rate: f64,
    pub duration: Duration,
    pub mix: Mix,
    pub window: Duration,
    pub watch: Vec<Watched>,
    /// Requests in flight beyond which a due request is counted as an
    /// error (`client overload`) instead of sent: the stack is not keeping up.
    pub max_in_flight: usize,
}

/// Sends `plan.rate` requests a second for `plan.duration`, open loop.
pub async fn run(world: Arc<World>, plan: &Plan) -> anyhow::Result<Summary> {
    if !(plan.rate > 0.0 && plan.rate.is_finite()) {
        bail!("--rate: must be more than 0, got {}", plan.rate);
    }
    if plan.mix.grpc > 0 && world.api.aggregation().is_none() {
        bail!("--mix names grpc: give --grpc-aggregation HOST:PORT");
    }
    let started = Instant::now() + Duration::from_millis(50);
    let recorder = Arc::new(Recorder::new(started, plan.window));
    let total = (plan.rate * plan.duration.as_secs_f64()).round() as u64;
    let in_flight = Arc::new(AtomicUsize::new(0));
    let windows = (plan.duration.as_secs_f64() / plan.window.as_secs_f64()).ceil() as usize;
    let watcher = {
        let (recorder, watch, window) = (recorder.clone(), plan.watch.clone(), plan.window);
        tokio::spawn(async move {
            for index in 0..windows.saturating_sub(1) {
                tokio::time::sleep_until((started + window * (index as u32 + 1)).into()).await;
                for w in &watch {
                    if let Some(kib) = rss_kib(w.pid) {
                        recorder.record_rss(index, &w.name, kib);
                    }
                }
            }
        })
    };
    let mut tasks = JoinSet::new();
    for i in 0..total {
        let due = started + Duration::from_secs_f64(i as f64 / plan.rate);
        tokio::time::sleep_until(due.into()).await;
        while tasks.try_join_next().is_some() {}
        let kind = plan.mix.kind(i);
        if in_flight.load(Ordering::Relaxed) >= plan.max_in_flight {
            recorder.record(kind.label(), due, Err("client overload".into()));
            continue;
        }
        in_flight.fetch_add(1, Ordering::Relaxed);
        let (world, recorder, in_flight) = (world.clone(), recorder.clone(), in_flight.clone());
        tasks.spawn(async move {
            let outcome = world.send(kind, i).await;
            recorder.record(kind.label(), due, outcome);
            in_flight.fetch_sub(1, Ordering::Relaxed);
        });
    }
    while tasks.join_next().await.is_some() {}
    let elapsed = started.elapsed();
    // The last window's memory is read once every answer is in, so a run
    // shorter than a window has a reading too.
    for w in &plan.watch {
        if let Some(kib) = rss_kib(w.pid) {
            recorder.record_rss(windows.max(1) - 1, &w.name, kib);
        }
    }
    watcher.abort();
    Ok(recorder.summary(plan.rate, elapsed))
}

/// Checks each kind once before a run, so a set-up mistake is one clear
/// error rather than a run of failures.
pub async fn smoke(world: &World, mix: &Mix) -> anyhow::Result<()> {
    let kinds = [
        (mix.reads > 0, Kind::Aggregate),
        (mix.reads > 0, Kind::Completeness),
        (mix.reads > 0, Kind::Ranking),
        (mix.submit > 0, Kind::Submit),
        (mix.dhis2 > 0, Kind::Dhis2),
        (mix.grpc > 0, Kind::Grpc),
    ];
    for (wanted, kind) in kinds {
        if wanted {
            world
                .send(kind, 0)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))
                .with_context(|| format!("a first `{}` request failed", kind.label()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_mix_and_names_a_bad_part() {
        let mix: Mix = "reads=70,submit=20,dhis2=5,grpc=5".parse().unwrap();
        assert_eq!(
            mix,
            Mix {
                reads: 70,
                submit: 20,
                dhis2: 5,
                grpc: 5
            }
        );
        assert_eq!(
            "reads=70,writes=3".parse::<Mix>().unwrap_err(),
            "`writes` is not a kind: reads, submit, dhis2, grpc"
        );
        assert_eq!(
            "reads=x".parse::<Mix>().unwrap_err(),
            "reads: `x` is not a whole number"
        );
        assert_eq!(
            "reads=0".parse::<Mix>().unwrap_err(),
            "the shares add up to nothing"
        );
    }

    #[test]
    fn draws_kinds_in_their_shares() {
        let mix: Mix = "reads=70,submit=20,dhis2=5,grpc=5".parse().unwrap();
        let mut counts = std::collections::BTreeMap::new();
        for i in 0..100_000 {
            *counts.entry(mix.kind(i).label()).or_insert(0u32) += 1;
        }
        let share = |k: &str| f64::from(counts[k]) / 100_000.0;
        let reads = share("aggregate") + share("completeness") + share("ranking");
        assert!((reads - 0.70).abs() < 0.01, "{counts:?}");
        assert!((share("submit") - 0.20).abs() < 0.01, "{counts:?}");
        assert!((share("dhis2") - 0.05).abs() < 0.005, "{counts:?}");
        assert!((share("grpc") - 0.05).abs() < 0.005, "{counts:?}");
        let only: Mix = "submit=1".parse().unwrap();
        assert!((0..1000).all(|i| only.kind(i) == Kind::Submit));
    }
}
