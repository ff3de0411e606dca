//! WatchAgencies: the tree's changes in order, live, resumable from a
//! sequence number, enough to rebuild the tree.

use std::{collections::BTreeMap, time::Duration};

use chiso_runtime::grpc::with_bearer;
use chiso_tests::{
    TestStack,
    proto::registry::v1::{
        AgencyEvent, AgencyEventKind, WatchAgenciesRequest,
        agency_service_client::AgencyServiceClient,
    },
    spawn_stack,
};
use serde_json::{Value, json};
use tonic::Streaming;

use crate::{
    registry_credentials::agency_credentials,
    registry_history::{pluck, two_provinces},
};

async fn watch(stack: &TestStack, token: &str, after_seq: i64) -> Streaming<AgencyEvent> {
    AgencyServiceClient::new(stack.channel(stack.registry_addr))
        .watch_agencies(with_bearer(WatchAgenciesRequest { after_seq }, token).unwrap())
        .await
        .expect("the feed opens")
        .into_inner()
}

/// The next `n` events, failing if they take more than a few seconds.
async fn next(stream: &mut Streaming<AgencyEvent>, n: usize) -> Vec<AgencyEvent> {
    let mut out = Vec::new();
    for _ in 0..n {
        let event = tokio::time::timeout(Duration::from_secs(5), stream.message())
            .await
            .expect("an event within 5 s")
            .expect("a healthy stream")
            .expect("an open stream");
        out.push(event);
    }
    out
}

fn summary(events: &[AgencyEvent]) -> Vec<(i64, AgencyEventKind, &str)> {
    events
        .iter()
        .map(|e| (e.seq, e.kind(), e.agency.as_ref().unwrap().code.as_str()))
        .collect()
}

#[tokio::test]
async fn the_feed_replays_follows_and_resumes() {
    let stack = spawn_stack().await;
    let admin = two_provinces(&stack).await;
    let token = stack
        .grpc_token(&stack.admin_client_id, &stack.admin_secret)
        .await;

    // Everything registered so far, in order.
    let mut live = watch(&stack, &token, 0).await;
    let created = next(&mut live, 9).await;
    assert_eq!(
        created.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (1..=9).collect::<Vec<_>>()
    );
    assert!(created.iter().all(|e| e.kind() == AgencyEventKind::Created));
    assert_eq!(created[0].agency.as_ref().unwrap().name, "Tỉnh Quảng Ngãi");
    assert_eq!(created[8].agency.as_ref().unwrap().code, "000.01.23.H62");

    // A reorganisation arrives live, in the order it was applied.
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
    let reorganisation_id = body["id"].as_i64().unwrap();
    let changes = next(&mut live, 7).await;
    use AgencyEventKind::{Changed, Retired};
    assert_eq!(
        summary(&changes),
        [
            (10, Changed, "000.00.15.H62"),
            (11, Changed, "000.00.23.H62"),
            (12, Changed, "000.01.23.H62"),
            (13, Retired, "000.00.00.H62"),
            (14, Changed, "000.01.24.H51"),
            (15, Changed, "000.02.24.H51"),
            (16, Retired, "000.00.24.H51"),
        ]
    );
    assert!(
        changes
            .iter()
            .all(|e| e.effective_date == "2025-07-01" && e.reorganisation_id == reorganisation_id)
    );
    let township = changes[2].agency.as_ref().unwrap();
    assert_eq!(
        (township.province_code.as_str(), township.valid_to.as_str()),
        ("51", "")
    );
    let kon_tum = changes[3].agency.as_ref().unwrap();
    assert_eq!(kon_tum.valid_to, "2025-07-01");
    assert_eq!(kon_tum.province_code, "62");

    // A refused reorganisation leaves no trace; the next change is 17.
    let (status, _) = stack
        .post(
            "/api/v1/agencies/reorganisations",
            Some(&admin),
            &json!({"effective_date": "2025-08-01", "legal_basis": "Quyết định 1",
                    "operations": [{"type": "dissolve", "code": "000.00.00.H51"}]}),
        )
        .await;
    assert_eq!(status, 422);
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
        summary(&next(&mut live, 1).await),
        [(17, AgencyEventKind::Created, "000.00.16.H51")]
    );

    // A consumer that stopped after 12 resumes with 13.
    let mut resumed = watch(&stack, &token, 12).await;
    let rest = next(&mut resumed, 5).await;
    assert_eq!(
        rest.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [13, 14, 15, 16, 17]
    );

    // Applying every event rebuilds the tree as it is now.
    let mut replay = watch(&stack, &token, 0).await;
    let mut tree: BTreeMap<String, (String, String, String, String)> = BTreeMap::new();
    for event in next(&mut replay, 17).await {
        let a = event.agency.unwrap();
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

    // The same page over REST, for clients that poll.
    let (status, page) = stack
        .get("/api/v1/agencies/changes?after_seq=15&limit=10", &admin)
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["head_seq"], 17);
    let seqs: Vec<i64> = page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, [16, 17]);
    assert_eq!(pluck(&page["events"], "kind"), ["retired", "created"]);
    assert_eq!(
        page["events"][0]["agency"]["valid_to"],
        Value::from("2025-07-01")
    );

    // Agencies do not follow the feed.
    let (id, secret) = agency_credentials(&stack, &admin, "000.00.16.H51").await;
    let agency = stack.grpc_token(&id, &secret).await;
    let status = AgencyServiceClient::new(stack.channel(stack.registry_addr))
        .watch_agencies(with_bearer(WatchAgenciesRequest { after_seq: 0 }, &agency).unwrap())
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::PermissionDenied);
    stack.shutdown().await;
}
