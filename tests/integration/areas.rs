//! Aggregates over any area: a People's Committee and its subtree, as the
//! organisation tree stood on a date (aggregation keeps its copy of the tree
//! from the registry's agency feed).

use chiso_tests::spawn_stack;
use serde_json::json;

use crate::{documents_report, register_quang_ngai};

#[tokio::test]
async fn areas_follow_the_tree_as_of_a_date() {
    let stack = spawn_stack().await;
    let (admin, mut credentials) = register_quang_ngai(&stack).await;
    let (status, body) = stack
        .post(
            "/api/v1/agencies",
            Some(&admin),
            &json!({"code": "000.01.24.H51", "admin_unit_code": "21025", "name": "UBND xã Bình Thạnh",
                    "kind": "commune_committee", "parent_code": "000.00.24.H51", "valid_from": "1989-07-01"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = stack
        .post(
            "/api/v1/agencies/000.01.24.H51/credentials",
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    credentials.push((
        "000.01.24.H51".into(),
        body["client_id"].as_str().unwrap().into(),
        body["client_secret"].as_str().unwrap().into(),
    ));
    // Documents sent electronically of all sent: Sở TT&TT 114/120, UBND
    // huyện Bình Sơn 266/380, UBND xã Bình Thạnh 18/40.
    for ((_, id, secret), (officials, equipped)) in
        credentials.iter().zip([(120, 114), (380, 266), (40, 18)])
    {
        let token = stack.token(id, secret).await;
        let (status, body) = stack
            .post(
                "/api/v1/reports",
                Some(&token),
                &documents_report(officials, equipped),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    stack.wait_for_feed(&admin).await;

    let period = crate::this_quarter();
    let aggregate = |area: &str, as_of: &str| {
        let path = format!(
            "/api/v1/aggregates?indicator=electronic_document_rate&area={area}&period={period}&as_of={as_of}"
        );
        let stack = &stack;
        let admin = admin.clone();
        async move { stack.get(&path, &admin).await }
    };
    let (status, province) = aggregate("51", "2024-12-31").await;
    assert_eq!(status, 200, "{province}");
    assert_eq!(
        (
            province["numerator"].as_i64(),
            province["denominator"].as_i64()
        ),
        (Some(398), Some(540))
    );
    assert_eq!(province["agencies_reporting"], 3);
    let (status, district) = aggregate("524", "2024-12-31").await;
    assert_eq!(status, 200, "{district}");
    assert_eq!(
        (
            district["numerator"].as_i64(),
            district["denominator"].as_i64()
        ),
        (Some(284), Some(420))
    );
    assert_eq!(district["agencies_reporting"], 2);
    let (status, commune) = aggregate("21025", "2024-12-31").await;
    assert_eq!(status, 200, "{commune}");
    assert_eq!(commune["value"], 45.0);

    // The 2025 reform: the district is abolished, its commune moves under the province.
    let (status, body) = stack
        .post(
            "/api/v1/agencies/reorganisations",
            Some(&admin),
            &json!({"effective_date": "2025-07-01", "legal_basis": "Nghị quyết 1680/NQ-UBTVQH15",
                    "operations": [
                        {"type": "move", "code": "000.01.24.H51", "parent_code": "000.00.00.H51"},
                        {"type": "dissolve", "code": "000.00.24.H51"}]}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    stack.wait_for_feed(&admin).await;

    // Before the reform the district still holds its commune; after it the district is gone.
    let (status, district) = aggregate("524", "2025-06-30").await;
    assert_eq!(status, 200, "{district}");
    assert_eq!(district["agencies_reporting"], 2);
    let (status, gone) = aggregate("524", "2025-07-01").await;
    assert_eq!(status, 422, "{gone}");
    assert_eq!(gone["errors"][0]["field"], "area");
    // The province today: the department and the commune, no longer the abolished district.
    let (status, province) = aggregate("51", "2025-07-01").await;
    assert_eq!(status, 200, "{province}");
    assert_eq!(
        (
            province["numerator"].as_i64(),
            province["denominator"].as_i64()
        ),
        (Some(132), Some(160))
    );
    assert_eq!(province["agencies_reporting"], 2);
    stack.shutdown().await;
}
