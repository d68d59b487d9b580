//! Typed settings: defaults < optional TOML file < `DEP_GATEWAY_*` environment variables.
//!
//! Nested keys use `__` in the environment (`DEP_GATEWAY_AUTH__DEV_AUTHORITY=true`).

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

mod auth;
mod notifications;
mod operability;
mod redact;
mod upstream;

use crate::domain::enrollment_url::EnrollmentUrl;

pub use auth::{AuthSettings, IssuerSettings};
pub use notifications::NotificationSettings;
pub use operability::TokenWarningSettings;
pub use redact::{redact_url, scrub_url_secrets};
pub use upstream::UpstreamSettings;

/// Every setting of the gateway.
#[derive(Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Address the HTTP listener binds (`127.0.0.1:8080`; port 0 picks a free port).
    pub bind: String,
    /// Externally visible base URL (`https://dep.example.com`) used for `@odata.nextLink`.
    /// Derived from `bind` when unset.
    pub public_url: Option<String>,
    /// `sqlite://path`, a bare path, or `postgres://…`. Defaults to `<data_dir>/dep-gateway.db`.
    pub database_url: Option<String>,
    /// Directory for the SQLite file and generated keys.
    pub data_dir: PathBuf,
    /// `deviceManagement.maximumDepTokens`: how many onboarding settings one tenant may hold.
    pub max_dep_tokens: i32,
    /// Largest page a list returns; also the page size when `$top` is absent.
    pub max_page_size: u32,
    /// Largest accepted request body in bytes.
    pub max_body_bytes: usize,
    /// Connections in the database pool.
    pub pool_size: u32,
    /// Seconds to open a PostgreSQL connection (libpq `connect_timeout`, at least 2).
    pub db_connect_timeout_secs: u64,
    /// Seconds a request waits for a free pooled connection before answering 503.
    pub db_checkout_timeout_secs: u64,
    /// Seconds one database call may run: PostgreSQL's `statement_timeout`, and how long a
    /// request waits on a frozen database before answering 503.
    pub db_statement_timeout_secs: u64,
    /// HTTP worker threads; unset = one per core.
    pub workers: Option<usize>,
    /// Seconds a client has to send a request head (the request line and headers).
    pub http_head_timeout_secs: u64,
    /// Seconds an idle keep-alive connection stays open.
    pub http_keep_alive_secs: u64,
    /// Seconds a request body has to arrive, plus one second per `http_body_min_bytes_per_sec`
    /// received; a body that does not finish in time is answered 408.
    pub http_body_timeout_secs: u64,
    /// The slowest body transfer rate that still earns more time, in bytes per second.
    pub http_body_min_bytes_per_sec: u64,
    /// Open connections of the whole process; keep it below the file-descriptor limit
    /// (`ulimit -n`). Above seven eighths of it, Graph requests are answered 503.
    pub http_max_connections: usize,
    /// Log filter (`info`, `dep_gateway=debug`, …); `RUST_LOG` wins when set.
    pub log: String,
    /// Log as JSON lines instead of text.
    pub log_json: bool,
    /// Base URL of Apple's DEP web service (or of the bundled simulator).
    pub apple_base_url: String,
    /// Seconds between periodic syncs of each token with Apple; 0 turns periodic sync off.
    pub sync_interval_secs: u64,
    /// Seconds before a failed profile assignment is pushed to Apple again (doubling per try).
    pub assign_retry_secs: u64,
    /// Seconds a sync or profile-push lease lasts without renewal. A heartbeat renews it while
    /// the work runs, so this only bounds how long a crashed instance's token waits.
    pub lease_secs: u64,
    /// Seconds a graceful shutdown (SIGTERM, Ctrl-C) waits for in-flight requests, and then
    /// again for background work to reach a safe point.
    pub shutdown_timeout_secs: u64,
    /// Base64 of the 32-byte key that encrypts secrets at rest; unset: a key file in `data_dir`.
    /// Several instances on one database must share it.
    pub secrets_key: Option<String>,
    /// Access-token validation.
    pub auth: AuthSettings,
    /// PEM certificate chain for HTTPS; with `tls_key`, the listener speaks TLS (HTTP/1.1 and h2).
    pub tls_cert: Option<PathBuf>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1) of `tls_cert`.
    pub tls_key: Option<PathBuf>,
    /// Per-tenant and per-app request limits.
    pub throttling: ThrottleSettings,
    /// Serve the retired single-token DEP API, translated onto the multi-token model (`DEP_GATEWAY_LEGACY_API`).
    pub legacy_api: bool,
    /// The MDM server's enrollment URL, sent to Apple as the `url` of every profile; a template
    /// with `{profileId}` and `{tokenId}` (`DEP_GATEWAY_MDM_ENROLLMENT_URL`). Unset: assigning
    /// a profile is refused, since Apple would send devices nowhere.
    pub mdm_enrollment_url: Option<String>,
    /// Origins a browser may call the Graph API from (`DEP_GATEWAY_CORS_ALLOWED_ORIGINS`,
    /// comma-separated, or a list in the file); `*` allows every origin. Empty: no CORS.
    #[serde(deserialize_with = "comma_separated")]
    pub cors_allowed_origins: Vec<String>,
    /// Serve `GET /metrics` on its own listener at this address instead of the main one.
    pub metrics_bind: Option<String>,
    /// When set, `GET /metrics` requires `Authorization: Bearer <metrics_token>` (a static
    /// secret for the scraper, not a Graph token).
    pub metrics_token: Option<String>,
    /// `/readyz` also checks that Apple's DEP web service (`apple_base_url`) answers.
    pub readyz_apple: bool,
    /// When DEP and VPP tokens are warned about (expiry, terms, failing syncs).
    pub token_warnings: TokenWarningSettings,
    /// Change notifications (`/subscriptions`): receivers allowed, lifetime, delivery timing.
    pub notifications: NotificationSettings,
    /// OTLP/HTTP base URL for traces (`…/v1/traces`); unset: `OTEL_EXPORTER_OTLP_ENDPOINT`.
    pub otlp_endpoint: Option<String>,
    /// Days the audit trail keeps events (pruned hourly; 0 keeps them forever).
    pub audit_retention_days: u64,
    /// Upstream mode (`[upstream]`, `--upstream`).
    pub upstream: UpstreamSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".to_owned(),
            public_url: None,
            database_url: None,
            data_dir: PathBuf::from("./data"),
            max_dep_tokens: 2000,
            max_page_size: 1000,
            max_body_bytes: 4 * 1024 * 1024,
            pool_size: 8,
            db_connect_timeout_secs: 5,
            db_checkout_timeout_secs: 5,
            db_statement_timeout_secs: 10,
            workers: None,
            http_head_timeout_secs: 5,
            http_keep_alive_secs: 5,
            http_body_timeout_secs: 10,
            http_body_min_bytes_per_sec: 32 * 1024,
            http_max_connections: 512,
            log: "info".to_owned(),
            log_json: false,
            apple_base_url: crate::apple::client::APPLE_BASE_URL.to_owned(),
            sync_interval_secs: 3600,
            assign_retry_secs: 60,
            lease_secs: 30,
            shutdown_timeout_secs: 10,
            secrets_key: None,
            auth: AuthSettings::default(),
            tls_cert: None,
            tls_key: None,
            throttling: ThrottleSettings::default(),
            legacy_api: true,
            mdm_enrollment_url: None,
            cors_allowed_origins: Vec::new(),
            metrics_bind: None,
            metrics_token: None,
            readyz_apple: false,
            token_warnings: TokenWarningSettings::default(),
            notifications: NotificationSettings::default(),
            otlp_endpoint: None,
            audit_retention_days: 365,
            upstream: UpstreamSettings::default(),
        }
    }
}

