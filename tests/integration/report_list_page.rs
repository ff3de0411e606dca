//! A full page of the report list (1,000, the most a page holds): its
//! current versions were read with one nested `OR` per report, which
//! overflowed the submission service's worker stack and aborted the
//! process (found by .ci/faults.sh listing a province's reports).

use chiso_tests::spawn_stack;
use serde_json::{Value, json};

#[tokio::test]
async fn a_full_page_of_reports_lists_every_one() {
    let stack = spawn_stack().await;
    let admin = stack.admin_token().await;
    let grpc_admin = stack
        .grpc_token(&stack.admin_client_id, &stack.admin_secret)
        .await;
    let period = chiso_domain::PeriodCode::containing(
        chiso_domain::PeriodType::Quarterly,
        chiso_domain::today(),
    )
    .expect("this quarter")
    .to_string();
    let codes = stack
        .province_departments(&grpc_admin, 1000, "it_fast_quarterly", &period)
        .await
        .expect("1,000 departments");
    // One DHIS2 import submits all of them (a completeDate submits).
    let values: Vec<Value> = codes
        .iter()
        .flat_map(|code| {
            [
                ("documents_sent", "100"),
                ("documents_sent_electronic", "90"),
                ("documents_signed_digitally", "80"),
                ("documents_to_higher_levels", "10"),
                ("documents_to_higher_levels_electronic", "10"),
                ("online_meetings", "2"),
            ]
            .map(
                |(de, v)| json!({"dataElement": de, "period": period, "orgUnit": code, "value": v}),
            )
        })
        .collect();
    let today = chiso_domain::date::format_date(chiso_domain::today());
    let (status, summary) = stack
        .post(
            "/api/dataValueSets",
            Some(&admin),
            &json!({"dataSet": "it_fast_quarterly", "completeDate": today, "dataValues": values}),
        )
        .await;
    assert_eq!(status, 200, "{summary}");
    assert_eq!(summary["importCount"]["imported"], json!(6000), "{summary}");

    let (status, page) = stack
        .get(
            &format!(
                "/api/v1/reports?form=it_fast_quarterly&period={period}&province=51&page_size=1000"
            ),
            &admin,
        )
        .await;
    assert_eq!(status, 200, "{page}");
    let listed = page.as_array().expect("a list");
    assert_eq!(listed.len(), 1000);
    assert!(
        listed
            .iter()
            .all(|r| r["status"] == "submitted" && r["version"] == 1),
        "{:?}",
        listed.iter().find(|r| r["status"] != "submitted")
    );
    stack.shutdown().await;
}
