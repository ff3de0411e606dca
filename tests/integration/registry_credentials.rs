//! Credentials: province officers scoped to their province, agencies reading
//! only their own record, rotation with a grace period, and revocation.

use chiso_runtime::grpc;
use chiso_tests::{
    TestStack,
    proto::registry::v1::{
        Role, VerifyCredentialsRequest, credential_service_client::CredentialServiceClient,
    },
    spawn_stack,
};
use serde_json::{Value, json};

use crate::registry_history::{fields, pluck, two_provinces};

/// Issues officer credentials for `province` as admin; returns (client id, secret).
pub async fn officer(stack: &TestStack, admin: &str, province: &str) -> (String, String) {
    let (status, body) = stack
        .post(
            "/api/v1/officers",
            Some(admin),
            &json!({"province_code": province, "label": "Nguyễn Văn An, Sở Thông tin và Truyền thông"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["role"], "province_officer");
    assert_eq!(body["province_code"], province);
    assert_eq!(body.get("agency_code"), None);
    let id = body["client_id"].as_str().unwrap();
    assert!(id.starts_with("officer-"), "{id}");
    (
        id.to_owned(),
        body["client_secret"].as_str().unwrap().to_owned(),
    )
}

/// Issues agency credentials as `token`; returns (client id, secret).
pub async fn agency_credentials(stack: &TestStack, token: &str, code: &str) -> (String, String) {
    let (status, body) = stack
        .post(
            &format!("/api/v1/agencies/{code}/credentials"),
            Some(token),
            &json!({}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["agency_code"], code);
    assert_eq!(body["role"], "agency_reporter");
    (
        body["client_id"].as_str().unwrap().to_owned(),
        body["client_secret"].as_str().unwrap().to_owned(),
    )
}

/// The entry of `id` in a list of clients.
fn client<'a>(listed: &'a Value, id: &str) -> &'a Value {
    listed
        .as_array()
        .and_then(|a| a.iter().find(|c| c["client_id"] == id))
        .unwrap_or_else(|| panic!("{id} not in {listed}"))
}

/// The status of a token request and the RFC 6749 `error` of its answer (null on success).
async fn token_status(stack: &TestStack, id: &str, secret: &str) -> (u16, Value) {
    let (status, body) = stack
        .post(
            "/api/v1/auth/token",
            None,
            &json!({"client_id": id, "client_secret": secret}),
        )
        .await;
    (status, body["error"].clone())
}

#[tokio::test]
async fn province_officers_act_only_in_their_province() {
    let stack = spawn_stack().await;
    let admin = two_provinces(&stack).await;
    let (id, secret) = officer(&stack, &admin, "51").await;
    let (status, body) = stack
        .post(
            "/api/v1/auth/token",
            None,
            &json!({"client_id": id, "client_secret": secret}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["role"], "province_officer");
    assert_eq!(body["province_code"], "51");
    let officer = body["access_token"].as_str().unwrap().to_owned();

    // Registering agencies and reorganising: in 51 yes, in 62 no.
    let (status, body) = stack
        .post(
            "/api/v1/agencies",
            Some(&officer),
            &json!({"code": "000.00.16.H51", "name": "Sở Tài chính", "kind": "department",
                    "parent_code": "000.00.00.H51", "valid_from": "2008-04-01"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = stack
        .post(
            "/api/v1/agencies",
            Some(&officer),
            &json!({"code": "000.00.16.H62", "name": "Sở Tài chính", "kind": "department",
                    "parent_code": "000.00.00.H62"}),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["code"], "permission_denied");
    let rename = |code: &str| {
        json!({"effective_date": "2025-03-01", "legal_basis": "Quyết định 475/QĐ-UBND",
               "operations": [{"type": "rename", "code": code, "name": "Sở Khoa học và Công nghệ"}]})
    };
    let (status, body) = stack
        .post(
            "/api/v1/agencies/reorganisations",
            Some(&officer),
            &rename("000.00.15.H51"),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["recorded_by"], id.as_str());
    let (status, error) = stack
        .post(
            "/api/v1/agencies/reorganisations",
            Some(&officer),
            &rename("000.00.15.H62"),
        )
        .await;
    assert_eq!(status, 403, "{error}");
    assert_eq!(error["code"], "permission_denied");
    // Nothing of that refused decision was stored.
    let (_, kon_tum) = stack.get("/api/v1/agencies/000.00.15.H62", &admin).await;
    assert_eq!(kon_tum["name"], "Sở Thông tin và Truyền thông");

    // Credentials: for its province's agencies only; officers only by an admin.
    let (agency_id, _) = agency_credentials(&stack, &officer, "000.00.24.H51").await;
    assert!(agency_id.starts_with("agency-"));
    let (status, error) = stack
        .post(
            "/api/v1/agencies/000.00.15.H62/credentials",
            Some(&officer),
            &json!({}),
        )
        .await;
    assert_eq!(status, 403, "{error}");
    assert_eq!(error["code"], "permission_denied");
    let (status, error) = stack
        .post(
            "/api/v1/officers",
            Some(&officer),
            &json!({"province_code": "51"}),
        )
        .await;
    assert_eq!(status, 403, "{error}");
    assert_eq!(error["code"], "permission_denied");
    let (status, listed) = stack.get("/api/v1/officers?province=51", &officer).await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(pluck(&listed, "client_id"), [id.as_str()]);
    assert_eq!(
        pluck(&listed, "label"),
        ["Nguyễn Văn An, Sở Thông tin và Truyền thông"]
    );
    let (status, error) = stack.get("/api/v1/officers?province=62", &officer).await;
    assert_eq!(status, 403, "{error}");
    assert_eq!(error["code"], "permission_denied");
    let (status, listed) = stack
        .get("/api/v1/agencies/000.00.24.H51/credentials", &officer)
        .await;
    assert_eq!(status, 200);
    // register_quang_ngai issued the first; the officer the second.
    assert_eq!(pluck(&listed, "client_id").len(), 2, "{listed}");
    assert_eq!(pluck(&listed, "client_id")[1], agency_id.as_str());

    // Officers only for registered provinces, named by their 2-digit code.
    for (province, expected) in [("44", "no province"), ("524", "2-digit")] {
        let (status, body) = stack
            .post(
                "/api/v1/officers",
                Some(&admin),
                &json!({"province_code": province}),
            )
            .await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(fields(&body), ["province_code"]);
        assert!(
            body["errors"][0]["detail"]
                .as_str()
                .unwrap()
                .contains(expected),
            "{body}"
        );
    }
    stack.shutdown().await;
}

#[tokio::test]
async fn an_agency_reads_only_its_own_record() {
    let stack = spawn_stack().await;
    let admin = two_provinces(&stack).await;
    let (id, secret) = agency_credentials(&stack, &admin, "000.01.24.H51").await;
    let agency = stack.token(&id, &secret).await;
    let (status, own) = stack.get("/api/v1/agencies/000.01.24.H51", &agency).await;
    assert_eq!(status, 200, "{own}");
    assert_eq!(own["name"], "UBND xã Bình Thạnh");
    let (status, lineage) = stack
        .get("/api/v1/agencies/000.01.24.H51/lineage", &agency)
        .await;
    assert_eq!(status, 200, "{lineage}");
    assert_eq!(lineage["agency"]["code"], "000.01.24.H51");
    // Its own credentials it reads (and rotates), no one else's.
    let (status, clients) = stack
        .get("/api/v1/agencies/000.01.24.H51/credentials", &agency)
        .await;
    assert_eq!(status, 200, "{clients}");
    assert_eq!(clients[0]["agency_code"], "000.01.24.H51", "{clients}");
    assert_eq!(clients[0]["role"], "agency_reporter", "{clients}");
    for path in [
        "/api/v1/agencies/000.02.24.H51",
        "/api/v1/agencies?province=51",
        "/api/v1/agencies/000.00.24.H51/subtree",
        "/api/v1/agencies/000.00.24.H51/lineage",
        "/api/v1/agencies/000.02.24.H51/credentials",
    ] {
        let (status, body) = stack.get(path, &agency).await;
        assert_eq!(status, 403, "{path}: {body}");
        assert_eq!(body["code"], "permission_denied", "{path}");
    }
    stack.shutdown().await;
}

#[tokio::test]
async fn rotated_secrets_work_for_a_grace_period_and_revoked_ones_never() {
    let stack = spawn_stack().await;
    let admin = two_provinces(&stack).await;
    let (id, first) = agency_credentials(&stack, &admin, "000.00.15.H51").await;
    let agency = stack.token(&id, &first).await;

    // The agency rotates its own secret; both work during the grace period.
    let (status, rotated) = stack
        .post(
            &format!("/api/v1/credentials/{id}/rotate"),
            Some(&agency),
            &json!({}),
        )
        .await;
    assert_eq!(status, 201, "{rotated}");
    assert_eq!(rotated["client_id"], id.as_str());
    assert_eq!(rotated["agency_code"], "000.00.15.H51");
    let second = rotated["client_secret"].as_str().unwrap().to_owned();
    assert_ne!(second, first);
    let expires = rotated["previous_secret_expires_at"].as_str().unwrap();
    assert!(expires.ends_with('Z') && expires.len() == 20, "{expires}");
    assert_eq!(token_status(&stack, &id, &first).await, (200, Value::Null));
    assert_eq!(token_status(&stack, &id, &second).await, (200, Value::Null));
    let (_, listed) = stack
        .get("/api/v1/agencies/000.00.15.H51/credentials", &admin)
        .await;
    assert_eq!(client(&listed, &id)["active_secrets"], 2, "{listed}");

    // A rotation without grace ends every earlier secret at once.
    let (status, rotated) = stack
        .post(
            &format!("/api/v1/credentials/{id}/rotate?grace_period_secs=0"),
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_eq!(status, 201, "{rotated}");
    let third = rotated["client_secret"].as_str().unwrap().to_owned();
    assert_eq!(
        token_status(&stack, &id, &first).await,
        (401, json!("invalid_client"))
    );
    assert_eq!(
        token_status(&stack, &id, &second).await,
        (401, json!("invalid_client"))
    );
    assert_eq!(token_status(&stack, &id, &third).await, (200, Value::Null));
    let (_, listed) = stack
        .get("/api/v1/agencies/000.00.15.H51/credentials", &admin)
        .await;
    assert_eq!(client(&listed, &id)["active_secrets"], 1, "{listed}");

    // Other agencies cannot touch it; bad grace periods are named.
    let (other_id, other_secret) = agency_credentials(&stack, &admin, "000.00.24.H51").await;
    let other = stack.token(&other_id, &other_secret).await;
    let (status, error) = stack
        .post(
            &format!("/api/v1/credentials/{id}/rotate"),
            Some(&other),
            &json!({}),
        )
        .await;
    assert_eq!(status, 403, "{error}");
    assert_eq!(error["code"], "permission_denied");
    let (status, body) = stack
        .post(
            &format!("/api/v1/credentials/{id}/rotate?grace_period_secs=-1"),
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(fields(&body), ["grace_period_secs"]);

    // Revoked: no secret works, over REST or gRPC, and it cannot be rotated back.
    let (status, revoked) = stack
        .post(
            &format!("/api/v1/credentials/{id}/revoke"),
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_eq!(status, 200, "{revoked}");
    assert_eq!(revoked["active_secrets"], 0);
    assert!(revoked["revoked_at"].is_string(), "{revoked}");
    assert_eq!(
        token_status(&stack, &id, &third).await,
        (401, json!("invalid_client"))
    );
    // VerifyCredentials answers chiso's services only.
    let service = stack.service_token().await;
    let verify = |client_id: &str, client_secret: &str| {
        grpc::with_bearer(
            VerifyCredentialsRequest {
                client_id: client_id.into(),
                client_secret: client_secret.into(),
            },
            &service,
        )
        .unwrap()
    };
    let status = CredentialServiceClient::new(stack.channel(stack.registry_addr))
        .verify_credentials(verify(&id, &third))
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unauthenticated);
    assert_eq!(status.message(), "unknown client id or wrong secret");
    let (status, body) = stack
        .post(
            &format!("/api/v1/credentials/{id}/rotate"),
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["code"], "failed_precondition");

    // The other agency's credentials are untouched.
    let principal = CredentialServiceClient::new(stack.channel(stack.registry_addr))
        .verify_credentials(verify(&other_id, &other_secret))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(principal.role(), Role::AgencyReporter);
    assert_eq!(principal.agency_code, "000.00.24.H51");
    assert_eq!(principal.province_code, "51");
    let (status, error): (u16, Value) = stack
        .post(
            "/api/v1/credentials/agency-unknown/revoke",
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_eq!(status, 404, "{error}");
    assert_eq!(error["code"], "not_found");
    stack.shutdown().await;
}
