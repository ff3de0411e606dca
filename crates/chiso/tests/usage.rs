//! The `chiso` binary's client commands without a server: usage errors,
//! a missing profile, an unreachable server, completions. (The commands
//! against a running stack are tested in tests/integration/cli.rs, which
//! runs this same binary: this test also makes `cargo test` build it.)

use std::process::{Command, Output};

fn chiso(config: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chiso"))
        .args(args)
        .env("XDG_CONFIG_HOME", config)
        .env("LANG", "en_US.UTF-8")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env_remove("CHISO_PROFILE")
        .env_remove("CHISO_CLIENT_SECRET")
        .output()
        .expect("chiso runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = chiso(dir.path(), &["periods"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("<FORM>"));

    // No profile yet: says how to make one.
    let out = chiso(dir.path(), &["whoami"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("no profile `default`"),
        "{}",
        text(&out.stderr)
    );
    assert!(text(&out.stderr).contains("chiso login"));

    let out = chiso(dir.path(), &["whoami", "--profile", "../etc"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn an_unreachable_server_exits_3_naming_the_url() {
    let dir = tempfile::tempdir().unwrap();
    // A port nothing listens on: bind one, then let it go.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let out = Command::new(env!("CARGO_BIN_EXE_chiso"))
        .args(["login", &url, "--client-id", "agency-x"])
        .env("XDG_CONFIG_HOME", dir.path())
        .env("CHISO_CLIENT_SECRET", "not-used")
        .env("LANG", "vi_VN.UTF-8")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "không kết nối được máy chủ {url}/api/v1/auth/token"
        )),
        "{stderr}"
    );
    // Nothing saved for a login that did not happen.
    assert!(!dir.path().join("chiso/profiles/default.toml").exists());
}

#[test]
fn completions_and_help_with_examples() {
    let dir = tempfile::tempdir().unwrap();
    let out = chiso(dir.path(), &["completions", "bash"]);
    assert_eq!(out.status.code(), Some(0));
    let script = text(&out.stdout);
    for word in [
        "login",
        "report",
        "submit",
        "--sign",
        "dhis2",
        "completeness",
    ] {
        assert!(
            script.contains(word),
            "{word} missing from the bash completions"
        );
    }
    for command in [
        &["login", "--help"][..],
        &["report", "submit", "--help"],
        &["import", "dhis2", "--help"],
        &["export", "dhis2", "--help"],
        &["aggregates", "--help"],
        &["keys", "--help"],
    ] {
        let out = chiso(dir.path(), command);
        assert_eq!(out.status.code(), Some(0));
        assert!(
            text(&out.stdout).contains("chiso "),
            "{command:?}: no example"
        );
    }
}

/// `chiso … | head` closes the pipe before everything is printed: the
/// command ends quietly (exit 0, no panic on stderr), as Unix tools do.
#[test]
fn a_reader_that_stops_early_ends_the_command_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_chiso"))
        .args(["completions", "bash"])
        .env("XDG_CONFIG_HOME", dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("chiso runs");
    // Closed before the child can have written anything.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        !text(&out.stderr).contains("panicked"),
        "{}",
        text(&out.stderr)
    );
}

/// Serves one HTTP request with `status` on a free loopback port; the URL.
fn one_answer(status: &'static str) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/readyz", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut request = [0u8; 1024];
        let _ = stream.read(&mut request);
        let body = "{}";
        let answer = format!(
            "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(answer.as_bytes()).unwrap();
    });
    url
}

// The compose health check of the gateway (`chiso probe http .../readyz`)
// inside the image: it panicked (exit 101) building its HTTP client before
// the crypto provider was installed, so the gateway never became healthy.
#[test]
fn probe_http_exits_0_on_2xx_and_1_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let url = one_answer("200 OK");
    let out = chiso(dir.path(), &["probe", "http", &url]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    let url = one_answer("503 Service Unavailable");
    let out = chiso(dir.path(), &["probe", "http", &url]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("answered 503"),
        "{}",
        text(&out.stderr)
    );
}
