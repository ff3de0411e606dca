//! The one way the client talks to the gateway: JSON or streamed bodies,
//! a bearer token renewed before it expires, problem+json turned into
//! [`CliError`], and retries with the same `Idempotency-Key`.

use std::{
    io::IsTerminal,
    path::PathBuf,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use anyhow::Context;
use backon::BackoffBuilder;
use reqwest::{Method, StatusCode, header};
use serde_json::Value;

use super::{
    error::{CliError, CliResult, Problem},
    lang::Lang,
    profile::{CachedToken, Home, Profile},
};

/// Tries of one request before giving up (the first and three retries).
const TRIES: usize = 4;
/// The longest wait between tries, whatever `Retry-After` says.
const LONGEST_WAIT: Duration = Duration::from_secs(10);

/// What a request carries.
#[derive(Debug, Clone)]
pub enum Body {
    Empty,
    Json(Value),
    Bytes {
        content_type: &'static str,
        bytes: Vec<u8>,
    },
    /// Streamed from the file, re-read on every try, with progress shown.
    File {
        content_type: &'static str,
        path: PathBuf,
    },
}

/// One request to the gateway.
#[derive(Debug, Clone)]
pub struct Call {
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    body: Body,
    if_match: Option<String>,
    accept: Option<&'static str>,
}

impl Call {
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        Self {
            method,
            path: path.into(),
            query: Vec::new(),
            body: Body::Empty,
            if_match: None,
            accept: None,
        }
    }

    pub fn get(path: impl Into<String>) -> Self {
        Self::new(Method::GET, path)
    }

    pub fn post(path: impl Into<String>) -> Self {
        Self::new(Method::POST, path)
    }

    pub fn put(path: impl Into<String>) -> Self {
        Self::new(Method::PUT, path)
    }

    /// Adds a query parameter when it has a value.
    pub fn query(mut self, name: &str, value: Option<impl ToString>) -> Self {
        if let Some(value) = value {
            self.query.push((name.to_owned(), value.to_string()));
        }
        self
    }

    pub fn json(mut self, body: Value) -> Self {
        self.body = Body::Json(body);
        self
    }

    pub fn body(mut self, body: Body) -> Self {
        self.body = body;
        self
    }

    pub fn if_match(mut self, etag: Option<String>) -> Self {
        self.if_match = etag;
        self
    }

    pub fn accept(mut self, media_type: &'static str) -> Self {
        self.accept = Some(media_type);
        self
    }

    /// Whether the request changes something, and so carries an
    /// `Idempotency-Key` that makes a retry answer like the first try.
    fn is_write(&self) -> bool {
        !matches!(self.method, Method::GET | Method::HEAD)
    }
}

/// A client of one gateway, as one profile.
pub struct Api {
    http: reqwest::Client,
    base: String,
    pub lang: Lang,
    home: Home,
    pub profile_name: String,
    pub profile: Profile,
    token: tokio::sync::Mutex<Option<String>>,
}

