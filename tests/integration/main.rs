//! Integration tests: one binary, real services, fresh databases.

mod aggregation_restart;
mod answers;
mod areas;
mod auth_abuse;
mod authz_matrix;
mod bad_input;
mod catalogue;
mod change_feed;
mod cli;
mod database_outage;
mod dhis2;
mod dhis2_roundtrip;
mod hostile;
mod metrics;
mod problems;
mod registry_credentials;
mod registry_feed;
mod registry_history;
mod registry_import;
mod registry_keys;
mod registry_list;
mod registry_registrations;
mod report_list_page;
mod report_scope;
mod reports;
mod reports_rest;
mod roles;
mod scenario;
mod templates;
mod tls;
mod tokens;
mod web;

use chiso_domain::{PeriodCode, PeriodType};
use chiso_tests::TestStack;
use serde_json::{Value, json};

/// Registers province 51 with a department and a district, as admin over REST,
/// and returns (admin token, [(agency code, client id, secret)]).
pub async fn register_quang_ngai(stack: &TestStack) -> (String, Vec<(String, String, String)>) {
    let admin = stack.admin_token().await;
    let agencies = [
        json!({"code": "000.00.00.H51", "admin_unit_code": "51", "name": "Tỉnh Quảng Ngãi",
               "name_en": "Quang Ngai Province", "kind": "provincial_committee", "valid_from": "1989-07-01"}),
        json!({"code": "000.00.15.H51", "name": "Sở Thông tin và Truyền thông", "kind": "department",
               "parent_code": "000.00.00.H51", "valid_from": "2008-04-01"}),
        json!({"code": "000.00.24.H51", "admin_unit_code": "524", "name": "UBND huyện Bình Sơn",
               "kind": "district_committee", "parent_code": "000.00.00.H51", "valid_from": "1989-07-01"}),
    ];
    for agency in &agencies {
        let (status, body) = stack.post("/api/v1/agencies", Some(&admin), agency).await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["code"], agency["code"]);
        assert_eq!(body["province_code"], "51");
    }
    let mut credentials = Vec::new();
    for code in ["000.00.15.H51", "000.00.24.H51"] {
        let (status, body) = stack
            .post(
                &format!("/api/v1/agencies/{code}/credentials"),
                Some(&admin),
                &json!({}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["agency_code"], code);
        credentials.push((
            code.to_owned(),
            body["client_id"].as_str().unwrap().to_owned(),
            body["client_secret"].as_str().unwrap().to_owned(),
        ));
    }
    (admin, credentials)
}

/// The quarter we are in (Vietnam time): always open for entry on the
/// quarterly form, so these tests do not age.
pub fn this_quarter() -> String {
    PeriodCode::containing(PeriodType::Quarterly, chiso_domain::today())
        .expect("today is in a quarter")
        .to_string()
}

/// A quarterly report (form `it_fast_quarterly`, this quarter) of `sent`
/// documents, `electronic` of them sent electronically, the other
/// compulsory counts zero.
pub fn documents_report(sent: i64, electronic: i64) -> Value {
    json!({"form": "it_fast_quarterly", "period": this_quarter(), "values": [
        {"data_element": "documents_sent", "value": sent.to_string()},
        {"data_element": "documents_sent_electronic", "value": electronic.to_string()},
        {"data_element": "documents_signed_digitally", "value": "0"},
        {"data_element": "documents_to_higher_levels", "value": "0"},
        {"data_element": "documents_to_higher_levels_electronic", "value": "0"},
        {"data_element": "online_meetings", "value": "0"},
    ]})
}

/// The share of documents sent electronically in `area`, this quarter.
pub fn documents_rate_path(area: &str) -> String {
    format!(
        "/api/v1/aggregates?indicator=electronic_document_rate&area={area}&period={}",
        this_quarter()
    )
}
