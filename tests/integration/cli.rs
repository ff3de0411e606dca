//! The `chiso` client binary (issue 13) against a spawned stack: the real
//! binary, run as a person or a script would, with its own config folder.
//!
//! `cargo test --workspace` builds `target/<profile>/chiso` before any test
//! runs (crates/chiso has an integration test of its own, which makes Cargo
//! build the binary); alone, `cargo test -p chiso-tests cli` builds it here
//! first when it is missing.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::Output,
    sync::{
        Arc, Mutex, OnceLock,
        atomic::{AtomicBool, Ordering},
    },
};

use chiso_domain::{PeriodCode, PeriodType, sample::sample_values, seed};
use chiso_tests::{StackOptions, spawn_stack, spawn_stack_with};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

use crate::{documents_report, register_quang_ngai, this_quarter};

const DEPARTMENT: &str = "000.00.15.H51";
const DISTRICT: &str = "000.00.24.H51";

/// The binary next to this test's (`target/debug/deps/..`).
fn chiso_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let exe = std::env::current_exe().expect("the test binary's path");
        let dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("target/<profile>/deps");
        let bin = dir.join(format!("chiso{}", std::env::consts::EXE_SUFFIX));
        if !bin.exists() {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let mut build = std::process::Command::new(cargo);
            build.args(["build", "-p", "chiso", "--bin", "chiso"]);
            if dir.file_name().is_some_and(|n| n == "release") {
                build.arg("--release");
            }
            let status = build.status().expect("cargo runs");
            assert!(status.success(), "cargo build -p chiso failed");
        }
        bin
    })
}

/// One user of the client: a config folder of their own.
struct User {
    config: tempfile::TempDir,
}

/// What a run of the binary did.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout))
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

impl User {
    fn new() -> Self {
        Self {
            config: tempfile::tempdir().unwrap(),
        }
    }

    fn dir(&self) -> &Path {
        self.config.path()
    }

    /// Runs `chiso ARGS` in English, with extra environment variables.
    async fn run_with(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut command = tokio::process::Command::new(chiso_bin());
        command
            .args(args)
            .current_dir(self.dir())
            .env("XDG_CONFIG_HOME", self.dir().join("config"))
            .env("LANG", "en_US.UTF-8")
            .env_remove("LC_ALL")
            .env_remove("LC_MESSAGES")
            .env_remove("CHISO_PROFILE")
            .env_remove("CHISO_CLIENT_SECRET")
            .stdin(std::process::Stdio::null());
        for (name, value) in env {
            command.env(name, value);
        }
        let Output {
            status,
            stdout,
            stderr,
        } = command.output().await.expect("chiso runs");
        Run {
            code: status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        }
    }

    async fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, &[]).await
    }

    /// `chiso login` with the secret from the environment.
    async fn login(&self, url: &str, client_id: &str, secret: &str, extra: &[&str]) -> Run {
        let mut args = vec!["login", url, "--client-id", client_id];
        args.extend_from_slice(extra);
        self.run_with(&args, &[("CHISO_CLIENT_SECRET", secret)])
            .await
    }

    fn write(&self, name: &str, content: &str) -> String {
        let path = self.dir().join(name);
        std::fs::write(&path, content).unwrap();
        path.to_string_lossy().into_owned()
    }
}

fn this_year() -> String {
    PeriodCode::containing(PeriodType::Yearly, chiso_domain::today())
        .unwrap()
        .to_string()
}

