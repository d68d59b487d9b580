//! `dep-gateway legacy-default`: designates (or clears) a tenant's legacy default token from
//! the command line, on the configured database.

use anyhow::Context;

use crate::config::Settings;
use crate::domain::ids::{SettingId, TenantId};
use crate::service::{ServiceError, legacy};

/// Applies pending migrations, then designates `setting` (or clears with `None`); returns the
/// line to print.
pub async fn run(
    settings: &Settings,
    tenant: TenantId,
    setting: Option<String>,
) -> anyhow::Result<String> {
    let line = match &setting {
        Some(id) => format!("legacy default token of tenant {tenant}: {id}"),
        None => format!("legacy default token of tenant {tenant}: cleared"),
    };
    legacy::designate_in_database(
        &settings.database_url(),
        tenant,
        setting.map(SettingId::from),
        &crate::clock::SystemClock,
    )
    .await
    .map_err(|e| match e {
        ServiceError::NotFound { id, .. } => {
            anyhow::anyhow!("tenant {tenant} has no depOnboardingSetting '{id}'")
        }
        ServiceError::Internal(e) => e,
        other => other.into(),
    })
    .context("designating the legacy default token")?;
    Ok(line)
}
