//! Fast tests of the whole router: extractors and decoding answer before any
//! back service is called, so the gRPC channels connect lazily to nowhere.

use std::time::Duration;

use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode, header},
};
use chiso_domain::{AdminUnitCode, Role};
use chiso_runtime::auth::{Principal, TokenSigner, TokenVerifier, generate_keypair};
use serde_json::{Value, json};
use tonic::transport::Endpoint;
use tower::ServiceExt;

use crate::{AppState, app, config::RequestsConfig};

/// A port nothing listens on: calls that reach a back service fail fast.
const NOWHERE: &str = "http://127.0.0.1:1";

/// The gateway's router, and a signer whose tokens it accepts.
fn gateway() -> (Router, TokenSigner) {
    gateway_with(RequestsConfig::default())
}

/// [`gateway`] with its request bounds set.
fn gateway_with(requests: RequestsConfig) -> (Router, TokenSigner) {
    let (private, public) = generate_keypair().unwrap();
    let channel = || Endpoint::from_static(NOWHERE).connect_lazy();
    let state = AppState {
        registry: channel(),
        submission: channel(),
        aggregation: channel(),
        verifier: TokenVerifier::from_pem(public.as_bytes()).unwrap(),
        trusted_proxies: Vec::new().into(),
        basic: Default::default(),
        limits: Default::default(),
        requests,
    };
    let signer = TokenSigner::from_pem(private.as_bytes(), Duration::from_secs(60)).unwrap();
    (app(state), signer)
}

fn admin_token(signer: &TokenSigner) -> String {
    let admin = Principal {
        subject: "admin".into(),
        role: Role::Admin,
        agency: None,
        province: Some(AdminUnitCode::parse("51").unwrap()),
        grants: std::sync::Arc::from([]),
    };
    signer.sign(&admin).unwrap().0
}

/// Sends one request, asking for English unless it names a language; the
/// answer's status and body (JSON, or a string when not JSON).
async fn send(router: Router, mut request: Request<Body>) -> (StatusCode, Value) {
    english_unless_told(&mut request);
    let response = router.oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, body)
}

fn get(path: &str, authorization: Option<&[u8]>) -> Request<Body> {
    let mut request = Request::get(path);
    if let Some(value) = authorization {
        request = request.header(header::AUTHORIZATION, value);
    }
    request.body(Body::empty()).unwrap()
}

fn post_json(path: &str, token: Option<&str>, body: &str) -> Request<Body> {
    let mut request = Request::post(path).header(header::CONTENT_TYPE, "application/json");
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    request.body(Body::from(body.to_owned())).unwrap()
}

/// Messages are asserted in English, the services' own words; the
/// Vietnamese default has tests of its own.
fn english_unless_told(request: &mut Request<Body>) {
    if !request.headers().contains_key(header::ACCEPT_LANGUAGE) {
        request
            .headers_mut()
            .insert(header::ACCEPT_LANGUAGE, "en".parse().unwrap());
    }
}

