//! Signing keys: an agency registers and revokes its own Ed25519 keys; the
//! history stays, so signatures made before a revocation still verify.

use base64::{Engine, engine::general_purpose::STANDARD};
use chiso_runtime::grpc::with_bearer;
use chiso_tests::{
    proto::registry::v1::{
        GetSigningKeyRequest, signing_key_service_client::SigningKeyServiceClient,
    },
    spawn_stack,
};
use ed25519_dalek::{
    Signer, SigningKey, Verifier, VerifyingKey,
    pkcs8::{EncodePublicKey, spki::der::pem::LineEnding},
};
use serde_json::json;

use crate::{
    registry_credentials::{agency_credentials, officer},
    registry_history::{fields, message, pluck, two_provinces},
};

#[tokio::test]
async fn agencies_manage_their_keys_and_old_signatures_stay_verifiable() {
    let stack = spawn_stack().await;
    let admin = two_provinces(&stack).await;
    let (id, secret) = agency_credentials(&stack, &admin, "000.00.15.H51").await;
    let agency = stack.token(&id, &secret).await;
    let first = SigningKey::from_bytes(&[11u8; 32]);
    let second = SigningKey::from_bytes(&[12u8; 32]);
    let first_b64 = STANDARD.encode(first.verifying_key().as_bytes());

    // Raw base64 or PEM; stored and shown as base64.
    let (status, key1) = stack
        .post(
            "/api/v1/agencies/000.00.15.H51/keys",
            Some(&agency),
            &json!({"public_key": first_b64, "label": "Máy chủ báo cáo 2025"}),
        )
        .await;
    assert_eq!(status, 201, "{key1}");
    assert_eq!(key1["algorithm"], "ed25519");
    assert_eq!(key1["public_key"], first_b64.as_str());
    assert_eq!(key1["registered_by"], id.as_str());
    assert_eq!(key1.get("revoked_at"), None);
    let pem = second
        .verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .unwrap();
    let (status, key2) = stack
        .post(
            "/api/v1/agencies/000.00.15.H51/keys",
            Some(&agency),
            &json!({"public_key": pem}),
        )
        .await;
    assert_eq!(status, 201, "{key2}");
    assert_eq!(
        key2["public_key"],
        STANDARD.encode(second.verifying_key().as_bytes())
    );

    // A key is registered once, by one agency; what is not a key is named.
    let (status, answer) = stack
        .post(
            "/api/v1/agencies/000.00.24.H51/keys",
            Some(&admin),
            &json!({"public_key": first_b64}),
        )
        .await;
    assert_eq!(status, 409, "{answer}");
    assert_eq!(answer["code"], "already_exists");
    assert_eq!(fields(&answer), ["public_key"]);
    // Registered by 000.00.15.H51: the other agency learns neither its code
    // nor the key's id.
    assert_eq!(
        message(&answer, "public_key"),
        "is already registered to another agency"
    );
    assert!(!answer.to_string().contains("000.00.15"), "{answer}");
    // Its own agency is told which of its keys it is.
    let (status, answer) = stack
        .post(
            "/api/v1/agencies/000.00.15.H51/keys",
            Some(&agency),
            &json!({"public_key": first_b64}),
        )
        .await;
    assert_eq!(status, 409, "{answer}");
    assert_eq!(
        message(&answer, "public_key"),
        format!(
            "is already registered as key {} of this agency",
            key1["key_id"].as_str().unwrap()
        )
    );
    for (bad, why) in [
        ("AAAA", "32 bytes"),
        (
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
            "PEM",
        ),
        ("", "required"),
    ] {
        let (status, answer) = stack
            .post(
                "/api/v1/agencies/000.00.15.H51/keys",
                Some(&agency),
                &json!({"public_key": bad}),
            )
            .await;
        assert_eq!(status, 422, "{answer}");
        assert!(message(&answer, "public_key").contains(why), "{answer}");
    }

    // Other agencies and other provinces' officers keep out.
    let (other_id, other_secret) = agency_credentials(&stack, &admin, "000.00.24.H51").await;
    let other = stack.token(&other_id, &other_secret).await;
    let (status, error) = stack
        .get("/api/v1/agencies/000.00.15.H51/keys", &other)
        .await;
    assert_eq!(status, 403, "{error}");
    assert_eq!(error["code"], "permission_denied");
    let (status, error) = stack
        .post(
            "/api/v1/agencies/000.00.15.H51/keys",
            Some(&other),
            &json!({"public_key": STANDARD.encode(SigningKey::from_bytes(&[13u8; 32]).verifying_key().as_bytes())}),
        )
        .await;
    assert_eq!(status, 403, "{error}");
    assert_eq!(error["code"], "permission_denied");
    let (officer_id, officer_secret) = officer(&stack, &admin, "62").await;
    let officer62 = stack.token(&officer_id, &officer_secret).await;
    let (status, error) = stack
        .get("/api/v1/agencies/000.00.15.H51/keys", &officer62)
        .await;
    assert_eq!(status, 403, "{error}");
    assert_eq!(error["code"], "permission_denied");

    // A report signed before the key is revoked...
    let report = "000.00.15.H51|2025|officials=120|officials_with_computer=114";
    let signature = first.sign(report.as_bytes());
    let key1_id = key1["key_id"].as_str().unwrap();
    let (status, revoked) = stack
        .post(
            &format!("/api/v1/agencies/000.00.15.H51/keys/{key1_id}/revoke"),
            Some(&agency),
            &json!({"reason": "Máy chủ cũ ngừng hoạt động"}),
        )
        .await;
    assert_eq!(status, 200, "{revoked}");
    assert_eq!(revoked["revoked_by"], id.as_str());
    assert_eq!(revoked["revocation_reason"], "Máy chủ cũ ngừng hoạt động");
    let revoked_at = revoked["revoked_at"].as_str().unwrap().to_owned();
    let (_, again) = stack
        .post(
            &format!("/api/v1/agencies/000.00.15.H51/keys/{key1_id}/revoke"),
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_eq!(
        again["revoked_at"],
        revoked_at.as_str(),
        "the first revocation stands"
    );

    // ...still verifies with the key the history keeps.
    let (status, keys) = stack
        .get("/api/v1/agencies/000.00.15.H51/keys", &admin)
        .await;
    assert_eq!(status, 200, "{keys}");
    assert_eq!(
        pluck(&keys, "key_id"),
        [key1_id, key2["key_id"].as_str().unwrap()]
    );
    assert_eq!(keys[0]["revoked_at"], revoked_at.as_str());
    assert_eq!(keys[1].get("revoked_at"), None);
    let bytes: [u8; 32] = STANDARD
        .decode(keys[0]["public_key"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let kept = VerifyingKey::from_bytes(&bytes).unwrap();
    assert!(kept.verify(report.as_bytes(), &signature).is_ok());

    // Over gRPC, by key id.
    let token = stack
        .grpc_token(&stack.admin_client_id, &stack.admin_secret)
        .await;
    let fetched = SigningKeyServiceClient::new(stack.channel(stack.registry_addr))
        .get_signing_key(
            with_bearer(
                GetSigningKeyRequest {
                    key_id: key1_id.into(),
                },
                &token,
            )
            .unwrap(),
        )
        .await
        .unwrap()
        .into_inner();
    assert_eq!(fetched.agency_code, "000.00.15.H51");
    assert_eq!(fetched.revoked_at, revoked_at);

    // Keys are revoked only through their own agency.
    let (status, error) = stack
        .post(
            &format!("/api/v1/agencies/000.00.24.H51/keys/{key1_id}/revoke"),
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_eq!(status, 404, "{error}");
    assert_eq!(error["code"], "not_found");
    let (status, error) = stack
        .post(
            "/api/v1/agencies/000.00.15.H51/keys/key-unknown/revoke",
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_eq!(status, 404, "{error}");
    assert_eq!(error["code"], "not_found");
    stack.shutdown().await;
}
