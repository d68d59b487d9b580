//! dep-gateway: a Microsoft Graph beta compatible service for Apple Automated Device Enrollment.

pub mod api;
pub mod apple;
pub mod apple_sim;
pub mod auth;
pub mod background;
pub mod cli;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod domain;
pub mod http;
pub mod legacy;
pub mod odata;
pub mod openapi;
pub mod service;
pub mod storage;
pub mod telemetry;
pub mod tls;
pub mod upstream;
pub mod x509;

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::{App, web};
use anyhow::Context;

use crate::auth::{Authenticator, DevAuthority};
use crate::background::Background;
use crate::config::Settings;
use crate::http::AppState;
use crate::odata::PagingKey;
use crate::service::Services;
use crate::storage::{Db, DbTimeouts};

/// The services over `db`: secrets from the configured key (or the data directory's key file),
/// Apple through an HTTP connector on the system clock, triggered work under `background`.
fn services(
    db: Db,
    paging_key: PagingKey,
    background: Background,
    settings: &Settings,
) -> anyhow::Result<Services> {
    let clock: Arc<dyn clock::Clock> = Arc::new(clock::SystemClock);
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(60))
        .build()?;
    let apple_base_url =
        url::Url::parse(&settings.apple_base_url).context("apple_base_url is not a URL")?;
    let secrets = Arc::new(crypto::SecretBox::load_or_create(
        settings.secrets_key.as_deref(),
        &settings.data_dir,
    )?);
    let metrics = Arc::new(telemetry::Metrics::new());
    let apple = Arc::new(telemetry::apple::MeteredConnector::new(
        Arc::new(apple::HttpConnector::new(
            http,
            apple_base_url,
            Arc::clone(&clock),
        )),
        Arc::clone(&metrics),
    ));
    Ok(
        Services::new(db, paging_key, secrets, apple, clock, background, settings)
            .with_metrics(metrics),
    )
}

/// A bound, not yet running, gateway.
pub struct Application {
    addr: SocketAddr,
    metrics_addr: Option<SocketAddr>,
    public_url: String,
    server: Server,
    shutdown: Shutdown,
}

/// Stops a running [`Application`] gracefully, as SIGTERM and Ctrl-C do: the server stops
/// accepting and drains in-flight requests (bounded by `shutdown_timeout_secs`), then the
/// background work stops at its next safe point and releases the leases it holds.
#[derive(Clone)]
pub struct Shutdown {
    server: ServerHandle,
    /// The separate metrics listener (`metrics_bind`), if any.
    metrics_server: Option<ServerHandle>,
    background: Background,
    timeout: std::time::Duration,
    /// The trace exporter, flushed last, once: a second caller waits for the first flush.
    tracing: Arc<telemetry::Tracing>,
    flushed: Arc<tokio::sync::OnceCell<()>>,
}

impl Shutdown {
    /// Runs the graceful shutdown; returns whether the background work ended in time.
    pub async fn shutdown(&self) -> bool {
        self.server.stop(true).await;
        if let Some(metrics) = &self.metrics_server {
            metrics.stop(true).await;
        }
        let ended = self.background.shutdown(self.timeout).await;
        self.flush_traces().await;
        ended
    }

    /// Exports the buffered spans and stops the exporter (on a blocking thread: the export
    /// runs on this runtime while the flush waits for it).
    async fn flush_traces(&self) {
        let tracing = Arc::clone(&self.tracing);
        if tracing.is_exporting() {
            self.flushed
                .get_or_init(|| async {
                    let _ = tokio::task::spawn_blocking(move || tracing.shutdown()).await;
                })
                .await;
        }
    }

    /// The instance's background work (restart and round counters).
    pub fn background(&self) -> &Background {
        &self.background
    }
}

