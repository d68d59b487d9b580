//! dep-gateway: a Microsoft Graph beta compatible service for Apple Automated Device Enrollment.

pub mod apple;
pub mod apple_sim;
pub mod auth;
pub mod cli;
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

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};
use anyhow::Context;

use crate::auth::{Authenticator, DevAuthority};
use crate::config::Settings;
use crate::http::AppState;
use crate::odata::PagingKey;
use crate::service::Services;
use crate::storage::Db;

/// A bound, not yet running, gateway.
pub struct Application {
    addr: SocketAddr,
    public_url: String,
    server: Server,
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
        let db = Db::connect(&settings.database_url(), settings.pool_size)?;
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
                storage::secrets::get_or_create(c, "paging_key")
                    .map_err(storage::StorageError::from)
            })
            .await?;
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
        let state = Arc::new(AppState {
            services: Services::new(
                db,
                PagingKey(paging_key),
                Arc::new(crypto::SecretBox::load_or_create(
                    settings.secrets_key.as_deref(),
                    &settings.data_dir,
                )?),
                &settings,
            )?,
            auth,
            public_url: public_url.clone(),
            max_body_bytes: settings.max_body_bytes,
            throttle: http::throttle::Throttle::new(&settings.throttling),
            legacy_api: settings.legacy_api,
        });
        service::sync::start_scheduler(state.services.clone());
        service::sync::start_assignment_worker(state.services.clone());
        let data = web::Data::new(state);
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/healthz", web::get().to(http::healthz))
                .route("/readyz", web::get().to(http::readyz))
                .configure(http::docs::configure)
                .default_service(web::to(http::entry))
        });
        server = match tls {
            Some(config) => server.listen_rustls_0_23(listener, config)?,
            None => server.listen(listener)?,
        };
        if let Some(workers) = settings.workers {
            server = server.workers(workers);
        }
        Ok(Self {
            addr,
            public_url,
            server: server.run(),
        })
    }

    /// The address actually bound.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The public base URL.
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// Serves until the process is asked to stop.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
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
