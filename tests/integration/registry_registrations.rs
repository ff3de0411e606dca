//! Registration requests: filed without a token, limited per address,
//! approved (agency and credentials in one step) or rejected by an officer.

use chiso_tests::{
    proto::registry::v1::{
        Contact, CreateAgencyRequest, FileRegistrationRequest,
        registration_service_client::RegistrationServiceClient,
    },
    spawn_stack,
};
use serde_json::{Value, json};

use crate::{
    registry_credentials::officer,
    registry_history::{fields, message, pluck, two_provinces},
};

fn binh_hiep() -> Value {
    json!({
        "agency": {"code": "000.03.24.H51", "admin_unit_code": "21004", "name": "UBND xã Bình Hiệp",
                   "kind": "commune_committee", "parent_code": "000.00.24.H51", "valid_from": "2020-01-01"},
        "contact": {"name": "Trần Thị Bình", "email": "vanthu.binhhiep@QuangNgai.gov.vn", "phone": "0255 3822 123"},
        "note": "Xin cấp tài khoản báo cáo",
    })
}

fn department(code: &str, name: &str) -> Value {
    json!({
        "agency": {"code": code, "name": name, "kind": "department", "parent_code": "000.00.00.H51"},
        "contact": {"name": "Lê Văn Cường", "email": "cuong@stc.quangngai.gov.vn"},
    })
}

#[tokio::test]
async fn officers_approve_or_reject_registration_requests() {
    let stack = spawn_stack().await;
    let admin = two_provinces(&stack).await;

    // Filed without a token, checked like a registration.
    let (status, first) = stack
        .post("/api/v1/registrations", None, &binh_hiep())
        .await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["status"], "pending");
    assert_eq!(first["province_code"], "51");
    assert_eq!(first["agency"]["name"], "UBND xã Bình Hiệp");
    assert_eq!(first["agency"]["kind"], "commune_committee");
    assert_eq!(
        first["contact"],
        json!({"name": "Trần Thị Bình", "email": "vanthu.binhhiep@quangngai.gov.vn",
               "phone": "0255 3822 123"})
    );
    let first_id = first["id"].as_str().unwrap().to_owned();
    let (status, second) = stack
        .post(
            "/api/v1/registrations",
            None,
            &department("000.00.16.H51", "Sở Tài chính"),
        )
        .await;
    assert_eq!(status, 201, "{second}");
    let second_id = second["id"].as_str().unwrap().to_owned();
    let (status, answer) = stack
        .post("/api/v1/registrations", None, &binh_hiep())
        .await;
    assert_eq!(status, 409, "{answer}");
    assert_eq!(answer["code"], "already_exists");
    assert_eq!(fields(&answer), ["agency.code", "agency.admin_unit_code"]);
    assert!(message(&answer, "agency.code").contains("already pending"));
    let (status, answer) = stack
        .post(
            "/api/v1/registrations",
            None,
            &json!({"agency": {"code": "16.H51", "name": " ", "kind": "department", "parent_code": "000.00.00.H51"},
                    "contact": {"name": "", "email": "cuong-at-stc", "phone": "gọi tôi"}}),
        )
        .await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(
        fields(&answer),
        [
            "agency.code",
            "agency.name",
            "contact.name",
            "contact.email",
            "contact.phone"
        ]
    );

    // Officers see and decide their own province's requests only.
    let (id51, secret51) = officer(&stack, &admin, "51").await;
    let officer51 = stack.token(&id51, &secret51).await;
    let (id62, secret62) = officer(&stack, &admin, "62").await;
    let officer62 = stack.token(&id62, &secret62).await;
    let (status, pending) = stack.get("/api/v1/registrations", &officer51).await;
    assert_eq!(status, 200, "{pending}");
    assert_eq!(
        pluck(&pending, "id"),
        [first_id.as_str(), second_id.as_str()]
    );
    let (_, pending) = stack.get("/api/v1/registrations", &officer62).await;
    assert_eq!(pending, json!([]));
    let (status, error) = stack
        .get("/api/v1/registrations?province=51", &officer62)
        .await;
    assert_eq!(status, 403, "{error}");
    assert_eq!(error["code"], "permission_denied");
    let (status, error) = stack
        .post(
            &format!("/api/v1/registrations/{first_id}/approve"),
            Some(&officer62),
            &json!({}),
        )
        .await;
    assert_eq!(status, 403, "{error}");
    assert_eq!(error["code"], "permission_denied");
    let (status, error) = stack
        .post(
            &format!("/api/v1/registrations/{first_id}/approve"),
            None,
            &json!({}),
        )
        .await;
    assert_eq!(status, 401, "{error}");
    assert_eq!(error["code"], "unauthenticated");

    // Approval registers the agency and issues credentials that work at once.
    let (status, approved) = stack
        .post(
            &format!("/api/v1/registrations/{first_id}/approve"),
            Some(&officer51),
            &json!({}),
        )
        .await;
    assert_eq!(status, 200, "{approved}");
    assert_eq!(approved["registration"]["status"], "approved");
    assert_eq!(approved["registration"]["decided_by"], id51.as_str());
    assert_eq!(approved["agency"]["code"], "000.03.24.H51");
    assert_eq!(approved["agency"]["parent_code"], "000.00.24.H51");
    assert_eq!(approved["agency"]["valid_from"], "2020-01-01");
    assert_eq!(approved["credentials"]["agency_code"], "000.03.24.H51");
    assert_eq!(
        approved["registration"]["client_id"],
        approved["credentials"]["client_id"]
    );
    let agency = stack
        .token(
            approved["credentials"]["client_id"].as_str().unwrap(),
            approved["credentials"]["client_secret"].as_str().unwrap(),
        )
        .await;
    let (status, own) = stack.get("/api/v1/agencies/000.03.24.H51", &agency).await;
    assert_eq!(status, 200, "{own}");
    assert_eq!(own["name"], "UBND xã Bình Hiệp");
    let (status, again) = stack
        .post(
            &format!("/api/v1/registrations/{first_id}/approve"),
            Some(&officer51),
            &json!({}),
        )
        .await;
    assert_eq!(status, 409, "{again}");
    assert_eq!(again["code"], "failed_precondition");
    assert!(
        again["detail"]
            .as_str()
            .unwrap()
            .contains("already approved")
    );

    // Rejection needs a reason.
    let (status, answer) = stack
        .post(
            &format!("/api/v1/registrations/{second_id}/reject"),
            Some(&officer51),
            &json!({"reason": "  "}),
        )
        .await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(fields(&answer), ["reason"]);
    let (status, rejected) = stack
        .post(
            &format!("/api/v1/registrations/{second_id}/reject"),
            Some(&officer51),
            &json!({"reason": "Sở Tài chính đã có tài khoản; liên hệ Sở TT&TT"}),
        )
        .await;
    assert_eq!(status, 200, "{rejected}");
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(
        rejected["reason"],
        "Sở Tài chính đã có tài khoản; liên hệ Sở TT&TT"
    );
    assert_eq!(rejected.get("client_id"), None);
    let (status, error) = stack
        .post(
            &format!("/api/v1/registrations/{second_id}/approve"),
            Some(&officer51),
            &json!({}),
        )
        .await;
    assert_eq!(status, 409, "{error}");
    assert_eq!(error["code"], "failed_precondition");
    for (status_filter, expected) in [
        ("pending", vec![]),
        ("approved", vec![first_id.as_str()]),
        ("rejected", vec![second_id.as_str()]),
    ] {
        let (_, listed) = stack
            .get(
                &format!("/api/v1/registrations?status={status_filter}"),
                &admin,
            )
            .await;
        assert_eq!(pluck(&listed, "id"), expected, "{status_filter}");
    }
    let (status, one) = stack
        .get(&format!("/api/v1/registrations/{second_id}"), &officer51)
        .await;
    assert_eq!(status, 200);
    assert_eq!(one["status"], "rejected");

    // Approval is all or nothing: when the code was taken meanwhile, the
    // request stays pending and no credentials are issued.
    let (status, third) = stack
        .post(
            "/api/v1/registrations",
            None,
            &department("000.00.17.H51", "Sở Y tế"),
        )
        .await;
    assert_eq!(status, 201, "{third}");
    let third_id = third["id"].as_str().unwrap();
    let (status, _) = stack
        .post(
            "/api/v1/agencies",
            Some(&admin),
            &json!({"code": "000.00.17.H51", "name": "Sở Y tế", "kind": "department", "parent_code": "000.00.00.H51"}),
        )
        .await;
    assert_eq!(status, 201);
    let (status, answer) = stack
        .post(
            &format!("/api/v1/registrations/{third_id}/approve"),
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_eq!(status, 409, "{answer}");
    assert_eq!(answer["code"], "already_exists");
    assert_eq!(fields(&answer), ["agency.code"]);
    let (_, still) = stack
        .get(&format!("/api/v1/registrations/{third_id}"), &admin)
        .await;
    assert_eq!(still["status"], "pending");
    let (_, clients) = stack
        .get("/api/v1/agencies/000.00.17.H51/credentials", &admin)
        .await;
    assert_eq!(clients, json!([]));
    stack.shutdown().await;
}