/// A complete yearly report of the seed catalogue's sample values.
fn yearly_report() -> Value {
    let catalogue = seed::catalogue().unwrap();
    let forms = seed::forms(&catalogue).unwrap();
    let form = forms
        .iter()
        .find(|f| f.code.as_str() == "it_application_yearly")
        .unwrap();
    let values: Vec<Value> = sample_values(form, 7, 2)
        .into_iter()
        .map(|(code, value)| json!({"data_element": code, "value": value}))
        .collect();
    json!({"form": "it_application_yearly", "period": this_year(), "values": values})
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn an_agency_logs_in_fills_a_template_submits_signs_and_reads_its_status() {
    let stack = spawn_stack().await;
    let (_admin, credentials) = register_quang_ngai(&stack).await;
    let (agency, client_id, secret) = &credentials[0];
    assert_eq!(agency, DEPARTMENT);
    let user = User::new();

    // Login: the secret from the environment, never an argument.
    let run = user.login(&stack.gateway_url, client_id, secret, &[]).await;
    assert_eq!(run.code, 0, "{run}");
    assert!(
        run.stdout.contains(&format!(
            "{client_id} (agency_reporter, agency {DEPARTMENT}, province 51)"
        )),
        "{run}"
    );
    let profile = user.dir().join("config/chiso/profiles/default.toml");
    let saved = std::fs::read_to_string(&profile).unwrap();
    assert!(
        saved.contains(&format!("url = \"{}\"", stack.gateway_url)),
        "{saved}"
    );
    #[cfg(unix)]
    {
        assert_eq!(mode(&profile), 0o600);
        assert_eq!(mode(profile.parent().unwrap()), 0o700);
        assert_eq!(mode(&user.dir().join("config/chiso")), 0o700);
        assert_eq!(
            mode(&user.dir().join("config/chiso/tokens/default.json")),
            0o600
        );
    }
    let run = user.run(&["whoami", "-o", "json"]).await;
    assert_eq!(run.code, 0, "{run}");
    let me = run.json();
    assert_eq!(me["agency_code"], DEPARTMENT);
    assert_eq!(me["agency_name"], "Sở Thông tin và Truyền thông");
    assert_eq!(me["role"], "agency_reporter");

    // Tokens are renewed before they expire, and when the server refuses
    // a cached one.
    let tokens = user.dir().join("config/chiso/tokens/default.json");
    let cached =
        |file: &Path| -> Value { serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap() };
    let now = chrono::Utc::now().timestamp();
    for (stale, expires_at) in [("expiring", now + 30), ("refused", now + 600)] {
        std::fs::write(
            &tokens,
            json!({"access_token": stale, "expires_at": expires_at}).to_string(),
        )
        .unwrap();
        let run = user.run(&["whoami", "-o", "json"]).await;
        assert_eq!(run.code, 0, "{stale}: {run}");
        let renewed = cached(&tokens);
        assert_ne!(renewed["access_token"], stale);
        assert!(
            renewed["expires_at"].as_i64().unwrap() > now + 500,
            "{renewed}"
        );
    }

    // The template lists the form's elements, nothing filled in yet.
    let quarter = this_quarter();
    let run = user
        .run(&[
            "report",
            "template",
            "it_fast_quarterly",
            &quarter,
            "--out",
            "q.json",
        ])
        .await;
    assert_eq!(run.code, 0, "{run}");
    let mut template: Value =
        serde_json::from_str(&std::fs::read_to_string(user.dir().join("q.json")).unwrap()).unwrap();
    assert_eq!(template["agency_code"], DEPARTMENT);
    assert_eq!(template["period"], quarter.as_str());
    let codes: Vec<&str> = template["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["data_element"].as_str().unwrap())
        .collect();
    assert_eq!(codes.len(), 11, "{codes:?}");
    assert_eq!(codes[0], "documents_sent");
    assert!(
        template["values"]
            .as_array()
            .unwrap()
            .iter()
            .all(|v| v["value"] == "")
    );

    // Filled in from the file and submitted.
    let filled = documents_report(120, 114);
    for value in template["values"].as_array_mut().unwrap() {
        if let Some(given) = filled["values"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["data_element"] == value["data_element"])
        {
            value["value"] = given["value"].clone();
        }
    }
    user.write("q.json", &template.to_string());
    let run = user.run(&["report", "submit", "q.json"]).await;
    assert_eq!(run.code, 0, "{run}");
    assert!(
        run.stdout.starts_with(&format!(
            "it_fast_quarterly {quarter} of {DEPARTMENT}: version 1, submitted"
        )),
        "{run}"
    );

    // Status lists it, as a table and as JSON.
    let run = user.run(&["report", "status", "-o", "json"]).await;
    assert_eq!(run.code, 0, "{run}");
    let reports = run.json();
    let reports = reports.as_array().unwrap();
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0]["form"], "it_fast_quarterly");
    assert_eq!(reports[0]["status"], "submitted");
    assert_eq!(reports[0]["version"], 1);
    let run = user.run(&["report", "status", "-o", "csv"]).await;
    assert_eq!(run.code, 0, "{run}");
    let mut lines = run.stdout.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("form,period,agency,version,status")
    );
    assert!(
        lines.next().unwrap().starts_with(&format!(
            "it_fast_quarterly,{quarter},{DEPARTMENT},1,submitted,"
        )),
        "{run}"
    );
    let run = user
        .run(&[
            "report",
            "show",
            "it_fast_quarterly",
            &quarter,
            "-o",
            "json",
        ])
        .await;
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(
        run.json()["values"][0],
        json!({"data_element": "documents_sent", "value": "120"})
    );

    // A rejected submission: the problem's detail and every field, exit 1,
    // in English here and in Vietnamese under a Vietnamese locale.
    let bad = user.write(
        "bad.json",
        &json!({"form": "online_applications_monthly", "period": PeriodCode::containing(PeriodType::Monthly, chiso_domain::today()).unwrap().to_string(),
                "values": [{"data_element": "serverz", "value": "1"},
                           {"data_element": "applications_received", "value": "-1"}]})
        .to_string(),
    );
    let run = user.run(&["report", "submit", &bad]).await;
    assert_eq!(run.code, 1, "{run}");
    assert!(run.stderr.starts_with("error: invalid input"), "{run}");
    assert!(
        run.stderr
            .contains("\n  values[0].data_element: unknown data element `serverz`\n"),
        "{run}"
    );
    assert!(run.stderr.contains("\n  values[1].value: applications_received (Số hồ sơ thủ tục hành chính tiếp nhận): `-1` must be zero or more\n"), "{run}");
    assert!(
        run.stderr
            .contains("(HTTP 422, invalid_argument, request id "),
        "{run}"
    );
    let run = user
        .run_with(&["report", "submit", &bad], &[("LANG", "vi_VN.UTF-8")])
        .await;
    assert_eq!(run.code, 1, "{run}");
    assert!(run.stderr.starts_with("lỗi: "), "{run}");
    assert!(run.stderr.contains("\n  values[0].data_element: "), "{run}");
    assert!(run.stderr.contains("mã yêu cầu"), "{run}");
    // Nothing of it was stored.
    let run = user
        .run(&[
            "report",
            "status",
            "--form",
            "online_applications_monthly",
            "-o",
            "json",
        ])
        .await;
    assert_eq!(run.json(), json!([]));

    // The yearly form needs the agency's signature: a key pair made here,
    // registered, and the report signed as the server verifies it.
    let yearly = user.write("y.json", &yearly_report().to_string());
    let run = user.run(&["report", "submit", &yearly]).await;
    assert_eq!(run.code, 1, "unsigned: {run}");
    assert!(run.stderr.contains("signature"), "{run}");
    let run = user.run(&["keys", "generate"]).await;
    assert_eq!(run.code, 0, "{run}");
    #[cfg(unix)]
    assert_eq!(
        mode(&user.dir().join("config/chiso/keys/default.pem")),
        0o600
    );
    let run = user.run(&["report", "submit", &yearly, "--sign"]).await;
    assert_eq!(run.code, 2, "not registered yet: {run}");
    assert!(run.stderr.contains("chiso keys register"), "{run}");
    let run = user
        .run(&["keys", "register", "--label", "Máy chủ báo cáo"])
        .await;
    assert_eq!(run.code, 0, "{run}");
    let key_id = run.stdout.split_whitespace().nth(2).unwrap().to_owned();
    assert!(key_id.starts_with("key-"), "{run}");
    let run = user
        .run(&["report", "submit", &yearly, "--sign", "-o", "json"])
        .await;
    assert_eq!(run.code, 0, "{run}");
    let signed = run.json();
    assert_eq!(signed["status"], "submitted");
    assert_eq!(signed["signature"]["key_id"], key_id.as_str());
    let id = signed["id"].as_str().unwrap().to_owned();

    // Verified here, against the key as registered, and by the server.
    let run = user
        .run(&[
            "report",
            "verify",
            "it_application_yearly",
            &this_year(),
            "-o",
            "json",
        ])
        .await;
    assert_eq!(run.code, 0, "{run}");
    let checked = run.json();
    assert_eq!(checked["valid"], true);
    assert_eq!(checked["key_id"], key_id.as_str());
    assert!(checked["signed_content"].as_str().unwrap().starts_with(&format!(
        "{{\"agency\":\"{DEPARTMENT}\",\"form\":\"it_application_yearly\",\"period\":\"{}\",\"values\":{{",
        this_year()
    )));
    let token = stack.token(client_id, secret).await;
    let (status, server) = stack
        .get(&format!("/api/v1/reports/{id}/signature"), &token)
        .await;
    assert_eq!(status, 200, "{server}");
    assert_eq!(server["valid"], true, "{server}");
    let run = user.run(&["report", "history", &id, "-o", "json"]).await;
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(run.json().as_array().unwrap().len(), 1);

    // Logout forgets the credentials.
    let run = user.run(&["logout"]).await;
    assert_eq!(run.code, 0, "{run}");
    assert!(!profile.exists());
    let run = user.run(&["report", "status"]).await;
    assert_eq!(run.code, 2, "{run}");
}

