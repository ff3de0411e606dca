//! Validity over time: reorganisations keep history, and every get, list and
//! subtree can be asked "as of" a date on either side of them.

use chiso_runtime::{error::field_violations, grpc::with_bearer};
use chiso_tests::{
    TestStack,
    proto::registry::v1::{GetAgencyRequest, agency_service_client::AgencyServiceClient},
    spawn_stack,
};
use serde_json::{Value, json};

use crate::register_quang_ngai;

const REFORM: &str = "Nghị quyết 202/2025/QH15";

/// The `field` of every violation in an error body.
pub fn fields(body: &Value) -> Vec<&str> {
    body["errors"]
        .as_array()
        .map(|f| f.iter().map(|v| v["field"].as_str().unwrap()).collect())
        .unwrap_or_default()
}

/// The message of the violation of `field`.
pub fn message<'a>(body: &'a Value, field: &str) -> &'a str {
    body["errors"]
        .as_array()
        .and_then(|f| f.iter().find(|v| v["field"] == field))
        .and_then(|v| v["detail"].as_str())
        .unwrap_or_else(|| panic!("no violation of {field} in {body}"))
}

/// `key` of every element of a JSON array.
pub fn pluck<'a>(body: &'a Value, key: &str) -> Vec<&'a str> {
    body.as_array()
        .unwrap_or_else(|| panic!("not an array: {body}"))
        .iter()
        .map(|v| v[key].as_str().unwrap_or_else(|| panic!("no {key} in {v}")))
        .collect()
}

/// Registers agencies over REST as `token`, checking each is created.
pub async fn create_all(stack: &TestStack, token: &str, agencies: &[Value]) {
    for agency in agencies {
        let (status, body) = stack.post("/api/v1/agencies", Some(token), agency).await;
        assert_eq!(status, 201, "{agency} -> {body}");
    }
}

/// Quảng Ngãi (51) with Bình Sơn's two communes, and Kon Tum (62) with a
/// department, a district and a township.
pub async fn two_provinces(stack: &TestStack) -> String {
    let (admin, _) = register_quang_ngai(stack).await;
    create_all(
        stack,
        &admin,
        &[
            json!({"code": "000.01.24.H51", "admin_unit_code": "20998", "name": "UBND xã Bình Thạnh",
                   "kind": "commune_committee", "parent_code": "000.00.24.H51", "valid_from": "1989-07-01"}),
            json!({"code": "000.02.24.H51", "admin_unit_code": "21001", "name": "UBND xã Bình Chánh",
                   "kind": "commune_committee", "parent_code": "000.00.24.H51", "valid_from": "1989-07-01"}),
            json!({"code": "000.00.00.H62", "admin_unit_code": "62", "name": "UBND tỉnh Kon Tum",
                   "name_en": "Kon Tum Provincial People's Committee",
                   "kind": "provincial_committee", "valid_from": "1991-08-12"}),
            json!({"code": "000.00.15.H62", "name": "Sở Thông tin và Truyền thông", "kind": "department",
                   "parent_code": "000.00.00.H62", "valid_from": "2008-04-01"}),
            json!({"code": "000.00.23.H62", "admin_unit_code": "613", "name": "UBND huyện Đắk Hà",
                   "kind": "district_committee", "parent_code": "000.00.00.H62", "valid_from": "1994-03-07"}),
            json!({"code": "000.01.23.H62", "admin_unit_code": "23368", "name": "UBND thị trấn Đắk Hà",
                   "kind": "commune_committee", "parent_code": "000.00.23.H62", "valid_from": "1994-03-07"}),
        ],
    )
    .await;
    admin
}