impl Application {
    /// Opens the database, applies migrations, loads keys and binds the listener
    /// (`bind` port 0 picks a free port, as the tests do).
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        // First, before the database is touched: a bad certificate or key is a start-up error, not a
        // failing handshake later.
        let tls = match (&settings.tls_cert, &settings.tls_key) {
            (Some(cert), Some(key)) => Some(tls::server_config(cert, key)?),
            (None, None) => None,
            _ => anyhow::bail!("HTTPS needs both tls_cert and tls_key (--tls-cert and --tls-key)"),
        };
        settings.enrollment_url()?;
        let cors = Arc::new(
            http::cors::CorsPolicy::new(&settings.cors_allowed_origins)
                .map_err(anyhow::Error::msg)?,
        );
        let (db, paging_key) = open_database(&settings).await?;
        let auth = Authenticator::new(
            &settings.auth,
            dev_authority(&settings)?,
            reqwest::Client::new(),
        )
        .await?;
        let listener = TcpListener::bind(&settings.bind)
            .with_context(|| format!("binding {}", settings.bind))?;
        let addr = listener.local_addr()?;
        let public_url = settings.public_url_for(addr);
        let background = Background::new();
        let tracing = Arc::new(telemetry::Tracing::new(
            settings.traces_endpoint().as_deref(),
        )?);
        let upstream =
            upstream::Upstream::new(&settings.upstream, settings.legacy_api, paging_key.clone())?;
        let state = Arc::new(AppState {
            services: services(db, paging_key, background.clone(), &settings)?,
            auth,
            public_url: public_url.clone(),
            max_body_bytes: settings.max_body_bytes,
            throttle: http::throttle::Throttle::new(&throttling(&settings)),
            legacy_api: settings.legacy_api,
            metrics_token: settings.metrics_token.clone(),
            apple_probe: apple_probe(&settings)?,
            tracing: Arc::clone(&tracing),
            upstream: upstream.map(|u| u as Arc<dyn http::upstream::Upstream>),
        });
        // Upstream mode holds no DEP state: no syncs, pushes, token checks or audit of its own.
        if state.upstream.is_none() {
            service::sync::start_scheduler(&state.services);
            service::sync::start_assignment_worker(&state.services);
            service::token_health::start_checker(&state.services);
            service::notify::start_delivery(&state.services);
            if settings.audit_retention_days > 0 {
                let days = std::time::Duration::from_secs(settings.audit_retention_days * 86_400);
                let hourly = std::time::Duration::from_secs(3600);
                service::audit::start_pruner(&state.services, days, hourly);
            }
        } else {
            tracing::info!(
                "upstream mode: single-token calls are translated onto the upstream, the rest passed through"
            );
        }
        let timeout = std::time::Duration::from_secs(settings.shutdown_timeout_secs);
        let data = web::Data::new(state);
        let (metrics_server, metrics_addr) = metrics_listener(&settings, &data)?;
        let metrics_on_main = metrics_server.is_none();
        let edge = web::Data::new(http::edge::EdgeLimits::new(&settings));
        let on_connect = Arc::new(edge.on_connect());
        let app = move || {
            let cors = Arc::clone(&cors);
            App::new()
                .wrap(actix_web::middleware::from_fn(move |req, next| {
                    http::cors::handle(Arc::clone(&cors), req, next)
                }))
                .app_data(data.clone())
                .app_data(edge.clone())
                .route("/healthz", web::get().to(http::healthz))
                .route("/readyz", web::get().to(http::readyz))
                .configure(|cfg| {
                    if metrics_on_main {
                        cfg.route("/metrics", web::get().to(http::metrics::metrics));
                    }
                })
                .configure(http::docs::configure)
                .default_service(web::to(http::entry))
        };
        // SIGTERM and Ctrl-C stop accepting and drain for at most `timeout`.
        let server = http::serve::serve(app, listener, tls, &serve_options(&settings), on_connect)?;
        let shutdown = Shutdown {
            server: server.handle(),
            metrics_server: metrics_server.as_ref().map(Server::handle),
            background,
            timeout,
            tracing,
            flushed: Arc::default(),
        };
        if let Some(metrics_server) = metrics_server {
            tokio::spawn(metrics_server);
        }
        Ok(Self {
            addr,
            metrics_addr,
            public_url,
            server,
            shutdown,
        })
    }

    /// The address actually bound.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The address of the separate metrics listener, when `metrics_bind` is set.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// The public base URL.
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// A handle that stops this application gracefully (what SIGTERM does).
    pub fn shutdown_handle(&self) -> Shutdown {
        self.shutdown.clone()
    }

    /// Serves until the process is asked to stop (SIGTERM, Ctrl-C or [`Shutdown`]), then stops
    /// the background work at a safe point, releasing its leases.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        self.shutdown
            .background
            .shutdown(self.shutdown.timeout)
            .await;
        self.shutdown.flush_traces().await;
        served
    }
}

