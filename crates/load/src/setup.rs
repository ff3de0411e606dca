//! The generator's own data, made through the public API of a running
//! stack: provinces, departments created today (so this year's reports are
//! open for them), a signing key for each, and one quarterly report each so
//! aggregates and completeness have something to count.

use std::{collections::BTreeMap, time::Duration};

use anyhow::{Context, bail};
use base64::{Engine, engine::general_purpose::STANDARD};
use chiso_domain::{Form, PeriodCode, sample};
use futures::{StreamExt, TryStreamExt, stream};
use serde_json::{Value, json};

use crate::api::{Api, Body};

/// The yearly IT-application report: 44 values, signed (the seed form
/// closest to the 40 values a submission of the issue carries; forms cannot
/// be added through the API).
pub const YEARLY: &str = "it_application_yearly";
/// The quarterly quick report: 6 values, unsigned, counted once submitted.
pub const QUARTERLY: &str = "it_fast_quarterly";
/// The monthly online-applications report, the DHIS2 imports' data set.
pub const MONTHLY: &str = "online_applications_monthly";

/// Which agencies a run makes.
#[derive(Debug, Clone, clap::Args)]
pub struct PoolArgs {
    /// Departments to create (spread over the provinces).
    #[arg(long, default_value_t = 1000)]
    pub agencies: usize,
    /// Province codes (two digits) the departments go under; each
    /// province's committee is created when missing.
    #[arg(long, value_delimiter = ',', default_value = "51,52,54,56,58")]
    pub provinces: Vec<String>,
    /// The first group of the agency codes made (`NNN.xx.xx.Hpp`): runs
    /// against the same stack need different ones. By default from the clock.
    #[arg(long)]
    pub first_group: Option<u16>,
}

/// A department of the run.
#[derive(Debug, Clone)]
pub struct Agency {
    pub code: String,
    pub province: String,
}

/// The seed forms the generator fills in.
pub struct Forms {
    pub yearly: Form,
    pub quarterly: Form,
    pub monthly: Form,
    pub catalogue: chiso_domain::Catalogue,
}

impl Forms {
    pub fn load() -> anyhow::Result<Self> {
        let catalogue = chiso_domain::seed::catalogue()?;
        let mut forms: BTreeMap<String, Form> = chiso_domain::seed::forms(&catalogue)?
            .into_iter()
            .map(|f| (f.code.to_string(), f))
            .collect();
        let mut take = |code: &str| {
            forms
                .remove(code)
                .with_context(|| format!("seed form {code}"))
        };
        Ok(Self {
            yearly: take(YEARLY)?,
            quarterly: take(QUARTERLY)?,
            monthly: take(MONTHLY)?,
            catalogue,
        })
    }

    /// The period of `form` containing today.
    pub fn current(form: &Form) -> anyhow::Result<PeriodCode> {
        PeriodCode::containing(form.period_type, chiso_domain::today()).context("no current period")
    }
}

/// Values of `form` for `agency` as REST JSON (`[{data_element, value}]`);
/// `round` varies them between versions. It varies the seed, not the
/// sample's `progress`, which stands for a few years and overflows past them.
pub fn values_json(form: &Form, agency: &str, round: u64) -> Vec<Value> {
    let seed = sample::seed_of(agency) ^ round.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    sample::sample_values(form, seed, 0)
        .into_iter()
        .map(|(element, value)| json!({"data_element": element, "value": value}))
        .collect()
}

