//! Test harness: starts every chiso service in this process on port 0 with
//! fresh databases (temporary SQLite files, or a fresh PostgreSQL database
//! when `CHISO_TEST_DATABASE_URL` is set) and hands out clients.

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    path::PathBuf,
    time::Duration,
};

use anyhow::Context;
use chiso_proto::{
    aggregation::v1::{
        GetFeedPositionRequest, aggregation_service_client::AggregationServiceClient,
    },
    registry::v1::{
        GetAgencyFeedHeadRequest, IssueTokenRequest, agency_service_client::AgencyServiceClient,
        credential_service_client::CredentialServiceClient,
    },
    submission::v1::{GetFeedHeadRequest, change_feed_service_client::ChangeFeedServiceClient},
};
use chiso_runtime::{
    auth,
    config::{DatabaseConfig, GrpcConfig, HttpConfig, VerifyConfig},
    grpc,
    tls::TlsConfig,
};
use secrecy::SecretString;
use serde_json::Value;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;

pub use chiso_proto as proto;
pub use wire::{RawCodec, resident_bytes};

mod proxy;
mod wire;
pub use proxy::DbProxy;

const ADMIN_SECRET: &str = "test-admin-secret-0123456789";
const SERVICE_SECRET: &str = "test-aggregation-secret-0123456789";
const SUBMISSION_SECRET: &str = "test-submission-secret-0123456789";

/// One running service: how to stop it and wait for it.
struct Running {
    stop: CancellationToken,
    handle: JoinHandle<anyhow::Result<()>>,
}

impl Running {
    async fn shutdown(self) -> anyhow::Result<()> {
        self.stop.cancel();
        self.handle.await.context("service task panicked")?
    }
}

/// Where the test databases live.
enum Databases {
    Sqlite,
    Postgres { admin_url: String, name: String },
}

/// How to start the stack.
#[derive(Debug, Clone, Copy, Default)]
pub struct StackOptions {
    /// Route the services' PostgreSQL connections through a [`DbProxy`]
    /// (`TestStack::db_proxy`); ignored on SQLite.
    pub db_proxy: bool,
    /// Serve TLS everywhere, with mutual TLS required between services.
    pub tls: bool,
    /// The gateway's login and registration limits, when not the defaults.
    pub limits: Option<chiso_gateway::config::LimitsConfig>,
}

/// The address the gateway calls the back services from, which they trust
/// to name the client (with `::1`, where `localhost` may resolve with TLS).
/// Test clients that should not be trusted call from another loopback
/// address ([`TestStack::channel_from`]).
pub const GATEWAY_SIDE: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn gateway_side() -> anyhow::Result<Vec<chiso_runtime::peer::ProxyNet>> {
    Ok(vec![GATEWAY_SIDE.to_string().parse()?, "::1".parse()?])
}