/// A DHIS2 data value set for the district committee, this quarter.
fn value_set(sent: i64, electronic: i64) -> Value {
    let values = documents_report(sent, electronic)["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| json!({"dataElement": v["data_element"], "value": v["value"]}))
        .collect::<Vec<_>>();
    json!({"dataSet": "it_fast_quarterly", "period": this_quarter(), "orgUnit": DISTRICT, "dataValues": values})
}

/// (orgUnit, dataElement, value) of an exported set, sorted.
fn values_of(set: &Value) -> Vec<(String, String, String)> {
    let mut values: Vec<_> = set["dataValues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["orgUnit"].as_str().unwrap().to_owned(),
                v["dataElement"].as_str().unwrap().to_owned(),
                v["value"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    values.sort();
    values
}

#[tokio::test]
async fn dhis2_import_dry_run_then_commit_and_an_export_that_round_trips() {
    let stack = spawn_stack().await;
    let (admin, _) = register_quang_ngai(&stack).await;
    let user = User::new();
    let run = user
        .login(
            &stack.gateway_url,
            &stack.admin_client_id,
            &stack.admin_secret,
            &["--profile", "admin"],
        )
        .await;
    assert_eq!(run.code, 0, "{run}");
    let admin_user = |args: &[&str]| {
        let mut all = vec!["--profile", "admin"];
        all.extend_from_slice(args);
        all.iter().map(|s| (*s).to_owned()).collect::<Vec<String>>()
    };
    let set = user.write("set.json", &value_set(380, 266).to_string());
    let by_key = format!(
        "/api/v1/reports/by-key/it_fast_quarterly/{}/{DISTRICT}",
        this_quarter()
    );

    // Dry run: counted, nothing stored; plain progress lines (not a terminal).
    let args = admin_user(&["import", "dhis2", &set, "--dry-run"]);
    let run = user
        .run(&args.iter().map(String::as_str).collect::<Vec<_>>())
        .await;
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(
        run.stdout.trim(),
        "dry run, nothing stored: SUCCESS: 6 imported, 0 updated, 0 ignored, 0 deleted"
    );
    assert!(run.stderr.contains("bytes, done"), "{run}");
    assert_eq!(stack.get(&by_key, &admin).await.0, 404);

    // Commit: the values are the district's draft.
    let args = admin_user(&["import", "dhis2", &set]);
    let run = user
        .run(&args.iter().map(String::as_str).collect::<Vec<_>>())
        .await;
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(
        run.stdout.trim(),
        "SUCCESS: 6 imported, 0 updated, 0 ignored, 0 deleted"
    );
    let (status, report) = stack.get(&by_key, &admin).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["status"], "draft");
    assert_eq!(
        report["values"][0],
        json!({"data_element": "documents_sent", "value": "380"})
    );

    // A conflict: nothing stored, each conflict listed, exit 1.
    let mut bad = value_set(1, 2);
    bad["dataValues"][0]["value"] = json!("-3");
    let bad = user.write("bad.json", &bad.to_string());
    let args = admin_user(&["import", "dhis2", &bad]);
    let run = user
        .run(&args.iter().map(String::as_str).collect::<Vec<_>>())
        .await;
    assert_eq!(run.code, 1, "{run}");
    assert!(run.stderr.contains("\n  documents_sent: "), "{run}");
    assert!(run.stderr.contains("`-3` must be zero or more"), "{run}");
    assert_eq!(
        stack.get(&by_key, &admin).await.1["values"][0]["value"],
        "380"
    );

    // Export the province, import the file back: nothing changes, and the
    // second export says the same as the first.
    let args = admin_user(&[
        "export",
        "dhis2",
        "--form",
        "it_fast_quarterly",
        "--period",
        &this_quarter(),
        "--area",
        "51",
        "--out",
        "out.json",
    ]);
    let run = user
        .run(&args.iter().map(String::as_str).collect::<Vec<_>>())
        .await;
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stderr.contains("receiving"), "{run}");
    let first: Value =
        serde_json::from_slice(&std::fs::read(user.dir().join("out.json")).unwrap()).unwrap();
    let values = values_of(&first);
    assert_eq!(values.len(), 6, "{values:?}");
    assert!(values.contains(&(
        DISTRICT.into(),
        "documents_sent_electronic".into(),
        "266".into()
    )));
    let args = admin_user(&["import", "dhis2", "out.json"]);
    let run = user
        .run(&args.iter().map(String::as_str).collect::<Vec<_>>())
        .await;
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(
        run.stdout.trim(),
        "SUCCESS: 0 imported, 0 updated, 6 ignored, 0 deleted"
    );
    let args = admin_user(&[
        "export",
        "dhis2",
        "--form",
        "it_fast_quarterly",
        "--period",
        &this_quarter(),
        "--area",
        DISTRICT,
        "--csv",
    ]);
    let run = user
        .run(&args.iter().map(String::as_str).collect::<Vec<_>>())
        .await;
    assert_eq!(run.code, 0, "{run}");
    let csv_values: Vec<&str> = run.stdout.lines().skip(1).collect();
    assert_eq!(csv_values.len(), 6, "{run}");
    assert!(
        csv_values[0].starts_with(&format!(
            "documents_sent,{},{DISTRICT},default,default,380,",
            this_quarter()
        )),
        "{run}"
    );
}

/// A proxy in front of the gateway that forwards every request and, for
/// the first `POST /api/v1/reports`, lets the gateway answer but drops the
/// answer: the client cannot know whether the report was stored.
struct DroppingProxy {
    addr: SocketAddr,
    /// The `Idempotency-Key` of each `POST /api/v1/reports` seen.
    submissions: Arc<Mutex<Vec<String>>>,
}

impl DroppingProxy {
    async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let submissions = Arc::new(Mutex::new(Vec::new()));
        let dropped = Arc::new(AtomicBool::new(false));
        let seen = submissions.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (seen, dropped) = (seen.clone(), dropped.clone());
                tokio::spawn(async move {
                    let _ = Self::relay(client, upstream, seen, dropped).await;
                });
            }
        });
        Self { addr, submissions }
    }

    /// One request per connection: the request is sent on with
    /// `connection: close`, so the gateway's answer ends where its
    /// connection does.
    async fn relay(
        mut client: TcpStream,
        upstream: SocketAddr,
        seen: Arc<Mutex<Vec<String>>>,
        dropped: Arc<AtomicBool>,
    ) -> std::io::Result<()> {
        let mut request = Vec::new();
        let mut buf = [0u8; 8192];
        let head_end = loop {
            let n = client.read(&mut buf).await?;
            if n == 0 {
                return Ok(());
            }
            request.extend_from_slice(&buf[..n]);
            if let Some(i) = request.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
        };
        let head = String::from_utf8_lossy(&request[..head_end]).into_owned();
        let header = |name: &str| {
            head.lines().find_map(|line| {
                let (n, v) = line.split_once(':')?;
                n.trim()
                    .eq_ignore_ascii_case(name)
                    .then(|| v.trim().to_owned())
            })
        };
        let length: usize = header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        while request.len() < head_end + length {
            let n = client.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            request.extend_from_slice(&buf[..n]);
        }
        let kept: Vec<&str> = head
            .trim_end()
            .lines()
            .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
            .collect();
        let mut forwarded =
            format!("{}\r\nconnection: close\r\n\r\n", kept.join("\r\n")).into_bytes();
        forwarded.extend_from_slice(&request[head_end..]);
        let mut server = TcpStream::connect(upstream).await?;
        server.write_all(&forwarded).await?;
        let mut answer = Vec::new();
        server.read_to_end(&mut answer).await?;
        if head.starts_with("POST /api/v1/reports ") {
            seen.lock()
                .unwrap()
                .push(header("idempotency-key").unwrap_or_default());
            if !dropped.swap(true, Ordering::SeqCst) {
                // The gateway acted; the client hears nothing.
                return Ok(());
            }
        }
        client.write_all(&answer).await?;
        client.shutdown().await
    }
}

