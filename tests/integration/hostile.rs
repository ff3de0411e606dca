//! Hostile input through the real services, REST and gRPC: bodies past
//! their limits or lying about their length, nesting 100,000 deep,
//! invalid UTF-8, duplicate keys, numbers no count can be (`1e400`, 2^64,
//! `-0`, `NaN`, `Infinity`), NUL bytes, bidirectional overrides, slow
//! clients, invented HTTP methods, and gRPC messages of garbage, of
//! invalid UTF-8 and past the size limit. Each is refused with a problem
//! (or a gRPC status) naming the field where there is one; nothing is
//! stored; the process's memory stays bounded; and the services answer
//! normally afterwards.
//!
//! Cases already covered elsewhere are not repeated: a 70 KB JSON body and
//! an invented path (problems.rs), control characters in free text and a
//! negative or fractional count (bad_input.rs), hidden characters in
//! names and codes (problems.rs).

use std::time::{Duration, Instant};

use bytes::Bytes;
use chiso_runtime::{config::VerifyConfig, grpc};
use chiso_tests::{RawCodec, TestStack, resident_bytes, spawn_stack};
use reqwest::header::CONTENT_TYPE;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::{register_quang_ngai, this_quarter};

/// Growth allowed over a whole test. Other tests run in the same process
/// meanwhile, so it is loose; what it guards against is a hostile body
/// held or expanded whole (a 100,000-deep tree of JSON values, a 4 MB body
/// copied per nesting level), which costs far more.
const MEMORY_BOUND: u64 = 200 * 1024 * 1024;

/// One refusal: what was sent, and the problem expected back.
struct Case {
    what: &'static str,
    path: String,
    token: String,
    content_type: &'static str,
    body: Vec<u8>,
    status: u16,
    code: &'static str,
    /// The field the problem names, when it names one; a name ending in
    /// `*` matches every field it begins (`values*`: `values[0][0]`).
    field: Option<&'static str>,
}

/// Sends `case` and checks the answer is the expected problem.
async fn refused(stack: &TestStack, case: &Case) {
    let response = stack
        .http
        .post(format!("{}{}", stack.gateway_url, case.path))
        .bearer_auth(&case.token)
        .header(CONTENT_TYPE, case.content_type)
        .body(case.body.clone())
        .send()
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", case.what));
    let status = response.status().as_u16();
    let content_type = response.headers()[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .to_owned();
    let body: Value = response.json().await.expect("a JSON body");
    assert_eq!(status, case.status, "{}: {body}", case.what);
    assert_eq!(
        content_type, "application/problem+json",
        "{}: {body}",
        case.what
    );
    assert_eq!(body["code"], case.code, "{}: {body}", case.what);
    assert_eq!(body["status"], case.status, "{}: {body}", case.what);
    if let Some(field) = case.field {
        let fields: Vec<&str> = body["errors"]
            .as_array()
            .map(|errors| errors.iter().filter_map(|e| e["field"].as_str()).collect())
            .unwrap_or_default();
        let named = match field.strip_suffix('*') {
            Some(prefix) => fields.iter().any(|f| f.starts_with(prefix)),
            None => fields.contains(&field),
        };
        assert!(named, "{}: {body}", case.what);
    }
}

/// `GET /healthz` answers, and so does a normal authenticated call.
async fn still_up(stack: &TestStack, token: &str) {
    let health = stack
        .http
        .get(format!("{}/healthz", stack.gateway_url))
        .send()
        .await
        .expect("the gateway answers");
    assert_eq!(health.status(), 200);
    let (status, body) = stack.get("/api/v1/agencies/000.00.00.H51", token).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["code"], "000.00.00.H51");
}

/// A report body for this quarter with `values` spliced in as raw JSON.
fn report_with(values: &str) -> Vec<u8> {
    format!(
        r#"{{"form":"it_fast_quarterly","period":"{}","values":{values}}}"#,
        this_quarter()
    )
    .into_bytes()
}

