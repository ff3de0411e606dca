//! Demo data for `chiso up`: Quảng Bình province (one of the seed plans) with
//! its departments, districts and some communes, and reports for 2023-2024.

use anyhow::Context;
use chiso_proto::{
    registry::v1::{
        AgencyKind, GetAgencyRequest, ImportAgenciesRequest, IssueCredentialsRequest,
        IssueTokenRequest, agency_service_client::AgencyServiceClient,
        credential_service_client::CredentialServiceClient,
    },
    submission::v1::{DataValue, SubmitReportRequest, report_service_client::ReportServiceClient},
};
use chiso_runtime::grpc::{channel, with_bearer};
use rand::{Rng, SeedableRng, rngs::StdRng};

const AGENCIES_CSV: &str = include_str!("../demo/quang-binh.csv");
const ROOT: &str = "000.00.00.H44";
const PERIODS: [&str; 2] = ["2023", "2024"];

/// Loads the demo unless its province is already registered; returns a summary.
pub async fn load(
    registry_url: &str,
    submission_url: &str,
    admin_id: &str,
    admin_secret: &str,
) -> anyhow::Result<Option<String>> {
    let registry = channel(registry_url, &Default::default())?;
    let mut credentials = CredentialServiceClient::new(registry.clone());
    let mut agencies = AgencyServiceClient::new(registry);
    let mut reports = ReportServiceClient::new(channel(submission_url, &Default::default())?);
    let token = |id: &str, secret: &str| IssueTokenRequest {
        client_id: id.into(),
        client_secret: secret.into(),
    };
    let admin = credentials
        .issue_token(token(admin_id, admin_secret))
        .await
        .context("admin token")?
        .into_inner()
        .access_token;

    match agencies
        .get_agency(with_bearer(
            GetAgencyRequest {
                code: ROOT.into(),
                ..Default::default()
            },
            &admin,
        )?)
        .await
    {
        Ok(_) => return Ok(None),
        Err(status) if status.code() == tonic::Code::NotFound => {}
        Err(status) => return Err(status).context("checking for demo data"),
    }

    // The same all-or-nothing import a province office uses for its spreadsheet.
    let imported = agencies
        .import_agencies(with_bearer(
            ImportAgenciesRequest {
                csv: AGENCIES_CSV.as_bytes().to_vec(),
                dry_run: false,
            },
            &admin,
        )?)
        .await
        .context("importing the demo agencies")?
        .into_inner();
    let mut submitted = 0;
    for agency in &imported.created {
        if agency.kind() == AgencyKind::ProvincialCommittee {
            continue;
        }
        let issued = credentials
            .issue_credentials(with_bearer(
                IssueCredentialsRequest {
                    agency_code: agency.code.clone(),
                },
                &admin,
            )?)
            .await?
            .into_inner();
        let agency_token = credentials
            .issue_token(token(&issued.client_id, &issued.client_secret))
            .await?
            .into_inner()
            .access_token;
        for (i, period) in PERIODS.iter().enumerate() {
            reports
                .submit_report(with_bearer(
                    SubmitReportRequest {
                        period: (*period).into(),
                        values: demo_values(&agency.code, i as u64),
                    },
                    &agency_token,
                )?)
                .await
                .with_context(|| format!("report of {}", agency.code))?;
            submitted += 1;
        }
    }
    Ok(Some(format!(
        "{} agencies of Quảng Bình (44), {submitted} reports for {}",
        imported.created.len(),
        PERIODS.join(", ")
    )))
}

/// Plausible, repeatable counts for an agency and year; the later year is better equipped.
fn demo_values(code: &str, year_index: u64) -> Vec<DataValue> {
    // Seeded by the agency code (its bytes, zero-padded), so every `chiso up`
    // loads the same demo; StdRng's stream is fixed for the locked rand version.
    let mut seed = <StdRng as SeedableRng>::Seed::default();
    seed.iter_mut().zip(code.bytes()).for_each(|(s, b)| *s = b);
    let mut rng = StdRng::from_seed(seed);
    let officials: u64 = rng.gen_range(25..=320);
    let equipped_pct = (rng.gen_range(72..=95) + 3 * year_index).min(100);
    let documents: u64 = rng.gen_range(400..=4000);
    let electronic_pct = (rng.gen_range(55..=90) + 6 * year_index).min(100);
    let value = |data_element: &str, value: u64| DataValue {
        data_element: data_element.into(),
        value: i64::try_from(value).unwrap_or(i64::MAX),
    };
    vec![
        value("officials", officials),
        value("officials_with_computer", officials * equipped_pct / 100),
        value("documents_sent", documents),
        value(
            "documents_sent_electronic",
            documents * electronic_pct / 100,
        ),
    ]
}
