//! Demo data for `chiso up`: the five provinces of the seed plans — Quảng
//! Bình with its departments, districts and some communes, and a committee,
//! three departments and three districts each of Quảng Ngãi, Trà Vinh, Lâm
//! Đồng and Kon Tum, so every plan's targets have figures to meet — and
//! reports of the yearly and quarterly forms for several periods: most on
//! time, some late, some missing, some returned (and some of those revised),
//! some drafts.

use anyhow::Context;
use base64::{Engine, engine::general_purpose::STANDARD};
use chiso_domain::{AgencyCode, Form, PeriodCode, ReportKey};
use chiso_proto::{
    convert::submission::decode_values,
    registry::v1::{
        Agency, GetAgencyRequest, ImportAgenciesRequest, IssueCredentialsRequest,
        IssueOfficerCredentialsRequest, IssueTokenRequest, Role as WireRole,
        agency_service_client::AgencyServiceClient,
        credential_service_client::CredentialServiceClient,
    },
    registry::v1::{
        RegisterSigningKeyRequest, signing_key_service_client::SigningKeyServiceClient,
    },
    submission::v1::{
        DataValue, ReviewReportRequest, ReviseReportRequest, SaveDraftRequest, Signature,
        SubmitReportRequest, UnlockReportRequest, report_service_client::ReportServiceClient,
    },
};
use chiso_runtime::grpc::{channel, with_bearer};

/// (province, root agency, its agencies as the registry imports them).
const PROVINCES: [(&str, &str, &str); 5] = [
    (
        "Quảng Bình",
        "000.00.00.H44",
        include_str!("../demo/quang-binh.csv"),
    ),
    (
        "Quảng Ngãi",
        "000.00.00.H51",
        include_str!("../demo/quang-ngai.csv"),
    ),
    (
        "Trà Vinh",
        "000.00.00.H84",
        include_str!("../demo/tra-vinh.csv"),
    ),
    (
        "Lâm Đồng",
        "000.00.00.H68",
        include_str!("../demo/lam-dong.csv"),
    ),
    (
        "Kon Tum",
        "000.00.00.H62",
        include_str!("../demo/kon-tum.csv"),
    ),
];

/// The registry as the demo's administrator sees it.
struct Registry {
    credentials: CredentialServiceClient<tonic::transport::Channel>,
    agencies: AgencyServiceClient<tonic::transport::Channel>,
    admin: String,
}

fn token_request(id: &str, secret: &str) -> IssueTokenRequest {
    IssueTokenRequest {
        client_id: id.into(),
        client_secret: secret.into(),
    }
}

impl Registry {
    async fn connect(
        registry_url: &str,
        admin_id: &str,
        admin_secret: &str,
    ) -> anyhow::Result<Self> {
        let registry = channel(registry_url, &Default::default())?;
        let mut credentials = CredentialServiceClient::new(registry.clone());
        let admin = credentials
            .issue_token(token_request(admin_id, admin_secret))
            .await
            .context("admin token")?
            .into_inner()
            .access_token;
        Ok(Self {
            credentials,
            agencies: AgencyServiceClient::new(registry),
            admin,
        })
    }

    /// Imports one province's demo agencies, unless its root is already
    /// registered (`None`): the same all-or-nothing import a province
    /// office uses for its spreadsheet.
    async fn import_province(
        &mut self,
        province: &str,
        root: &str,
        csv: &str,
    ) -> anyhow::Result<Option<Vec<Agency>>> {
        match self
            .agencies
            .get_agency(with_bearer(
                GetAgencyRequest {
                    code: root.into(),
                    ..Default::default()
                },
                &self.admin,
            )?)
            .await
        {
            Ok(_) => return Ok(None),
            Err(status) if status.code() == tonic::Code::NotFound => {}
            Err(status) => return Err(status).context("checking for demo data"),
        }
        let imported = self
            .agencies
            .import_agencies(with_bearer(
                ImportAgenciesRequest {
                    csv: csv.as_bytes().to_vec(),
                    dry_run: false,
                },
                &self.admin,
            )?)
            .await
            .with_context(|| format!("importing the demo agencies of {province}"))?
            .into_inner();
        Ok(Some(imported.created))
    }
}