fn field_names(body: &Value) -> Vec<&str> {
    body["errors"]
        .as_array()
        .map(|f| f.iter().map(|v| v["field"].as_str().unwrap()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_missing_or_bad_bearer_token_is_a_json_401() {
    let (router, signer) = gateway();
    // Signed, but by a key the gateway does not trust.
    let (_, foreign) = gateway();
    let foreign = format!("Bearer {}", admin_token(&foreign));
    let cases: [(Option<&[u8]>, &str); 6] = [
        (None, "a bearer token is required"),
        (Some(b"Bearer not-a-jwt"), "invalid bearer token"),
        // Basic is taken (DHIS2 clients), but only as base64 of id:secret.
        (
            Some(b"Basic not base64"),
            "Basic credentials must be base64 of client_id:client_secret",
        ),
        (Some(b"Bearer"), "authorization must be `Bearer <token>`"),
        (
            Some("Bearer caf\u{e9}".as_bytes()),
            "authorization header is not ASCII",
        ),
        (Some(foreign.as_bytes()), "invalid bearer token"),
    ];
    for (authorization, expected) in cases {
        let (status, body) = send(router.clone(), get("/api/v1/agencies", authorization)).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "{authorization:?}: {body}"
        );
        assert_eq!(body["code"], json!("unauthenticated"), "{body}");
        let message = body["detail"].as_str().unwrap();
        assert!(message.starts_with(expected), "{authorization:?}: {body}");
    }
    // The same token signed by the gateway's key gets past the extractor.
    let token = admin_token(&signer);
    let (status, body) = send(
        router,
        get(
            "/api/v1/agencies?level=ward",
            Some(format!("Bearer {token}").as_bytes()),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
}

#[tokio::test]
async fn json_bodies_that_do_not_fit_are_422s_naming_the_field() {
    let (router, signer) = gateway();
    let token = admin_token(&signer);
    let cases = [
        // The token endpoint answers RFC 6749 errors instead
        // (routes::auth::tests).
        (
            "/api/v1/reports",
            Some(token.as_str()),
            r#"{"period": "2018", "values": [{"data_element": "officials"}]}"#,
            "values[0].value",
        ),
        (
            "/api/v1/agencies",
            Some(token.as_str()),
            r#"{"code": "000.00.00.H51", "name": "Tỉnh Quảng Ngãi", "kind": "ministry"}"#,
            "kind",
        ),
        ("/api/v1/agencies", Some(token.as_str()), "{", "body"),
    ];
    for (path, token, body, field) in cases {
        let (status, answer) = send(router.clone(), post_json(path, token, body)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {answer}");
        assert_eq!(answer["code"], json!("invalid_argument"), "{answer}");
        assert_eq!(field_names(&answer), [field], "{body}: {answer}");
    }

    let not_json = Request::post("/api/v1/agencies")
        .header(header::CONTENT_TYPE, "text/plain")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::from("code=x"))
        .unwrap();
    let (status, answer) = send(router, not_json).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{answer}");
    assert_eq!(answer["code"], json!("unsupported_media_type"), "{answer}");
    assert_eq!(
        answer["detail"],
        json!("the body must be JSON (Content-Type: application/json)")
    );
}

#[tokio::test]
async fn bad_list_filters_are_named_before_any_call() {
    let (router, signer) = gateway();
    let bearer = format!("Bearer {}", admin_token(&signer));
    let (status, body) = send(
        router.clone(),
        get(
            "/api/v1/agencies?level=ward&kind=ministry",
            Some(bearer.as_bytes()),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(field_names(&body), ["level", "kind"]);
    assert_eq!(
        body["errors"][0]["detail"],
        json!("`ward` is not one of province, district, commune")
    );
    let (status, body) = send(
        router,
        get("/api/v1/registrations?status=lost", Some(bearer.as_bytes())),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        body["errors"],
        json!([{"field": "status", "detail": "`lost` is not one of pending, approved, rejected"}])
    );
}

#[tokio::test]
async fn an_unreachable_back_service_is_a_503_that_names_no_address() {
    let (router, signer) = gateway();
    let bearer = format!("Bearer {}", admin_token(&signer));
    let (status, body) = send(
        router,
        get("/api/v1/agencies/000.00.00.H51", Some(bearer.as_bytes())),
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["code"], json!("unavailable"));
    assert!(!body.to_string().contains("127.0.0.1"), "{body}");
}

#[tokio::test]
async fn an_unknown_route_is_a_404() {
    let (router, _) = gateway();
    for path in [
        "/api/v1/nothing",
        "/api/v2/agencies",
        "/api/v1/agencies/a/b/c",
    ] {
        let (status, body) = send(router.clone(), get(path, None)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        assert_eq!(body["code"], json!("not_found"), "{path}");
        assert_eq!(body["instance"], json!(path), "{path}");
    }
}

// ------------------------------------------------------------------------
// Report routes against a fake submission service: what the gateway sends
// (fields and metadata) and how it answers (headers, errors).

mod fake {
    use std::{
        collections::VecDeque,
        sync::{Arc, Mutex},
    };

    use chiso_proto::submission::v1::{
        self as pb,
        report_service_server::{ReportService, ReportServiceServer},
    };
    use tonic::{Request, Response, Status, metadata::MetadataMap};

    /// One call the fake received.
    #[derive(Debug)]
    pub enum Call {
        SaveDraft(pb::SaveDraftRequest),
        Submit(pb::SubmitReportRequest),
        Accept(pb::ReviewReportRequest),
        Get(pb::GetReportRequest),
        List(pb::ListReportsRequest),
        Unlock(pb::UnlockReportRequest),
        Complete(pb::CompleteReportsRequest),
    }

    /// A report service that records calls and answers from a queue.
    #[derive(Clone, Default)]
    pub struct Reports {
        pub calls: Arc<Mutex<Vec<(MetadataMap, Call)>>>,
        pub answers: Arc<Mutex<VecDeque<Result<pb::Report, Status>>>>,
    }

    /// What the fake answers when told nothing else.
    pub fn report() -> pb::Report {
        pb::Report {
            id: "r-1".into(),
            form: "it_application_yearly".into(),
            period: "2025".into(),
            agency_code: "000.00.15.H51".into(),
            province_code: "51".into(),
            version: 1,
            status: pb::ReportStatus::Draft.into(),
            values: vec![pb::DataValue::new("officials", "120")],
            etag: "e2".into(),
            editable: true,
            ..Default::default()
        }
    }

    impl Reports {
        fn answer<T>(
            &self,
            request: Request<T>,
            call: fn(T) -> Call,
        ) -> Result<Response<pb::Report>, Status> {
            let (metadata, _, message) = request.into_parts();
            self.calls.lock().unwrap().push((metadata, call(message)));
            let next = self.answers.lock().unwrap().pop_front();
            next.unwrap_or_else(|| Ok(report())).map(Response::new)
        }

        pub fn calls(&self) -> Vec<(MetadataMap, Call)> {
            std::mem::take(&mut *self.calls.lock().unwrap())
        }

        pub fn will_answer(&self, answer: Result<pb::Report, Status>) {
            self.answers.lock().unwrap().push_back(answer);
        }

        /// Serves the fake on a local port; the address to reach it.
        pub async fn serve(&self) -> std::net::SocketAddr {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let service = ReportServiceServer::new(self.clone());
            tokio::spawn(
                tonic::transport::Server::builder()
                    .add_service(service)
                    .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
            );
            addr
        }
    }

    #[tonic::async_trait]
    impl ReportService for Reports {
        async fn save_draft(
            &self,
            r: Request<pb::SaveDraftRequest>,
        ) -> Result<Response<pb::Report>, Status> {
            self.answer(r, Call::SaveDraft)
        }
        async fn submit_report(
            &self,
            r: Request<pb::SubmitReportRequest>,
        ) -> Result<Response<pb::Report>, Status> {
            self.answer(r, Call::Submit)
        }
        async fn accept_report(
            &self,
            r: Request<pb::ReviewReportRequest>,
        ) -> Result<Response<pb::Report>, Status> {
            self.answer(r, Call::Accept)
        }
        async fn return_report(
            &self,
            _: Request<pb::ReviewReportRequest>,
        ) -> Result<Response<pb::Report>, Status> {
            Err(Status::unimplemented("fake"))
        }
        async fn revise_report(
            &self,
            _: Request<pb::ReviseReportRequest>,
        ) -> Result<Response<pb::Report>, Status> {
            Err(Status::unimplemented("fake"))
        }
        async fn unlock_report(
            &self,
            r: Request<pb::UnlockReportRequest>,
        ) -> Result<Response<pb::Unlock>, Status> {
            let (metadata, _, message) = r.into_parts();
            self.calls
                .lock()
                .unwrap()
                .push((metadata, Call::Unlock(message)));
            Ok(Response::new(pb::Unlock::default()))
        }
        async fn get_report(
            &self,
            r: Request<pb::GetReportRequest>,
        ) -> Result<Response<pb::Report>, Status> {
            self.answer(r, Call::Get)
        }
        async fn list_reports(
            &self,
            r: Request<pb::ListReportsRequest>,
        ) -> Result<Response<pb::ListReportsResponse>, Status> {
            let (metadata, _, message) = r.into_parts();
            self.calls
                .lock()
                .unwrap()
                .push((metadata, Call::List(message)));
            Ok(Response::new(pb::ListReportsResponse {
                reports: vec![report()],
                next_page_token: "p2".into(),
            }))
        }
        async fn list_report_versions(
            &self,
            _: Request<pb::ListReportVersionsRequest>,
        ) -> Result<Response<pb::ListReportVersionsResponse>, Status> {
            Err(Status::unimplemented("fake"))
        }
        async fn list_audit_entries(
            &self,
            _: Request<pb::ListAuditEntriesRequest>,
        ) -> Result<Response<pb::ListAuditEntriesResponse>, Status> {
            Err(Status::unimplemented("fake"))
        }
        async fn verify_signature(
            &self,
            _: Request<pb::VerifySignatureRequest>,
        ) -> Result<Response<pb::SignatureVerification>, Status> {
            Err(Status::unimplemented("fake"))
        }
        async fn import_values(
            &self,
            _: Request<tonic::Streaming<pb::ImportValuesRequest>>,
        ) -> Result<Response<pb::ImportSummary>, Status> {
            Err(Status::unimplemented("fake"))
        }
        /// Refuses the last completion and ignores the others, so both
        /// halves of the summary's shape are seen.
        async fn complete_reports(
            &self,
            r: Request<pb::CompleteReportsRequest>,
        ) -> Result<Response<pb::ImportSummary>, Status> {
            let (metadata, _, message) = r.into_parts();
            let last = message.completions.len() as i32 - 1;
            self.calls
                .lock()
                .unwrap()
                .push((metadata, Call::Complete(message)));
            Ok(Response::new(pb::ImportSummary {
                status: "ERROR".into(),
                import_count: Some(pb::ImportCount {
                    ignored: last + 1,
                    ..Default::default()
                }),
                conflicts: vec![pb::ImportConflict {
                    object: "it_application_yearly/2025/000.00.15.H51".into(),
                    value: "form it_application_yearly needs the agency's signature".into(),
                    index: last,
                }],
                dry_run: true,
                reports: 0,
            }))
        }
    }
}

use std::net::SocketAddr;

use axum::{extract::ConnectInfo, http::HeaderMap};
use chiso_proto::submission::v1 as pb;

use self::fake::Call;

/// The gateway with the fake report service behind it, trusting `proxies`.
async fn gateway_with_fake(proxies: &[&str]) -> (Router, fake::Reports, String) {
    let reports = fake::Reports::default();
    let addr = reports.serve().await;
    let (private, public) = generate_keypair().unwrap();
    let nowhere = Endpoint::from_static(NOWHERE).connect_lazy();
    let state = AppState {
        registry: nowhere.clone(),
        submission: Endpoint::from_shared(format!("http://{addr}"))
            .unwrap()
            .connect_lazy(),
        aggregation: nowhere,
        verifier: TokenVerifier::from_pem(public.as_bytes()).unwrap(),
        trusted_proxies: proxies.iter().map(|p| p.parse().unwrap()).collect(),
        basic: Default::default(),
        limits: Default::default(),
        requests: Default::default(),
    };
    let signer = TokenSigner::from_pem(private.as_bytes(), Duration::from_secs(60)).unwrap();
    (app(state), reports, admin_token(&signer))
}

/// A request from `peer`, as the server's connection info would say.
fn from_peer(
    method: &str,
    path: &str,
    token: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
    peer: &str,
) -> Request<Body> {
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if body.is_some() {
        request = request.header(header::CONTENT_TYPE, "application/json");
    }
    let mut request = request
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_owned())))
        .unwrap();
    let peer: SocketAddr = peer.parse().unwrap();
    request.extensions_mut().insert(ConnectInfo(peer));
    request
}

/// Sends one request; the answer's status, headers and JSON body.
async fn exchange(router: Router, mut request: Request<Body>) -> (StatusCode, HeaderMap, Value) {
    english_unless_told(&mut request);
    let response = router.oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, headers, body)
}

fn metadata<'a>(map: &'a tonic::metadata::MetadataMap, key: &str) -> Option<&'a str> {
    map.get(key).map(|v| v.to_str().unwrap())
}

const DRAFT: &str = "/api/v1/reports/it_application_yearly/2025/000.00.15.H51/draft";

#[tokio::test]
async fn a_draft_save_forwards_headers_values_and_audit_metadata() {
    let (router, reports, token) = gateway_with_fake(&[]).await;
    let body = r#"{"values": [
        {"data_element": "officials", "value": 120},
        {"data_element": "it_budget_share", "value": 12.50},
        {"data_element": "has_lan", "value": true},
        {"data_element": "online_services", "value": "7"}]}"#;
    let request = from_peer(
        "PUT",
        DRAFT,
        &token,
        &[
            ("if-match", "\"e1\""),
            ("idempotency-key", "draft-2025-01"),
            ("x-request-id", "req-abc-1"),
        ],
        Some(body),
        "203.0.113.5:40123",
    );
    let (status, headers, answer) = exchange(router, request).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(headers[header::ETAG], "\"e2\"");
    assert_eq!(
        headers["x-request-id"], "req-abc-1",
        "the request id is echoed"
    );
    assert_eq!(answer["etag"], json!("e2"));
    assert_eq!(answer["status"], json!("draft"));
    assert_eq!(
        answer["values"],
        json!([{"data_element": "officials", "value": "120"}])
    );

    let calls = reports.calls();
    let [(metadata_map, Call::SaveDraft(sent))] = calls.as_slice() else {
        panic!("one save expected: {calls:?}");
    };
    assert_eq!(sent.form, "it_application_yearly");
    assert_eq!(sent.period, "2025");
    assert_eq!(sent.agency_code, "000.00.15.H51");
    assert_eq!(sent.if_match, "e1");
    assert_eq!(sent.request_id, "draft-2025-01");
    let values: Vec<(&str, &str)> = sent
        .values
        .iter()
        .map(|v| (v.data_element.as_str(), v.value.as_str()))
        .collect();
    assert_eq!(
        values,
        [
            ("officials", "120"),
            ("it_budget_share", "12.50"),
            ("has_lan", "yes"),
            ("online_services", "7")
        ]
    );
    assert_eq!(metadata(metadata_map, "x-request-id"), Some("req-abc-1"));
    assert_eq!(
        metadata(metadata_map, "x-forwarded-for"),
        Some("203.0.113.5")
    );
    assert_eq!(
        metadata(metadata_map, "authorization"),
        Some(format!("Bearer {token}").as_str())
    );
    // The call carries the request's deadline: what is left of
    // requests.call_timeout_secs (60 s by default).
    let left = metadata(metadata_map, "grpc-timeout")
        .and_then(|t| chiso_runtime::deadline::parse_grpc_timeout(t.as_bytes()))
        .expect("a deadline is sent");
    assert!(
        left <= std::time::Duration::from_secs(60) && left > std::time::Duration::from_secs(50),
        "{left:?}"
    );
}