#[tokio::test]
async fn a_submission_whose_answer_is_lost_is_retried_and_stored_once() {
    let stack = spawn_stack().await;
    let (admin, credentials) = register_quang_ngai(&stack).await;
    let (agency, client_id, secret) = &credentials[1];
    let gateway: SocketAddr = stack
        .gateway_url
        .trim_start_matches("http://")
        .parse()
        .unwrap();
    let proxy = DroppingProxy::start(gateway).await;
    let user = User::new();
    let url = format!("http://{}", proxy.addr);
    let run = user.login(&url, client_id, secret, &[]).await;
    assert_eq!(run.code, 0, "{run}");
    let report = user.write("q.json", &documents_report(380, 266).to_string());

    let run = user.run(&["report", "submit", &report, "-o", "json"]).await;
    assert_eq!(run.code, 0, "{run}");
    assert!(
        run.stderr
            .contains(&format!("no answer from {url}/api/v1/reports")),
        "{run}"
    );
    assert_eq!(run.json()["version"], 1);
    // Two tries with one key…
    let keys = proxy.submissions.lock().unwrap().clone();
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert!(!keys[0].is_empty());
    assert_eq!(keys[0], keys[1]);
    // …and one report, submitted once.
    let (status, list) = stack
        .get(&format!("/api/v1/reports?agency={agency}"), &admin)
        .await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["version"], 1);
    let (status, audit) = stack
        .get(
            &format!("/api/v1/reports/{}/audit", list[0]["id"].as_str().unwrap()),
            &admin,
        )
        .await;
    assert_eq!(status, 200, "{audit}");
    assert_eq!(
        audit.as_array().unwrap().len(),
        1,
        "one write audited: {audit}"
    );
}