/// Creates the provinces' committees and `args.agencies` departments under
/// them, and waits until the submission service expects their reports of
/// `wait_form`.
pub async fn agencies(api: &Api, args: &PoolArgs, wait_form: &Form) -> anyhow::Result<Vec<Agency>> {
    if args.provinces.is_empty() {
        bail!("--provinces: name at least one province");
    }
    for p in &args.provinces {
        if p.len() != 2 || !p.bytes().all(|b| b.is_ascii_digit()) {
            bail!("--provinces: `{p}` is not a two-digit province code");
        }
    }
    let per_province = args.agencies.div_ceil(args.provinces.len());
    if per_province > 9_999 {
        bail!(
            "--agencies: at most 9999 per province ({} provinces)",
            args.provinces.len()
        );
    }
    let group = args.first_group.unwrap_or_else(|| {
        let secs = chrono::Utc::now().timestamp() as u64;
        (100 + (secs / 10) % 900) as u16
    });
    if !(1..=999).contains(&group) {
        bail!("--first-group: must be 1 to 999, got {group}");
    }
    let today = chiso_domain::date::format_date(chiso_domain::today());
    let mut made = Vec::new();
    for province in &args.provinces {
        let committee = format!("000.00.00.H{province}");
        let created = api
            .post(
                "/api/v1/agencies",
                &json!({
                    "code": committee,
                    "name": format!("Ủy ban nhân dân tỉnh thử tải {province}"),
                    "kind": "provincial_committee",
                    "admin_unit_code": province,
                }),
            )
            .await?;
        if !created.status.is_success() && created.status.as_u16() != 409 {
            bail!("creating {committee}: {} {}", created.status, created.body);
        }
        let count = per_province.min(args.agencies - made.len());
        let codes: Vec<String> = (1..=count)
            .map(|i| format!("{group:03}.{:02}.{:02}.H{province}", i / 100, i % 100))
            .collect();
        for chunk in codes.chunks(5_000) {
            let mut csv = String::from("code,name,kind,parent_code,valid_from\n");
            for code in chunk {
                csv.push_str(&format!(
                    "{code},Sở thử tải {code},department,{committee},{today}\n"
                ));
            }
            let imported = api
                .call(
                    reqwest::Method::POST,
                    "/api/v1/agencies/import",
                    Some(Body::Text("text/csv", &csv)),
                    &[],
                )
                .await?;
            let summary = imported.ok("importing departments")?;
            if summary["committed"] != json!(true) {
                bail!(
                    "importing departments of {province} (first group {group}, try another --first-group): {summary}"
                );
            }
        }
        made.extend(codes.into_iter().map(|code| Agency {
            code,
            province: province.clone(),
        }));
    }
    wait_expected(api, &made, wait_form).await?;
    Ok(made)
}

/// Until the submission service (which follows the registry's feed)
/// expects a report of `form` from every agency made (earlier runs may have
/// made others in the same provinces, so the codes are compared, not counts).
async fn wait_expected(api: &Api, made: &[Agency], form: &Form) -> anyhow::Result<()> {
    let period = Forms::current(form)?;
    let mut wanted: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for a in made {
        wanted
            .entry(a.province.as_str())
            .or_default()
            .push(a.code.as_str());
    }
    for (province, codes) in wanted {
        let mut tries = 0;
        loop {
            let answer = api
                .get(&format!(
                    "/api/v1/forms/{}/expected?period={period}&province={province}",
                    form.code
                ))
                .await?
                .ok("expected reports")?;
            let listed: std::collections::BTreeSet<&str> = answer["reports"]
                .as_array()
                .context("no reports in the expected reports")?
                .iter()
                .filter_map(|r| r["agency_code"].as_str())
                .collect();
            let missing = codes.iter().filter(|c| !listed.contains(*c)).count();
            if missing == 0 {
                break;
            }
            tries += 1;
            if tries > 600 {
                bail!(
                    "the submission service never expected {missing} of the {} agencies of {province}",
                    codes.len()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    Ok(())
}

/// An agency's signing key, the same for the same code and run.
pub fn signing_key(code: &str) -> ed25519_dalek::SigningKey {
    let seed = sample::seed_of(code).to_le_bytes();
    let mut bytes = [0u8; 32];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = seed[i % 8] ^ (i as u8).wrapping_mul(31);
    }
    ed25519_dalek::SigningKey::from_bytes(&bytes)
}

/// Registers each agency's public key; returns the key ids in order.
pub async fn keys(api: &Api, made: &[Agency]) -> anyhow::Result<Vec<String>> {
    stream::iter(made)
        .map(|agency| async move {
            let public = signing_key(&agency.code).verifying_key().to_bytes();
            let key = api
                .post(
                    &format!("/api/v1/agencies/{}/keys", agency.code),
                    &json!({"public_key": STANDARD.encode(public), "label": "chiso-load"}),
                )
                .await?
                .ok("registering a key")?;
            key["key_id"]
                .as_str()
                .map(str::to_owned)
                .context("no key_id in the key answer")
        })
        .buffered(16)
        .try_collect()
        .await
}

/// One quarterly report per agency, so reads have figures to add up.
pub async fn quarterly_reports(api: &Api, made: &[Agency], forms: &Forms) -> anyhow::Result<()> {
    let period = Forms::current(&forms.quarterly)?.to_string();
    stream::iter(made)
        .map(|agency| {
            let period = period.clone();
            async move {
                let body = json!({
                    "form": QUARTERLY,
                    "period": period,
                    "agency_code": agency.code,
                    "values": values_json(&forms.quarterly, &agency.code, 0),
                });
                api.post("/api/v1/reports", &body)
                    .await?
                    .ok("a quarterly report")?;
                anyhow::Ok(())
            }
        })
        .buffer_unordered(16)
        .try_collect()
        .await
}
