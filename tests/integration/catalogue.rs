//! The catalogue managed through the API: admins create, rename and retire
//! data elements and indicators; an element with reported values keeps its
//! value type; a retired element takes no new values and old reports still
//! show it.

use chiso_tests::spawn_stack;
use serde_json::{Value, json};

use crate::{documents_report, register_quang_ngai};

fn fields(body: &Value) -> Vec<&str> {
    let mut named: Vec<&str> = body["errors"]
        .as_array()
        .map(|f| f.iter().map(|v| v["field"].as_str().unwrap()).collect())
        .unwrap_or_default();
    named.sort_unstable();
    named
}

fn codes(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn admins_manage_the_catalogue_and_history_stays_readable() {
    let stack = spawn_stack().await;
    let (admin, credentials) = register_quang_ngai(&stack).await;
    let agency = stack.token(&credentials[0].1, &credentials[0].2).await;
    let other = stack.token(&credentials[1].1, &credentials[1].2).await;

    // The seed: every element of the plans, with Vietnamese names.
    let (status, elements) = stack.get("/api/v1/data-elements", &agency).await;
    assert_eq!(status, 200, "{elements}");
    assert_eq!(elements.as_array().unwrap().len(), 46);
    let (status, lan) = stack.get("/api/v1/data-elements/has_lan", &agency).await;
    assert_eq!(status, 200, "{lan}");
    assert_eq!(lan["name"], "Cơ quan có mạng nội bộ (LAN)");
    assert_eq!(lan["value_type"], "yes_no");

    // A new element: only an admin may add one, and a bad one is refused whole.
    let printers = json!({"code": "printers", "name": "Số máy in", "name_en": "Printers",
        "description": "Đếm máy in đang sử dụng tại cơ quan.", "category": "technical_infrastructure",
        "value_type": "count", "max": "100000", "unit": "máy"});
    let (status, body) = stack
        .post("/api/v1/data-elements", Some(&agency), &printers)
        .await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = stack
        .post(
            "/api/v1/data-elements",
            Some(&admin),
            &json!({"code": "Printers!", "name": " ", "description": "x",
                    "category": "printing", "value_type": "float"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        fields(&body),
        ["category", "code", "name", "value_type"],
        "{body}"
    );
    let (status, created) = stack
        .post("/api/v1/data-elements", Some(&admin), &printers)
        .await;
    assert!(status == 200 || status == 201, "{status} {created}");
    assert_eq!(created["code"], "printers");
    assert_eq!(created["max"], "100000");
    let (status, again) = stack
        .post("/api/v1/data-elements", Some(&admin), &printers)
        .await;
    assert_eq!(status, 409, "a code is taken once: {again}");

    // An indicator over it; one over an unknown element is refused.
    let (status, body) = stack
        .post(
            "/api/v1/indicators",
            Some(&admin),
            &json!({"code": "printers_per_official", "name": "Số máy in/cán bộ",
                    "numerator": "printerz", "denominator": "officials", "factor": 1,
                    "decimals": 2, "unit": "máy/người", "category": "technical_infrastructure",
                    "higher_is_better": true}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(fields(&body), ["numerator"], "{body}");
    assert!(body.to_string().contains("printerz"), "{body}");
    let (status, body) = stack
        .post(
            "/api/v1/indicators",
            Some(&admin),
            &json!({"code": "printers_per_official", "name": "Số máy in/cán bộ",
                    "numerator": "printers", "denominator": "officials", "factor": 1,
                    "decimals": 2, "unit": "máy/người", "category": "technical_infrastructure",
                    "higher_is_better": true}),
        )
        .await;
    assert!(status == 200 || status == 201, "{status} {body}");

    // A report holds values of online_meetings: its type stays, its name may change.
    let (status, report) = stack
        .post(
            "/api/v1/reports",
            Some(&agency),
            &documents_report(120, 114),
        )
        .await;
    assert_eq!(status, 201, "{report}");
    let meetings = |value_type: &str, name: &str| {
        json!({"name": name, "description": "Số cuộc họp trực tuyến cơ quan chủ trì trong kỳ.",
               "category": "internal_use", "value_type": value_type, "decimals": if value_type == "decimal" { json!(1) } else { Value::Null },
               "unit": "cuộc"})
    };
    let (status, body) = stack
        .put(
            "/api/v1/data-elements/online_meetings",
            &admin,
            &meetings("decimal", "Số cuộc họp trực tuyến"),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(fields(&body), ["value_type"], "{body}");
    assert!(body.to_string().contains("value type"), "{body}");
    let (status, body) = stack
        .put(
            "/api/v1/data-elements/online_meetings",
            &admin,
            &meetings("count", "Số cuộc họp trực tuyến đã tổ chức"),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["name"], "Số cuộc họp trực tuyến đã tổ chức");

    // Retired: gone from the default list, refused in new reports, still in old ones.
    let (status, body) = stack
        .post(
            "/api/v1/data-elements/online_meetings/retire",
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["retired"], true);
    let (_, listed) = stack.get("/api/v1/data-elements", &admin).await;
    assert!(!codes(&listed).contains(&"online_meetings"));
    assert!(codes(&listed).contains(&"printers"));
    let (_, all) = stack
        .get("/api/v1/data-elements?include_retired=true", &admin)
        .await;
    assert!(codes(&all).contains(&"online_meetings"));
    let (status, body) = stack
        .post("/api/v1/reports", Some(&other), &documents_report(380, 266))
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(fields(&body), ["values[5].data_element"], "{body}");
    assert!(body.to_string().contains("retired"), "{body}");
    // Without it the report goes through: a retired element is asked for no more.
    let mut without = documents_report(380, 266);
    without["values"].as_array_mut().unwrap().pop();
    let (status, body) = stack.post("/api/v1/reports", Some(&other), &without).await;
    assert_eq!(status, 201, "{body}");
    let id = report["id"].as_str().unwrap();
    let (status, old) = stack.get(&format!("/api/v1/reports/{id}"), &agency).await;
    assert_eq!(status, 200, "{old}");
    assert!(
        old["values"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["data_element"] == "online_meetings" && v["value"] == "0"),
        "{old}"
    );
    stack.shutdown().await;
}