#[tokio::test]
async fn an_unreachable_server_exits_3_with_the_url_tried() {
    let stack = spawn_stack().await;
    let (_admin, credentials) = register_quang_ngai(&stack).await;
    let (_, client_id, secret) = &credentials[0];
    let user = User::new();
    let run = user.login(&stack.gateway_url, client_id, secret, &[]).await;
    assert_eq!(run.code, 0, "{run}");
    let url = stack.gateway_url.clone();
    stack.shutdown().await;

    let run = user.run(&["report", "status"]).await;
    assert_eq!(run.code, 3, "{run}");
    assert!(
        run.stderr.contains(&format!(
            "error: cannot reach the server at {url}/api/v1/reports"
        )),
        "{run}"
    );
    // Tried again before giving up.
    assert_eq!(run.stderr.matches("trying again in").count(), 3, "{run}");
}

#[tokio::test]
async fn tls_with_a_custom_ca() {
    let stack = spawn_stack_with(StackOptions {
        tls: true,
        ..Default::default()
    })
    .await;
    let ca = stack
        .client_tls
        .as_ref()
        .and_then(|t| t.ca_file.clone())
        .expect("the test CA");
    assert!(
        stack.gateway_url.starts_with("https://"),
        "{}",
        stack.gateway_url
    );
    let user = User::new();
    // Without the CA the certificate is not trusted: no connection.
    let run = user
        .login(
            &stack.gateway_url,
            &stack.admin_client_id,
            &stack.admin_secret,
            &[],
        )
        .await;
    assert_eq!(run.code, 3, "{run}");
    assert!(run.stderr.to_lowercase().contains("certificate"), "{run}");
    let ca = ca.to_string_lossy().into_owned();
    let run = user
        .login(
            &stack.gateway_url,
            &stack.admin_client_id,
            &stack.admin_secret,
            &["--ca-file", &ca],
        )
        .await;
    assert_eq!(run.code, 0, "{run}");
    // The CA is kept in the profile.
    let run = user.run(&["forms", "list", "-o", "csv"]).await;
    assert_eq!(run.code, 0, "{run}");
    assert!(
        run.stdout.contains("it_fast_quarterly,quarterly,no,no,"),
        "{run}"
    );
}

