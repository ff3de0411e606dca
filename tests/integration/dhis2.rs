//! The DHIS2 Web API's metadata at DHIS2's own paths: lists with `fields`
//! (nested), `filter` and paging with DHIS2's `pager`, single items,
//! `/api/me` and `/api/system/info`.

use chiso_tests::spawn_stack;
use serde_json::json;

use crate::register_quang_ngai;

#[tokio::test]
async fn dhis2_metadata_lists_filter_page_and_project() {
    let stack = spawn_stack().await;
    let (admin, credentials) = register_quang_ngai(&stack).await;

    let (status, body) = stack
        .get(
            "/api/dataElements?fields=id,valueType,aggregationType&filter=id:in:[documents_sent,has_lan,computers]&paging=false",
            &admin,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let mut got = body["dataElements"].as_array().unwrap().clone();
    got.sort_by_key(|e| e["id"].as_str().unwrap().to_owned());
    assert_eq!(
        got,
        [
            json!({"id": "computers", "valueType": "INTEGER_ZERO_OR_POSITIVE", "aggregationType": "LAST"}),
            json!({"id": "documents_sent", "valueType": "INTEGER_ZERO_OR_POSITIVE", "aggregationType": "SUM"}),
            json!({"id": "has_lan", "valueType": "BOOLEAN", "aggregationType": "LAST"}),
        ]
    );
    assert!(body.get("pager").is_none(), "{body}");

    // Default fields and DHIS2's pager: 46 elements, 10 a page.
    let (status, body) = stack
        .get("/api/dataElements?pageSize=10&page=5", &admin)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["pager"],
        json!({"page": 5, "pageCount": 5, "total": 46, "pageSize": 10})
    );
    let last = body["dataElements"].as_array().unwrap();
    assert_eq!(last.len(), 6);
    let keys: Vec<&String> = last[0].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["displayName", "id"]);

    let (status, body) = stack
        .get("/api/indicators/electronic_document_rate?fields=id,numerator,denominator,indicatorType[factor]", &admin)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"id": "electronic_document_rate", "numerator": "#{documents_sent_electronic}",
               "denominator": "#{documents_sent}", "indicatorType": {"factor": 100}})
    );

    let (status, body) = stack
        .get("/api/dataSets/online_applications_monthly?fields=id,periodType,dataSetElements[dataElement[id]]", &admin)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"id": "online_applications_monthly", "periodType": "Monthly", "dataSetElements": [
            {"dataElement": {"id": "applications_received"}},
            {"dataElement": {"id": "applications_received_online"}}]})
    );

    // The tree: the province at level 1, its department and district at 2.
    let (status, body) = stack
        .get("/api/organisationUnits?fields=id,level,path,parent[id],children[id]&filter=level:eq:2&order=id:asc", &admin)
        .await;
    assert_eq!(status, 200, "{body}");
    let mut units = body["organisationUnits"].as_array().unwrap().clone();
    units.sort_by_key(|u| u["id"].as_str().unwrap().to_owned());
    assert_eq!(
        units,
        [
            json!({"id": "000.00.15.H51", "level": 2, "path": "/000.00.00.H51/000.00.15.H51",
                   "parent": {"id": "000.00.00.H51"}, "children": []}),
            json!({"id": "000.00.24.H51", "level": 2, "path": "/000.00.00.H51/000.00.24.H51",
                   "parent": {"id": "000.00.00.H51"}, "children": []}),
        ]
    );
    let (status, body) = stack
        .get(
            "/api/organisationUnits?filter=displayName:ilike:binh%20son&fields=id,name",
            &admin,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["organisationUnits"],
        json!([{"id": "000.00.24.H51", "name": "UBND huyện Bình Sơn"}])
    );
    let (status, body) = stack
        .get(
            "/api/organisationUnits/000.00.00.H51?fields=id,level,children[id]",
            &admin,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["level"], 1);
    assert_eq!(body["children"].as_array().unwrap().len(), 2);

    // Who is signed in, and what system this is.
    let agency = stack.token(&credentials[0].1, &credentials[0].2).await;
    let (status, body) = stack
        .get("/api/me?fields=id,organisationUnits", &agency)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["organisationUnits"], json!([{"id": "000.00.15.H51"}]));
    // HTTP Basic with the same client credentials, as DHIS2 clients send
    // them; twice (the second answered from the short cache), then a wrong
    // secret.
    let basic = |id: &str, secret: &str| {
        use base64::Engine;
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
        )
    };
    for _ in 0..2 {
        let response = stack
            .http
            .get(format!(
                "{}/api/me?fields=organisationUnits",
                stack.gateway_url
            ))
            .header("authorization", basic(&credentials[0].1, &credentials[0].2))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["organisationUnits"], json!([{"id": "000.00.15.H51"}]));
    }
    let response = stack
        .http
        .get(format!("{}/api/me", stack.gateway_url))
        .header("authorization", basic(&credentials[0].1, "not-the-secret"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let (status, body) = stack.get("/api/system/info", &agency).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["systemName"], "chiso");

    // Analytics: each cell is aggregation's own answer for that unit's subtree.
    for (i, (sent, electronic)) in [(120, 114), (380, 266)].into_iter().enumerate() {
        let token = stack.token(&credentials[i].1, &credentials[i].2).await;
        let (status, body) = stack
            .post(
                "/api/v1/reports",
                Some(&token),
                &crate::documents_report(sent, electronic),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    stack.wait_for_feed(&admin).await;
    let q = crate::this_quarter();
    let (status, body) = stack
        .get(
            &format!("/api/analytics?dimension=dx:electronic_document_rate;documents_sent&dimension=ou:000.00.00.H51;LEVEL-2&filter=pe:{q}"),
            &admin,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["rows"],
        json!([
            ["electronic_document_rate", "000.00.15.H51", "95.0"],
            ["electronic_document_rate", "000.00.24.H51", "70.0"],
            ["documents_sent", "000.00.15.H51", "120"],
            ["documents_sent", "000.00.24.H51", "380"],
        ])
    );
    let names: Vec<&str> = body["headers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["dx", "ou", "value"]);
    assert_eq!((&body["width"], &body["height"]), (&json!(3), &json!(4)));
    assert_eq!(
        body["metaData"]["items"]["000.00.24.H51"]["name"],
        "UBND huyện Bình Sơn"
    );
    let (status, own) = stack.get(&crate::documents_rate_path("51"), &admin).await;
    assert_eq!(status, 200, "{own}");
    let (status, body) = stack
        .get(&format!("/api/analytics?dimension=dx:electronic_document_rate&dimension=pe:{q}&dimension=ou:000.00.00.H51"), &admin)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["rows"],
        json!([[
            "electronic_document_rate",
            q,
            "000.00.00.H51",
            own["value_text"]
        ]])
    );
    assert_eq!(own["value_text"], "76.0");
    let (status, _, csv) = stack
        .get_with_headers(&format!("/api/analytics.csv?dimension=dx:documents_sent&dimension=pe:{q}&dimension=ou:000.00.00.H51"), &admin)
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        csv.as_str().unwrap(),
        format!("Data,Period,Organisation unit,Value\ndocuments_sent,{q},000.00.00.H51,500\n")
    );
    let (status, body) = stack
        .get(
            "/api/analytics?dimension=dx:documents_sent&dimension=pe:2025",
            &admin,
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"][0]["field"], "dimension");

    // Bad parameters are named; an unknown id is a 404.
    let (status, body) = stack
        .get("/api/dataElements?filter=name:sounds:like", &admin)
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"][0]["field"], "filter");
    let (status, body) = stack
        .get("/api/dataElements?fields=id,parent[id", &admin)
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"][0]["field"], "fields");
    let (status, body) = stack.get("/api/dataElements/nope", &admin).await;
    assert_eq!(status, 404, "{body}");
    stack.shutdown().await;
}

/// A DHIS2 data value set: a dry run stores nothing; the import, exported
/// again, gives the same values; each strategy; a conflict per bad value,
/// with nothing stored; a CSV round trip with Excel's semicolons.
#[tokio::test]
async fn dhis2_data_value_sets_import_export_and_strategies() {
    let stack = spawn_stack().await;
    let (admin, _) = register_quang_ngai(&stack).await;
    let q = crate::this_quarter();
    let quick = |unit: &str, sent: i64, electronic: i64| {
        [
            ("documents_sent", sent),
            ("documents_sent_electronic", electronic),
            ("documents_signed_digitally", 0),
            ("documents_to_higher_levels", 0),
            ("documents_to_higher_levels_electronic", 0),
            ("online_meetings", 1),
        ]
        .iter()
        .map(|(de, v)| json!({"dataElement": de, "orgUnit": unit, "value": v.to_string()}))
        .collect::<Vec<_>>()
    };
    let mut values = quick("000.00.15.H51", 120, 114);
    values.extend(quick("000.00.24.H51", 380, 266));
    let set = json!({"dataSet": "it_fast_quarterly", "period": q, "completeDate": "2026-11-22", "dataValues": values});
    let export_path = format!(
        "/api/dataValueSets?dataSet=it_fast_quarterly&period={q}&orgUnit=000.00.00.H51&children=true"
    );

    let (status, body) = stack
        .post("/api/dataValueSets?dryRun=true", Some(&admin), &set)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "SUCCESS");
    assert_eq!(
        body["importCount"],
        json!({"imported": 12, "updated": 0, "ignored": 0, "deleted": 0})
    );
    assert!(
        exported(&stack, &admin, &export_path).await.is_empty(),
        "a dry run stores nothing"
    );

    let (status, body) = stack.post("/api/dataValueSets", Some(&admin), &set).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["importCount"]["imported"], 12);
    let mut sent: Vec<(String, String, String, String)> = set["dataValues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            let s = |k: &str| v[k].as_str().unwrap().to_owned();
            (s("dataElement"), q.clone(), s("orgUnit"), s("value"))
        })
        .collect();
    sent.sort();
    assert_eq!(exported(&stack, &admin, &export_path).await, sent);
    // Submitted (completeDate), so they count: 380 / 500.
    stack.wait_for_feed(&admin).await;
    let (status, body) = stack.get(&crate::documents_rate_path("51"), &admin).await;
    assert_eq!(
        (status, &body["value_text"]),
        (200, &json!("76.0")),
        "{body}"
    );

    // UPDATE changes what exists and ignores what does not.
    let change = |strategy: &str, values: serde_json::Value| {
        let path = format!("/api/dataValueSets?importStrategy={strategy}");
        let body = json!({"dataSet": "it_fast_quarterly", "period": q, "orgUnit": "000.00.15.H51",
                          "completeDate": "2026-11-22", "dataValues": values});
        let (stack, admin) = (&stack, admin.clone());
        async move { stack.post(&path, Some(&admin), &body).await }
    };
    let (status, body) = change(
        "UPDATE",
        json!([{"dataElement": "documents_sent", "value": "130"},
               {"dataElement": "has_electronic_one_stop_shop", "value": "true"}]),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["importCount"],
        json!({"imported": 0, "updated": 1, "ignored": 1, "deleted": 0})
    );
    // CREATE adds what is new and leaves what exists.
    let (status, body) = change(
        "CREATE",
        json!([{"dataElement": "documents_sent", "value": "999"},
               {"dataElement": "has_electronic_one_stop_shop", "value": "true"}]),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["importCount"],
        json!({"imported": 1, "updated": 0, "ignored": 1, "deleted": 0})
    );
    // DELETE removes a value (an optional one: the report still submits).
    let (status, body) = change(
        "DELETE",
        json!([{"dataElement": "has_electronic_one_stop_shop", "value": ""}]),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["importCount"],
        json!({"imported": 0, "updated": 0, "ignored": 0, "deleted": 1})
    );
    let now = exported(&stack, &admin, &export_path).await;
    assert!(
        now.contains(&(
            "documents_sent".into(),
            q.clone(),
            "000.00.15.H51".into(),
            "130".into()
        )),
        "{now:?}"
    );
    assert!(
        !now.iter().any(|v| v.0 == "has_electronic_one_stop_shop"),
        "{now:?}"
    );
    let (status, report) = stack
        .get(
            &format!("/api/v1/reports/by-key/it_fast_quarterly/{q}/000.00.15.H51"),
            &admin,
        )
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        (&report["status"], &report["version"]),
        (&json!("submitted"), &json!(4))
    );

    // A conflict per bad value; nothing stored.
    let (status, body) = change(
        "CREATE_AND_UPDATE",
        json!([{"dataElement": "documents_sent", "value": "-5"},
               {"dataElement": "no_such_element", "value": "1"},
               {"dataElement": "online_meetings", "value": "3", "orgUnit": "000.00.99.H51"}]),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["status"], "ERROR");
    let objects: Vec<&str> = body["conflicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["object"].as_str().unwrap())
        .collect();
    assert_eq!(
        objects,
        ["no_such_element", "000.00.99.H51", "documents_sent"],
        "{body}"
    );
    assert_eq!(body["conflicts"][2]["indexes"], json!([0]));
    assert_eq!(
        exported(&stack, &admin, &export_path).await,
        now,
        "nothing stored"
    );
    // A form that needs the agency's signature is not completed this way.
    let year = &q[..4];
    let (status, body) = stack
        .post(
            "/api/dataValueSets",
            Some(&admin),
            &json!({"dataSet": "it_application_yearly", "period": year, "orgUnit": "000.00.15.H51",
                    "completeDate": "2026-11-22", "dataValues": [{"dataElement": "servers", "value": "2"}]}),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["conflicts"][0]["value"]
            .as_str()
            .unwrap()
            .contains("signature"),
        "{body}"
    );

    // CSV: exported, and imported back as Excel writes it in Vietnam
    // (semicolons, a byte-order mark): every value identical, so ignored.
    let (status, _, csv) = stack
        .get_with_headers(
            &format!(
                "/api/dataValueSets.csv?dataSet=it_fast_quarterly&period={q}&orgUnit=000.00.24.H51"
            ),
            &admin,
        )
        .await;
    assert_eq!(status, 200);
    let semicolons = format!("\u{feff}{}", csv.as_str().unwrap().replace(',', ";"));
    let response = stack
        .http
        .post(format!("{}/api/dataValueSets", stack.gateway_url))
        .bearer_auth(&admin)
        .header("content-type", "application/csv")
        .body(semicolons.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        body["importCount"],
        json!({"imported": 0, "updated": 0, "ignored": 6, "deleted": 0}),
        "{body}"
    );
    // One value changed in the file: updated (into a draft revision, as the
    // CSV carries no completeDate).
    let edited = semicolons.replace(
        &format!("documents_sent;{q};000.00.24.H51;default;default;380"),
        &format!("documents_sent;{q};000.00.24.H51;default;default;390"),
    );
    let response = stack
        .http
        .post(format!("{}/api/dataValueSets.csv", stack.gateway_url))
        .bearer_auth(&admin)
        .body(edited)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        body["importCount"],
        json!({"imported": 0, "updated": 1, "ignored": 5, "deleted": 0}),
        "{body}"
    );
    // With an Idempotency-Key a replay answers the first import's summary.
    let keyed = json!({"dataSet": "it_fast_quarterly", "period": q, "orgUnit": "000.00.24.H51",
                       "dataValues": [{"dataElement": "online_meetings", "value": "4"}]});
    for _ in 0..2 {
        let response = stack
            .http
            .post(format!("{}/api/dataValueSets", stack.gateway_url))
            .bearer_auth(&admin)
            .header("idempotency-key", "import-1")
            .json(&keyed)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["importCount"]["updated"], 1, "{body}");
    }
    // One value at a time, as /api/dataValues takes it.
    let one = |method: reqwest::Method, query: String| {
        let request = stack
            .http
            .request(
                method,
                format!("{}/api/dataValues?{query}", stack.gateway_url),
            )
            .bearer_auth(&admin);
        async move { request.send().await.unwrap() }
    };
    let at = format!("de=online_meetings&pe={q}&ou=000.00.24.H51");
    assert_eq!(
        one(reqwest::Method::POST, format!("{at}&value=5"))
            .await
            .status(),
        204
    );
    let got = one(reqwest::Method::GET, at.clone()).await;
    assert_eq!(got.status(), 200);
    assert_eq!(got.json::<serde_json::Value>().await.unwrap(), json!(["5"]));
    let bad = one(reqwest::Method::POST, format!("pe={q}&value=5")).await;
    assert_eq!(bad.status(), 422);
    let body: serde_json::Value = bad.json().await.unwrap();
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["de", "ou"]);
    stack.shutdown().await;
}

