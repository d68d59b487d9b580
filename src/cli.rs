//! Command-line interface: `serve`, `token`, `migrate`.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};

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
}

impl Cli {
    /// Runs the chosen subcommand.
    pub async fn run(self) -> anyhow::Result<()> {
        let mut settings = Settings::load(self.config.as_deref())?;
        telemetry::init(&settings.log, settings.log_json);
        match self.command {
            Command::Serve { bind } => {
                if let Some(bind) = bind {
                    settings.bind = bind;
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
            Command::Migrate => {
                let db = Db::connect(&settings.database_url(), 1)?;
                let applied = tokio::task::spawn_blocking(move || db.migrate()).await??;
                println!("applied {applied} migration(s)");
                Ok(())
            }
        }
    }
}
