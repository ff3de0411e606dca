//! The walking-skeleton scenario, over REST and over gRPC.

use chiso_runtime::grpc::with_bearer;
use chiso_tests::{
    proto::{
        aggregation::v1::{
            GetAggregateRequest, aggregation_service_client::AggregationServiceClient,
        },
        registry::v1::{
            AgencyKind, CreateAgencyRequest, IssueCredentialsRequest, ListAgenciesRequest,
            agency_service_client::AgencyServiceClient,
            credential_service_client::CredentialServiceClient,
        },
        submission::v1::{
            DataValue, SubmitReportRequest, report_service_client::ReportServiceClient,
        },
    },
    spawn_stack,
};
use serde_json::json;

use crate::{documents_report, register_quang_ngai};

#[tokio::test]
async fn province_rate_is_sum_over_sum_over_rest() {
    let stack = spawn_stack().await;
    let (admin, credentials) = register_quang_ngai(&stack).await;

    // Documents sent electronically: Sở TT&TT 114 of 120 (95%), Bình Sơn 266 of 380 (70%).
    let counts = [(120, 114), (380, 266)];
    for ((code, client_id, secret), (officials, with_computer)) in credentials.iter().zip(counts) {
        let token = stack.token(client_id, secret).await;
        let (status, body) = stack
            .post(
                "/api/v1/reports",
                Some(&token),
                &documents_report(officials, with_computer),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["agency_code"], code.as_str());
        assert_eq!(body["province_code"], "51");
        assert_eq!(body["period"], crate::this_quarter());
        assert_eq!(body["form"], "it_fast_quarterly");
        assert_eq!(body["status"], "submitted");
        assert_eq!(body["version"], 1);
        // Values come back in code order, as text.
        assert_eq!(
            body["values"][0],
            json!({"data_element": "documents_sent", "value": officials.to_string()})
        );
    }
    stack.wait_for_feed(&admin).await;

    let (status, body) = stack.get(&crate::documents_rate_path("51"), &admin).await;
    assert_eq!(status, 200, "{body}");
    // 380 / 500 x 100 = 76, not the mean of 95 and 70 (82.5).
    assert_eq!(body["numerator"], 380);
    assert_eq!(body["denominator"], 500);
    assert_eq!(body["agencies_reporting"], 2);
    assert_eq!(body["value"], 76.0);
    assert_eq!(body["unit"], "%");

    // The agency list comes back in Vietnamese order: "Sở" before "Tỉnh" before "UBND".
    let (status, body) = stack.get("/api/v1/agencies?province=51", &admin).await;
    assert_eq!(status, 200, "{body}");
    let names: Vec<&str> = body
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "Sở Thông tin và Truyền thông",
            "Tỉnh Quảng Ngãi",
            "UBND huyện Bình Sơn"
        ]
    );

    // An indicator for which nothing is reported has no value.
    let (status, body) = stack
        .get(
            &format!(
                "/api/v1/aggregates?indicator=computer_equipment_rate&area=51&period={}",
                crate::this_quarter()
            ),
            &admin,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["value"], serde_json::Value::Null);
    assert_eq!(body["agencies_reporting"], 0);

    // Prometheus sees the requests by route and status (counts are
    // process-wide), on the metrics listener only.
    let (status, _) = stack.get("/metrics", "").await;
    assert_eq!(status, 404);
    let metrics = reqwest::Client::new()
        .get(&stack.metrics_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let submitted = metrics
        .lines()
        .find(|l| {
            l.starts_with("http_requests_total{")
                && l.contains(r#"route="/api/v1/reports""#)
                && l.contains(r#"status="201""#)
        })
        .unwrap_or_else(|| panic!("no counter for submitted reports in:\n{metrics}"));
    let count: f64 = submitted.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(count >= 2.0, "{submitted}");
    stack.shutdown().await;
}

#[tokio::test]
async fn province_rate_is_sum_over_sum_over_grpc() {
    let stack = spawn_stack().await;
    let admin = stack
        .grpc_token(&stack.admin_client_id, &stack.admin_secret)
        .await;
    let mut agencies = AgencyServiceClient::new(stack.channel(stack.registry_addr));
    let mut credentials = CredentialServiceClient::new(stack.channel(stack.registry_addr));
    let create = [
        (
            "000.00.00.H51",
            "51",
            "Tỉnh Quảng Ngãi",
            AgencyKind::ProvincialCommittee,
            "",
        ),
        (
            "000.00.15.H51",
            "",
            "Sở Thông tin và Truyền thông",
            AgencyKind::Department,
            "000.00.00.H51",
        ),
        (
            "000.00.24.H51",
            "524",
            "UBND huyện Bình Sơn",
            AgencyKind::DistrictCommittee,
            "000.00.00.H51",
        ),
    ];
    for (code, unit, name, kind, parent) in create {
        let created = agencies
            .create_agency(
                with_bearer(
                    CreateAgencyRequest {
                        code: code.into(),
                        admin_unit_code: unit.into(),
                        name: name.into(),
                        kind: kind.into(),
                        parent_code: parent.into(),
                        ..Default::default()
                    },
                    &admin,
                )
                .unwrap(),
            )
            .await
            .unwrap()
            .into_inner();
        assert_eq!(created.province_code, "51");
    }
    let listed = agencies
        .list_agencies(
            with_bearer(
                ListAgenciesRequest {
                    parent_code: "000.00.00.H51".into(),
                    ..Default::default()
                },
                &admin,
            )
            .unwrap(),
        )
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.agencies.len(), 2);

    let mut reports = ReportServiceClient::new(stack.channel(stack.submission_addr));
    for (code, sent, electronic) in [("000.00.15.H51", 120, 114), ("000.00.24.H51", 380, 266)] {
        let issued = credentials
            .issue_credentials(
                with_bearer(
                    IssueCredentialsRequest {
                        agency_code: code.into(),
                    },
                    &admin,
                )
                .unwrap(),
            )
            .await
            .unwrap()
            .into_inner();
        let token = stack
            .grpc_token(&issued.client_id, &issued.client_secret)
            .await;
        let report = reports
            .submit_report(
                with_bearer(
                    SubmitReportRequest {
                        form: "it_fast_quarterly".into(),
                        period: crate::this_quarter(),
                        values: vec![
                            DataValue::new("documents_sent", sent.to_string()),
                            DataValue::new("documents_sent_electronic", electronic.to_string()),
                            DataValue::new("documents_signed_digitally", "0"),
                            DataValue::new("documents_to_higher_levels", "0"),
                            DataValue::new("documents_to_higher_levels_electronic", "0"),
                            DataValue::new("online_meetings", "0"),
                        ],
                        ..Default::default()
                    },
                    &token,
                )
                .unwrap(),
            )
            .await
            .unwrap()
            .into_inner();
        assert_eq!(report.agency_code, code);
        assert_eq!(report.version, 1);
    }
    stack.wait_for_feed(&admin).await;

    let aggregate = AggregationServiceClient::new(stack.channel(stack.aggregation_addr))
        .get_aggregate(
            with_bearer(
                GetAggregateRequest {
                    indicator: "electronic_document_rate".into(),
                    area: "51".into(),
                    period: crate::this_quarter(),
                    ..Default::default()
                },
                &admin,
            )
            .unwrap(),
        )
        .await
        .unwrap()
        .into_inner();
    assert_eq!(aggregate.numerator, 380);
    assert_eq!(aggregate.denominator, 500);
    assert_eq!(aggregate.agencies_reporting, 2);
    assert_eq!(aggregate.value, Some(76.0));
    stack.shutdown().await;
}

#[tokio::test]
async fn agencies_cannot_register_agencies_and_tokens_need_valid_secrets() {
    let stack = spawn_stack().await;
    let (_admin, credentials) = register_quang_ngai(&stack).await;
    let (_, client_id, secret) = &credentials[0];

    let (status, body) = stack
        .post(
            "/api/v1/auth/token",
            None,
            &json!({"client_id": client_id, "client_secret": "wrong"}),
        )
        .await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"], "invalid_client");

    let agency = stack.token(client_id, secret).await;
    let (status, body) = stack
        .post(
            "/api/v1/agencies",
            Some(&agency),
            &json!({"code": "000.00.16.H51", "name": "Sở Tài chính", "kind": "department", "parent_code": "000.00.00.H51"}),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["code"], "permission_denied");

    let (status, error) = stack.get("/api/v1/indicators", "not-a-token").await;
    assert_eq!(status, 401, "{error}");
    assert_eq!(error["code"], "unauthenticated");
    stack.shutdown().await;
}