#[tokio::test]
async fn if_match_is_read_quoted_bare_or_star_and_lists_are_refused() {
    let (router, reports, token) = gateway_with_fake(&[]).await;
    let body = r#"{"values": []}"#;
    for (if_match, expected) in [
        (Some("\"e1\""), "e1"),
        (Some("e1"), "e1"),
        (Some(" \"e1\" "), "e1"),
        (Some("*"), ""),
        (None, ""),
        // Weak tags never match under If-Match's strong comparison: the
        // service sees a tag no report has and answers 412.
        (Some("W/\"e1\""), "W/\"e1\""),
    ] {
        let headers: Vec<(&str, &str)> = if_match.map(|v| ("if-match", v)).into_iter().collect();
        let request = from_peer("PUT", DRAFT, &token, &headers, Some(body), "127.0.0.1:1");
        let (status, _, answer) = exchange(router.clone(), request).await;
        assert_eq!(status, StatusCode::OK, "{if_match:?}: {answer}");
        let calls = reports.calls();
        let [(_, Call::SaveDraft(sent))] = calls.as_slice() else {
            panic!("{calls:?}");
        };
        assert_eq!(sent.if_match, expected, "{if_match:?}");
        assert_eq!(sent.request_id, "", "no Idempotency-Key, none forwarded");
    }
    for bad in ["\"e1\", \"e2\"", "", "\"\"", "W/\"\""] {
        let request = from_peer(
            "PUT",
            DRAFT,
            &token,
            &[("if-match", bad)],
            Some(body),
            "127.0.0.1:1",
        );
        let (status, _, answer) = exchange(router.clone(), request).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad:?}: {answer}"
        );
        assert_eq!(field_names(&answer), ["If-Match"], "{answer}");
    }
    assert!(reports.calls().is_empty(), "refused before any call");
}