/// Registers the demo's agencies alone, without credentials, keys or
/// reports: the tree the demo's reports are written against, for a stack
/// that takes those reports in some other way (a DHIS2 value set exported
/// from another stack). Provinces already registered are left as they are;
/// returns each province imported with its number of agencies.
pub async fn load_agencies(
    registry_url: &str,
    admin_id: &str,
    admin_secret: &str,
) -> anyhow::Result<Vec<(String, usize)>> {
    let mut registry = Registry::connect(registry_url, admin_id, admin_secret).await?;
    let mut loaded = Vec::new();
    for (province, root, csv) in PROVINCES {
        if let Some(created) = registry.import_province(province, root, csv).await? {
            loaded.push((province.to_owned(), created.len()));
        }
    }
    Ok(loaded)
}

/// What a newcomer signs in with to see the demo: an agency reporter, an
/// officer and a viewer of the first demo province (Quảng Bình).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignIn {
    /// Who this is, for people: "officer of Quảng Bình".
    pub who: String,
    pub client_id: String,
    pub secret: String,
}

/// A loaded demo: what was loaded, and who can sign in to see it.
pub struct Loaded {
    pub summary: String,
    pub sign_ins: Vec<SignIn>,
}

/// Loads the demo unless its province is already registered.
pub async fn load(
    registry_url: &str,
    submission_url: &str,
    admin_id: &str,
    admin_secret: &str,
) -> anyhow::Result<Option<Loaded>> {
    let mut registry = Registry::connect(registry_url, admin_id, admin_secret).await?;
    let reports = ReportServiceClient::new(channel(submission_url, &Default::default())?);
    let catalogue = chiso_domain::seed::catalogue().context("seed catalogue")?;
    let forms = chiso_domain::seed::forms(&catalogue).context("seed forms")?;
    let plans = chiso_domain::seed::plans(&catalogue).context("seed plans")?;
    let mut keys = SigningKeyServiceClient::new(channel(registry_url, &Default::default())?);
    let mut demo = Demo {
        reports,
        admin: registry.admin.clone(),
        catalogue,
        summary: Summary::default(),
    };
    let mut loaded = Vec::new();
    let mut sign_ins = Vec::new();
    for (province, root, csv) in PROVINCES {
        let Some(created) = registry.import_province(province, root, csv).await? else {
            continue;
        };
        if sign_ins.is_empty() {
            sign_ins = registry.staff_sign_ins(province, root).await?;
        }
        let periods = periods_of(&plans, root);
        for (n, agency) in created.iter().enumerate() {
            let issued = registry
                .credentials
                .issue_credentials(with_bearer(
                    IssueCredentialsRequest {
                        agency_code: agency.code.clone(),
                    },
                    &registry.admin,
                )?)
                .await?
                .into_inner();
            // The first department of the first province reports in the
            // newcomer's hands (the province's root is its People's Committee).
            if n == 1 && sign_ins.len() == 2 {
                sign_ins.insert(
                    0,
                    SignIn {
                        who: format!("agency reporter of {} ({})", agency.name, agency.code),
                        client_id: issued.client_id.clone(),
                        secret: issued.client_secret.clone(),
                    },
                );
            }
            let agency_token = registry
                .credentials
                .issue_token(token_request(&issued.client_id, &issued.client_secret))
                .await?
                .into_inner()
                .access_token;
            // Each agency's signing key, registered by the agency itself; the
            // demo keeps the secret half only long enough to sign its reports.
            let secret = ed25519_dalek::SigningKey::from_bytes(&key_seed(&agency.code));
            let key = keys
                .register_signing_key(with_bearer(
                    RegisterSigningKeyRequest {
                        agency_code: agency.code.clone(),
                        public_key: STANDARD.encode(secret.verifying_key().to_bytes()),
                        label: "Khoá demo".into(),
                    },
                    &agency_token,
                )?)
                .await
                .with_context(|| format!("signing key of {}", agency.code))?
                .into_inner();
            let signer = Signer {
                key_id: key.key_id,
                secret,
            };
            for form in &forms {
                for (p, period) in periods
                    .iter()
                    .filter(|p| form.covers(&parse_period(p)))
                    .enumerate()
                {
                    let fate = Fate::of(&agency.code, period, n);
                    demo.report(form, &agency.code, period, p as u64, fate, &signer)
                        .await
                        .with_context(|| format!("{} {period} of {}", form.code, agency.code))?;
                }
            }
        }
        loaded.push(format!("{province} ({})", created.len()));
    }
    if loaded.is_empty() {
        return Ok(None);
    }
    Ok(Some(Loaded {
        summary: format!(
            "agencies of {}; reports for {} and the years of each province's plans: {}",
            loaded.join(", "),
            PERIODS.join(", "),
            demo.summary
        ),
        sign_ins,
    }))
}

