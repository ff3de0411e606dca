//! Importing an agency list from CSV: a dry run that stores nothing, every bad
//! row named, and an all-or-nothing commit.

use chiso_tests::{TestStack, spawn_stack};
use serde_json::{Value, json};

use crate::{
    registry_credentials::officer,
    registry_history::{fields, message, pluck},
};

/// The demo province `chiso up` loads: Quảng Bình, 41 agencies.
const QUANG_BINH: &str = include_str!("../../crates/chiso/demo/quang-binh.csv");

/// `POST /api/v1/agencies/import` with a CSV body.
async fn import(stack: &TestStack, token: &str, csv: &str, dry_run: bool) -> (u16, Value) {
    let response = stack
        .http
        .post(format!(
            "{}/api/v1/agencies/import?dry_run={dry_run}",
            stack.gateway_url
        ))
        .bearer_auth(token)
        .header("content-type", "text/csv; charset=utf-8")
        .body(csv.to_owned())
        .send()
        .await
        .expect("gateway unreachable");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON answer"))
}

#[tokio::test]
async fn the_demo_province_imports_in_one_go() {
    let stack = spawn_stack().await;
    let admin = stack.admin_token().await;

    let (status, dry) = import(&stack, &admin, QUANG_BINH, true).await;
    assert_eq!(status, 200, "{dry}");
    assert_eq!(dry["rows"], 41);
    assert_eq!(dry["committed"], false);
    assert_eq!(dry["errors"], json!([]));
    assert_eq!(dry["created"].as_array().unwrap().len(), 41);
    assert_eq!(dry["created"][0]["name"], "UBND tỉnh Quảng Bình");
    let (_, stored) = stack
        .get("/api/v1/agencies?include_inactive=true", &admin)
        .await;
    assert_eq!(stored, json!([]), "a dry run stores nothing");

    let (status, done) = import(&stack, &admin, QUANG_BINH, false).await;
    assert_eq!(status, 201, "{done}");
    assert_eq!(done["committed"], true);
    assert_eq!(done["created"].as_array().unwrap().len(), 41);
    for (kind, count) in [
        ("provincial_committee", 1),
        ("department", 21),
        ("district_committee", 8),
        ("commune_committee", 11),
    ] {
        let (_, listed) = stack
            .get(
                &format!("/api/v1/agencies?province=44&kind={kind}&as_of=2024-12-31"),
                &admin,
            )
            .await;
        assert_eq!(listed.as_array().unwrap().len(), count, "{kind}");
    }
    let (_, tree) = stack
        .get(
            "/api/v1/agencies/000.00.31.H44/subtree?as_of=2024-12-31",
            &admin,
        )
        .await;
    assert_eq!(tree.as_array().unwrap().len(), 6, "{tree}");
    let (_, found) = stack
        .get("/api/v1/agencies?q=dong%20hoi&as_of=2024-12-31", &admin)
        .await;
    assert!(
        pluck(&found, "name").iter().any(|n| n.contains("Đồng Hới")),
        "{found}"
    );

    // Importing the same list again: every code is taken, so 409 and nothing more.
    let (status, again) = import(&stack, &admin, QUANG_BINH, false).await;
    assert_eq!(status, 409, "{again}");
    assert_eq!(again["code"], "already_exists");
    assert!(fields(&again).contains(&"lines[2].code"));
    assert!(fields(&again).contains(&"lines[42].code"));
    stack.shutdown().await;
}