#[tokio::test]
async fn a_stale_etag_is_a_412_precondition_failed() {
    let (router, reports, token) = gateway_with_fake(&[]).await;
    reports.will_answer(Err(tonic::Status::aborted(
        "the report changed: its etag is now e3, not e1",
    )));
    let request = from_peer(
        "POST",
        "/api/v1/reports/r-1/accept",
        &token,
        &[("if-match", "\"e1\"")],
        None,
        "127.0.0.1:1",
    );
    let (status, headers, answer) = exchange(router, request).await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED, "{answer}");
    assert_eq!(answer["code"], json!("precondition_failed"), "{answer}");
    assert_eq!(
        answer["detail"],
        json!("the report changed: its etag is now e3, not e1")
    );
    assert!(headers.get(header::ETAG).is_none(), "an error has no etag");
    let calls = reports.calls();
    let [(_, Call::Accept(sent))] = calls.as_slice() else {
        panic!("{calls:?}");
    };
    assert_eq!(
        (sent.report_id.as_str(), sent.if_match.as_str()),
        ("r-1", "e1")
    );
    assert_eq!(sent.comment, "", "an accept may have no body");
}

#[tokio::test]
async fn service_field_names_become_the_rest_names() {
    let (router, reports, token) = gateway_with_fake(&[]).await;
    let mut details = tonic_types::ErrorDetails::new();
    details.add_bad_request_violation("request_id", "was used for another request");
    details.add_bad_request_violation("values[3].value", "a count must be zero or more, got -1");
    details.add_bad_request_violation("agency_code", "`H51` is not an agency code");
    reports.will_answer(Err(<tonic::Status as tonic_types::StatusExt>::with_error_details(
        tonic::Code::InvalidArgument,
        "invalid input: request_id: was used for another request; values[3].value: a count must be zero or more, got -1; agency_code: `H51` is not an agency code",
        details,
    )));
    let request = from_peer(
        "PUT",
        DRAFT,
        &token,
        &[("idempotency-key", "k1")],
        Some(r#"{"values": []}"#),
        "127.0.0.1:1",
    );
    let (status, headers, answer) = exchange(router, request).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(headers[header::CONTENT_TYPE], "application/problem+json");
    let request_id = headers["x-request-id"].to_str().unwrap();
    assert_eq!(
        answer,
        json!({
            "type": "urn:chiso:problem:invalid_argument",
            "title": "Invalid input",
            "status": 422,
            "code": "invalid_argument",
            "detail": "invalid input: Idempotency-Key: was used for another request; values[3].value: a count must be zero or more, got -1; agency: `H51` is not an agency code",
            "instance": DRAFT,
            "request_id": request_id,
            "errors": [
                // A header has no place in the body.
                {"field": "Idempotency-Key", "detail": "was used for another request"},
                {"field": "values[3].value", "pointer": "/values/3/value",
                 "detail": "a count must be zero or more, got -1"},
                // The agency came in the path: no pointer either.
                {"field": "agency", "detail": "`H51` is not an agency code"},
            ],
        })
    );
}

#[tokio::test]
async fn bad_values_and_query_parameters_are_named_before_any_call() {
    let (router, reports, token) = gateway_with_fake(&[]).await;
    let submit = r#"{"form": "it_application_yearly", "period": "2025",
                     "values": [{"data_element": "officials", "value": 1.2e2}]}"#;
    let request = from_peer(
        "POST",
        "/api/v1/reports",
        &token,
        &[],
        Some(submit),
        "127.0.0.1:1",
    );
    let (status, _, answer) = exchange(router.clone(), request).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(field_names(&answer), ["values[0].value"], "{answer}");
    assert!(
        answer["detail"].as_str().unwrap().contains("exponent"),
        "{answer}"
    );

    for (query, field) in [
        ("/api/v1/reports?page_size=ten", "page_size"),
        ("/api/v1/reports?status=sent", "status"),
        ("/api/v1/reports?agency_code=x", "agency_code"),
        ("/api/v1/reports/r-1?version=latest", "version"),
        ("/api/v1/reports/r-1/audit?page_size=-", "page_size"),
        (
            "/api/v1/data-elements?include_retired=yes",
            "include_retired",
        ),
        ("/api/v1/forms/it_application_yearly/expected", "period"),
    ] {
        let request = from_peer("GET", query, &token, &[], None, "127.0.0.1:1");
        let (status, headers, answer) = exchange(router.clone(), request).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{query}: {answer}"
        );
        assert_eq!(
            headers[header::CONTENT_TYPE],
            "application/problem+json",
            "{query}"
        );
        assert_eq!(field_names(&answer), [field], "{query}: {answer}");
    }
    assert!(reports.calls().is_empty(), "{:?}", reports.calls());
}

