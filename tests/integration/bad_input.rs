//! Bad input gets a 4xx JSON error naming the field, and nothing is stored.

use chiso_tests::spawn_stack;
use serde_json::{Value, json};

use crate::register_quang_ngai;

fn fields(body: &Value) -> Vec<&str> {
    body["errors"]
        .as_array()
        .map(|f| f.iter().map(|v| v["field"].as_str().unwrap()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn bad_reports_name_the_field_and_store_nothing() {
    let stack = spawn_stack().await;
    let (admin, credentials) = register_quang_ngai(&stack).await;
    let token = stack.token(&credentials[0].1, &credentials[0].2).await;

    let q = crate::this_quarter();
    let report = |period: &str, values: Value| json!({"form": "it_fast_quarterly", "period": period, "values": values});
    let cases = [
        (
            report(
                &q,
                json!([{"data_element": "documents_sent", "value": "10"}, {"data_element": "no_such_element", "value": "2"}]),
            ),
            "values[1].data_element",
            "unknown data element",
        ),
        (
            report(
                &q,
                json!([{"data_element": "documents_sent", "value": "-5"}]),
            ),
            "values[0].value",
            "zero or more",
        ),
        (
            report(
                "2018-13",
                json!([{"data_element": "documents_sent", "value": "5"}]),
            ),
            "period",
            "not a period code",
        ),
        (
            report(
                &q,
                json!([{"data_element": "documents_sent", "value": "many"}]),
            ),
            "values[0].value",
            "not a whole number",
        ),
        (
            report(
                &q,
                json!([{"data_element": "documents_sent", "value": 1.5}]),
            ),
            "values[0].value",
            "not a whole number",
        ),
        (
            json!({"form": "it_fast_quarterly", "values": []}),
            "period",
            "is required",
        ),
        // A count near i64::MAX once made its province's aggregate overflow
        // into a 500: counts are bounded at input instead.
        (
            report(
                &q,
                json!([{"data_element": "documents_sent", "value": i64::MAX.to_string()}]),
            ),
            "values[0].value",
            "above the maximum 1000000000000",
        ),
        // A yearly element on the quarterly form.
        (
            report(&q, json!([{"data_element": "servers", "value": "2"}])),
            "values[0].data_element",
            "",
        ),
    ];
    for (body, field, message) in cases {
        let (status, answer) = stack.post("/api/v1/reports", Some(&token), &body).await;
        assert_eq!(status, 422, "{body} -> {answer}");
        assert_eq!(answer["code"], "invalid_argument", "{answer}");
        assert!(fields(&answer).contains(&field), "{body} -> {answer}");
        let described = answer["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["field"] == field && f["detail"].as_str().unwrap().contains(message));
        assert!(described, "expected `{message}` for {field}: {answer}");
    }

    // Every error at once, not only the first.
    let (status, answer) = stack
        .post(
            "/api/v1/reports",
            Some(&token),
            &report(
                "20x8",
                json!([{"data_element": "Officials", "value": "1"}, {"data_element": "documents_sent", "value": "-1"}]),
            ),
        )
        .await;
    assert_eq!(status, 422);
    let mut named = fields(&answer);
    named.sort_unstable();
    assert_eq!(
        named,
        ["period", "values[0].data_element", "values[1].value"],
        "{answer}"
    );

    // Nothing was stored: the first good report is version 1.
    let (status, body) = stack
        .post(
            "/api/v1/reports",
            Some(&token),
            &crate::documents_report(10, 5),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["version"], 1);
    stack.wait_for_feed(&admin).await;
    let (_, aggregate) = stack.get(&crate::documents_rate_path("51"), &admin).await;
    assert_eq!(aggregate["denominator"], 10);
    assert_eq!(aggregate["agencies_reporting"], 1);

    // Bad aggregate queries name their parameters too.
    let (status, answer) = stack
        .get(
            "/api/v1/aggregates?indicator=no_such_thing&area=5&period=2018Q5",
            &admin,
        )
        .await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(fields(&answer), ["area", "period"]);
    let (status, answer) = stack
        .get(
            "/api/v1/aggregates?indicator=no_such_thing&area=51&period=2018",
            &admin,
        )
        .await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(fields(&answer), ["indicator"]);
    stack.shutdown().await;
}

#[tokio::test]
async fn bad_agencies_name_the_field_and_duplicates_conflict() {
    let stack = spawn_stack().await;
    let (admin, _) = register_quang_ngai(&stack).await;

    let (status, answer) = stack
        .post(
            "/api/v1/agencies",
            Some(&admin),
            &json!({"code": "000.00.15.H51", "name": "Sở Thông tin và Truyền thông", "kind": "department", "parent_code": "000.00.00.H51"}),
        )
        .await;
    assert_eq!(status, 409, "{answer}");
    assert_eq!(answer["code"], "already_exists");

    let (status, answer) = stack
        .post(
            "/api/v1/agencies",
            Some(&admin),
            &json!({"code": "51", "name": " ", "kind": "department", "parent_code": "000.00.00.H51"}),
        )
        .await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(fields(&answer), ["code", "name"]);

    let (status, answer) = stack
        .post(
            "/api/v1/agencies",
            Some(&admin),
            &json!({"code": "000.00.30.H51", "admin_unit_code": "52401", "name": "UBND xã Bình Thạnh", "kind": "commune_committee", "parent_code": "000.00.15.H51"}),
        )
        .await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(fields(&answer), ["parent_code"]);

    let (status, answer) = stack
        .post(
            "/api/v1/agencies",
            Some(&admin),
            &json!({"code": "000.00.31.H51", "name": "X", "kind": "ministry"}),
        )
        .await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(fields(&answer), ["kind"]);
    stack.shutdown().await;
}

/// Free text (review comments, revision and unlock reasons) keeps what the
/// officer typed, line breaks and all, but refuses control characters,
/// which nothing shows and which break logs and exports; the error names
/// the field as the client sent it.
#[tokio::test]
async fn free_text_refuses_control_characters_and_names_the_field() {
    let stack = spawn_stack().await;
    let (admin, credentials) = register_quang_ngai(&stack).await;
    let agency = stack.token(&credentials[0].1, &credentials[0].2).await;
    let (status, report) = stack
        .post(
            "/api/v1/reports",
            Some(&agency),
            &crate::documents_report(120, 114),
        )
        .await;
    assert_eq!(status, 201, "{report}");
    let id = report["id"].as_str().unwrap().to_owned();

    let (status, body) = stack
        .post(
            &format!("/api/v1/reports/{id}/return"),
            Some(&admin),
            &json!({"comment": "Thiếu số liệu\u{0007}"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(fields(&body), ["comment"], "{body}");
    let (status, body) = stack
        .post(
            &format!("/api/v1/reports/{id}/revise"),
            Some(&agency),
            &json!({"reason": "Sửa\u{0000}"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(fields(&body), ["reason"], "{body}");
    let until = (chrono::Utc::now() + chrono::Duration::days(2)).to_rfc3339();
    let unlock = |reason: &str| {
        json!({"form": "it_fast_quarterly", "period": crate::this_quarter(),
               "agency_code": credentials[0].0, "reason": reason, "until": until})
    };
    let (status, body) = stack
        .post(
            "/api/v1/unlocks",
            Some(&admin),
            &unlock("Bổ sung\u{001B}[31m"),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(fields(&body), ["reason"], "{body}");

    // Nothing was changed by the refusals; the same texts without the
    // control characters go through and are kept as typed.
    let (status, body) = stack.get(&format!("/api/v1/reports/{id}"), &admin).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "submitted", "{body}");
    let (status, body) = stack
        .post(
            &format!("/api/v1/reports/{id}/return"),
            Some(&admin),
            &json!({"comment": "Thiếu số liệu\nxem lại mục 2"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "returned", "{body}");
    assert_eq!(
        body["review"]["comment"], "Thiếu số liệu\nxem lại mục 2",
        "{body}"
    );
}