const BAD: &str = "\
code,admin_unit_code,name,name_en,kind,parent_code,valid_from
000.00.15.H51,,Sở Thông tin và Truyền thông,,department,000.00.00.H51,2008-04-01
000.00.00.H51,51,Tỉnh Quảng Ngãi,Quang Ngai Province,provincial_committee,,1989-07-01
000.00.16.H51,,Sở Tài chính,,ministry,000.00.00.H51,
00.00.17.H51,,Sở Y tế,,department,000.00.00.H51,
000.00.24.H51,524,UBND huyện Bình Sơn,,district_committee,000.00.00.H51,1989-07-01
000.01.24.H51,20998,UBND xã Bình Thạnh,,commune_committee,000.00.15.H51,1989-07-01
000.00.15.H51,,Sở Thông tin,,department,000.00.00.H51,
000.02.24.H51,21001,UBND xã Bình Chánh,,commune_committee,000.00.99.H51,
000.03.24.H51,21004,UBND xã Bình Hiệp,commune_committee
000.04.24.H51,21007,UBND xã Bình Dương,,commune_committee,000.00.24.H51,1980-01-01
";

#[tokio::test]
async fn every_bad_row_is_named_and_nothing_is_stored() {
    let stack = spawn_stack().await;
    let admin = stack.admin_token().await;
    let expected = [
        "lines[4].kind",
        "lines[5].code",
        "lines[7].parent_code",
        "lines[8].code",
        "lines[9].parent_code",
        "lines[10]",
        "lines[11].valid_from",
    ];

    let (status, dry) = import(&stack, &admin, BAD, true).await;
    assert_eq!(status, 200, "{dry}");
    assert_eq!(dry["rows"], 10);
    assert_eq!(dry["committed"], false);
    assert_eq!(pluck(&dry["errors"], "field"), expected);
    let lines: Vec<i64> = dry["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["line"].as_i64().unwrap())
        .collect();
    assert_eq!(lines, [4, 5, 7, 8, 9, 10, 11]);
    // Parents may come later in the file than their children.
    assert_eq!(
        pluck(&dry["created"], "code"),
        ["000.00.15.H51", "000.00.00.H51", "000.00.24.H51"]
    );

    let (status, answer) = import(&stack, &admin, BAD, false).await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(fields(&answer), expected);
    for (field, says) in [
        ("lines[4].kind", "not an agency kind"),
        ("lines[5].code", "NNN.NN.NN.XNN"),
        (
            "lines[7].parent_code",
            "a commune_committee cannot sit under a department",
        ),
        ("lines[8].code", "already on line 2"),
        ("lines[9].parent_code", "no agency has code 000.00.99.H51"),
        ("lines[10]", "has 4 cells but the header has 7"),
        ("lines[11].valid_from", "before the parent 000.00.24.H51"),
    ] {
        assert!(message(&answer, field).contains(says), "{field}: {answer}");
    }
    let (_, stored) = stack
        .get("/api/v1/agencies?include_inactive=true", &admin)
        .await;
    assert_eq!(stored, json!([]), "nothing of a failed import is stored");

    // Officers import into their own province only.
    let roots = "code,admin_unit_code,name,kind\n\
                 000.00.00.H51,51,Tỉnh Quảng Ngãi,provincial_committee\n\
                 000.00.00.H62,62,UBND tỉnh Kon Tum,provincial_committee\n";
    let (status, body) = import(&stack, &admin, roots, false).await;
    assert_eq!(status, 201, "{body}");
    let (id, secret) = officer(&stack, &admin, "51").await;
    let officer51 = stack.token(&id, &secret).await;
    let ours = "code,name,kind,parent_code\n000.00.16.H51,Sở Tài chính,department,000.00.00.H51\n";
    let (status, body) = import(&stack, &officer51, ours, false).await;
    assert_eq!(status, 201, "{body}");
    let theirs =
        "code,name,kind,parent_code\n000.00.16.H62,Sở Tài chính,department,000.00.00.H62\n";
    let (status, body) = import(&stack, &officer51, theirs, false).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["code"], "permission_denied");

    // A file that is not an agency list at all.
    let (status, answer) = import(&stack, &admin, "mã,tên\n1,2\n", false).await;
    assert_eq!(status, 422, "{answer}");
    assert!(fields(&answer).iter().all(|f| *f == "lines[1]"), "{answer}");
    stack.shutdown().await;
}
