//! The test harness: a real gateway on a random port per test, on a fresh SQLite file or a
//! fresh PostgreSQL database, with tokens from its development authority.

use std::future::Future;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use dep_gateway::auth::{DevAuthority, TokenRequest};
use dep_gateway::config::Settings;
use dep_gateway::domain::ids::TenantId;
use dep_gateway::{Application, Shutdown};
use diesel::{Connection, PgConnection, RunQueryDsl};
use reqwest::{Method, RequestBuilder, Response};
use serde_json::Value;
use uuid::Uuid;

/// How often [`eventually`] looks again.
const POLL: Duration = Duration::from_millis(50);

/// Waits for an outcome: runs `check` until it returns `Some`, failing the test with `what` if
/// `deadline` passes first. The one place the tests wait; the pause between looks is pacing,
/// nothing is asserted about how long anything took.
pub async fn eventually<T, F, Fut>(what: &str, deadline: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let give_up = Instant::now() + deadline;
    loop {
        if let Some(done) = check().await {
            return done;
        }
        assert!(Instant::now() < give_up, "timed out waiting for {what}");
        tokio::time::sleep(POLL).await;
    }
}

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Generates one test per backend for each async fn taking a [`Backend`].
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::helpers::Backend::Sqlite).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name($crate::helpers::Backend::Postgres).await;
                }
            }
        )*
    };
}

pub const READ: &str = "DeviceManagementServiceConfig.Read.All";
pub const READ_WRITE: &str = "DeviceManagementServiceConfig.ReadWrite.All";
pub const AUDIENCE: &str = "api://dep-gateway-tests";

/// A running gateway.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub authority: DevAuthority,
    pub tenant: TenantId,
    pub data_dir: PathBuf,
    /// The self-signed certificate the gateway serves, when started with TLS.
    pub tls_cert: Option<PathBuf>,
    /// Stops the gateway gracefully; its background work's counters.
    pub shutdown: Shutdown,
    /// `http://addr` of the separate metrics listener, when `metrics_bind` is set.
    pub metrics_base: Option<String>,
    pg_database: Option<String>,
}