/// Now, in Unix seconds.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl Api {
    pub fn new(home: Home, profile_name: &str, profile: Profile, lang: Lang) -> CliResult<Self> {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .read_timeout(Duration::from_secs(120))
            .user_agent(concat!("chiso/", env!("CARGO_PKG_VERSION")));
        if let Some(ca) = &profile.ca_file {
            let pem = std::fs::read(ca).map_err(|e| {
                CliError::usage(format!("cannot read the CA file {}: {e}", ca.display()))
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                CliError::usage(format!("{} is not a PEM certificate: {e}", ca.display()))
            })?;
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        let http = builder.build().context("failed to set up HTTP")?;
        Ok(Self {
            http,
            base: profile.url.trim_end_matches('/').to_owned(),
            lang,
            home,
            profile_name: profile_name.to_owned(),
            profile,
            token: tokio::sync::Mutex::new(None),
        })
    }

    pub fn home(&self) -> &Home {
        &self.home
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends `call` with the profile's token; a 401 on a cached token
    /// renews it once.
    pub async fn send(&self, call: Call) -> CliResult<reqwest::Response> {
        let key = call.is_write().then(|| uuid::Uuid::new_v4().to_string());
        let token = self.bearer(false).await?;
        match self.send_raw(&call, Some(&token), key.as_deref()).await {
            Err(CliError::Refused { status: 401, .. }) => {
                let token = self.bearer(true).await?;
                self.send_raw(&call, Some(&token), key.as_deref()).await
            }
            answer => answer,
        }
    }

    /// [`Api::send`], the answer read as JSON.
    pub async fn json(&self, call: Call) -> CliResult<Value> {
        read_json(self.send(call).await?).await
    }

    /// Every page of a list (`x-next-page-token`), as one array.
    pub async fn all_pages(&self, call: Call) -> CliResult<Vec<Value>> {
        let mut items = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = call.clone().query("page_token", token.as_deref());
            let response = self.send(page).await?;
            let next = response
                .headers()
                .get("x-next-page-token")
                .and_then(|v| v.to_str().ok())
                .filter(|v| !v.is_empty())
                .map(str::to_owned);
            match read_json(response).await? {
                Value::Array(page) => items.extend(page),
                other => return Err(anyhow::anyhow!("expected a list, got {other}").into()),
            }
            match next {
                Some(next) => token = Some(next),
                None => return Ok(items),
            }
        }
    }

    /// A token for the profile: the one in memory, the cached one while it
    /// has more than a minute left, or a new one (then cached).
    async fn bearer(&self, renew: bool) -> CliResult<String> {
        let mut held = self.token.lock().await;
        if !renew {
            if let Some(token) = held.as_ref() {
                return Ok(token.clone());
            }
            if let Some(cached) = self.home.token(&self.profile_name)
                && cached.is_fresh(unix_now())
            {
                *held = Some(cached.access_token.clone());
                return Ok(cached.access_token);
            }
        }
        let issued = self.issue_token().await?;
        self.home.save_token(
            &self.profile_name,
            &CachedToken {
                access_token: issued.access_token.clone(),
                expires_at: unix_now() + issued.expires_in,
            },
        )?;
        *held = Some(issued.access_token.clone());
        Ok(issued.access_token)
    }

    /// Exchanges the profile's client credentials for a token.
    pub async fn issue_token(&self) -> CliResult<IssuedToken> {
        let call = Call::post("/api/v1/auth/token").json(serde_json::json!({
            "client_id": self.profile.client_id,
            "client_secret": self.profile.client_secret,
        }));
        // The token endpoint writes nothing: no idempotency key.
        let response = self.send_raw(&call, None, None).await?;
        let token: IssuedToken = response
            .json()
            .await
            .context("the token endpoint's answer is not a token")?;
        Ok(token)
    }

    /// One request, tried again with the same idempotency key while the
    /// server cannot be reached or answers 502, 503 or 504.
    async fn send_raw(
        &self,
        call: &Call,
        token: Option<&str>,
        idempotency_key: Option<&str>,
    ) -> CliResult<reqwest::Response> {
        let url = self.url(&call.path);
        let mut waits = backon::ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(300))
            .with_max_delay(Duration::from_secs(5))
            .with_max_times(TRIES - 1)
            .with_jitter()
            .build();
        loop {
            let mut request = self
                .http
                .request(call.method.clone(), &url)
                .query(&call.query)
                .header(header::ACCEPT_LANGUAGE, self.lang.tag());
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            if let Some(key) = idempotency_key {
                request = request.header("idempotency-key", key);
            }
            if let Some(etag) = &call.if_match {
                request = request.header(header::IF_MATCH, format!("\"{etag}\""));
            }
            if let Some(accept) = call.accept {
                request = request.header(header::ACCEPT, accept);
            }
            request = match &call.body {
                Body::Empty => request,
                Body::Json(value) => request.json(value),
                Body::Bytes {
                    content_type,
                    bytes,
                } => request
                    .header(header::CONTENT_TYPE, *content_type)
                    .body(bytes.clone()),
                Body::File { content_type, path } => request
                    .header(header::CONTENT_TYPE, *content_type)
                    .body(file_body(path, self.lang).await?),
            };
            let failure = match request.send().await {
                Ok(response) if response.status().is_success() => return Ok(response),
                Ok(response) if is_unavailable(response.status()) => {
                    let status = response.status();
                    let retry_after = response
                        .headers()
                        .get(header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(Duration::from_secs);
                    let body = response.bytes().await.unwrap_or_default();
                    let problem = Problem::from_body(status.as_u16(), &body);
                    (
                        format!("HTTP {}: {}", status.as_u16(), problem.detail),
                        retry_after,
                    )
                }
                Ok(response) => {
                    let status = response.status().as_u16();
                    let body = response.bytes().await.unwrap_or_default();
                    return Err(CliError::Refused {
                        status,
                        problem: Problem::from_body(status, &body),
                    });
                }
                Err(err) if err.is_builder() => {
                    return Err(anyhow::Error::new(err)
                        .context("failed to build the request")
                        .into());
                }
                // Connection refused or reset, timeouts, an answer cut off:
                // whether the server acted is unknown, and the same
                // idempotency key makes trying again safe.
                Err(err) => (error_chain(&err), None),
            };
            let (cause, retry_after) = failure;
            let Some(wait) = waits.next() else {
                return Err(CliError::Unreachable { url, cause });
            };
            let wait = retry_after.map_or(wait, |r| r.max(wait)).min(LONGEST_WAIT);
            eprintln!(
                "{} {url} ({cause}); {} {:.1} s",
                self.lang.pick("no answer from", "không có trả lời từ"),
                self.lang.pick("trying again in", "thử lại sau"),
                wait.as_secs_f64()
            );
            tokio::time::sleep(wait).await;
        }
    }
}

