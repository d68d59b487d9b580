//! `dep-gateway legacy-default`: designates (or clears) a tenant's legacy default token from
//! the command line, on the configured database.

use anyhow::Context;

use crate::config::Settings;
use crate::domain::ids::TenantId;
use crate::storage::{Db, legacy_defaults, onboarding_settings};

/// Applies pending migrations, then designates `setting` (or clears with `None`); returns the
/// line to print.
pub async fn run(
    settings: &Settings,
    tenant: TenantId,
    setting: Option<String>,
) -> anyhow::Result<String> {
    let db = Db::connect(&settings.database_url(), 1)?;
    let migrate = db.clone();
    tokio::task::spawn_blocking(move || migrate.migrate()).await??;
    let line = match &setting {
        Some(id) => format!("legacy default token of tenant {tenant}: {id}"),
        None => format!("legacy default token of tenant {tenant}: cleared"),
    };
    db.write(tenant, move |c| -> anyhow::Result<()> {
        match &setting {
            Some(id) => {
                anyhow::ensure!(
                    onboarding_settings::exists(c, tenant, id)?,
                    "tenant {tenant} has no depOnboardingSetting '{id}'"
                );
                legacy_defaults::designate(c, tenant, id)?;
            }
            None => {
                legacy_defaults::clear(c, tenant)?;
            }
        }
        Ok(())
    })
    .await
    .context("designating the legacy default token")?;
    Ok(line)
}
