//! The stack as the generator sees it: the gateway's REST API with an admin
//! token that is renewed before it expires, and the aggregation service's
//! gRPC with the same token.

use std::{
    sync::{Arc, RwLock},
    time::Duration,
};

use anyhow::{Context, bail};
use chiso_proto::aggregation::v1::aggregation_service_client::AggregationServiceClient;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tonic::transport::Channel;

/// Where the stack is and who the generator signs in as.
#[derive(Debug, Clone, clap::Args)]
pub struct Target {
    /// The gateway's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub gateway: String,
    /// File holding the bootstrap admin's secret (`chiso up` writes
    /// data/admin-secret).
    #[arg(long)]
    pub admin_secret_file: std::path::PathBuf,
    /// The bootstrap admin's client id.
    #[arg(long, default_value = "admin")]
    pub admin_client_id: String,
    /// The aggregation service's gRPC address (`host:port`), for the `grpc`
    /// kind of traffic.
    #[arg(long)]
    pub grpc_aggregation: Option<String>,
}

/// A REST answer: status and body (JSON when it parses, else the text).
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
    /// `x-next-page-token`, on a paged list.
    pub next_page: Option<String>,
}

impl Answer {
    /// The body when the status is a success, else an error naming both.
    pub fn ok(self, what: &str) -> anyhow::Result<Value> {
        if self.status.is_success() {
            Ok(self.body)
        } else {
            bail!("{what}: {} {}", self.status, self.body)
        }
    }
}

/// The gateway and the admin token.
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    base: Arc<str>,
    client_id: Arc<str>,
    secret: Arc<str>,
    token: Arc<RwLock<Arc<str>>>,
    aggregation: Option<AggregationServiceClient<Channel>>,
}

impl Api {
    /// Signs in as the admin and keeps the token fresh in the background
    /// (tokens live at most 15 minutes; a soak runs longer).
    pub async fn connect(target: &Target) -> anyhow::Result<Self> {
        // reqwest is built without a crypto provider; ring is the one in the tree.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let secret = std::fs::read_to_string(&target.admin_secret_file)
            .with_context(|| format!("--admin-secret-file {}", target.admin_secret_file.display()))?
            .trim()
            .to_owned();
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::ACCEPT_LANGUAGE,
            reqwest::header::HeaderValue::from_static("en"),
        );
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .pool_max_idle_per_host(1024)
            .timeout(Duration::from_secs(30))
            .build()?;
        let aggregation = match &target.grpc_aggregation {
            Some(addr) => {
                let url = if addr.contains("://") {
                    addr.clone()
                } else {
                    format!("http://{addr}")
                };
                let channel = tonic::transport::Endpoint::from_shared(url)
                    .context("--grpc-aggregation")?
                    .connect_timeout(Duration::from_secs(5))
                    .timeout(Duration::from_secs(30))
                    .connect_lazy();
                Some(AggregationServiceClient::new(channel))
            }
            None => None,
        };
        let api = Self {
            http,
            base: target.gateway.trim_end_matches('/').into(),
            client_id: target.admin_client_id.as_str().into(),
            secret: secret.into(),
            token: Arc::new(RwLock::new("".into())),
            aggregation,
        };
        api.renew().await?;
        let renewer = api.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(240)).await;
                // A failed renewal (the registry down during a fault) keeps
                // the old token; the next round tries again.
                if let Err(err) = renewer.renew().await {
                    eprintln!("token renewal failed: {err:#}");
                }
            }
        });
        Ok(api)
    }

    /// A fresh admin token from `POST /api/v1/auth/token`.
    pub async fn renew(&self) -> anyhow::Result<()> {
        let answer = self
            .http
            .post(format!("{}/api/v1/auth/token", self.base))
            .json(&json!({"client_id": &*self.client_id, "client_secret": &*self.secret}))
            .send()
            .await
            .context("gateway unreachable")?;
        let answer = Self::read(answer).await?.ok("admin token")?;
        let token = answer["access_token"]
            .as_str()
            .context("no access_token in the token answer")?;
        *self.token.write().expect("token lock") = token.into();
        Ok(())
    }

    pub fn token(&self) -> Arc<str> {
        self.token.read().expect("token lock").clone()
    }

    /// The aggregation client for `grpc` traffic, if an address was given.
    pub fn aggregation(&self) -> Option<AggregationServiceClient<Channel>> {
        self.aggregation.clone()
    }

    /// A gRPC request with the admin token.
    pub fn grpc<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        let bearer = format!("Bearer {}", self.token());
        request
            .metadata_mut()
            .insert("authorization", bearer.parse().expect("a token is ASCII"));
        request
    }

    /// One REST call with the admin token; `body` as JSON, or as text with
    /// `content_type` given.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Body<'_>>,
        headers: &[(&str, &str)],
    ) -> reqwest::Result<Answer> {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&*self.token());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request = match body {
            Some(Body::Json(value)) => request.json(value),
            Some(Body::Text(content_type, text)) => request
                .header(reqwest::header::CONTENT_TYPE, content_type)
                .body(text.to_owned()),
            None => request,
        };
        let response = request.send().await?;
        Self::read(response).await
    }

    pub async fn get(&self, path: &str) -> reqwest::Result<Answer> {
        self.call(Method::GET, path, None, &[]).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> reqwest::Result<Answer> {
        self.call(Method::POST, path, Some(Body::Json(body)), &[])
            .await
    }

    async fn read(response: reqwest::Response) -> reqwest::Result<Answer> {
        let status = response.status();
        let next_page = response
            .headers()
            .get("x-next-page-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let text = response.text().await?;
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Ok(Answer {
            status,
            body,
            next_page,
        })
    }
}

/// A request body.
pub enum Body<'a> {
    Json(&'a Value),
    /// Content type and text.
    Text(&'a str, &'a str),
}