#[tokio::test]
async fn registration_requests_are_limited_per_address() {
    let stack = spawn_stack().await;
    let _admin = two_provinces(&stack).await;
    // Five requests at once, valid or not, then 429 for this address.
    for i in 0..5 {
        let (status, body) = stack
            .post(
                "/api/v1/registrations",
                None,
                &department(&format!("000.00.{}.H51", 40 + i), "Ban Quản lý"),
            )
            .await;
        assert_eq!(status, 201, "{i}: {body}");
    }
    let (status, body) = stack
        .post(
            "/api/v1/registrations",
            None,
            &department("000.00.49.H51", "Ban Quản lý"),
        )
        .await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["code"], "resource_exhausted");
    assert!(body["detail"].as_str().unwrap().contains("try again in"));

    // Over gRPC the address comes from x-forwarded-for; each has its own allowance.
    let mut client = RegistrationServiceClient::new(stack.channel(stack.registry_addr));
    let file = |from: &str| {
        let mut request = tonic::Request::new(FileRegistrationRequest {
            agency: Some(CreateAgencyRequest {
                code: "bad".into(),
                ..Default::default()
            }),
            contact: Some(Contact::default()),
            note: String::new(),
        });
        request
            .metadata_mut()
            .insert("x-forwarded-for", from.parse().unwrap());
        request
    };
    for _ in 0..5 {
        let status = client
            .file_registration(file("203.0.113.7"))
            .await
            .unwrap_err();
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
    }
    let status = client
        .file_registration(file("203.0.113.7"))
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::ResourceExhausted);
    let status = client
        .file_registration(file("203.0.113.8"))
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    stack.shutdown().await;
}