#[tokio::test]
async fn request_ids_are_generated_when_absent_or_unusable() {
    let (router, reports, token) = gateway_with_fake(&[]).await;
    let long = "x".repeat(129);
    for sent in [None, Some(long.as_str()), Some("has space")] {
        let headers: Vec<(&str, &str)> = sent.map(|v| ("x-request-id", v)).into_iter().collect();
        let request = from_peer(
            "GET",
            "/api/v1/reports/r-1",
            &token,
            &headers,
            None,
            "127.0.0.1:1",
        );
        let (status, headers, answer) = exchange(router.clone(), request).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(headers[header::ETAG], "\"e2\"", "reads carry the etag too");
        let echoed = headers["x-request-id"].to_str().unwrap().to_owned();
        assert_eq!(echoed.len(), 36, "a generated UUID, not {sent:?}");
        let calls = reports.calls();
        let [(metadata_map, Call::Get(get))] = calls.as_slice() else {
            panic!("{calls:?}");
        };
        assert_eq!(get.id, "r-1");
        assert_eq!(
            metadata(metadata_map, "x-request-id"),
            Some(echoed.as_str())
        );
    }
}

#[tokio::test]
async fn forwarded_addresses_count_only_from_trusted_proxies() {
    let (router, reports, token) = gateway_with_fake(&["10.0.0.0/8"]).await;
    for (peer, forwarded, client) in [
        ("10.0.0.2:5000", Some("198.51.100.7"), "198.51.100.7"),
        (
            "10.0.0.2:5000",
            Some("1.1.1.1, 198.51.100.7, 10.0.0.9"),
            "198.51.100.7",
        ),
        ("10.0.0.2:5000", None, "10.0.0.2"),
        ("203.0.113.5:5000", Some("198.51.100.7"), "203.0.113.5"),
    ] {
        let headers: Vec<(&str, &str)> = forwarded
            .map(|v| ("x-forwarded-for", v))
            .into_iter()
            .collect();
        let path = "/api/v1/reports?agency=000.00.15.H51&status=submitted&page_size=5";
        let request = from_peer("GET", path, &token, &headers, None, peer);
        let (status, headers, _) = exchange(router.clone(), request).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers["x-next-page-token"], "p2");
        let calls = reports.calls();
        let [(metadata_map, Call::List(list))] = calls.as_slice() else {
            panic!("{calls:?}");
        };
        assert_eq!(list.agency_code, "000.00.15.H51");
        assert_eq!(list.status(), pb::ReportStatus::Submitted);
        assert_eq!(list.page_size, 5);
        assert_eq!(
            metadata(metadata_map, "x-forwarded-for"),
            Some(client),
            "{peer} {forwarded:?}"
        );
    }
}

#[tokio::test]
async fn submitting_a_draft_by_id_submits_its_key_with_the_signature() {
    let (router, reports, token) = gateway_with_fake(&[]).await;
    let mut submitted = fake::report();
    submitted.status = pb::ReportStatus::Submitted.into();
    submitted.etag = "e3".into();
    reports.will_answer(Ok(fake::report()));
    reports.will_answer(Ok(submitted));
    let body = r#"{"signature": {"key_id": "k-7", "signature": "c2ln"}}"#;
    let request = from_peer(
        "POST",
        "/api/v1/reports/r-1/submit",
        &token,
        &[("if-match", "\"e2\""), ("idempotency-key", "submit-1")],
        Some(body),
        "127.0.0.1:1",
    );
    let (status, headers, answer) = exchange(router, request).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(headers[header::ETAG], "\"e3\"");
    assert_eq!(answer["status"], json!("submitted"));
    let calls = reports.calls();
    let [(_, Call::Get(get)), (_, Call::Submit(sent))] = calls.as_slice() else {
        panic!("{calls:?}");
    };
    assert_eq!(get.id, "r-1");
    assert_eq!(
        (
            sent.form.as_str(),
            sent.period.as_str(),
            sent.agency_code.as_str()
        ),
        ("it_application_yearly", "2025", "000.00.15.H51")
    );
    assert!(sent.values.is_empty(), "the draft as saved");
    let signature = sent.signature.as_ref().unwrap();
    assert_eq!(
        (signature.key_id.as_str(), signature.signature.as_str()),
        ("k-7", "c2ln")
    );
    assert_eq!(
        (sent.if_match.as_str(), sent.request_id.as_str()),
        ("e2", "submit-1")
    );
}

#[tokio::test]
async fn unlocks_forward_their_idempotency_key() {
    let (router, reports, token) = gateway_with_fake(&[]).await;
    let body = r#"{"form": "it_application_yearly", "period": "2024", "agency_code": "000.00.15.H51",
                   "reason": "Sở nộp bổ sung số liệu", "until": "2026-01-31T17:00:00Z"}"#;
    let request = from_peer(
        "POST",
        "/api/v1/unlocks",
        &token,
        &[("idempotency-key", "unlock-1")],
        Some(body),
        "127.0.0.1:1",
    );
    let (status, _, answer) = exchange(router, request).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let calls = reports.calls();
    let [(_, Call::Unlock(sent))] = calls.as_slice() else {
        panic!("{calls:?}");
    };
    assert_eq!(sent.request_id, "unlock-1");
    assert_eq!(sent.reason, "Sở nộp bổ sung số liệu");
    assert_eq!(sent.until, "2026-01-31T17:00:00Z");
}

#[tokio::test]
async fn completion_registrations_are_sent_as_one_request_and_answered_as_dhis2_does() {
    let (router, reports, token) = gateway_with_fake(&[]).await;
    let body = r#"{"completeDataSetRegistrations": [
        {"dataSet": "it_fast_quarterly", "period": "2026Q1", "organisationUnit": "000.00.15.H51",
         "attributeOptionCombo": "default", "date": "2026-04-08", "storedBy": "admin", "completed": true},
        {"dataSet": "it_application_yearly", "period": "2025", "organisationUnit": "000.00.15.H51",
         "date": "2026-01-15T08:00:00.000"}]}"#;
    let request = from_peer(
        "POST",
        "/api/completeDataSetRegistrations?dryRun=true&idScheme=code",
        &token,
        &[("idempotency-key", "complete-1")],
        Some(body),
        "127.0.0.1:1",
    );
    let (status, _, answer) = exchange(router, request).await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert_eq!(answer["status"], "ERROR");
    assert_eq!(answer["importOptions"], json!({"dryRun": true}));
    assert_eq!(
        answer["importCount"],
        json!({"imported": 0, "updated": 0, "ignored": 2, "deleted": 0})
    );
    assert_eq!(
        answer["conflicts"],
        json!([{"object": "it_application_yearly/2025/000.00.15.H51",
                "value": "form it_application_yearly needs the agency's signature",
                "indexes": [1]}])
    );
    let calls = reports.calls();
    let [(_, Call::Complete(sent))] = calls.as_slice() else {
        panic!("{calls:?}");
    };
    assert!(sent.dry_run);
    assert_eq!(sent.request_id, "complete-1");
    let days: Vec<(&str, &str, &str)> = sent
        .completions
        .iter()
        .map(|c| (c.form.as_str(), c.period.as_str(), c.received_on.as_str()))
        .collect();
    assert_eq!(
        days,
        [
            ("it_fast_quarterly", "2026Q1", "2026-04-08"),
            ("it_application_yearly", "2025", "2026-01-15")
        ]
    );
}