impl Registry {
    /// A province officer and a viewer of the province whose People's
    /// Committee is `root`.
    async fn staff_sign_ins(&mut self, province: &str, root: &str) -> anyhow::Result<Vec<SignIn>> {
        let province_code = province_code(root)?;
        let mut sign_ins = Vec::new();
        for (role, who) in [
            (WireRole::ProvinceOfficer, "province officer"),
            (WireRole::Viewer, "viewer (leadership)"),
        ] {
            let issued = self
                .credentials
                .issue_officer_credentials(with_bearer(
                    IssueOfficerCredentialsRequest {
                        province_code: province_code.clone(),
                        label: format!("Demo {who}"),
                        role: role.into(),
                        granted_province_codes: Vec::new(),
                    },
                    &self.admin,
                )?)
                .await
                .with_context(|| format!("demo {who} of {province}"))?
                .into_inner();
            sign_ins.push(SignIn {
                who: format!("{who} of {province}"),
                client_id: issued.client_id,
                secret: issued.client_secret,
            });
        }
        Ok(sign_ins)
    }
}

/// Periods with demo reports in every province: two finished years, and the
/// quarters of this one (the last still open for entry).
pub const PERIODS: [&str; 6] = ["2024", "2025", "2026Q1", "2026Q2", "2026Q3", "2026Q4"];

/// The province's code (`000.00.00.H51`: 51) from its People's Committee's.
fn province_code(root: &str) -> anyhow::Result<String> {
    // A provincial agency's code ends in H and its province's
    // administrative-unit code.
    root.rsplit_once(".H")
        .map(|(_, unit)| unit.to_owned())
        .context("demo province root code")
}

/// The periods a province's demo agencies report: the years its seed plans
/// set targets for (Quảng Ngãi's 2018, Trà Vinh's 2021 and 2022), oldest
/// first, so its dashboard's tiles have actual figures against them, then
/// [`PERIODS`]. The forms that do not cover a year (the yearly form opens
/// in 2018) leave it out.
fn periods_of(plans: &[chiso_domain::plan::Plan], root: &str) -> Vec<String> {
    let province = province_code(root).unwrap_or_default();
    let mut years: Vec<u16> = plans
        .iter()
        .filter(|plan| plan.province.as_str() == province)
        .flat_map(|plan| plan.targets.iter().map(|target| target.year))
        .collect();
    years.sort_unstable();
    years.dedup();
    years
        .iter()
        .map(u16::to_string)
        .filter(|year| !PERIODS.contains(&year.as_str()))
        .chain(PERIODS.iter().map(|p| (*p).to_owned()))
        .collect()
}

fn parse_period(code: &str) -> PeriodCode {
    PeriodCode::parse(code).expect("demo periods are valid")
}

