//! Command-line interface: `serve`, `token`, `migrate`, `apple-sim`, `make-dep-token`,
//! `dev-cert`, `openapi`, `legacy-default`, `tokens`.

mod bench_walk;
pub mod tokens;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::apple_sim::{self, SimConfig};
use crate::auth::{DevAuthority, TokenRequest};
use crate::config::Settings;
use crate::domain::ids::TenantId;
use crate::storage::Db;
use crate::{Application, telemetry};

/// A Microsoft Graph (beta) compatible gateway for Apple Automated Device Enrollment tokens.
///
/// Settings come from defaults, then the TOML file given with --config, then `DEP_GATEWAY_*`
/// environment variables (nested keys with `__`, e.g. `DEP_GATEWAY_AUTH__DEV_AUTHORITY=true`).
#[derive(Debug, Parser)]
#[command(name = "dep-gateway", version, about)]
pub struct Cli {
    /// TOML configuration file.
    #[arg(long, global = true, env = "DEP_GATEWAY_CONFIG")]
    pub config: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service (applies pending migrations first).
    Serve {
        /// Address to listen on (overrides `bind`).
        #[arg(long)]
        bind: Option<String>,
        /// PEM certificate (chain): serve HTTPS (HTTP/1.1 and HTTP/2). Overrides `tls_cert`.
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// PEM private key of --tls-cert. Overrides `tls_key`.
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
    },
    /// Write a self-signed certificate for localhost, 127.0.0.1 and `::1` (for `serve --tls-cert`)
    /// and print the paths of the certificate and its key. Clients must trust the certificate.
    DevCert {
        /// Directory for `dev-cert.pem` and `dev-key.pem` (default: the data directory).
        #[arg(long)]
        out_dir: Option<PathBuf>,
    },
    /// Print an access token signed by the development authority (key in the data directory).
    Token {
        /// Tenant GUID (`tid`).
        #[arg(long)]
        tenant: TenantId,
        /// Delegated permission for `scp` (repeatable). Default: DeviceManagementServiceConfig.ReadWrite.All.
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// Application permission for `roles` (repeatable); makes an app-only token.
        #[arg(long = "role")]
        roles: Vec<String>,
        /// Lifetime in seconds.
        #[arg(long, default_value_t = 3600)]
        ttl: u64,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the `OpenAPI` 3.1 document of the served API (as committed in `openapi/openapi.json`).
    Openapi,
    /// Run the bundled Apple DEP simulator (a stand-in for mdmenrollment.apple.com) until Ctrl-C.
    ///
    /// Its admin API (`/admin/...`) creates simulated MDM servers, devices and failures.
    AppleSim {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8089")]
        bind: String,
        /// JSON state file, loaded at start and kept up to date (servers and devices survive restarts).
        #[arg(long)]
        state: Option<PathBuf>,
    },
    /// Print a server token (`.p7m`) for a simulated MDM server, as Apple Business Manager's "Download Token" does.
    ///
    /// Creates (or reuses) the MDM server on the running simulator through its admin API, then
    /// encrypts the server's OAuth credentials to the given certificate.
    MakeDepToken {
        /// PEM file with the certificate getEncryptionPublicKey returns (a bare PEM public key also works).
        #[arg(long)]
        public_key_pem: PathBuf,
        /// Name of the simulated MDM server (created if missing).
        #[arg(long)]
        server: String,
        /// Base URL of the running simulator, e.g. `http://127.0.0.1:8089`.
        #[arg(long)]
        sim_url: String,
        /// Devices to generate when the server is created.
        #[arg(long, default_value_t = 100)]
        devices: u32,
    },
    /// Designate the depOnboardingSetting that a tenant's old single-token API calls go to
    /// (the legacy default token), or clear the designation.
    LegacyDefault {
        /// Tenant GUID.
        #[arg(long)]
        tenant: TenantId,
        /// depOnboardingSetting id to designate.
        #[arg(long, required_unless_present = "clear", conflicts_with = "clear")]
        setting: Option<String>,
        /// Clear the designation instead.
        #[arg(long)]
        clear: bool,
    },
    /// List every DEP and VPP token of a tenant (or of all tenants) with its expiry, last sync,
    /// last error and device count.
    ///
    /// Exits 0 when every token is fine (some may be expiring), 2 when at least one is expired
    /// or failing (its last sync failed), 1 when the report could not be made: usable from cron
    /// or as a monitoring check.
    Tokens {
        /// Only this tenant's tokens.
        #[arg(long)]
        tenant: Option<TenantId>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Benchmark baseline (`benches/sync.py`): walk a simulated MDM server's full device list
    /// with the gateway's Apple client, parsing every device and storing nothing; prints JSON.
    #[command(hide = true)]
    BenchWalk {
        /// Base URL of the running simulator.
        #[arg(long)]
        sim_url: String,
        /// Name of the simulated MDM server (created if missing).
        #[arg(long)]
        server: String,
        /// Devices to generate when the server is created.
        #[arg(long, default_value_t = 100_000)]
        devices: u32,
    },
}

impl Cli {
    /// Runs the chosen subcommand; `tokens` may ask for a non-zero exit without an error.
    pub async fn run(self) -> anyhow::Result<ExitCode> {
        let mut settings = Settings::load(self.config.as_deref())?;
        telemetry::init(&settings.log, settings.log_json);
        let done: anyhow::Result<()> = match self.command {
            Command::Serve {
                bind,
                tls_cert,
                tls_key,
            } => {
                if let Some(bind) = bind {
                    settings.bind = bind;
                }
                if tls_cert.is_some() {
                    settings.tls_cert = tls_cert;
                    settings.tls_key = tls_key;
                }
                let app = Application::build(settings).await?;
                tracing::info!(addr = %app.addr(), public_url = app.public_url(), "dep-gateway listening");
                app.run_until_stopped().await.context("serving")
            }
            Command::Token {
                tenant,
                scopes,
                roles,
                ttl,
            } => {
                let audience = settings
                    .auth
                    .audiences
                    .first()
                    .context("auth.audiences is empty")?;
                let authority = DevAuthority::load_or_create(&settings.data_dir, audience)?;
                let token = authority.mint(&TokenRequest {
                    tenant,
                    scopes,
                    roles,
                    ttl_secs: ttl,
                })?;
                println!("{token}");
                Ok(())
            }
            Command::AppleSim { bind, state } => {
                let config = SimConfig {
                    bind,
                    state_file: state,
                };
                apple_sim::serve_until_ctrl_c(config).await
            }
            Command::MakeDepToken {
                public_key_pem,
                server,
                sim_url,
                devices,
            } => {
                let pem = std::fs::read_to_string(&public_key_pem)
                    .with_context(|| format!("reading {}", public_key_pem.display()))?;
                let p7m = apple_sim::make_dep_token(&sim_url, &server, devices, &pem).await?;
                print!("{p7m}");
                Ok(())
            }
            Command::BenchWalk {
                sim_url,
                server,
                devices,
            } => bench_walk::run(&sim_url, &server, devices).await,
            Command::Openapi => {
                print!("{}", crate::openapi::to_json());
                Ok(())
            }
            Command::DevCert { out_dir } => {
                let dir = out_dir.unwrap_or_else(|| settings.data_dir.clone());
                let (cert, key) = crate::tls::write_dev_cert(&dir)?;
                println!("certificate: {}", cert.display());
                println!("private key: {}", key.display());
                Ok(())
            }
            Command::LegacyDefault {
                tenant, setting, ..
            } => {
                println!(
                    "{}",
                    crate::legacy::cli::run(&settings, tenant, setting).await?
                );
                Ok(())
            }
            Command::Tokens { tenant, json } => return tokens::run(&settings, tenant, json).await,
            Command::Migrate => {
                let db = Db::connect(&settings.database_url(), 1)?;
                let applied = tokio::task::spawn_blocking(move || db.migrate()).await??;
                println!("applied {applied} migration(s)");
                Ok(())
            }
        };
        done.map(|()| ExitCode::SUCCESS)
    }
}