#[test]
fn the_openapi_document_lists_the_reporting_routes_and_their_errors() {
    use utoipa::OpenApi;
    let doc = serde_json::to_value(crate::routes::ApiDoc::openapi()).unwrap();
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/api/v1/data-elements/{code}/retire",
        "/api/v1/validation-rules/{code}",
        "/api/v1/forms/{code}/expected",
        "/api/v1/periods",
        "/api/v1/reports/{form}/{period}/{agency}/draft",
        "/api/v1/reports/by-key/{form}/{period}/{agency}",
        "/api/v1/reports/{id}/signature",
        "/api/v1/agencies/{code}/audit",
        "/api/v1/unlocks",
    ] {
        assert!(paths.contains_key(path), "{path} missing");
    }
    let draft = &paths["/api/v1/reports/{form}/{period}/{agency}/draft"]["put"];
    for status in ["200", "409", "412", "422"] {
        assert!(
            draft["responses"].get(status).is_some(),
            "{status}: {draft}"
        );
    }
    assert!(draft["responses"]["200"]["headers"].get("ETag").is_some());
    let headers: Vec<&str> = draft["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["in"] == "header")
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(headers, ["If-Match", "Idempotency-Key"]);
    // Errors are documented as what they are: problem details.
    let conflict = &draft["responses"]["409"]["content"];
    assert_eq!(
        conflict["application/problem+json"]["schema"]["$ref"],
        json!("#/components/schemas/ErrorBody"),
        "{conflict}"
    );
    assert!(conflict.get("application/json").is_none(), "{conflict}");
    // Every refusal the shared layers can give is documented on every
    // operation, as problem details; the token endpoint keeps RFC 6749's.
    let submit = &paths["/api/v1/reports"]["post"]["responses"];
    for status in [
        "401", "403", "404", "408", "409", "412", "413", "415", "422", "429", "503",
    ] {
        assert_eq!(
            submit[status]["content"]["application/problem+json"]["schema"]["$ref"],
            json!("#/components/schemas/ErrorBody"),
            "{status}: {submit}"
        );
    }
    let read = &paths["/api/v1/reports/{id}"]["get"]["responses"];
    assert!(
        read.get("401").is_some() && read.get("503").is_some(),
        "{read}"
    );
    assert!(read.get("413").is_none(), "a read takes no body: {read}");
    let token = &paths["/api/v1/auth/token"]["post"]["responses"];
    assert!(token.get("503").is_none(), "{token}");
    let problem = &doc["components"]["schemas"]["ErrorBody"]["properties"];
    for member in [
        "type",
        "title",
        "status",
        "code",
        "detail",
        "instance",
        "request_id",
        "errors",
    ] {
        assert!(problem.get(member).is_some(), "{member}: {problem}");
    }
}

// ------------------------------------------------------------------------
// Problem details: every refusal, the framework's own included, is
// `application/problem+json` in the caller's language.

/// Sends one request as is (no language added); status, headers, body.
async fn raw_exchange(router: Router, request: Request<Body>) -> (StatusCode, HeaderMap, Value) {
    let response = router.oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, headers, serde_json::from_slice(&bytes).unwrap())
}

fn assert_problem(headers: &HeaderMap, body: &Value, status: StatusCode, code: &str) {
    assert_eq!(
        headers[header::CONTENT_TYPE],
        "application/problem+json",
        "{body}"
    );
    assert_eq!(body["status"], json!(status.as_u16()), "{body}");
    assert_eq!(body["code"], json!(code), "{body}");
    assert_eq!(
        body["type"],
        json!(format!("urn:chiso:problem:{code}")),
        "{body}"
    );
    assert_eq!(
        body["request_id"].as_str(),
        headers["x-request-id"].to_str().ok(),
        "{body}"
    );
}

#[tokio::test]
async fn framework_refusals_are_problems_too() {
    let (router, signer) = gateway();
    let bearer = format!("Bearer {}", admin_token(&signer));
    // A wrong method keeps its Allow header.
    let request = Request::delete("/api/v1/reports")
        .header(header::ACCEPT_LANGUAGE, "en")
        .body(Body::empty())
        .unwrap();
    let (status, headers, body) = raw_exchange(router.clone(), request).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_problem(&headers, &body, status, "method_not_allowed");
    let allow = headers[header::ALLOW].to_str().unwrap();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    assert_eq!(body["instance"], json!("/api/v1/reports"));
    // An unknown route, also under the DHIS2 prefix.
    for path in ["/api/v1/nothing", "/api/nothing/at/all"] {
        let request = Request::get(path).body(Body::empty()).unwrap();
        let (status, headers, body) = raw_exchange(router.clone(), request).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_problem(&headers, &body, status, "not_found");
    }
    // A DHIS2 route refusing a caller without credentials.
    let request = Request::get("/api/dataValueSets")
        .body(Body::empty())
        .unwrap();
    let (status, headers, body) = raw_exchange(router.clone(), request).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_problem(&headers, &body, status, "unauthenticated");
    // A query string that does not fit a route still on axum's own types
    // before: named, not a plain-text 400.
    let request = Request::get("/api/v1/officers?province=1&page_size=many")
        .header(header::AUTHORIZATION, &bearer)
        .body(Body::empty())
        .unwrap();
    let (status, headers, body) = raw_exchange(router, request).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_problem(&headers, &body, status, "invalid_argument");
    assert_eq!(field_names(&body), ["page_size"], "{body}");
    assert!(body["errors"][0].get("pointer").is_none(), "{body}");
}