/// A deterministic seed for an agency's demo key.
fn key_seed(code: &str) -> [u8; 32] {
    let mut seed = [0u8; 32];
    for (i, b) in chiso_domain::sample::seed_of(code)
        .to_le_bytes()
        .iter()
        .cycle()
        .take(32)
        .enumerate()
    {
        seed[i] = b.wrapping_add(i as u8);
    }
    seed
}

/// What happens to one demo report, so the province sees every case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    OnTime,
    Late,
    Missing,
    /// Returned by the province with a comment, then revised and resubmitted.
    ReturnedAndRevised,
    /// Returned, and still waiting for the agency's revision.
    Returned,
    /// Saved as a draft, not yet submitted.
    Draft,
}

impl Fate {
    fn of(code: &str, period: &str, n: usize) -> Self {
        let roll =
            (chiso_domain::sample::seed_of(code) ^ chiso_domain::sample::seed_of(period)) % 100;
        // The period still open has drafts and missing reports, no late ones.
        if period == "2026Q4" {
            return match roll {
                0..=39 => Self::OnTime,
                40..=69 => Self::Draft,
                _ => Self::Missing,
            };
        }
        // The first agency's reports always go round the whole cycle.
        if n == 1 {
            return Self::ReturnedAndRevised;
        }
        match roll {
            0..=69 => Self::OnTime,
            70..=81 => Self::Late,
            82..=89 => Self::Missing,
            90..=95 => Self::ReturnedAndRevised,
            _ => Self::Returned,
        }
    }
}

/// One agency's signing key.
struct Signer {
    key_id: String,
    secret: ed25519_dalek::SigningKey,
}

#[derive(Default)]
struct Summary {
    submitted: u32,
    late: u32,
    returned: u32,
    revised: u32,
    drafts: u32,
    missing: u32,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} submitted ({} late), {} returned, {} revised, {} drafts, {} missing",
            self.submitted, self.late, self.returned, self.revised, self.drafts, self.missing
        )
    }
}

struct Demo {
    reports: ReportServiceClient<tonic::transport::Channel>,
    admin: String,
    catalogue: chiso_domain::Catalogue,
    summary: Summary,
}