/// Whether the suite runs on PostgreSQL (`CHISO_TEST_DATABASE_URL` is set).
pub fn on_postgres() -> bool {
    std::env::var("CHISO_TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty())
}

/// The whole stack, running.
pub struct TestStack {
    pub gateway_url: String,
    /// The gateway's Prometheus endpoint (its own listener, plain HTTP).
    pub metrics_url: String,
    /// Each back service's Prometheus endpoint: registry, submission,
    /// aggregation (as first started).
    pub back_metrics_urls: [String; 3],
    pub registry_addr: SocketAddr,
    pub submission_addr: SocketAddr,
    pub aggregation_addr: SocketAddr,
    pub admin_client_id: String,
    pub admin_secret: String,
    pub http: reqwest::Client,
    /// The proxy in front of PostgreSQL, when started with `db_proxy`.
    pub db_proxy: Option<DbProxy>,
    /// How test clients reach the gRPC services: plain text, or TLS with a client certificate.
    pub client_tls: Option<TlsConfig>,
    aggregation_config: chiso_aggregation::AggregationConfig,
    aggregation: Option<Running>,
    others: Vec<Running>,
    databases: Databases,
    _dir: tempfile::TempDir,
}

/// Starts registry, submission, aggregation and gateway.
pub async fn spawn_stack() -> TestStack {
    spawn_stack_with(StackOptions::default()).await
}

/// Starts the stack with options.
pub async fn spawn_stack_with(options: StackOptions) -> TestStack {
    try_spawn_stack(options)
        .await
        .expect("failed to start the stack")
}

async fn try_spawn_stack(options: StackOptions) -> anyhow::Result<TestStack> {
    chiso_runtime::telemetry::init_for_tests();
    // reqwest is built without a crypto provider; ring is the one in the tree.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir()?;
    let keys = dir.path().join("keys");
    auth::ensure_keypair(&keys)?;
    let public_key = keys.join("jwt-public.pem");
    let verify = VerifyConfig::single(public_key.clone());

    let databases = match std::env::var("CHISO_TEST_DATABASE_URL") {
        Ok(admin_url) if !admin_url.is_empty() => {
            let name = format!("chiso_test_{}", uuid::Uuid::new_v4().simple());
            let admin = sea_orm::Database::connect(&admin_url)
                .await
                .context("cannot reach CHISO_TEST_DATABASE_URL")?;
            sea_orm::ConnectionTrait::execute_unprepared(
                &admin,
                &format!("CREATE DATABASE \"{name}\""),
            )
            .await?;
            admin.close().await.ok();
            Databases::Postgres { admin_url, name }
        }
        _ => Databases::Sqlite,
    };
    let db_proxy = match &databases {
        Databases::Postgres { admin_url, .. } if options.db_proxy => {
            Some(DbProxy::start(postgres_addr(admin_url)?).await?)
        }
        _ => None,
    };
    let database = |service: &str| -> DatabaseConfig {
        let mut config = direct_database(&databases, dir.path(), service);
        if let (Databases::Postgres { admin_url, name }, Some(proxy)) = (&databases, &db_proxy) {
            let url = replace_database(admin_url, name)
                .replace(&postgres_authority(admin_url), &proxy.addr().to_string());
            config.url = SecretString::from(url);
        }
        config
    };
    let tls = if options.tls {
        make_pki(dir.path())?
    } else {
        TlsConfig::default()
    };
    let scheme = if options.tls { "https" } else { "http" };
    // Certificates name localhost, so TLS URLs use it rather than the IP.
    let url = |addr: SocketAddr| {
        if options.tls {
            format!("{scheme}://localhost:{}", addr.port())
        } else {
            format!("{scheme}://{addr}")
        }
    };
    // Each back service serves /metrics on a port of its own, as deployed.
    let back_metrics = chiso_runtime::metrics::MetricsConfig {
        addr: Some("127.0.0.1:0".parse().expect("literal address")),
    };
    let any_port = || GrpcConfig {
        addr: "127.0.0.1:0".parse().expect("literal address"),
    };

    let registry = chiso_registry::Application::build(chiso_registry::RegistryConfig {
        grpc: any_port(),
        tls: tls.clone(),
        database: database("registry"),
        auth: chiso_registry::config::SigningConfig {
            jwt_private_key_file: keys.join("jwt-private.pem"),
            jwt_public_key_file: public_key.clone(),
            jwt_previous_public_key_file: None,
            token_ttl_secs: 600,
            session_cap_secs: 8 * 60 * 60,
        },
        bootstrap_admin: chiso_registry::config::BootstrapAdmin {
            client_id: "admin".into(),
            secret: SecretString::from(ADMIN_SECRET),
        },
        service_accounts: [
            ("aggregation".to_owned(), SecretString::from(SERVICE_SECRET)),
            (
                "submission".to_owned(),
                SecretString::from(SUBMISSION_SECRET),
            ),
        ]
        .into(),
        feed_poll_ms: 200,
        credentials: Default::default(),
        registration: Default::default(),
        trusted_proxies: gateway_side()?,
        metrics: back_metrics,
    })
    .await?;
    let registry_addr = registry.local_addr();
    let metrics_of =
        |addr: Option<SocketAddr>| format!("http://{}/metrics", addr.expect("a metrics listener"));
    let registry_metrics = metrics_of(registry.metrics_addr());
    let registry = start(|stop| registry.run_until_stopped(stop));

    let submission = chiso_submission::Application::build(chiso_submission::SubmissionConfig {
        grpc: any_port(),
        tls: tls.clone(),
        database: database("submission"),
        auth: verify.clone(),
        feed_poll_ms: 200,
        registry_url: url(registry_addr),
        service_account: chiso_submission::config::ServiceAccount {
            client_id: "submission".into(),
            secret: SecretString::from(SUBMISSION_SECRET),
        },
        idempotency_hours: 24,
        trusted_proxies: gateway_side()?,
        metrics: back_metrics,
    })
    .await?;
    let submission_addr = submission.local_addr();
    let submission_metrics = metrics_of(submission.metrics_addr());
    let submission = start(|stop| submission.run_until_stopped(stop));

    let mut aggregation_config = chiso_aggregation::AggregationConfig {
        grpc: any_port(),
        tls: tls.clone(),
        database: database("aggregation"),
        auth: verify.clone(),
        submission_url: url(submission_addr),
        registry_url: url(registry_addr),
        service_account: chiso_aggregation::config::ServiceAccount {
            client_id: "aggregation".into(),
            secret: SecretString::from(SERVICE_SECRET),
        },
        min_group_size: 3,
        metrics: back_metrics,
    };
    let aggregation = chiso_aggregation::Application::build(aggregation_config.clone()).await?;
    let aggregation_addr = aggregation.local_addr();
    let aggregation_metrics = metrics_of(aggregation.metrics_addr());
    // A restart must come back on the same address the gateway calls.
    aggregation_config.grpc.addr = aggregation_addr;
    let aggregation = start(|stop| aggregation.run_until_stopped(stop));

    let gateway = chiso_gateway::Application::build(chiso_gateway::GatewayConfig {
        http: HttpConfig {
            addr: "127.0.0.1:0".parse()?,
        },
        tls: TlsConfig {
            client_ca_file: None,
            ..tls.clone()
        },
        auth: verify,
        registry_url: url(registry_addr),
        submission_url: url(submission_addr),
        aggregation_url: url(aggregation_addr),
        trusted_proxies: Vec::new(),
        limits: options.limits.unwrap_or_default(),
        requests: Default::default(),
        // Many stacks run at once: no fixed metrics port.
        metrics: chiso_gateway::config::MetricsConfig {
            addr: Some("127.0.0.1:0".parse()?),
        },
    })
    .await?;
    let gateway_url = url(gateway.local_addr());
    let metrics_url = format!(
        "http://{}/metrics",
        gateway.metrics_addr().expect("a metrics listener")
    );
    let mut http = reqwest::Client::builder().default_headers(english());
    if let Some(ca) = &tls.ca_file {
        http = http.add_root_certificate(reqwest::Certificate::from_pem(&std::fs::read(ca)?)?);
    }
    let gateway = start(|stop| gateway.run_until_stopped(stop));

    Ok(TestStack {
        gateway_url,
        metrics_url,
        back_metrics_urls: [registry_metrics, submission_metrics, aggregation_metrics],
        registry_addr,
        submission_addr,
        aggregation_addr,
        admin_client_id: "admin".into(),
        admin_secret: ADMIN_SECRET.into(),
        http: http.build()?,
        db_proxy,
        client_tls: options.tls.then_some(tls),
        aggregation_config,
        aggregation: Some(aggregation),
        others: vec![gateway, submission, registry],
        databases,
        _dir: dir,
    })
}

/// The headers every test client sends: English error details, so that
/// assertions read the services' own messages (the gateway answers in
/// Vietnamese by default; tests/integration/problems.rs checks that).
fn english() -> reqwest::header::HeaderMap {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::ACCEPT_LANGUAGE,
        reqwest::header::HeaderValue::from_static("en"),
    );
    headers
}