fn postgres_admin_url() -> String {
    std::env::var("DEP_GATEWAY_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

fn with_database(admin: &str, db: &str) -> String {
    let mut url = url::Url::parse(admin).expect("postgres admin URL");
    url.set_path(db);
    url.to_string()
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Starts a gateway after `configure` adjusted its settings.
    pub async fn spawn_with(backend: Backend, configure: impl FnOnce(&mut Settings)) -> Self {
        Self::start(backend, false, configure).await
    }

    /// Starts a gateway serving HTTPS with a fresh `dev-cert` certificate; `client` trusts it.
    pub async fn spawn_tls(backend: Backend) -> Self {
        Self::start(backend, true, |_| {}).await
    }

    /// [`spawn_tls`](Self::spawn_tls) after `configure` adjusted the settings.
    pub async fn spawn_tls_with(backend: Backend, configure: impl FnOnce(&mut Settings)) -> Self {
        Self::start(backend, true, configure).await
    }

    /// A client that trusts the gateway's certificate (if any), built by `configure`.
    pub fn client_with(
        &self,
        configure: impl FnOnce(reqwest::ClientBuilder) -> reqwest::ClientBuilder,
    ) -> reqwest::Client {
        let mut builder = reqwest::Client::builder();
        if let Some(cert) = &self.tls_cert {
            let pem = std::fs::read(cert).expect("dev certificate");
            builder =
                builder.add_root_certificate(reqwest::Certificate::from_pem(&pem).expect("PEM"));
        }
        configure(builder).build().expect("client")
    }

    async fn start(backend: Backend, tls: bool, configure: impl FnOnce(&mut Settings)) -> Self {
        let data_dir = std::env::temp_dir().join(format!("dep-gateway-test-{}", Uuid::new_v4()));
        let mut settings = Settings {
            bind: "127.0.0.1:0".into(),
            data_dir: data_dir.clone(),
            workers: Some(1),
            pool_size: 4,
            ..Settings::default()
        };
        settings.auth.dev_authority = Some(true);
        settings.auth.audiences = vec![AUDIENCE.into()];
        let pg_database =
            (backend == Backend::Postgres).then(|| format!("dg_test_{}", Uuid::new_v4().simple()));
        settings.database_url = Some(match &pg_database {
            Some(db) => {
                let admin = postgres_admin_url();
                let mut conn = PgConnection::establish(&admin)
                    .expect("PostgreSQL must be running for the tests");
                diesel::sql_query(format!("CREATE DATABASE \"{db}\""))
                    .execute(&mut conn)
                    .expect("create database");
                with_database(&admin, db)
            }
            None => format!("sqlite://{}", data_dir.join("gateway.db").display()),
        });
        let tls_cert = tls.then(|| {
            let (cert, key) =
                dep_gateway::tls::write_dev_cert(&data_dir.join("tls")).expect("dev certificate");
            settings.tls_cert = Some(cert.clone());
            settings.tls_key = Some(key);
            cert
        });
        configure(&mut settings);
        let audience = settings.auth.audiences.first().cloned().unwrap_or_default();
        let app = Application::build(settings).await.expect("gateway starts");
        let base = app.public_url().to_owned();
        let metrics_base = app.metrics_addr().map(|a| format!("http://{a}"));
        let shutdown = app.shutdown_handle();
        tokio::spawn(app.run_until_stopped());
        let authority = DevAuthority::load_or_create(&data_dir, &audience).expect("dev authority");
        let mut app = Self {
            base,
            client: reqwest::Client::new(),
            authority,
            tenant: TenantId::new(Uuid::new_v4()),
            data_dir,
            tls_cert,
            shutdown,
            metrics_base,
            pg_database,
        };
        app.client = app.client_with(|b| b);
        app
    }

    /// The URL of this gateway's database (for tests that inspect rows the API does not show).
    pub fn database_url(&self) -> String {
        match &self.pg_database {
            Some(db) => with_database(&postgres_admin_url(), db),
            None => format!("sqlite://{}", self.data_dir.join("gateway.db").display()),
        }
    }

    /// Waits until the background workers completed `rounds` more rounds (e.g. "the assignment
    /// worker looked at the queue twice since now"), for tests asserting that nothing happens.
    pub async fn after_worker_rounds(&self, rounds: u64) {
        let background = self.shutdown.background().clone();
        let target = background.rounds() + rounds;
        eventually("background worker rounds", Duration::from_secs(20), || {
            let done = background.rounds() >= target;
            async move { done.then_some(()) }
        })
        .await;
    }

    /// A delegated token for `tenant` with `scopes`.
    pub fn token_for(&self, tenant: TenantId, scopes: &[&str]) -> String {
        self.authority
            .mint(&TokenRequest {
                tenant,
                scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
                roles: vec![],
                ttl_secs: 600,
            })
            .expect("mint")
    }

    /// A read-write delegated token for the test's tenant.
    pub fn token(&self) -> String {
        self.token_for(self.tenant, &[READ_WRITE])
    }

    /// A request to `path` (below the base URL) with the default token.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(self.token())
    }

    pub async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path)
            .send()
            .await
            .expect("request")
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.request(Method::POST, path)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn patch_json(&self, path: &str, body: &Value) -> Response {
        self.request(Method::PATCH, path)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.request(Method::DELETE, path)
            .send()
            .await
            .expect("request")
    }

    /// Creates an onboarding setting and returns its JSON.
    pub async fn create_setting(&self, body: &Value) -> Value {
        let resp = self
            .post_json("/beta/deviceManagement/depOnboardingSettings", body)
            .await;
        assert_eq!(resp.status(), 201, "create failed");
        resp.json().await.expect("json")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.data_dir);
        if let Some(db) = self.pg_database.take() {
            // A plain thread: Drop may run inside the async runtime.
            let _ = std::thread::spawn(move || {
                if let Ok(mut conn) = PgConnection::establish(&postgres_admin_url()) {
                    let _ =
                        diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"))
                            .execute(&mut conn);
                }
            })
            .join();
        }
    }
}

/// Asserts a Graph error envelope with `status` and `code`; returns its message.
pub async fn assert_graph_error(resp: Response, status: u16, code: &str) -> String {
    assert_eq!(resp.status().as_u16(), status, "unexpected status");
    let request_id = resp
        .headers()
        .get("request-id")
        .expect("request-id")
        .to_str()
        .unwrap()
        .to_owned();
    let content_type = resp
        .headers()
        .get("content-type")
        .expect("content-type")
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    let body: Value = resp.json().await.expect("error body is JSON");
    let error = &body["error"];
    assert_eq!(error["code"], code, "{body}");
    assert_eq!(
        error["innerError"]["request-id"],
        request_id.as_str(),
        "{body}"
    );
    assert!(error["innerError"]["date"].is_string(), "{body}");
    assert!(
        error["innerError"]["client-request-id"].is_string(),
        "{body}"
    );
    error["message"].as_str().expect("message").to_owned()
}

/// The MDM enrollment URL of the suite's gateways: assigning a profile needs one.
pub const MDM_ENROLLMENT_URL: &str =
    "https://mdm.example.com/mdm/enroll?token={tokenId}&profile={profileId}";

/// Configures [`MDM_ENROLLMENT_URL`]: for `TestApp::spawn_with` in tests that assign profiles.
pub fn with_mdm(s: &mut Settings) {
    s.mdm_enrollment_url = Some(MDM_ENROLLMENT_URL.to_owned());
}
