//! WatchAgencies: every change to the tree in order, live, resumable from a
//! sequence number, each carrying the agency's whole history.

use std::{collections::BTreeMap, time::Duration};

use chiso_runtime::grpc::with_bearer;
use chiso_tests::{
    TestStack,
    proto::registry::v1::{
        AgencyChange, WatchAgenciesRequest, agency_service_client::AgencyServiceClient,
    },
    spawn_stack,
};
use serde_json::json;
use tonic::Streaming;

use crate::{registry_credentials::agency_credentials, registry_history::two_provinces};

async fn watch(stack: &TestStack, token: &str, after_seq: i64) -> Streaming<AgencyChange> {
    AgencyServiceClient::new(stack.channel(stack.registry_addr))
        .watch_agencies(with_bearer(WatchAgenciesRequest { after_seq }, token).unwrap())
        .await
        .expect("the feed opens")
        .into_inner()
}

/// The next `n` changes, failing if they take more than a few seconds.
async fn next(stream: &mut Streaming<AgencyChange>, n: usize) -> Vec<AgencyChange> {
    let mut out = Vec::new();
    for _ in 0..n {
        let change = tokio::time::timeout(Duration::from_secs(5), stream.message())
            .await
            .expect("a change within 5 s")
            .expect("a healthy stream")
            .expect("an open stream");
        out.push(change);
    }
    out
}

fn seq_and_code(changes: &[AgencyChange]) -> Vec<(i64, &str)> {
    changes
        .iter()
        .map(|c| (c.seq, c.agency.as_ref().unwrap().code.as_str()))
        .collect()
}

#[tokio::test]
async fn the_agency_feed_replays_follows_and_resumes() {
    let stack = spawn_stack().await;
    let admin = two_provinces(&stack).await;
    let token = stack
        .grpc_token(&stack.admin_client_id, &stack.admin_secret)
        .await;

    // Everything registered so far, in order, one version each.
    let mut live = watch(&stack, &token, 0).await;
    let registered = next(&mut live, 9).await;
    assert_eq!(
        registered.iter().map(|c| c.seq).collect::<Vec<_>>(),
        (1..=9).collect::<Vec<_>>()
    );
    assert_eq!(
        registered[0].agency.as_ref().unwrap().name,
        "Tỉnh Quảng Ngãi"
    );
    assert!(registered.iter().all(|c| c.versions.len() == 1));

    // A reorganisation arrives live: one change per agency it touched.
    let (status, body) = stack
        .post(
            "/api/v1/agencies/reorganisations",
            Some(&admin),
            &json!({
                "effective_date": "2025-07-01", "legal_basis": "Nghị quyết 202/2025/QH15",
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
    let changes = next(&mut live, 7).await;
    assert_eq!(
        seq_and_code(&changes),
        [
            (10, "000.00.00.H62"),
            (11, "000.00.15.H62"),
            (12, "000.00.23.H62"),
            (13, "000.00.24.H51"),
            (14, "000.01.23.H62"),
            (15, "000.01.24.H51"),
            (16, "000.02.24.H51"),
        ]
    );
    let kon_tum = &changes[0];
    assert_eq!(kon_tum.agency.as_ref().unwrap().valid_to, "2025-07-01");
    // Each change carries the agency's whole history, the old span included.
    let township = &changes[4];
    let spans: Vec<(&str, &str, &str)> = township
        .versions
        .iter()
        .map(|v| {
            (
                v.province_code.as_str(),
                v.valid_from.as_str(),
                v.valid_to.as_str(),
            )
        })
        .collect();
    assert_eq!(
        spans,
        [("62", "1994-03-07", "2025-07-01"), ("51", "2025-07-01", "")]
    );
    assert_eq!(township.versions[1].legal_basis, "Nghị quyết 202/2025/QH15");

    // A refused reorganisation leaves no trace: the next change is 17.
    let (status, error) = stack
        .post(
            "/api/v1/agencies/reorganisations",
            Some(&admin),
            &json!({"effective_date": "2025-08-01", "legal_basis": "Quyết định 1",
                    "operations": [{"type": "dissolve", "code": "000.00.00.H51"}]}),
        )
        .await;
    assert_eq!(status, 422, "{error}");
    assert_eq!(error["code"], "invalid_argument");
    assert_eq!(
        crate::registry_history::fields(&error),
        ["operations[0].code"]
    );
    let (status, _) = stack
        .post(
            "/api/v1/agencies",
            Some(&admin),
            &json!({"code": "000.00.16.H51", "name": "Sở Tài chính", "kind": "department",
                    "parent_code": "000.00.00.H51", "valid_from": "2025-07-01"}),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(
        seq_and_code(&next(&mut live, 1).await),
        [(17, "000.00.16.H51")]
    );

    // A consumer that stopped after 12 resumes with 13.
    let mut resumed = watch(&stack, &token, 12).await;
    let rest = next(&mut resumed, 5).await;
    assert_eq!(
        rest.iter().map(|c| c.seq).collect::<Vec<_>>(),
        [13, 14, 15, 16, 17]
    );

    // Applying every change rebuilds the tree as it is now.
    let mut replay = watch(&stack, &token, 0).await;
    let mut tree: BTreeMap<String, (String, String, String, String)> = BTreeMap::new();
    for change in next(&mut replay, 17).await {
        let a = change.agency.unwrap();
        tree.insert(
            a.code.clone(),
            (a.name, a.parent_code, a.province_code, a.valid_to),
        );
    }
    let (_, latest) = stack
        .get("/api/v1/agencies?include_inactive=true", &admin)
        .await;
    let expected: BTreeMap<String, (String, String, String, String)> = latest
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let s = |k: &str| a[k].as_str().unwrap_or("").to_owned();
            (
                s("code"),
                (
                    s("name"),
                    s("parent_code"),
                    s("province_code"),
                    s("valid_to"),
                ),
            )
        })
        .collect();
    assert_eq!(tree, expected);

    // The same changes a page at a time over REST, for clients that poll.
    let (status, page) = stack
        .get("/api/v1/agencies/changes?after_seq=15&limit=10", &admin)
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["head_seq"], 17);
    let polled: Vec<(i64, &str)> = page["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["seq"].as_i64().unwrap(),
                c["agency"]["code"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(polled, [(16, "000.02.24.H51"), (17, "000.00.16.H51")]);
    assert_eq!(
        page["changes"][0]["versions"][1],
        json!({"name": "UBND xã Bình Chánh", "parent_code": "000.00.00.H51", "province_code": "51",
               "valid_from": "2025-07-01", "reorganisation_id": body["id"],
               "legal_basis": "Nghị quyết 202/2025/QH15"})
    );
    let (status, page) = stack
        .get("/api/v1/agencies/changes?after_seq=-1&limit=5000", &admin)
        .await;
    assert_eq!(status, 422, "{page}");
    assert_eq!(
        crate::registry_history::fields(&page),
        ["after_seq", "limit"]
    );

    // Agencies do not follow the feed.
    let (id, secret) = agency_credentials(&stack, &admin, "000.00.16.H51").await;
    let agency = stack.grpc_token(&id, &secret).await;
    let status = AgencyServiceClient::new(stack.channel(stack.registry_addr))
        .watch_agencies(with_bearer(WatchAgenciesRequest { after_seq: 0 }, &agency).unwrap())
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::PermissionDenied);
    let (status, error) = stack.get("/api/v1/agencies/changes", &agency).await;
    assert_eq!(status, 403, "{error}");
    assert_eq!(error["code"], "permission_denied");
    stack.shutdown().await;
}