#[tokio::test]
async fn details_are_vietnamese_unless_english_is_preferred() {
    // The token endpoint answers in RFC 6749's shape; any other route in ours.
    let (router, signer) = gateway();
    let bearer = format!("Bearer {}", admin_token(&signer));
    let body = r#"{"label": "x"}"#;
    let token_request = |language: Option<&str>| {
        let mut request = Request::post("/api/v1/officers")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::AUTHORIZATION, bearer.as_str());
        if let Some(language) = language {
            request = request.header(header::ACCEPT_LANGUAGE, language);
        }
        request.body(Body::from(body)).unwrap()
    };
    for language in [None, Some("vi-VN"), Some("fr"), Some("en;q=0.2, vi;q=0.8")] {
        let (status, headers, answer) = raw_exchange(router.clone(), token_request(language)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
        assert_eq!(headers[header::CONTENT_LANGUAGE], "vi", "{language:?}");
        assert_eq!(
            answer["title"],
            json!("Dữ liệu không hợp lệ"),
            "{language:?}"
        );
        assert_eq!(
            answer["detail"],
            json!("Yêu cầu có dữ liệu không hợp lệ; xem danh sách lỗi theo từng trường.")
        );
        assert_eq!(
            answer["errors"],
            json!([{"field": "province_code", "pointer": "/province_code",
                    "detail": "Trường này là bắt buộc (is required)"}])
        );
    }
    for language in ["en", "en-US,en;q=0.9", "fr, en;q=0.3", "vi;q=0.1, en"] {
        let (_, headers, answer) =
            raw_exchange(router.clone(), token_request(Some(language))).await;
        assert_eq!(headers[header::CONTENT_LANGUAGE], "en", "{language}");
        assert_eq!(answer["title"], json!("Invalid input"), "{language}");
        assert_eq!(
            answer["detail"],
            json!("invalid input: province_code: is required"),
            "{language}"
        );
    }
}

#[tokio::test]
async fn json_bodies_are_strict() {
    let (router, signer) = gateway();
    let token = admin_token(&signer);
    let post = |content_type: &str, body: &str| {
        Request::post("/api/v1/agencies")
            .header(header::CONTENT_TYPE, content_type)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::ACCEPT_LANGUAGE, "en")
            .body(Body::from(body.to_owned()))
            .unwrap()
    };
    let agency = r#"{"code": "000.00.00.H51", "name": "Tỉnh Quảng Ngãi", "kind": "ministry"}"#;
    for content_type in [
        "application/jsonXYZ",
        "application/json; charset=latin1",
        "text/json",
        "application/json-seq",
    ] {
        let (status, headers, body) =
            raw_exchange(router.clone(), post(content_type, agency)).await;
        assert_eq!(
            status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{content_type}: {body}"
        );
        assert_problem(&headers, &body, status, "unsupported_media_type");
    }
    // Accepted media types reach the decoding (which refuses the kind).
    for content_type in ["application/json", "Application/JSON; charset=UTF-8"] {
        let (status, _, body) = raw_exchange(router.clone(), post(content_type, agency)).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{content_type}: {body}"
        );
        assert_eq!(field_names(&body), ["kind"], "{content_type}: {body}");
    }
    let cases = [
        (format!("{agency} {{}}"), "body", "trailing data after the JSON value"),
        (format!("{agency}x"), "body", "trailing data after the JSON value"),
        (
            r#"{"code": "000.00.00.H51", "code": "000.00.01.H51", "name": "n", "kind": "ministry"}"#.to_owned(),
            "code",
            "duplicate key `code`: each key may appear once",
        ),
        (
            r#"{"code": "000.00.00.H51", "name": "n", "kind": "ministry", "extra": 1}"#.to_owned(),
            "extra",
            "is not a field of this request; expected one of ",
        ),
    ];
    for (sent, field, detail) in cases {
        let (status, _, body) = raw_exchange(router.clone(), post("application/json", &sent)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{sent}: {body}");
        assert_eq!(field_names(&body), [field], "{sent}: {body}");
        let said = body["errors"][0]["detail"].as_str().unwrap();
        assert!(said.starts_with(detail), "{sent}: {body}");
        // The field is named once, not `extra.extra` or `extra: unknown field extra`.
        assert_eq!(
            said.matches(field).count(),
            usize::from(field == "code"),
            "{body}"
        );
    }
    // A key repeated deep inside a report, in a map serde would keep quiet about.
    let report = r#"{"form": "it_application_yearly", "period": "2025",
                     "values": [{"data_element": "officials", "value": 1, "value": 2}]}"#;
    let request = Request::post("/api/v1/reports")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::from(report))
        .unwrap();
    let (status, _, body) = raw_exchange(router, request).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(field_names(&body), ["values[0].value"], "{body}");
    assert_eq!(
        body["errors"][0]["pointer"],
        json!("/values/0/value"),
        "{body}"
    );
}