/// How the listeners serve: the edge timeouts, the connection cap and the workers of `settings`.
fn serve_options(settings: &Settings) -> http::serve::ServeOptions {
    http::serve::ServeOptions {
        head_timeout: Duration::from_secs(settings.http_head_timeout_secs.max(1)),
        keep_alive: Duration::from_secs(settings.http_keep_alive_secs),
        max_connections_per_worker: http::edge::per_worker_cap(settings),
        workers: settings.workers,
        shutdown_timeout_secs: settings.shutdown_timeout_secs,
    }
}

/// The separate `GET /metrics` listener when `metrics_bind` is set (plain HTTP, one worker:
/// scrapes are rare), and its bound address.
fn metrics_listener(
    settings: &Settings,
    data: &web::Data<Arc<AppState>>,
) -> anyhow::Result<(Option<Server>, Option<SocketAddr>)> {
    let Some(bind) = &settings.metrics_bind else {
        return Ok((None, None));
    };
    let listener =
        TcpListener::bind(bind).with_context(|| format!("binding metrics_bind {bind}"))?;
    let addr = listener.local_addr()?;
    let data = data.clone();
    let app = move || {
        App::new()
            .app_data(data.clone())
            .route("/metrics", web::get().to(http::metrics::metrics))
    };
    let options = http::serve::ServeOptions {
        workers: Some(1),
        ..serve_options(settings)
    };
    let server = http::serve::serve(app, listener, None, &options, Arc::new(|_, _| {}))?;
    Ok((Some(server), Some(addr)))
}

/// The gateway's own limits: off by default in upstream mode, where the upstream's apply (its
/// 429s come back unchanged).
fn throttling(settings: &Settings) -> config::ThrottleSettings {
    let mut throttling = settings.throttling.clone();
    throttling.enabled &= settings.upstream.base_url.is_none() || settings.upstream.throttle;
    throttling
}

/// The `/readyz` Apple check, when `readyz_apple` is on.
fn apple_probe(settings: &Settings) -> anyhow::Result<Option<http::health::AppleProbe>> {
    if !settings.readyz_apple {
        return Ok(None);
    }
    let url = url::Url::parse(&settings.apple_base_url).context("apple_base_url is not a URL")?;
    http::health::AppleProbe::new(url).map(Some)
}

/// Connects the pool, applies migrations and loads the paging key.
async fn open_database(settings: &Settings) -> anyhow::Result<(Db, PagingKey)> {
    let db = Db::connect_with(
        &settings.database_url(),
        settings.pool_size,
        DbTimeouts::from_settings(settings),
    )?;
    if settings.secrets_key.is_none() && settings.database_url().starts_with("postgres") {
        tracing::warn!(
            "secrets_key is not set: secrets are sealed with a key file in the data directory, \
             which other instances on this database cannot read; set DEP_GATEWAY_SECRETS_KEY"
        );
    }
    let migrate_db = db.clone();
    let applied = tokio::task::spawn_blocking(move || migrate_db.migrate()).await??;
    tracing::info!(applied, database = %config::redact_url(&settings.database_url()), "database ready");
    let paging_key = db
        .run(|c| {
            storage::secrets::get_or_create(c, "paging_key").map_err(storage::StorageError::from)
        })
        .await?;
    Ok((db, PagingKey(paging_key)))
}

fn dev_authority(settings: &Settings) -> anyhow::Result<Option<DevAuthority>> {
    if !settings.dev_authority_enabled() {
        return Ok(None);
    }
    if !settings.binds_loopback() {
        tracing::warn!(bind = %settings.bind, "the development token authority is enabled on a non-loopback address");
    }
    let audience = settings
        .auth
        .audiences
        .first()
        .context("auth.audiences is empty")?;
    DevAuthority::load_or_create(&settings.data_dir, audience).map(Some)
}