/// Exported values as sorted (element, period, unit, value).
async fn exported(
    stack: &chiso_tests::TestStack,
    admin: &str,
    path: &str,
) -> Vec<(String, String, String, String)> {
    let (status, body) = stack.get(path, admin).await;
    assert_eq!(status, 200, "{body}");
    let mut v: Vec<(String, String, String, String)> = body["dataValues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            let s = |k: &str| v[k].as_str().unwrap().to_owned();
            (s("dataElement"), s("period"), s("orgUnit"), s("value"))
        })
        .collect();
    v.sort();
    v
}

/// Imports arrive in parts and are stored only whole: a body far past the
/// old 2 MB limit imports; a CSV that breaks at its last row, or a gRPC
/// stream that closes before its last part, stores nothing.
#[tokio::test]
async fn dhis2_imports_stream_and_store_only_whole_sets() {
    use chiso_runtime::grpc::with_bearer;
    use chiso_tests::proto::submission::v1::{
        ImportValuesRequest, ImportedValue, report_service_client::ReportServiceClient,
    };

    let stack = spawn_stack().await;
    let (admin, _) = register_quang_ngai(&stack).await;
    let q = crate::this_quarter();
    let export_path = format!(
        "/api/dataValueSets?dataSet=it_fast_quarterly&period={q}&orgUnit=000.00.00.H51&children=true"
    );

    // 3 MB: each value carries a long comment, which DHIS2 clients may send
    // and the import ignores.
    let comment = "ghi chú ".repeat(4_000);
    let values: Vec<serde_json::Value> = (0..100)
        .map(|i| {
            let unit = if i % 2 == 0 {
                "000.00.15.H51"
            } else {
                "000.00.24.H51"
            };
            let element = [
                "documents_sent",
                "documents_sent_electronic",
                "online_meetings",
            ][i % 3];
            json!({"dataElement": element, "orgUnit": unit, "value": "7", "comment": comment})
        })
        .collect();
    let set = json!({"dataValues": values, "dataSet": "it_fast_quarterly", "period": q});
    assert!(set.to_string().len() > 3_000_000);
    let (status, body) = stack.post("/api/dataValueSets", Some(&admin), &set).await;
    // The same element twice for a report is a conflict per repeat: the
    // set is whole, parsed, and judged as one.
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["conflicts"].as_array().unwrap().len(), 94, "{body}");
    assert!(exported(&stack, &admin, &export_path).await.is_empty());
    let distinct: Vec<serde_json::Value> = set["dataValues"].as_array().unwrap()[..6].to_vec();
    let (status, body) = stack
        .post(
            "/api/dataValueSets",
            Some(&admin),
            &json!({"dataValues": distinct, "dataSet": "it_fast_quarterly", "period": q}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["importCount"]["imported"], 6);
    let stored = exported(&stack, &admin, &export_path).await;
    assert_eq!(stored.len(), 6);

    // A CSV whose last row is short: named, and none of its rows stored.
    let mut csv = String::from("dataelement,period,orgunit,catoptcombo,attroptcombo,value\n");
    csv.push_str(&format!("online_meetings,{q},000.00.15.H51,,,99\n"));
    csv.push_str(&format!("documents_sent,{q}\n"));
    let response = stack
        .http
        .post(format!("{}/api/dataValueSets", stack.gateway_url))
        .header("authorization", format!("Bearer {admin}"))
        .header("content-type", "application/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["errors"][0]["field"], "row 3", "{body}");
    assert_eq!(exported(&stack, &admin, &export_path).await, stored);

    // Directly over gRPC: parts without the last one store nothing.
    let mut reports = ReportServiceClient::new(stack.channel(stack.submission_addr));
    let part = |end: bool| ImportValuesRequest {
        form: "it_fast_quarterly".into(),
        default_period: q.clone(),
        values: vec![ImportedValue {
            data_element: "online_meetings".into(),
            agency_code: "000.00.24.H51".into(),
            value: "42".into(),
            ..Default::default()
        }],
        end,
        ..Default::default()
    };
    let cut = reports
        .import_values(with_bearer(futures::stream::iter([part(false)]), &admin).unwrap())
        .await
        .unwrap_err();
    assert_eq!(cut.code(), tonic::Code::InvalidArgument);
    assert!(
        cut.message().contains("ended before its last part"),
        "{cut:?}"
    );
    assert_eq!(exported(&stack, &admin, &export_path).await, stored);
    // Options given twice must agree.
    let mut other = part(true);
    other.form = "online_applications_monthly".into();
    let clash = reports
        .import_values(with_bearer(futures::stream::iter([part(false), other]), &admin).unwrap())
        .await
        .unwrap_err();
    assert_eq!(clash.code(), tonic::Code::InvalidArgument);
    assert!(clash.message().contains("form"), "{clash:?}");
    let whole = reports
        .import_values(
            with_bearer(futures::stream::iter([part(false), part(true)]), &admin).unwrap(),
        )
        .await
        .unwrap()
        .into_inner();
    // The same value in two parts: one report, given twice.
    assert_eq!(whole.status, "ERROR");
    let whole = reports
        .import_values(with_bearer(futures::stream::iter([part(true)]), &admin).unwrap())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(whole.status, "SUCCESS");
    // The district's meetings were 7 (from the set above): now 42.
    assert_eq!(whole.import_count.unwrap().updated, 1);
    let now = exported(&stack, &admin, &export_path).await;
    assert_eq!(now.len(), 6);
    assert!(now.contains(&(
        "online_meetings".into(),
        q.clone(),
        "000.00.24.H51".into(),
        "42".into()
    )));
    stack.shutdown().await;
}