#[tokio::test]
async fn provinces_merge_and_a_district_is_abolished_without_rewriting_history() {
    let stack = spawn_stack().await;
    let admin = two_provinces(&stack).await;

    // 1 July 2025: Kon Tum merges into Quảng Ngãi, which survives; Bình Sơn
    // district is abolished and its communes move directly under the province.
    let (status, body) = stack
        .post(
            "/api/v1/agencies/reorganisations",
            Some(&admin),
            &json!({
                "effective_date": "2025-07-01",
                "legal_basis": REFORM,
                "note": "sắp xếp đơn vị hành chính",
                "operations": [
                    {"type": "merge", "source_codes": ["000.00.00.H62"], "into": {"existing_code": "000.00.00.H51"}},
                    {"type": "move", "code": "000.01.24.H51", "parent_code": "000.00.00.H51"},
                    {"type": "move", "code": "000.02.24.H51", "parent_code": "000.00.00.H51"},
                    {"type": "dissolve", "code": "000.00.24.H51"},
                ],
            }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["effective_date"], "2025-07-01");
    assert_eq!(body["legal_basis"], REFORM);
    assert_eq!(body["recorded_by"], "admin");
    assert_eq!(pluck(&body["created"], "code"), Vec::<&str>::new());
    assert_eq!(
        pluck(&body["retired"], "code"),
        ["000.00.00.H62", "000.00.24.H51"]
    );
    assert_eq!(pluck(&body["retired"], "valid_to"), ["2025-07-01"; 2]);
    assert_eq!(
        pluck(&body["changed"], "code"),
        [
            "000.00.15.H62",
            "000.00.23.H62",
            "000.01.23.H62",
            "000.01.24.H51",
            "000.02.24.H51"
        ]
    );
    assert_eq!(pluck(&body["changed"], "province_code"), ["51"; 5]);
    assert_eq!(
        body["links"],
        json!([{"predecessor_code": "000.00.00.H62", "successor_code": "000.00.00.H51", "kind": "merge",
                "effective_date": "2025-07-01", "legal_basis": REFORM, "reorganisation_id": body["id"]}])
    );

    // The day before: two provinces, Bình Sơn with its communes.
    let (status, before) = stack
        .get("/api/v1/agencies?province=62&as_of=2025-06-30", &admin)
        .await;
    assert_eq!(status, 200, "{before}");
    assert_eq!(
        pluck(&before, "name"),
        [
            "Sở Thông tin và Truyền thông",
            "UBND huyện Đắk Hà",
            "UBND thị trấn Đắk Hà",
            "UBND tỉnh Kon Tum"
        ]
    );
    let (_, tree) = stack
        .get(
            "/api/v1/agencies/000.00.00.H51/subtree?as_of=2025-06-30",
            &admin,
        )
        .await;
    assert_eq!(
        depths(&tree),
        [
            ("000.00.00.H51", 0),
            ("000.00.15.H51", 1),
            ("000.00.24.H51", 1),
            ("000.02.24.H51", 2),
            ("000.01.24.H51", 2),
        ]
    );

    // From the effective date: one province holding both trees, no district between
    // Quảng Ngãi and Bình Sơn's communes, Kon Tum's township now in province 51.
    let (_, after) = stack
        .get("/api/v1/agencies?province=62&as_of=2025-07-01", &admin)
        .await;
    assert_eq!(after, json!([]));
    let (_, tree) = stack
        .get(
            "/api/v1/agencies/000.00.00.H51/subtree?as_of=2025-07-01",
            &admin,
        )
        .await;
    assert_eq!(
        depths(&tree),
        [
            ("000.00.00.H51", 0),
            ("000.00.15.H51", 1),
            ("000.00.15.H62", 1),
            ("000.00.23.H62", 1),
            ("000.01.23.H62", 2),
            ("000.02.24.H51", 1),
            ("000.01.24.H51", 1),
        ]
    );
    let (_, listed) = stack
        .get("/api/v1/agencies?province=51&as_of=2025-07-01", &admin)
        .await;
    assert_eq!(listed.as_array().unwrap().len(), 7, "{listed}");

    // One agency on either side of the date.
    let (_, commune) = stack
        .get("/api/v1/agencies/000.01.24.H51?as_of=2025-06-30", &admin)
        .await;
    assert_eq!(commune["parent_code"], "000.00.24.H51");
    let (_, commune) = stack
        .get("/api/v1/agencies/000.01.24.H51?as_of=2025-07-01", &admin)
        .await;
    assert_eq!(commune["parent_code"], "000.00.00.H51");
    let (_, township) = stack
        .get("/api/v1/agencies/000.01.23.H62?as_of=2025-06-30", &admin)
        .await;
    assert_eq!(
        (&township["province_code"], &township["parent_code"]),
        (&json!("62"), &json!("000.00.23.H62"))
    );
    let (_, township) = stack
        .get("/api/v1/agencies/000.01.23.H62?as_of=2025-07-01", &admin)
        .await;
    assert_eq!(township["province_code"], "51");

    // Retired agencies: gone from the date on, their record kept.
    let (status, gone) = stack
        .get("/api/v1/agencies/000.00.00.H62?as_of=2025-07-01", &admin)
        .await;
    assert_eq!(status, 404, "{gone}");
    assert_eq!(gone["code"], "not_found");
    assert!(
        gone["detail"]
            .as_str()
            .unwrap()
            .contains("until 2025-07-01"),
        "{gone}"
    );
    let (status, record) = stack.get("/api/v1/agencies/000.00.00.H62", &admin).await;
    assert_eq!(status, 200);
    assert_eq!(record["valid_from"], "1991-08-12");
    assert_eq!(record["valid_to"], "2025-07-01");
    let (status, error) = stack
        .get("/api/v1/agencies/000.00.24.H51?as_of=2025-07-01", &admin)
        .await;
    assert_eq!(status, 404, "{error}");
    assert_eq!(error["code"], "not_found");
    let (_, all) = stack
        .get("/api/v1/agencies?province=62&include_inactive=true", &admin)
        .await;
    assert_eq!(pluck(&all, "code"), ["000.00.00.H62"]);
    assert_eq!(pluck(&all, "valid_to"), ["2025-07-01"]);

    // Lineage both ways, and each agency's own history.
    let (status, lineage) = stack
        .get("/api/v1/agencies/000.00.00.H51/lineage", &admin)
        .await;
    assert_eq!(status, 200, "{lineage}");
    assert_eq!(
        pluck(&lineage["predecessors"], "predecessor_code"),
        ["000.00.00.H62"]
    );
    assert_eq!(lineage["successors"], json!([]));
    assert_eq!(pluck(&lineage["related"], "name"), ["UBND tỉnh Kon Tum"]);
    let (_, lineage) = stack
        .get("/api/v1/agencies/000.00.00.H62/lineage", &admin)
        .await;
    assert_eq!(
        pluck(&lineage["successors"], "successor_code"),
        ["000.00.00.H51"]
    );
    assert_eq!(pluck(&lineage["successors"], "legal_basis"), [REFORM]);
    let (_, lineage) = stack
        .get("/api/v1/agencies/000.01.24.H51/lineage", &admin)
        .await;
    assert_eq!(
        lineage["history"],
        json!([
            {"name": "UBND xã Bình Thạnh", "parent_code": "000.00.24.H51", "province_code": "51",
             "valid_from": "1989-07-01", "valid_to": "2025-07-01"},
            {"name": "UBND xã Bình Thạnh", "parent_code": "000.00.00.H51", "province_code": "51",
             "valid_from": "2025-07-01", "reorganisation_id": body["id"], "legal_basis": REFORM},
        ])
    );

    // Retired codes are never reused.
    let (status, answer) = stack
        .post(
            "/api/v1/agencies",
            Some(&admin),
            &json!({"code": "000.00.00.H62", "admin_unit_code": "62", "name": "UBND tỉnh Kon Tum",
                    "kind": "provincial_committee"}),
        )
        .await;
    assert_eq!(status, 409, "{answer}");
    assert_eq!(answer["code"], "already_exists");
    assert_eq!(fields(&answer), ["code", "admin_unit_code"]);
    assert!(
        message(&answer, "code").contains("retired on 2025-07-01"),
        "{answer}"
    );

    // The same views over gRPC.
    let token = stack
        .grpc_token(&stack.admin_client_id, &stack.admin_secret)
        .await;
    let mut agencies = AgencyServiceClient::new(stack.channel(stack.registry_addr));
    let get = |as_of: &str| {
        with_bearer(
            GetAgencyRequest {
                code: "000.02.24.H51".into(),
                as_of: as_of.into(),
            },
            &token,
        )
        .unwrap()
    };
    let before = agencies
        .get_agency(get("2025-06-30"))
        .await
        .unwrap()
        .into_inner();
    let after = agencies
        .get_agency(get("2025-07-01"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (before.parent_code.as_str(), after.parent_code.as_str()),
        ("000.00.24.H51", "000.00.00.H51")
    );
    let status = agencies.get_agency(get("1989-06-30")).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::NotFound);
    stack.shutdown().await;
}

#[tokio::test]
async fn bad_reorganisations_name_every_problem_and_store_nothing() {
    let stack = spawn_stack().await;
    let admin = two_provinces(&stack).await;
    let reorganise = |operations: Value| json!({"effective_date": "2025-07-01", "legal_basis": REFORM, "operations": operations});

    let (status, answer) = stack
        .post(
            "/api/v1/agencies/reorganisations",
            Some(&admin),
            &reorganise(json!([
                {"type": "move", "code": "000.00.24.H51", "parent_code": "000.01.24.H51"},
                {"type": "move", "code": "000.00.15.H51", "parent_code": "000.00.24.H51"},
                {"type": "rename", "code": "000.00.99.H51", "name": "Sở Khoa học và Công nghệ"},
                {"type": "dissolve", "code": "000.00.24.H51"},
                {"type": "merge", "source_codes": ["000.00.23.H62"], "into": {"existing_code": "000.00.15.H62"}},
                {"type": "split", "code": "000.00.15.H51", "into": [
                    {"new_agency": {"code": "000.00.00.H62", "name": "Sở A", "kind": "department", "parent_code": "000.00.00.H51"}},
                    {"existing_code": "000.00.15.H51"}]},
            ])),
        )
        .await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(
        fields(&answer),
        [
            "operations[0].parent_code",
            "operations[1].parent_code",
            "operations[2].code",
            "operations[3].code",
            "operations[4].source_codes[0]",
            "operations[5].into[0].new_agency.code",
            "operations[5].into[1]",
        ]
    );
    assert!(message(&answer, "operations[0].parent_code").contains("would make a cycle"));
    assert!(
        message(&answer, "operations[1].parent_code")
            .contains("a department cannot sit under a district_committee")
    );
    assert!(message(&answer, "operations[2].code").contains("no agency has code 000.00.99.H51"));
    assert!(message(&answer, "operations[3].code").contains("still has 2 sub-agencies"));
    assert!(
        message(&answer, "operations[4].source_codes[0]")
            .contains("a district_committee cannot merge into a department")
    );
    assert!(message(&answer, "operations[5].into[0].new_agency.code").contains("already used"));
    assert!(message(&answer, "operations[5].into[1]").contains("cannot split into itself"));

    // Dated before the agency existed: the error names effective_date.
    let (status, answer) = stack
        .post(
            "/api/v1/agencies/reorganisations",
            Some(&admin),
            &json!({"effective_date": "2001-01-01", "legal_basis": "Quyết định 1/2001",
                    "operations": [{"type": "rename", "code": "000.00.15.H51", "name": "Sở Bưu chính, Viễn thông"}]}),
        )
        .await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(fields(&answer), ["effective_date"]);
    assert!(
        message(&answer, "effective_date").contains("before 000.00.15.H51"),
        "{answer}"
    );

    // Malformed requests: every field at once.
    let (status, answer) = stack
        .post(
            "/api/v1/agencies/reorganisations",
            Some(&admin),
            &json!({"effective_date": "1/7/2025", "legal_basis": " ", "operations": []}),
        )
        .await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(
        fields(&answer),
        ["effective_date", "legal_basis", "operations"]
    );

    // Nothing was stored: the tree and every history are as before.
    let (_, tree) = stack
        .get(
            "/api/v1/agencies/000.00.00.H51/subtree?as_of=2025-07-01",
            &admin,
        )
        .await;
    assert_eq!(tree.as_array().unwrap().len(), 5, "{tree}");
    for code in ["000.00.24.H51", "000.00.15.H51", "000.00.23.H62"] {
        let (_, lineage) = stack
            .get(&format!("/api/v1/agencies/{code}/lineage"), &admin)
            .await;
        assert_eq!(lineage["history"].as_array().unwrap().len(), 1, "{lineage}");
        assert_eq!(lineage["agency"]["valid_to"], Value::Null);
    }

    // An agency may not reorganise; the same errors come over gRPC as BadRequest details.
    let (_, credentials) = register_more_credentials(&stack, &admin).await;
    let agency = stack.token(&credentials.0, &credentials.1).await;
    let (status, error) = stack
        .post(
            "/api/v1/agencies/reorganisations",
            Some(&agency),
            &reorganise(json!([{"type": "dissolve", "code": "000.02.24.H51"}])),
        )
        .await;
    assert_eq!(status, 403, "{error}");
    assert_eq!(error["code"], "permission_denied");
    let token = stack
        .grpc_token(&stack.admin_client_id, &stack.admin_secret)
        .await;
    let status = AgencyServiceClient::new(stack.channel(stack.registry_addr))
        .get_agency(
            with_bearer(
                GetAgencyRequest {
                    code: "H51".into(),
                    as_of: "2025-13-01".into(),
                },
                &token,
            )
            .unwrap(),
        )
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    let violations: Vec<String> = field_violations(&status)
        .into_iter()
        .map(|(f, _)| f)
        .collect();
    assert_eq!(violations, ["code", "as_of"]);
    stack.shutdown().await;
}

#[tokio::test]
async fn renames_and_splits_keep_each_name_on_its_dates() {
    let stack = spawn_stack().await;
    let admin = two_provinces(&stack).await;
    let (status, body) = stack
        .post(
            "/api/v1/agencies/reorganisations",
            Some(&admin),
            &json!({"effective_date": "2025-03-01", "legal_basis": "Quyết định 475/QĐ-UBND",
                    "operations": [{"type": "rename", "code": "000.00.15.H51", "name": "Sở Khoa học và Công nghệ",
                                    "name_en": "Department of Science and Technology"}]}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        pluck(&body["changed"], "name"),
        ["Sở Khoa học và Công nghệ"]
    );
    for (date, name) in [
        ("2025-02-28", "Sở Thông tin và Truyền thông"),
        ("2025-03-01", "Sở Khoa học và Công nghệ"),
    ] {
        let (_, agency) = stack
            .get(
                &format!("/api/v1/agencies/000.00.15.H51?as_of={date}"),
                &admin,
            )
            .await;
        assert_eq!(agency["name"], name, "{date}");
        let (_, found) = stack
            .get(
                &format!("/api/v1/agencies?q=khoa%20hoc&as_of={date}"),
                &admin,
            )
            .await;
        let expected: Vec<&str> = if date == "2025-03-01" {
            vec!["000.00.15.H51"]
        } else {
            vec![]
        };
        assert_eq!(pluck(&found, "code"), expected, "{date}");
    }

    // Đắk Hà district splits into two new districts; its township goes first.
    let (status, body) = stack
        .post(
            "/api/v1/agencies/reorganisations",
            Some(&admin),
            &json!({"effective_date": "2025-05-01", "legal_basis": "Nghị quyết 1/2025/NQ-UBTVQH15",
                    "operations": [
                        {"type": "move", "code": "000.01.23.H62", "parent_code": "000.00.00.H62"},
                        {"type": "split", "code": "000.00.23.H62", "into": [
                            {"new_agency": {"code": "000.00.27.H62", "admin_unit_code": "617", "name": "UBND huyện Đắk Hà Bắc",
                                            "kind": "district_committee", "parent_code": "000.00.00.H62"}},
                            {"new_agency": {"code": "000.00.28.H62", "admin_unit_code": "618", "name": "UBND huyện Đắk Hà Nam",
                                            "kind": "district_committee", "parent_code": "000.00.00.H62"}}]},
                    ]}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        pluck(&body["created"], "code"),
        ["000.00.27.H62", "000.00.28.H62"]
    );
    assert_eq!(pluck(&body["created"], "valid_from"), ["2025-05-01"; 2]);
    assert_eq!(pluck(&body["retired"], "code"), ["000.00.23.H62"]);
    let (_, lineage) = stack
        .get("/api/v1/agencies/000.00.23.H62/lineage", &admin)
        .await;
    assert_eq!(
        pluck(&lineage["successors"], "successor_code"),
        ["000.00.27.H62", "000.00.28.H62"]
    );
    assert_eq!(pluck(&lineage["successors"], "kind"), ["split"; 2]);
    let (_, lineage) = stack
        .get("/api/v1/agencies/000.00.28.H62/lineage", &admin)
        .await;
    assert_eq!(
        pluck(&lineage["predecessors"], "predecessor_code"),
        ["000.00.23.H62"]
    );
    for (date, expected) in [
        ("2025-04-30", vec!["UBND huyện Đắk Hà"]),
        (
            "2025-05-01",
            vec!["UBND huyện Đắk Hà Bắc", "UBND huyện Đắk Hà Nam"],
        ),
    ] {
        let (_, districts) = stack
            .get(
                &format!("/api/v1/agencies?province=62&level=district&as_of={date}"),
                &admin,
            )
            .await;
        assert_eq!(pluck(&districts, "name"), expected, "{date}");
    }

    // History is written in date order: nothing may be dated before a recorded change.
    let (status, answer) = stack
        .post(
            "/api/v1/agencies/reorganisations",
            Some(&admin),
            &json!({"effective_date": "2025-02-01", "legal_basis": "Quyết định 9/QĐ-UBND",
                    "operations": [{"type": "rename", "code": "000.00.15.H51", "name": "Sở Thông tin"}]}),
        )
        .await;
    assert_eq!(status, 422, "{answer}");
    assert!(
        message(&answer, "effective_date").contains("date order"),
        "{answer}"
    );
    stack.shutdown().await;
}

/// Issues credentials for Bình Chánh and returns (admin token, (client id, secret)).
async fn register_more_credentials(stack: &TestStack, admin: &str) -> (String, (String, String)) {
    let (status, body) = stack
        .post(
            "/api/v1/agencies/000.02.24.H51/credentials",
            Some(admin),
            &json!({}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    (
        admin.to_owned(),
        (
            body["client_id"].as_str().unwrap().to_owned(),
            body["client_secret"].as_str().unwrap().to_owned(),
        ),
    )
}

/// (code, depth) of each node of a subtree answer.
fn depths(tree: &Value) -> Vec<(&str, i64)> {
    tree.as_array()
        .unwrap_or_else(|| panic!("not a subtree: {tree}"))
        .iter()
        .map(|n| {
            (
                n["agency"]["code"].as_str().unwrap(),
                n["depth"].as_i64().unwrap(),
            )
        })
        .collect()
}
