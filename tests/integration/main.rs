//! Integration tests: one binary, real services, fresh databases.

mod areas;
mod bad_input;
mod change_feed;
mod database_outage;
mod registry_credentials;
mod registry_feed;
mod registry_history;
mod registry_import;
mod registry_keys;
mod registry_list;
mod registry_registrations;
mod scenario;
mod tls;

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

/// A 2018 report body with the two counts of the computer-equipment indicator.
pub fn computers_report(officials: i64, with_computer: i64) -> Value {
    json!({"period": "2018", "values": [
        {"data_element": "officials", "value": officials},
        {"data_element": "officials_with_computer", "value": with_computer},
    ]})
}