#[tokio::test]
async fn a_filled_in_xlsx_template_is_signed_and_submitted() {
    let stack = spawn_stack().await;
    let (_admin, credentials) = register_quang_ngai(&stack).await;
    let (agency, client_id, secret) = &credentials[1];
    assert_eq!(agency, DISTRICT);
    let user = User::new();
    assert_eq!(
        user.login(&stack.gateway_url, client_id, secret, &[])
            .await
            .code,
        0
    );
    for args in [&["keys", "generate"][..], &["keys", "register"]] {
        let run = user.run(args).await;
        assert_eq!(run.code, 0, "{run}");
    }
    let year = this_year();
    let run = user
        .run(&[
            "report",
            "template",
            "it_application_yearly",
            &year,
            "--xlsx",
            "--out",
            "y.xlsx",
        ])
        .await;
    assert_eq!(run.code, 0, "{run}");

    // Typed into column E as Excel would, found by the hidden codes in F.
    let values = yearly_report()["values"].as_array().unwrap().clone();
    let mut book =
        umya_spreadsheet::reader::xlsx::read(user.dir().join("y.xlsx")).expect("an XLSX file");
    let sheet = book.get_sheet_mut(&0).unwrap();
    assert_eq!(sheet.get_value("B2"), "it_application_yearly");
    assert_eq!(sheet.get_value("B3"), DISTRICT);
    let mut typed = 0;
    for row in 1..=80u32 {
        let code = sheet.get_value((6, row));
        let Some(value) = values.iter().find(|v| v["data_element"] == code.as_str()) else {
            continue;
        };
        let value = value["value"].as_str().unwrap();
        let cell = sheet.get_cell_mut((5, row));
        match value {
            "yes" => cell.set_value_string("Có"),
            "no" => cell.set_value_string("Không"),
            number => cell.set_value_number(number.parse::<f64>().unwrap()),
        };
        typed += 1;
    }
    assert_eq!(typed, values.len());
    umya_spreadsheet::writer::xlsx::write(&book, user.dir().join("y.xlsx")).unwrap();

    let run = user
        .run(&["report", "submit", "y.xlsx", "--sign", "-o", "json"])
        .await;
    assert_eq!(run.code, 0, "{run}");
    let report = run.json();
    assert_eq!(report["status"], "submitted");
    assert_eq!(report["agency_code"], DISTRICT);
    assert!(
        report["signature"]["key_id"]
            .as_str()
            .unwrap()
            .starts_with("key-")
    );
    let run = user
        .run(&["report", "verify", report["id"].as_str().unwrap()])
        .await;
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stdout.contains("verifies with key"), "{run}");
}