#[tokio::test]
async fn serde_messages_name_no_rust_types() {
    let (router, signer) = gateway();
    let token = admin_token(&signer);
    for (path, sent, field) in [
        (
            "/api/v1/reports",
            r#"{"form": "f", "period": "2025", "values": [1]}"#,
            "values[0]",
        ),
        ("/api/v1/reports", r#"[]"#, "body"),
        (
            "/api/v1/officers",
            r#"{"province_code": 7}"#,
            "province_code",
        ),
    ] {
        let request = if sent.is_empty() {
            get(path, Some(format!("Bearer {token}").as_bytes()))
        } else {
            post_json(path, Some(&token), sent)
        };
        let (status, body) = send(router.clone(), request).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{sent}: {body}");
        assert_eq!(field_names(&body), [field], "{sent}: {body}");
        let text = body.to_string();
        for rust in [
            "struct",
            "SubmitReport",
            "DataValueInput",
            "TokenRequest",
            "u32",
            "usize",
            "i64",
        ] {
            assert!(!text.contains(rust), "{rust} in {text}");
        }
    }
}

#[tokio::test]
async fn bodies_over_the_routes_limit_are_413_problems() {
    let (router, signer) = gateway_with(RequestsConfig {
        json_body_bytes: 1024,
        report_body_bytes: 4096,
        import_body_bytes: 8192,
        ..RequestsConfig::default()
    });
    let token = admin_token(&signer);
    let long_name = "x".repeat(2000);
    let agency =
        format!(r#"{{"code": "000.00.00.H51", "name": "{long_name}", "kind": "ministry"}}"#);
    let (status, headers, body) = raw_exchange(
        router.clone(),
        post_json("/api/v1/agencies", Some(&token), &agency),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_problem(&headers, &body, status, "payload_too_large");
    // A report of the same size is under its own, larger limit: decoded.
    let report = format!(r#"{{"form": "{long_name}", "period": "2025", "values": [], "x": 1}}"#);
    let (status, _, body) = raw_exchange(
        router.clone(),
        post_json("/api/v1/reports", Some(&token), &report),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(field_names(&body), ["x"], "{body}");
    // A raw body route (the agency CSV import) answers 413 the same way,
    // past its own limit.
    let import = |rows: usize| {
        Request::post("/api/v1/agencies/import")
            .header(header::CONTENT_TYPE, "text/csv")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::from("code,name\n".repeat(rows)))
            .unwrap()
    };
    let (status, headers, body) = raw_exchange(router.clone(), import(1000)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_problem(&headers, &body, status, "payload_too_large");
    let (status, _, body) = raw_exchange(router, import(500)).await;
    assert_ne!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
}

/// A body that never finishes: a client sending half a request.
fn stalled_post(path: &str, token: &str) -> Request<Body> {
    let stalled = futures::stream::pending::<Result<bytes::Bytes, std::io::Error>>();
    Request::post(path)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::from_stream(stalled))
        .unwrap()
}

#[tokio::test]
async fn over_the_concurrency_limit_requests_are_shed_but_health_answers() {
    let (router, signer) = gateway_with(RequestsConfig {
        max_concurrent_requests: 1,
        busy_retry_after_secs: 2,
        ..RequestsConfig::default()
    });
    let token = admin_token(&signer);
    // One slow client takes the only slot.
    let slow = tokio::spawn(
        router
            .clone()
            .oneshot(stalled_post("/api/v1/agencies", &token)),
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    let (status, headers, body) = raw_exchange(router.clone(), get("/api/v1/forms", None)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_problem(&headers, &body, status, "overloaded");
    assert_eq!(headers[header::RETRY_AFTER], "2");
    let started = std::time::Instant::now();
    let response = router.clone().oneshot(get("/healthz", None)).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(started.elapsed() < Duration::from_millis(50));
    slow.abort();
    let _ = slow.await;
    // The slot is free again once the slow request is gone.
    let (status, _, body) = raw_exchange(router, get("/api/v1/forms", None)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
}

#[tokio::test]
async fn a_body_that_stalls_is_cut_off_with_a_408() {
    let (router, signer) = gateway_with(RequestsConfig {
        body_idle_timeout_secs: 1,
        body_read_timeout_secs: 2,
        ..RequestsConfig::default()
    });
    let token = admin_token(&signer);
    let started = std::time::Instant::now();
    let (status, headers, body) =
        raw_exchange(router, stalled_post("/api/v1/agencies", &token)).await;
    assert_eq!(status, StatusCode::REQUEST_TIMEOUT, "{body}");
    assert_problem(&headers, &body, status, "request_timeout");
    let took = started.elapsed();
    assert!(
        (Duration::from_millis(900)..Duration::from_secs(3)).contains(&took),
        "{took:?}"
    );
}

/// A gateway served on real sockets, with a one-second header timeout and
/// its metrics on their own port.
async fn served_gateway() -> (
    std::net::SocketAddr,
    std::net::SocketAddr,
    tokio_util::sync::CancellationToken,
) {
    let (_, public) = generate_keypair().unwrap();
    let key = std::env::temp_dir().join(format!("chiso-gateway-test-{}.pem", uuid_like()));
    std::fs::write(&key, public).unwrap();
    let config = crate::GatewayConfig {
        tls: Default::default(),
        http: chiso_runtime::config::HttpConfig {
            addr: "127.0.0.1:0".parse().unwrap(),
        },
        auth: chiso_runtime::config::VerifyConfig {
            jwt_public_key_file: key,
            jwt_previous_public_key_file: None,
        },
        registry_url: NOWHERE.into(),
        submission_url: NOWHERE.into(),
        aggregation_url: NOWHERE.into(),
        trusted_proxies: Vec::new(),
        limits: Default::default(),
        requests: RequestsConfig {
            header_read_timeout_secs: 1,
            ..RequestsConfig::default()
        },
        metrics: crate::config::MetricsConfig {
            addr: Some("127.0.0.1:0".parse().unwrap()),
        },
    };
    let gateway = crate::Application::build(config).await.unwrap();
    let (addr, metrics) = (gateway.local_addr(), gateway.metrics_addr().unwrap());
    let stop = tokio_util::sync::CancellationToken::new();
    tokio::spawn(gateway.run_until_stopped(stop.clone()));
    (addr, metrics, stop)
}

fn uuid_like() -> String {
    format!("{}-{:?}", std::process::id(), std::thread::current().id()).replace(['(', ')'], "")
}

async fn http_get(addr: std::net::SocketAddr, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.write_all(
        format!("GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let mut answer = String::new();
    tcp.read_to_string(&mut answer).await.unwrap();
    answer
}

#[tokio::test]
async fn half_sent_headers_are_cut_off_and_metrics_have_their_own_port() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (addr, metrics, stop) = served_gateway().await;
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let mut rest = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut rest)).await;
    assert!(
        read.is_ok(),
        "the connection was held past the header timeout"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );

    assert!(http_get(addr, "/healthz").await.starts_with("HTTP/1.1 200"));
    // An invented method counts as `other`, on the metrics port only.
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.write_all(b"BREW /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut ignored = Vec::new();
    tcp.read_to_end(&mut ignored).await.unwrap();
    let public = http_get(addr, "/metrics").await;
    assert!(public.starts_with("HTTP/1.1 404"), "{public}");
    assert!(public.contains("application/problem+json"), "{public}");
    let scraped = http_get(metrics, "/metrics").await;
    assert!(scraped.starts_with("HTTP/1.1 200"), "{scraped}");
    assert!(scraped.contains(r#"method="other""#), "{scraped}");
    assert!(!scraped.contains("BREW"), "{scraped}");
    stop.cancel();
}

/// The contract is at `/openapi.json` and its page at `/docs`; the old
/// addresses redirect there for good.
#[tokio::test]
async fn the_contract_and_its_page_are_at_openapi_json_and_docs() {
    let (router, _) = gateway();
    let response = router
        .clone()
        .oneshot(get("/openapi.json", None))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let doc: Value = serde_json::from_slice(&bytes).unwrap();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    assert!(doc["paths"]["/api/v1/reports"].is_object());
    let response = router.clone().oneshot(get("/docs/", None)).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    for (old, new) in [
        ("/swagger-ui", "/docs/"),
        ("/swagger-ui/", "/docs/"),
        ("/api-docs/openapi.json", "/openapi.json"),
    ] {
        let response = router.clone().oneshot(get(old, None)).await.unwrap();
        assert_eq!(response.status(), StatusCode::PERMANENT_REDIRECT, "{old}");
        assert_eq!(response.headers()[header::LOCATION], new, "{old}");
    }
}