/// What the token endpoint answers.
#[derive(Debug, serde::Deserialize)]
pub struct IssuedToken {
    pub access_token: String,
    pub expires_in: i64,
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub agency_code: Option<String>,
    #[serde(default)]
    pub province_code: Option<String>,
}

fn is_unavailable(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::BAD_GATEWAY | StatusCode::SERVICE_UNAVAILABLE | StatusCode::GATEWAY_TIMEOUT
    )
}

/// An error with its causes, the way a person reads it.
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = Vec::new();
    // reqwest's own message repeats the URL, which is shown already.
    if err.source().is_none() {
        parts.push(err.to_string());
    }
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = cause.source();
    }
    parts.join(": ")
}

/// Reads a JSON answer.
pub async fn read_json(response: reqwest::Response) -> CliResult<Value> {
    let bytes = response.bytes().await.context("the answer broke off")?;
    if bytes.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_slice(&bytes)
        .context("the answer is not JSON")
        .map_err(Into::into)
}

/// A file streamed as a request body, with a progress bar on a terminal
/// and a line per quarter when standard error is not one.
async fn file_body(path: &std::path::Path, lang: Lang) -> CliResult<reqwest::Body> {
    let file = tokio::fs::File::open(path)
        .await
        .map_err(|e| CliError::usage(format!("cannot read {}: {e}", path.display())))?;
    let total = file.metadata().await.map(|m| m.len()).unwrap_or(0);
    let progress = super::output::Progress::new(
        total,
        &format!("{} {}", lang.pick("sending", "đang gửi"), path.display()),
    );
    let stream = futures::stream::unfold(
        (file, progress, false),
        |(mut file, progress, done)| async move {
            use tokio::io::AsyncReadExt;
            if done {
                return None;
            }
            let mut buf = vec![0u8; 64 * 1024];
            match file.read(&mut buf).await {
                Ok(0) => {
                    progress.finish();
                    None
                }
                Ok(n) => {
                    buf.truncate(n);
                    progress.advance(n as u64);
                    Some((Ok(bytes::Bytes::from(buf)), (file, progress, false)))
                }
                Err(e) => Some((Err(e), (file, progress, true))),
            }
        },
    );
    Ok(reqwest::Body::wrap_stream(stream))
}

/// Whether standard error is a terminal (progress bars) or not (lines).
pub fn stderr_is_terminal() -> bool {
    std::io::stderr().is_terminal()
}