#[tokio::test]
async fn hostile_rest_bodies_are_problems_and_store_nothing() {
    let stack = spawn_stack().await;
    let (admin, credentials) = register_quang_ngai(&stack).await;
    let agency = stack.token(&credentials[0].1, &credentials[0].2).await;
    let before = resident_bytes();
    let json = "application/json";
    let deep = "[".repeat(100_000);
    let mut cases = vec![
        Case {
            what: "100,000 nested arrays in a report",
            path: "/api/v1/reports".into(),
            token: agency.clone(),
            content_type: json,
            body: report_with(&deep),
            status: 422,
            code: "invalid_argument",
            field: Some("values*"),
        },
        Case {
            // A value is kept as its raw JSON text, so any JSON is read
            // there: the nesting reaches serde_json's recursion limit.
            what: "100,000 nested arrays as a report's value",
            path: "/api/v1/reports".into(),
            token: agency.clone(),
            content_type: json,
            body: report_with(&format!(r#"[{{"data_element":"documents_sent","value":{deep}"#)),
            status: 422,
            code: "invalid_argument",
            field: Some("values*"),
        },
        Case {
            what: "60,000 nested arrays in an agency",
            path: "/api/v1/agencies".into(),
            token: admin.clone(),
            content_type: json,
            body: format!(r#"{{"code":"000.00.00.H52","name":{}"#, "[".repeat(60_000))
                .into_bytes(),
            status: 422,
            code: "invalid_argument",
            field: Some("name"),
        },
        Case {
            what: "100,000 nested arrays in an ignored field of a DHIS2 set",
            path: "/api/dataValueSets".into(),
            token: agency.clone(),
            content_type: json,
            body: format!(r#"{{"x":{deep}"#).into_bytes(),
            status: 422,
            code: "invalid_argument",
            field: Some("body"),
        },
        Case {
            what: "invalid UTF-8 in a report's form",
            path: "/api/v1/reports".into(),
            token: agency.clone(),
            content_type: json,
            body: b"{\"form\":\"it_fast_quarterly\xff\xfe\",\"period\":\"2025\",\"values\":[]}".to_vec(),
            status: 422,
            code: "invalid_argument",
            field: Some("form"),
        },
        Case {
            what: "invalid UTF-8 in an agency's name",
            path: "/api/v1/agencies".into(),
            token: admin.clone(),
            content_type: json,
            body: b"{\"code\":\"000.00.00.H52\",\"admin_unit_code\":\"52\",\"name\":\"T\xe1nh\",\"kind\":\"provincial_committee\"}".to_vec(),
            status: 422,
            code: "invalid_argument",
            field: Some("name"),
        },
        Case {
            what: "invalid UTF-8 in a DHIS2 CSV import",
            path: "/api/dataValueSets".into(),
            token: agency.clone(),
            content_type: "application/csv",
            body: b"dataelement,period,orgunit,catoptcombo,attroptcombo,value\ndocuments_sent,2025,000.00.15.H51,,,1\xff2\n".to_vec(),
            status: 422,
            code: "invalid_argument",
            field: Some("row 2"),
        },
        Case {
            what: "a report's form given twice",
            path: "/api/v1/reports".into(),
            token: agency.clone(),
            content_type: json,
            body: format!(
                r#"{{"form":"it_fast_quarterly","form":"it_application_yearly","period":"{}","values":[]}}"#,
                this_quarter()
            )
            .into_bytes(),
            status: 422,
            code: "invalid_argument",
            field: Some("form"),
        },
        Case {
            what: "an agency's code given twice",
            path: "/api/v1/agencies".into(),
            token: admin.clone(),
            content_type: json,
            body: r#"{"code":"000.00.00.H52","code":"000.00.00.H53","admin_unit_code":"52","name":"Tỉnh Bình Định","kind":"provincial_committee"}"#.as_bytes().to_vec(),
            status: 422,
            code: "invalid_argument",
            field: Some("code"),
        },
        Case {
            what: "a DHIS2 set's dataValues given twice",
            path: "/api/dataValueSets".into(),
            token: agency.clone(),
            content_type: json,
            body: br#"{"dataValues":[],"dataValues":[]}"#.to_vec(),
            status: 422,
            code: "invalid_argument",
            field: Some("body"),
        },
        Case {
            what: "a raw NUL byte inside a JSON string",
            path: "/api/v1/agencies".into(),
            token: admin.clone(),
            content_type: json,
            body: b"{\"code\":\"000.00.00.H52\",\"admin_unit_code\":\"52\",\"name\":\"T\x00nh\",\"kind\":\"provincial_committee\"}".to_vec(),
            status: 422,
            code: "invalid_argument",
            field: Some("name"),
        },
        Case {
            what: "an escaped NUL in an agency's name",
            path: "/api/v1/agencies".into(),
            token: admin.clone(),
            content_type: json,
            body: br#"{"code":"000.00.00.H52","admin_unit_code":"52","name":"T\u0000nh B\u00ecnh \u0110\u1ecbnh","kind":"provincial_committee"}"#.to_vec(),
            status: 422,
            code: "invalid_argument",
            field: Some("name"),
        },
        Case {
            what: "an escaped NUL in a report's form",
            path: "/api/v1/reports".into(),
            token: agency.clone(),
            content_type: json,
            body: format!(
                r#"{{"form":"it_fast_quarterly\u0000","period":"{}","values":[]}}"#,
                this_quarter()
            )
            .into_bytes(),
            status: 422,
            code: "invalid_argument",
            field: Some("form"),
        },
        Case {
            what: "NaN, which JSON has not",
            path: "/api/v1/reports".into(),
            token: agency.clone(),
            content_type: json,
            body: report_with(r#"[{"data_element":"documents_sent","value":NaN}]"#),
            status: 422,
            code: "invalid_argument",
            field: Some("values[0].value"),
        },
    ];
    // Numbers no count can be, as text and (where JSON has them) as JSON
    // numbers, whose exact text the gateway keeps.
    for (what, value) in [
        ("1e400 as text", r#""1e400""#),
        ("1e400 as a JSON number", "1e400"),
        ("2^64 as text", r#""18446744073709551616""#),
        ("2^64 as a JSON number", "18446744073709551616"),
        ("twenty nines as a JSON number", "99999999999999999999"),
        ("-0 as text", r#""-0""#),
        ("-0 as a JSON number", "-0"),
        ("-0.0 as a JSON number", "-0.0"),
        ("NaN as text", r#""NaN""#),
        ("Infinity as text", r#""Infinity""#),
        ("-Infinity as text", r#""-Infinity""#),
        ("a hexadecimal count", r#""0x10""#),
        ("a count with a NUL byte", r#""12\u0000""#),
        ("a count with a right-to-left override", r#""\u202e21""#),
    ] {
        cases.push(Case {
            what,
            path: "/api/v1/reports".into(),
            token: agency.clone(),
            content_type: json,
            body: report_with(&format!(
                r#"[{{"data_element":"documents_sent","value":{value}}}]"#
            )),
            status: 422,
            code: "invalid_argument",
            field: Some("values[0].value"),
        });
    }
    for case in &cases {
        refused(&stack, case).await;
    }

    // The same numbers through the DHIS2 import: refused by the same
    // catalogue, answered as DHIS2 answers conflicts (an import summary,
    // DHIS2 clients read no problem+json), each naming the value's index.
    // 1e400 is past any double: serde_json refuses it while reading.
    refused(
        &stack,
        &Case {
            what: "1e400 in a DHIS2 set",
            path: "/api/dataValueSets".into(),
            token: agency.clone(),
            content_type: json,
            body: br#"{"dataValues":[{"dataElement":"documents_sent","value":1e400}]}"#.to_vec(),
            status: 422,
            code: "invalid_argument",
            field: Some("body"),
        },
    )
    .await;
    for value in [
        "18446744073709551616",
        "-0",
        "-0.0",
        r#""NaN""#,
        r#""Infinity""#,
    ] {
        let response = stack
            .http
            .post(format!("{}/api/dataValueSets", stack.gateway_url))
            .bearer_auth(&agency)
            .header(CONTENT_TYPE, json)
            .body(format!(
                r#"{{"dataSet":"it_fast_quarterly","period":"{}","orgUnit":"000.00.15.H51","dataValues":[{{"dataElement":"documents_sent","value":{value}}}]}}"#,
                this_quarter()
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 409, "{value}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["importCount"]["imported"], 0, "{value}: {body}");
        assert_eq!(
            body["conflicts"][0]["indexes"],
            json!([0]),
            "{value}: {body}"
        );
        assert_eq!(
            body["conflicts"].as_array().unwrap().len(),
            1,
            "{value}: {body}"
        );
    }

    // Bodies past their limits: a report over 4 MB, and an agency import
    // over 4 MB sent chunked (no length to refuse it by). A terabyte
    // announced and not sent: slow_clients_are_cut_off_while_others_are_served.
    let big = format!(
        r#"[{{"data_element":"documents_sent","value":"{}"}}]"#,
        "9".repeat(4 * 1024 * 1024)
    );
    refused(
        &stack,
        &Case {
            what: "a report over 4 MB",
            path: "/api/v1/reports".into(),
            token: agency.clone(),
            content_type: json,
            body: report_with(&big),
            status: 413,
            code: "payload_too_large",
            field: None,
        },
    )
    .await;
    let rows = (0..120_000)
        .map(|i| format!("000.00.{:02}.H52,Sở số {i},department\n", i % 100))
        .collect::<String>();
    let chunks = futures::stream::iter(
        format!("code,name,kind\n{rows}")
            .into_bytes()
            .chunks(64 * 1024)
            .map(|c| Ok::<_, std::io::Error>(Bytes::copy_from_slice(c)))
            .collect::<Vec<_>>(),
    );
    let response = stack
        .http
        .post(format!("{}/api/v1/agencies/import", stack.gateway_url))
        .bearer_auth(&admin)
        .header(CONTENT_TYPE, "text/csv; charset=utf-8")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status(), 413);
    assert_eq!(response.headers()[CONTENT_TYPE], "application/problem+json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "payload_too_large", "{body}");

    // Bidirectional overrides in free text: a review comment. (In names
    // and codes they are refused already: problems.rs.)
    let (status, report) = stack
        .post(
            "/api/v1/reports",
            Some(&agency),
            &crate::documents_report(120, 114),
        )
        .await;
    assert_eq!(status, 201, "{report}");
    assert_eq!(report["version"], 1, "nothing was stored before: {report}");
    let id = report["id"].as_str().unwrap().to_owned();
    let (status, body) = stack
        .post(
            &format!("/api/v1/reports/{id}/return"),
            Some(&admin),
            &json!({"comment": "Đã duyệt\u{202E} 3 tấn"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["code"], "invalid_argument");
    assert_eq!(body["errors"][0]["field"], "comment", "{body}");
    assert!(
        body["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("U+202E"),
        "{body}"
    );

    // Nothing was stored: the report is as submitted, its values as sent,
    // and no agency of province 52 exists.
    let (status, body) = stack.get(&format!("/api/v1/reports/{id}"), &admin).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "submitted", "{body}");
    assert_eq!(body["version"], 1, "{body}");
    assert!(body["review"].is_null(), "{body}");
    let sent = body["values"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["data_element"] == "documents_sent")
        .cloned();
    assert_eq!(sent.unwrap()["value"], "120", "{body}");
    for code in ["000.00.00.H52", "000.00.00.H53", "000.00.01.H52"] {
        let (status, body) = stack.get(&format!("/api/v1/agencies/{code}"), &admin).await;
        assert_eq!(status, 404, "{code}: {body}");
    }

    let growth = resident_bytes().saturating_sub(before);
    assert!(growth < MEMORY_BOUND, "grew {} MB", growth >> 20);
    still_up(&stack, &admin).await;
    stack.shutdown().await;
}

/// Sends `request` on a fresh connection to the gateway at `url` and reads
/// one answer, by its `content-length` (a server may answer before the
/// body it refuses has arrived, and keep reading): (status, head, body).
async fn raw_exchange(url: &str, request: &[u8]) -> (u16, String, String) {
    let addr = url.trim_start_matches("http://");
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    let whole = |answer: &[u8]| -> Option<(String, String)> {
        let text = String::from_utf8_lossy(answer);
        let (head, body) = text.split_once("\r\n\r\n")?;
        let length: usize = head.lines().find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })?;
        (body.len() >= length).then(|| (head.to_owned(), body[..length].to_owned()))
    };
    let (head, body) = tokio::time::timeout(Duration::from_secs(10), async {
        let mut chunk = [0u8; 8192];
        loop {
            if let Some(done) = whole(&answer) {
                return done;
            }
            let n = tcp.read(&mut chunk).await.expect("an answer");
            assert!(n > 0, "closed before a whole answer: {answer:?}");
            answer.extend_from_slice(&chunk[..n]);
        }
    })
    .await
    .expect("the gateway answers");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    (status, head, body)
}

fn assert_problem(head: &str, body: &str, code: &str) {
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/problem+json"),
        "{head}"
    );
    let body: Value = serde_json::from_str(body).expect("a JSON problem");
    assert_eq!(body["code"], code, "{body}");
}

#[tokio::test]
async fn invented_methods_are_problems() {
    let stack = spawn_stack().await;
    let admin = stack.admin_token().await;
    for (request, status, code) in [
        ("FOO /api/v1/agencies", 405, "method_not_allowed"),
        ("BREW /api/v1/reports", 405, "method_not_allowed"),
        ("PROPFIND /api/dataValueSets", 405, "method_not_allowed"),
        ("FOO /api/v1/nowhere", 404, "not_found"),
    ] {
        let (got, head, body) = raw_exchange(
            &stack.gateway_url,
            format!(
                "{request} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {admin}\r\n\
                 content-length: 2\r\nconnection: close\r\n\r\n{{}}"
            )
            .as_bytes(),
        )
        .await;
        assert_eq!(got, status, "{request}: {head}\n{body}");
        assert_problem(&head, &body, code);
    }
    let (status, body) = stack.get("/api/v1/agencies", &admin).await;
    assert_eq!(status, 200, "{body}");
    stack.shutdown().await;
}

/// A gateway with the stack's back services and key but timeouts of a
/// second or so, so slow clients are cut off within a test's time.
async fn impatient_gateway(stack: &TestStack) -> (String, tokio_util::sync::CancellationToken) {
    let url = |addr: std::net::SocketAddr| format!("http://{addr}");
    let gateway = chiso_gateway::Application::build(chiso_gateway::GatewayConfig {
        http: chiso_runtime::config::HttpConfig {
            addr: "127.0.0.1:0".parse().unwrap(),
        },
        tls: Default::default(),
        auth: VerifyConfig::single(stack.data_dir().join("keys/jwt-public.pem")),
        registry_url: url(stack.registry_addr),
        submission_url: url(stack.submission_addr),
        aggregation_url: url(stack.aggregation_addr),
        trusted_proxies: Vec::new(),
        limits: Default::default(),
        requests: chiso_gateway::config::RequestsConfig {
            header_read_timeout_secs: 1,
            body_idle_timeout_secs: 1,
            body_read_timeout_secs: 2,
            ..Default::default()
        },
        metrics: chiso_gateway::config::MetricsConfig {
            addr: Some("127.0.0.1:0".parse().unwrap()),
        },
    })
    .await
    .expect("a second gateway");
    let gateway_url = url(gateway.local_addr());
    let stop = tokio_util::sync::CancellationToken::new();
    tokio::spawn(gateway.run_until_stopped(stop.clone()));
    (gateway_url, stop)
}

/// Writes `bytes` one at a time, `gap` apart, until done or the server
/// closes; answers what the server sent back and when it was done.
async fn trickle(
    url: &str,
    head: &[u8],
    bytes: &[u8],
    gap: Duration,
) -> (Vec<u8>, Duration, usize) {
    let mut tcp = tokio::net::TcpStream::connect(url.trim_start_matches("http://"))
        .await
        .unwrap();
    let started = Instant::now();
    tcp.write_all(head).await.unwrap();
    let (mut read, mut write) = tcp.into_split();
    let reader = tokio::spawn(async move {
        let mut answer = Vec::new();
        let _ = read.read_to_end(&mut answer).await;
        (answer, started.elapsed())
    });
    let mut sent = 0;
    for b in bytes {
        if reader.is_finished() || write.write_all(&[*b]).await.is_err() {
            break;
        }
        sent += 1;
        tokio::time::sleep(gap).await;
    }
    let (answer, took) = tokio::time::timeout(Duration::from_secs(10), reader)
        .await
        .expect("the server closed the connection")
        .unwrap();
    (answer, took, sent)
}

#[tokio::test]
async fn slow_clients_are_cut_off_while_others_are_served() {
    let stack = spawn_stack().await;
    let (admin, _) = register_quang_ngai(&stack).await;
    let (gateway, stop) = impatient_gateway(&stack).await;
    let before = resident_bytes();

    // Others are served throughout: a prober on its own task.
    let probe_url = gateway.clone();
    let probing = tokio::spawn(async move {
        let http = reqwest::Client::new();
        let mut slowest = Duration::ZERO;
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(4) {
            let at = Instant::now();
            let answer = http
                .get(format!("{probe_url}/healthz"))
                .send()
                .await
                .expect("health answered");
            assert_eq!(answer.status(), 200);
            slowest = slowest.max(at.elapsed());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        slowest
    });

    // Headers a byte every 100 ms: 80 bytes would take 8 s, the header
    // timeout is 1 s.
    let headers =
        b"GET /api/v1/agencies HTTP/1.1\r\nhost: x\r\nx-padding: aaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    let slow_headers = trickle(&gateway, b"", headers, Duration::from_millis(100));
    // A body a byte every 400 ms: never idle a second, but 100 bytes would
    // take 40 s and the whole body may take 2 s.
    let body_head = format!(
        "POST /api/v1/agencies HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {admin}\r\n\
         content-type: application/json\r\ncontent-length: 100\r\n\r\n"
    );
    let slow_body = trickle(
        &gateway,
        body_head.as_bytes(),
        &[b' '; 100],
        Duration::from_millis(400),
    );
    // A body that stops: five bytes, then nothing.
    let stalled_head = body_head.replace("content-length: 100", "content-length: 50");
    let stalled = async {
        let mut tcp = tokio::net::TcpStream::connect(gateway.trim_start_matches("http://"))
            .await
            .unwrap();
        let started = Instant::now();
        tcp.write_all(stalled_head.as_bytes()).await.unwrap();
        tcp.write_all(b"{\"cod").await.unwrap();
        let mut answer = Vec::new();
        tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut answer))
            .await
            .expect("the server closed the connection")
            .unwrap();
        (answer, started.elapsed())
    };
    // A terabyte announced, two bytes sent. The gateway refuses a body by
    // the bytes it reads, not by the length announced, so this connection
    // is held until the idle timeout (408), not answered 413 at once; it
    // is held, though, not read into memory.
    let announced = body_head.replace("content-length: 100", "content-length: 1000000000000");
    let liar = async {
        let mut tcp = tokio::net::TcpStream::connect(gateway.trim_start_matches("http://"))
            .await
            .unwrap();
        let started = Instant::now();
        tcp.write_all(format!("{announced}{{}}").as_bytes())
            .await
            .unwrap();
        let mut answer = Vec::new();
        tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut answer))
            .await
            .expect("the server closed the connection")
            .unwrap();
        (answer, started.elapsed())
    };
    let (
        (header_answer, header_took, header_sent),
        (body_answer, body_took, body_sent),
        (stall_answer, stall_took),
        (liar_answer, liar_took),
    ) = tokio::join!(slow_headers, slow_body, stalled, liar);
    assert!(
        (Duration::from_millis(900)..Duration::from_secs(3)).contains(&liar_took),
        "{liar_took:?}"
    );
    let liar_answer = String::from_utf8(liar_answer).unwrap();
    let (head, body) = liar_answer.split_once("\r\n\r\n").expect("an answer");
    assert!(head.starts_with("HTTP/1.1 408"), "{head}");
    assert_problem(head, body, "request_timeout");

    assert!(header_sent < headers.len(), "all headers were read");
    assert!(
        (Duration::from_millis(900)..Duration::from_secs(3)).contains(&header_took),
        "{header_took:?}"
    );
    // hyper closes a connection whose headers time out, answering nothing
    // or a bare 408: no handler ever saw the request.
    let header_answer = String::from_utf8_lossy(&header_answer);
    assert!(
        header_answer.is_empty() || header_answer.starts_with("HTTP/1.1 408"),
        "{header_answer}"
    );

    assert!(body_sent < 100, "the whole slow body was read");
    assert!(
        (Duration::from_millis(1900)..Duration::from_secs(4)).contains(&body_took),
        "{body_took:?}"
    );
    let body_answer = String::from_utf8(body_answer).unwrap();
    let (head, body) = body_answer.split_once("\r\n\r\n").expect("an answer");
    assert!(head.starts_with("HTTP/1.1 408"), "{head}");
    assert_problem(head, body, "request_timeout");

    assert!(
        (Duration::from_millis(900)..Duration::from_secs(3)).contains(&stall_took),
        "{stall_took:?}"
    );
    let stall_answer = String::from_utf8(stall_answer).unwrap();
    let (head, body) = stall_answer.split_once("\r\n\r\n").expect("an answer");
    assert!(head.starts_with("HTTP/1.1 408"), "{head}");
    assert_problem(head, body, "request_timeout");

    let slowest = probing.await.unwrap();
    assert!(
        slowest < Duration::from_millis(500),
        "health took {slowest:?}"
    );
    // Nothing was created by the cut-off bodies; a normal call works.
    let (status, body) = stack.get("/api/v1/agencies/000.00.00.H51", &admin).await;
    assert_eq!(status, 200, "{body}");
    let growth = resident_bytes().saturating_sub(before);
    assert!(growth < MEMORY_BOUND, "grew {} MB", growth >> 20);
    stop.cancel();
    stack.shutdown().await;
}

/// Calls `method` of the service at `addr` with `message` as its bytes.
async fn raw_call(
    stack: &TestStack,
    addr: std::net::SocketAddr,
    method: &'static str,
    token: &str,
    message: Bytes,
) -> Result<Bytes, tonic::Status> {
    let mut client =
        tonic::client::Grpc::new(stack.channel(addr)).max_encoding_message_size(64 * 1024 * 1024);
    client.ready().await.expect("the service is reachable");
    let request = grpc::with_bearer(message, token).unwrap();
    client
        .unary(
            request,
            tonic::codegen::http::uri::PathAndQuery::from_static(method),
            RawCodec,
        )
        .await
        .map(tonic::Response::into_inner)
}

/// A length-delimited protobuf field `number` holding `bytes`.
fn field(number: u8, bytes: &[u8]) -> Vec<u8> {
    let mut out = vec![(number << 3) | 2];
    let mut len = bytes.len();
    while len >= 0x80 {
        out.push((len as u8) | 0x80);
        len >>= 7;
    }
    out.push(len as u8);
    out.extend_from_slice(bytes);
    out
}

#[tokio::test]
async fn hostile_grpc_messages_are_refused_and_the_services_stay_up() {
    let stack = spawn_stack().await;
    let (admin, credentials) = register_quang_ngai(&stack).await;
    let grpc_admin = stack
        .grpc_token(&stack.admin_client_id, &stack.admin_secret)
        .await;
    let grpc_agency = stack.grpc_token(&credentials[0].1, &credentials[0].2).await;
    let before = resident_bytes();
    const CREATE: &str = "/chiso.registry.v1.AgencyService/CreateAgency";
    const SUBMIT: &str = "/chiso.submission.v1.ReportService/SubmitReport";

    let valid_agency = |name: &[u8]| {
        [
            field(1, b"000.00.00.H52"),
            field(2, b"52"),
            field(3, name),
            vec![5 << 3, 1],
        ]
        .concat()
    };
    // (what, service address, method path, bearer, raw message, expected code)
    type RawCase<'t> = (
        &'static str,
        std::net::SocketAddr,
        &'static str,
        &'t str,
        Vec<u8>,
        tonic::Code,
    );
    let cases: Vec<RawCase<'_>> = vec![
        (
            "garbage bytes as an agency",
            stack.registry_addr,
            CREATE,
            &grpc_admin,
            vec![0xff; 64],
            tonic::Code::Internal,
        ),
        (
            "a field longer than the message",
            stack.registry_addr,
            CREATE,
            &grpc_admin,
            vec![0x0a, 0xff, 0xff, 0x03, b'x'],
            tonic::Code::Internal,
        ),
        (
            "invalid UTF-8 in an agency's name",
            stack.registry_addr,
            CREATE,
            &grpc_admin,
            valid_agency(b"T\xe1nh B\xecnh"),
            tonic::Code::Internal,
        ),
        (
            "a NUL in an agency's name",
            stack.registry_addr,
            CREATE,
            &grpc_admin,
            valid_agency(b"T\x00nh"),
            tonic::Code::InvalidArgument,
        ),
        (
            "a right-to-left override in an agency's name",
            stack.registry_addr,
            CREATE,
            &grpc_admin,
            valid_agency("Tỉnh\u{202E} Bình Định".as_bytes()),
            tonic::Code::InvalidArgument,
        ),
        (
            "an agency message of 5 MB",
            stack.registry_addr,
            CREATE,
            &grpc_admin,
            valid_agency(&vec![b'a'; 5 * 1024 * 1024]),
            tonic::Code::OutOfRange,
        ),
        (
            "garbage bytes as a report",
            stack.submission_addr,
            SUBMIT,
            &grpc_agency,
            b"\x08\x96\x01\x12\x07garbage\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff".to_vec(),
            tonic::Code::Internal,
        ),
        (
            "invalid UTF-8 in a report's form",
            stack.submission_addr,
            SUBMIT,
            &grpc_agency,
            [field(1, b"it_fast\xc0\xafquarterly"), field(2, b"2025")].concat(),
            tonic::Code::Internal,
        ),
        (
            "a report value of -0",
            stack.submission_addr,
            SUBMIT,
            &grpc_agency,
            [
                field(1, b"it_fast_quarterly"),
                field(2, this_quarter().as_bytes()),
                field(4, &[field(1, b"documents_sent"), field(2, b"-0")].concat()),
            ]
            .concat(),
            tonic::Code::InvalidArgument,
        ),
    ];
    for (what, addr, method, token, message, code) in cases {
        let status = raw_call(&stack, addr, method, token, Bytes::from(message))
            .await
            .expect_err(what);
        assert_eq!(status.code(), code, "{what}: {status:?}");
        assert!(!status.message().is_empty(), "{what}");
        // No internal detail reaches the caller.
        assert!(!status.message().contains("src/"), "{what}: {status:?}");
    }

    // Nothing was stored: no agency of province 52, no report.
    let (status, body) = stack.get("/api/v1/agencies/000.00.00.H52", &admin).await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = stack
        .post(
            "/api/v1/reports",
            Some(&stack.token(&credentials[0].1, &credentials[0].2).await),
            &crate::documents_report(10, 5),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["version"], 1, "a report was stored before: {body}");

    let growth = resident_bytes().saturating_sub(before);
    assert!(growth < MEMORY_BOUND, "grew {} MB", growth >> 20);
    // The services still answer health checks and ordinary calls.
    for addr in [
        stack.registry_addr,
        stack.submission_addr,
        stack.aggregation_addr,
    ] {
        let mut health = tonic_health::pb::health_client::HealthClient::new(stack.channel(addr));
        let answer = health
            .check(tonic_health::pb::HealthCheckRequest::default())
            .await
            .expect("health answered")
            .into_inner();
        assert_eq!(answer.status, 1, "{addr} serving");
    }
    still_up(&stack, &admin).await;
    stack.shutdown().await;
}
