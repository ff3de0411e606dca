//! Listing agencies: filters, search without diacritics, Vietnamese order and
//! cursor pagination, over REST and gRPC.

use chiso_runtime::grpc::with_bearer;
use chiso_tests::{
    proto::registry::v1::{
        AgencyKind, ListAgenciesRequest, agency_service_client::AgencyServiceClient,
    },
    spawn_stack,
};
use serde_json::json;

use crate::registry_history::{fields, pluck, two_provinces};

#[tokio::test]
async fn filters_and_search_find_the_right_agencies() {
    let stack = spawn_stack().await;
    let admin = two_provinces(&stack).await;
    let names = async |query: &str| {
        let (status, body) = stack
            .get(&format!("/api/v1/agencies?{query}"), &admin)
            .await;
        assert_eq!(status, 200, "{query}: {body}");
        pluck(&body, "name")
            .into_iter()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };

    // "binh son" finds "Bình Sơn"; case and diacritics do not matter either way.
    assert_eq!(names("q=binh%20son").await, ["UBND huyện Bình Sơn"]);
    assert_eq!(
        names("q=B%C3%8CNH").await,
        [
            "UBND huyện Bình Sơn",
            "UBND xã Bình Chánh",
            "UBND xã Bình Thạnh"
        ]
    );
    assert_eq!(names("q=dak%20ha").await.len(), 2);
    // Part of a code; LIKE wildcards in the words match only themselves.
    assert_eq!(
        names("q=h62").await,
        [
            "Sở Thông tin và Truyền thông",
            "UBND huyện Đắk Hà",
            "UBND thị trấn Đắk Hà",
            "UBND tỉnh Kon Tum"
        ]
    );
    assert_eq!(names("q=%25").await, Vec::<String>::new());
    assert_eq!(names("q=_").await, Vec::<String>::new());

    assert_eq!(
        names("kind=commune_committee").await,
        [
            "UBND thị trấn Đắk Hà",
            "UBND xã Bình Chánh",
            "UBND xã Bình Thạnh"
        ]
    );
    assert_eq!(
        names("level=province&province=51").await,
        ["Sở Thông tin và Truyền thông", "Tỉnh Quảng Ngãi"]
    );
    assert_eq!(
        names("subtree=000.00.24.H51").await,
        [
            "UBND huyện Bình Sơn",
            "UBND xã Bình Chánh",
            "UBND xã Bình Thạnh"
        ]
    );
    assert_eq!(
        names("parent=000.00.00.H62").await,
        ["Sở Thông tin và Truyền thông", "UBND huyện Đắk Hà"]
    );
    assert_eq!(
        names("subtree=000.00.00.H62&kind=commune_committee&q=thi%20tran").await,
        ["UBND thị trấn Đắk Hà"]
    );
    // Active as of a date: Kon Tum's agencies did not exist yet in 1990.
    assert_eq!(
        names("as_of=1990-01-01").await,
        [
            "Tỉnh Quảng Ngãi",
            "UBND huyện Bình Sơn",
            "UBND xã Bình Chánh",
            "UBND xã Bình Thạnh"
        ]
    );

    // Over gRPC too.
    let token = stack
        .grpc_token(&stack.admin_client_id, &stack.admin_secret)
        .await;
    let listed = AgencyServiceClient::new(stack.channel(stack.registry_addr))
        .list_agencies(
            with_bearer(
                ListAgenciesRequest {
                    kind: AgencyKind::DistrictCommittee.into(),
                    query: "đắk".into(),
                    ..Default::default()
                },
                &token,
            )
            .unwrap(),
        )
        .await
        .unwrap()
        .into_inner();
    let codes: Vec<&str> = listed.agencies.iter().map(|a| a.code.as_str()).collect();
    assert_eq!(codes, ["000.00.23.H62"]);
    assert_eq!(listed.next_page_token, "");
    stack.shutdown().await;
}

#[tokio::test]
async fn pages_follow_each_other_in_vietnamese_order() {
    let stack = spawn_stack().await;
    let admin = two_provinces(&stack).await;
    let mut seen = Vec::new();
    let mut pages = Vec::new();
    let mut path = "/api/v1/agencies?province=51&page_size=2".to_owned();
    loop {
        let (status, headers, body) = stack.get_with_headers(&path, &admin).await;
        assert_eq!(status, 200, "{body}");
        let names = pluck(&body, "name");
        pages.push(names.len());
        seen.extend(names.into_iter().map(str::to_owned));
        match headers.get("x-next-page-token") {
            Some(token) => {
                path = format!(
                    "/api/v1/agencies?province=51&page_size=2&page_token={}",
                    token.to_str().unwrap()
                );
            }
            None => break,
        }
    }
    assert_eq!(pages, [2, 2, 1]);
    assert_eq!(
        seen,
        [
            "Sở Thông tin và Truyền thông",
            "Tỉnh Quảng Ngãi",
            "UBND huyện Bình Sơn",
            "UBND xã Bình Chánh",
            "UBND xã Bình Thạnh"
        ]
    );

    // Equal names are ordered by code, and a page boundary between them loses neither.
    let mut codes = Vec::new();
    let mut token = String::new();
    loop {
        let (_, headers, body) = stack
            .get_with_headers(
                &format!("/api/v1/agencies?kind=department&page_size=1&page_token={token}"),
                &admin,
            )
            .await;
        codes.extend(pluck(&body, "code").into_iter().map(str::to_owned));
        match headers.get("x-next-page-token") {
            Some(next) => token = next.to_str().unwrap().to_owned(),
            None => break,
        }
    }
    assert_eq!(codes, ["000.00.15.H51", "000.00.15.H62"]);
    stack.shutdown().await;
}

#[tokio::test]
async fn bad_list_parameters_are_named() {
    let stack = spawn_stack().await;
    let admin = two_provinces(&stack).await;
    let (status, body) = stack
        .get(
            "/api/v1/agencies?parent=H51&province=5&as_of=2025-02-30&page_size=5000&page_token=nope",
            &admin,
        )
        .await;
    assert_eq!(status, 422, "{body}");
    // Named as the REST client sent them, not as the gRPC request calls them.
    assert_eq!(
        fields(&body),
        ["parent", "province", "as_of", "page_size", "page_token"]
    );
    let message = body["detail"].as_str().unwrap();
    assert!(message.contains("parent: "), "{body}");
    assert!(!message.contains("parent_code"), "{body}");
    let (status, body) = stack
        .get("/api/v1/agencies?level=ward&kind=ministry", &admin)
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(fields(&body), ["level", "kind"]);
    let (status, body) = stack
        .get(
            "/api/v1/agencies?include_inactive=true&as_of=2025-01-01",
            &admin,
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(fields(&body), ["include_inactive"]);
    let (status, body) = stack
        .get("/api/v1/agencies?subtree=000.00.99.H51", &admin)
        .await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["code"], json!("not_found"));
    stack.shutdown().await;
}