/// Request limits per tenant and per application within a tenant, over a sliding `window_secs`
/// (defaults: Intune's enrollment limits). A limit of 0 turns that limit off.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ThrottleSettings {
    /// `false` turns throttling off.
    pub enabled: bool,
    /// The window the limits count in, in seconds.
    pub window_secs: u64,
    /// POST / PUT / PATCH / DELETE per tenant per window.
    pub tenant_writes: u32,
    /// Requests of any method per tenant per window.
    pub tenant_requests: u32,
    /// Writes per application (`appid` / `azp`) per tenant per window.
    pub app_writes: u32,
    /// Requests of any method per application per tenant per window.
    pub app_requests: u32,
}

impl Default for ThrottleSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            window_secs: 20,
            tenant_writes: 200,
            tenant_requests: 2000,
            app_writes: 100,
            app_requests: 1000,
        }
    }
}

/// A list from the file, or one comma-separated string (the environment's only form).
fn comma_separated<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    let items = match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => s.split(',').map(str::to_owned).collect(),
        OneOrMany::Many(v) => v,
    };
    Ok(items
        .into_iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect())
}

impl Settings {
    /// Loads defaults, then the TOML file (if any), then `DEP_GATEWAY_*` variables.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        if let Some(file) = file {
            anyhow::ensure!(
                file.exists(),
                "config file {} does not exist",
                file.display()
            );
            figment = figment.merge(Toml::file(file));
        }
        figment
            // DEP_GATEWAY_CONFIG names the file; DEP_GATEWAY_TEST_* belong to the test suite.
            .merge(
                Env::prefixed("DEP_GATEWAY_")
                    .filter(|k| {
                        k != "config" && !k.as_str().to_ascii_lowercase().starts_with("test_")
                    })
                    .split("__"),
            )
            .extract()
            .context("reading configuration")
    }

    /// The database URL, defaulting to a SQLite file in the data directory.
    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}",
                self.data_dir.join("dep-gateway.db").display()
            )
        })
    }

    /// Whether `bind` is a loopback address (`127.0.0.0/8`, `::1`, `localhost`).
    pub fn binds_loopback(&self) -> bool {
        match self.bind.parse::<SocketAddr>() {
            Ok(addr) => addr.ip().is_loopback(),
            Err(_) => self.bind.starts_with("localhost:"),
        }
    }

    /// Whether the development token authority is on (explicit setting, else loopback binds only).
    pub fn dev_authority_enabled(&self) -> bool {
        self.auth
            .dev_authority
            .unwrap_or_else(|| self.binds_loopback())
    }

    /// The public base URL without a trailing slash, given the address actually bound
    /// (`https://` when TLS is on).
    pub fn public_url_for(&self, bound: SocketAddr) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None if self.tls_enabled() => format!("https://{bound}"),
            None => format!("http://{bound}"),
        }
    }

    /// The validated enrollment URL template, if one is configured (blank counts as unset).
    pub fn enrollment_url(&self) -> anyhow::Result<Option<EnrollmentUrl>> {
        match self.mdm_enrollment_url.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(template) => EnrollmentUrl::parse(template).map(Some).map_err(|e| {
                anyhow::anyhow!("mdm_enrollment_url (DEP_GATEWAY_MDM_ENROLLMENT_URL): {e}")
            }),
        }
    }

    /// Whether the listener speaks TLS (a certificate is configured).
    pub fn tls_enabled(&self) -> bool {
        self.tls_cert.is_some() || self.tls_key.is_some()
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("bind", &self.bind)
            .field("public_url", &self.public_url)
            .field(
                "database_url",
                &self.database_url.as_deref().map(redact_url),
            )
            .field("data_dir", &self.data_dir)
            .field("max_dep_tokens", &self.max_dep_tokens)
            .field("auth", &self.auth)
            .field("tls_cert", &self.tls_cert)
            .field("throttling", &self.throttling)
            .field("mdm_enrollment_url", &self.mdm_enrollment_url)
            .field("cors_allowed_origins", &self.cors_allowed_origins)
            .field("metrics_bind", &self.metrics_bind)
            .field("metrics_token", &self.metrics_token.as_ref().map(|_| "***"))
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