/// Writes a test CA, a server certificate for localhost/127.0.0.1 and a
/// client certificate, and returns settings that use them everywhere.
fn make_pki(dir: &std::path::Path) -> anyhow::Result<TlsConfig> {
    use rcgen::{
        BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose,
        IsCa, KeyPair, KeyUsagePurpose,
    };
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "chiso test CA");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate()?)?;
    let leaf =
        |names: Vec<String>, usage: ExtendedKeyUsagePurpose| -> anyhow::Result<(String, String)> {
            let key = KeyPair::generate()?;
            let mut params = CertificateParams::new(names)?;
            params.extended_key_usages = vec![usage];
            let cert = params.signed_by(&key, &ca)?;
            Ok((cert.pem(), key.serialize_pem()))
        };
    let (server_cert, server_key) = leaf(
        vec!["localhost".into(), "127.0.0.1".into()],
        ExtendedKeyUsagePurpose::ServerAuth,
    )?;
    let (client_cert, client_key) = leaf(
        vec!["chiso-service".into()],
        ExtendedKeyUsagePurpose::ClientAuth,
    )?;
    let tls_dir = dir.join("tls");
    std::fs::create_dir_all(&tls_dir)?;
    let write = |name: &str, pem: &str| -> anyhow::Result<PathBuf> {
        let path = tls_dir.join(name);
        std::fs::write(&path, pem)?;
        Ok(path)
    };
    let ca_file = write("ca.pem", &ca.pem())?;
    Ok(TlsConfig {
        cert_file: Some(write("server.pem", &server_cert)?),
        key_file: Some(write("server-key.pem", &server_key)?),
        client_ca_file: Some(ca_file.clone()),
        ca_file: Some(ca_file),
        client_cert_file: Some(write("client.pem", &client_cert)?),
        client_key_file: Some(write("client-key.pem", &client_key)?),
    })
}

