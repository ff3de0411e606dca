//! `chiso probe`, the health check of the container images, run as the
//! binary: a panic here is an unhealthy container.

use std::{
    io::{Read, Write},
    net::TcpListener,
    process::Command,
};

/// A one-request HTTP server answering `status_line`; its URL.
fn serve_once(status_line: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    let addr = listener.local_addr().expect("bound");
    std::thread::spawn(move || {
        if let Ok((mut stream, _)) = listener.accept() {
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let _ = write!(
                stream,
                "{status_line}\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"
            );
        }
    });
    format!("http://{addr}/readyz")
}

fn probe_http(url: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_chiso"))
        .args(["probe", "http", url])
        .output()
        .expect("chiso runs")
}

#[test]
fn http_probe_exits_0_on_a_2xx_answer() {
    let out = probe_http(&serve_once("HTTP/1.1 200 OK"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "stderr: {stderr}");
}

#[test]
fn http_probe_fails_naming_the_status_otherwise() {
    let url = serve_once("HTTP/1.1 503 Service Unavailable");
    let out = probe_http(&url);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(
        stderr.contains(&format!("{url} answered 503")),
        "stderr: {stderr}"
    );
}