impl Demo {
    /// Enters one agency's report the way the province enters paper reports
    /// it received: unlocked for the purpose, with the date received, signed
    /// with the agency's key, then reviewed.
    async fn report(
        &mut self,
        form: &Form,
        agency: &str,
        period: &str,
        progress: u64,
        fate: Fate,
        signer: &Signer,
    ) -> anyhow::Result<()> {
        let code = parse_period(period);
        let seed = chiso_domain::sample::seed_of(agency)
            ^ chiso_domain::sample::seed_of(form.code.as_str());
        let sample = chiso_domain::sample::sample_values(form, seed, progress);
        let values: Vec<DataValue> = sample
            .iter()
            .map(|(c, v)| DataValue::new(c.as_str(), v.as_str()))
            .collect();
        let today = chiso_domain::today();
        if fate == Fate::Missing {
            self.summary.missing += 1;
            return Ok(());
        }
        if form.is_locked(&code, today) {
            self.reports
                .unlock_report(with_bearer(
                    UnlockReportRequest {
                        form: form.code.to_string(),
                        period: period.into(),
                        agency_code: agency.into(),
                        reason: "Nhập số liệu báo cáo giấy đã nhận (dữ liệu mẫu)".into(),
                        until: (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339(),
                        request_id: String::new(),
                    },
                    &self.admin,
                )?)
                .await?;
        }
        if fate == Fate::Draft {
            self.reports
                .save_draft(with_bearer(
                    SaveDraftRequest {
                        form: form.code.to_string(),
                        period: period.into(),
                        agency_code: agency.into(),
                        values: values[..values.len() / 2].to_vec(),
                        ..Default::default()
                    },
                    &self.admin,
                )?)
                .await?;
            self.summary.drafts += 1;
            return Ok(());
        }
        let deadline = form.deadline(&code);
        let received = match fate {
            Fate::Late => {
                deadline + chrono::Days::new(1 + chiso_domain::sample::seed_of(agency) % 40)
            }
            _ => deadline - chrono::Days::new(1 + chiso_domain::sample::seed_of(agency) % 8),
        }
        .min(today);
        let submitted = self
            .submit(form, agency, period, 1, &values, received, signer)
            .await?;
        self.summary.submitted += 1;
        if fate == Fate::Late {
            self.summary.late += 1;
        }
        if !form.acceptance_required && !matches!(fate, Fate::Returned | Fate::ReturnedAndRevised) {
            return Ok(());
        }
        if !matches!(fate, Fate::Returned | Fate::ReturnedAndRevised) {
            self.review(&submitted.id, true, "").await?;
            return Ok(());
        }
        self.review(
            &submitted.id,
            false,
            "Số liệu văn bản điện tử chưa khớp với hệ thống quản lý văn bản; đề nghị rà soát lại.",
        )
        .await?;
        self.summary.returned += 1;
        if fate == Fate::Returned {
            return Ok(());
        }
        self.reports
            .revise_report(with_bearer(
                ReviseReportRequest {
                    report_id: submitted.id.clone(),
                    reason: "Điều chỉnh theo ý kiến của Sở".into(),
                    ..Default::default()
                },
                &self.admin,
            )?)
            .await?;
        // The corrected figures: fewer documents counted as electronic.
        let corrected: Vec<DataValue> = values
            .iter()
            .map(|v| match v.data_element.as_str() {
                "documents_signed_digitally" | "documents_to_higher_levels_electronic" => {
                    DataValue::new(v.data_element.as_str(), "0")
                }
                _ => v.clone(),
            })
            .collect();
        let revised = self
            .submit(
                form,
                agency,
                period,
                2,
                &corrected,
                received.max(deadline).min(today),
                signer,
            )
            .await?;
        self.summary.revised += 1;
        if form.acceptance_required {
            self.review(&revised.id, true, "").await?;
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)] // one demo step, spelled out
    async fn submit(
        &mut self,
        form: &Form,
        agency: &str,
        period: &str,
        version: i32,
        values: &[DataValue],
        received: chrono::NaiveDate,
        signer: &Signer,
    ) -> anyhow::Result<chiso_proto::submission::v1::Report> {
        let signature = if form.signature_required {
            let typed = decode_values(values, &self.catalogue, |_| Ok(()))
                .map_err(|e| anyhow::anyhow!("demo values: {e}"))?;
            let key = ReportKey {
                form: form.code.clone(),
                period: parse_period(period),
                agency: AgencyCode::parse(agency)?,
            };
            let content = chiso_domain::signature::signed_content(&key, version, &typed);
            Some(Signature {
                key_id: signer.key_id.clone(),
                signature: STANDARD
                    .encode(ed25519_dalek::Signer::sign(&signer.secret, &content).to_bytes()),
                signed_at: None,
            })
        } else {
            None
        };
        Ok(self
            .reports
            .submit_report(with_bearer(
                SubmitReportRequest {
                    form: form.code.to_string(),
                    period: period.into(),
                    agency_code: agency.into(),
                    values: values.to_vec(),
                    signature,
                    received_on: chiso_domain::date::format_date(received),
                    ..Default::default()
                },
                &self.admin,
            )?)
            .await?
            .into_inner())
    }

    async fn review(&mut self, id: &str, accept: bool, comment: &str) -> anyhow::Result<()> {
        let request = with_bearer(
            ReviewReportRequest {
                report_id: id.into(),
                comment: comment.into(),
                ..Default::default()
            },
            &self.admin,
        )?;
        if accept {
            self.reports.accept_report(request).await?;
        } else {
            self.reports.return_report(request).await?;
        }
        Ok(())
    }
}