fn start<F>(run: impl FnOnce(CancellationToken) -> F) -> Running
where
    F: std::future::Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let stop = CancellationToken::new();
    let handle = tokio::spawn(run(stop.clone()));
    Running { stop, handle }
}

/// Where `service`'s database is, reached directly (never through the proxy).
fn direct_database(databases: &Databases, dir: &std::path::Path, service: &str) -> DatabaseConfig {
    match databases {
        Databases::Sqlite => DatabaseConfig::with_url(format!(
            "sqlite://{}?mode=rwc",
            dir.join(format!("{service}.db")).display()
        )),
        Databases::Postgres { admin_url, name } => {
            let mut config = DatabaseConfig::with_url(replace_database(admin_url, name));
            config.acquire_timeout_secs = 2;
            config.schema = Some(service.to_owned());
            config.max_connections = 5;
            config
        }
    }
}

/// `host:port` of a PostgreSQL URL.
fn postgres_authority(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest.split(['/', '?']).next().unwrap_or(rest);
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    if host.contains(':') {
        host.to_owned()
    } else {
        format!("{host}:5432")
    }
}

fn postgres_addr(url: &str) -> anyhow::Result<SocketAddr> {
    use std::net::ToSocketAddrs;
    postgres_authority(url)
        .to_socket_addrs()?
        .next()
        .context("database host does not resolve")
}

fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let prefix = base.rsplit_once('/').map_or(base, |(p, _)| p);
    match query {
        Some(q) => format!("{prefix}/{name}?{q}"),
        None => format!("{prefix}/{name}"),
    }
}

