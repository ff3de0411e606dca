//! The stack with TLS on: HTTPS at the gateway, TLS on every gRPC service,
//! mutual TLS required between services and from gRPC clients.

use chiso_runtime::{grpc, tls::TlsConfig};
use chiso_tests::{
    StackOptions,
    proto::registry::v1::{IssueTokenRequest, credential_service_client::CredentialServiceClient},
    spawn_stack_with,
};

use crate::{documents_report, register_quang_ngai};

#[tokio::test]
async fn scenario_runs_over_tls_and_grpc_requires_client_certificates() {
    let stack = spawn_stack_with(StackOptions {
        tls: true,
        ..Default::default()
    })
    .await;
    assert!(
        stack.gateway_url.starts_with("https://"),
        "{}",
        stack.gateway_url
    );

    let (admin, credentials) = register_quang_ngai(&stack).await;
    for ((_, id, secret), (officials, equipped)) in credentials.iter().zip([(120, 114), (380, 266)])
    {
        let token = stack.token(id, secret).await;
        let (status, body) = stack
            .post(
                "/api/v1/reports",
                Some(&token),
                &documents_report(officials, equipped),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    stack.wait_for_feed(&admin).await;
    let (status, body) = stack.get(&crate::documents_rate_path("51"), &admin).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["value"], 76.0);

    // With the client certificate, gRPC works; without it, or in plain text, it does not.
    let token = stack
        .grpc_token(&stack.admin_client_id, &stack.admin_secret)
        .await;
    assert!(!token.is_empty());
    let port = stack.registry_addr.port();
    let full = stack.client_tls.clone().expect("tls settings");
    let no_client_cert = TlsConfig {
        client_cert_file: None,
        client_key_file: None,
        ..full
    };
    let request = || IssueTokenRequest {
        client_id: stack.admin_client_id.clone(),
        client_secret: stack.admin_secret.clone(),
    };
    let anonymous = grpc::channel(&format!("https://localhost:{port}"), &no_client_cert).unwrap();
    let refused = CredentialServiceClient::new(anonymous)
        .issue_token(request())
        .await;
    assert!(refused.is_err(), "mutual TLS must be required");
    let plain = grpc::channel(&format!("http://127.0.0.1:{port}"), &TlsConfig::default()).unwrap();
    let refused = CredentialServiceClient::new(plain)
        .issue_token(request())
        .await;
    assert!(refused.is_err(), "plain text must be refused");

    // Plain HTTP to the HTTPS gateway fails too.
    let plain_http = stack.gateway_url.replacen("https://", "http://", 1);
    assert!(reqwest::get(format!("{plain_http}/healthz")).await.is_err());
    stack.shutdown().await;
}