impl TestStack {
    /// `POST` JSON to the gateway, optionally with a bearer token.
    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
        let mut request = self
            .http
            .post(format!("{}{path}", self.gateway_url))
            .json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        Self::read(request.send().await.expect("gateway unreachable")).await
    }

    /// `PUT` JSON to the gateway with a bearer token.
    pub async fn put(&self, path: &str, token: &str, body: &Value) -> (u16, Value) {
        let response = self
            .http
            .put(format!("{}{path}", self.gateway_url))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("gateway unreachable");
        Self::read(response).await
    }

    /// `GET` from the gateway with a bearer token.
    pub async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.gateway_url))
            .bearer_auth(token)
            .send()
            .await
            .expect("gateway unreachable");
        Self::read(response).await
    }

    async fn read(response: reqwest::Response) -> (u16, Value) {
        let status = response.status().as_u16();
        let text = response.text().await.expect("unreadable body");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, body)
    }

    /// A token for the given client credentials, through the gateway.
    pub async fn token(&self, client_id: &str, secret: &str) -> String {
        let (status, body) = self
            .post(
                "/api/v1/auth/token",
                None,
                &serde_json::json!({"client_id": client_id, "client_secret": secret}),
            )
            .await;
        assert_eq!(status, 200, "token request failed: {body}");
        body["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned()
    }

    pub async fn admin_token(&self) -> String {
        self.token(&self.admin_client_id, &self.admin_secret).await
    }

    /// A token straight from the registry over gRPC.
    pub async fn grpc_token(&self, client_id: &str, secret: &str) -> String {
        CredentialServiceClient::new(self.channel(self.registry_addr))
            .issue_token(IssueTokenRequest {
                client_id: client_id.into(),
                client_secret: secret.into(),
            })
            .await
            .expect("token over gRPC")
            .into_inner()
            .access_token
    }

    pub fn channel(&self, addr: SocketAddr) -> Channel {
        match &self.client_tls {
            Some(tls) => grpc::channel(&format!("https://localhost:{}", addr.port()), tls),
            None => grpc::channel(&format!("http://{addr}"), &TlsConfig::default()),
        }
        .expect("valid address")
    }

    /// A plain-text channel to `addr` whose connections come from `local`
    /// (another loopback address than [`GATEWAY_SIDE`]: a caller the back
    /// services do not trust).
    pub fn channel_from(&self, addr: SocketAddr, local: IpAddr) -> Channel {
        tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
            .expect("valid address")
            .local_address(Some(local))
            .connect_lazy()
    }

    /// An HTTP client whose connections to the gateway come from `local`
    /// (another client address, for per-address limits).
    pub fn http_from(&self, local: IpAddr) -> reqwest::Client {
        reqwest::Client::builder()
            .default_headers(english())
            .local_address(local)
            .build()
            .expect("an HTTP client")
    }

    /// A token of a chiso service account (role `service`).
    pub async fn service_token(&self) -> String {
        self.grpc_token("aggregation", SERVICE_SECRET).await
    }

    /// Waits until aggregation has applied the submission feed and the
    /// registry's agency feed up to their current heads, every write
    /// answered before the call included (`GetFeedHead` numbers every
    /// committed event before it answers).
    pub async fn wait_for_feed(&self, token: &str) {
        let agency_head = AgencyServiceClient::new(self.channel(self.registry_addr))
            .get_agency_feed_head(
                grpc::with_bearer(GetAgencyFeedHeadRequest {}, token).expect("request"),
            )
            .await
            .expect("agency feed head")
            .into_inner()
            .last_seq;
        let seq = self.submission_head(token).await;
        let mut client = AggregationServiceClient::new(self.channel(self.aggregation_addr));
        let mut last = None;
        for _ in 0..200 {
            let request = grpc::with_bearer(GetFeedPositionRequest {}, token).expect("request");
            let position = client.get_feed_position(request).await;
            if let Ok(position) = &position
                && position.get_ref().last_seq >= seq
                && position.get_ref().agency_seq >= agency_head
            {
                return;
            }
            last = Some(position.map(tonic::Response::into_inner));
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "aggregation did not reach feed position {seq} and agency feed {agency_head}: {last:?}"
        );
    }

    /// Province 51's committee and `n` departments under it, created today
    /// through the registry's CSV import (in requests of 5,000), once the
    /// submission service (which follows the registry's feed) expects their
    /// reports of `form` for `period`. Returns the departments' codes.
    pub async fn province_departments(
        &self,
        admin: &str,
        n: usize,
        form: &str,
        period: &str,
    ) -> anyhow::Result<Vec<String>> {
        use chiso_proto::{
            registry::v1::{AgencyKind, CreateAgencyRequest, ImportAgenciesRequest},
            submission::v1::{ListExpectedReportsRequest, form_service_client::FormServiceClient},
        };
        let mut agencies = AgencyServiceClient::new(self.channel(self.registry_addr));
        agencies
            .create_agency(grpc::with_bearer(
                CreateAgencyRequest {
                    code: "000.00.00.H51".into(),
                    admin_unit_code: "51".into(),
                    name: "Tỉnh Quảng Ngãi".into(),
                    kind: AgencyKind::ProvincialCommittee.into(),
                    ..Default::default()
                },
                admin,
            )?)
            .await?;
        let codes: Vec<String> = (1..=n)
            .map(|i| {
                format!(
                    "{:03}.{:02}.{:02}.H51",
                    i / 10_000,
                    (i / 100) % 100,
                    i % 100
                )
            })
            .collect();
        let today = chiso_domain::date::format_date(chiso_domain::today());
        for chunk in codes.chunks(5_000) {
            let mut csv = String::from("code,name,kind,parent_code,valid_from\n");
            for code in chunk {
                csv.push_str(&format!(
                    "{code},Sở thử nghiệm {code},department,000.00.00.H51,{today}\n"
                ));
            }
            agencies
                .import_agencies(grpc::with_bearer(
                    ImportAgenciesRequest {
                        csv: csv.into_bytes(),
                        dry_run: false,
                    },
                    admin,
                )?)
                .await
                .context("importing the departments")?;
        }
        let mut forms = FormServiceClient::new(self.channel(self.submission_addr));
        for _ in 0..3000 {
            let expected = forms
                .list_expected_reports(grpc::with_bearer(
                    ListExpectedReportsRequest {
                        form: form.into(),
                        period: period.into(),
                        province_code: "51".into(),
                    },
                    admin,
                )?)
                .await?
                .into_inner()
                .reports
                .len();
            if expected > n {
                return Ok(codes);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        anyhow::bail!("the submission service never expected the {n} departments")
    }

    /// The submission feed's head: every change committed before the call.
    pub async fn submission_head(&self, token: &str) -> i64 {
        ChangeFeedServiceClient::new(self.channel(self.submission_addr))
            .get_feed_head(grpc::with_bearer(GetFeedHeadRequest {}, token).expect("request"))
            .await
            .expect("submission feed head")
            .into_inner()
            .last_seq
    }

    /// Stops the aggregation service (its database stays).
    pub async fn stop_aggregation(&mut self) {
        if let Some(running) = self.aggregation.take() {
            running
                .shutdown()
                .await
                .expect("aggregation stopped cleanly");
        }
    }

    /// Kills the aggregation service (its database stays): its task is
    /// aborted, so none of its graceful shutdown runs. An aborted task is
    /// this harness's stand-in for SIGKILL: every future the service owned
    /// is dropped wherever it stood, the follower's open transaction
    /// included, so that transaction is never committed and its database
    /// connection is rolled back, as the database does for a killed
    /// process's connection. What a real kill also does and this does not:
    /// the gRPC connections already accepted are closed with a GOAWAY
    /// (tonic's, once the server future is gone) rather than reset.
    pub async fn kill_aggregation(&mut self) {
        if let Some(running) = self.aggregation.take() {
            running.handle.abort();
            match running.handle.await {
                Err(e) if e.is_cancelled() => {}
                Err(e) => panic!("aggregation panicked before it was killed: {e}"),
                Ok(ended) => panic!("aggregation had already stopped: {ended:?}"),
            }
        }
    }

    /// A connection of the test's own to `service`'s database (`registry`,
    /// `submission` or `aggregation`), never through the proxy.
    pub async fn service_db(&self, service: &str) -> sea_orm::DatabaseConnection {
        chiso_runtime::db::connect(&direct_database(&self.databases, self._dir.path(), service))
            .await
            .expect("the service's database is reachable")
    }

    /// Starts the aggregation service again on the same database and address.
    pub async fn start_aggregation(&mut self) {
        assert!(self.aggregation.is_none(), "aggregation is already running");
        let app = chiso_aggregation::Application::build(self.aggregation_config.clone())
            .await
            .expect("aggregation restarts");
        self.aggregation = Some(start(|stop| app.run_until_stopped(stop)));
    }

    /// Stops every service and checks each stopped cleanly.
    pub async fn shutdown(mut self) {
        if let Some(a) = self.aggregation.take() {
            a.shutdown().await.expect("aggregation stopped cleanly");
        }
        for running in std::mem::take(&mut self.others) {
            running.shutdown().await.expect("service stopped cleanly");
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        self._dir.path().to_owned()
    }

    /// `GET` from the gateway, keeping the response headers.
    pub async fn get_with_headers(
        &self,
        path: &str,
        token: &str,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.gateway_url))
            .bearer_auth(token)
            .send()
            .await
            .expect("gateway unreachable");
        let headers = response.headers().clone();
        let (status, body) = Self::read(response).await;
        (status, headers, body)
    }
}

impl Drop for TestStack {
    fn drop(&mut self) {
        for running in self.others.iter().chain(self.aggregation.iter()) {
            running.stop.cancel();
        }
        if let Databases::Postgres { admin_url, name } = &self.databases {
            let (admin_url, name) = (admin_url.clone(), name.clone());
            // Drop runs outside async context; use a small runtime of its own.
            let dropped = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                runtime.block_on(async {
                    let admin = sea_orm::Database::connect(&admin_url).await?;
                    sea_orm::ConnectionTrait::execute_unprepared(
                        &admin,
                        &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
                    )
                    .await?;
                    admin.close().await?;
                    anyhow::Ok(())
                })
            })
            .join();
            if !matches!(dropped, Ok(Ok(()))) {
                eprintln!("warning: could not drop test database");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn replaces_the_database_name() {
        assert_eq!(
            super::replace_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            super::replace_database("postgres://u@h/db?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
        assert_eq!(
            super::postgres_authority("postgres://postgres@127.0.0.1:5432/postgres"),
            "127.0.0.1:5432"
        );
        assert_eq!(super::postgres_authority("postgres://u:p@db/x"), "db:5432");
    }
}
