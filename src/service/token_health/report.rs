//! The report behind `dep-gateway tokens`: one line per DEP and VPP token with its expiry, last
//! sync, last error and device count, and a status a monitoring check can act on.

use serde::Serialize;

use super::{DEP, TICKS_PER_DAY, VPP, active};
use crate::domain::ids::TenantId;
use crate::domain::time::{UNSET_TICKS, format_ticks};
use crate::service::{ServiceError, Services};
use crate::storage::Db;
use crate::storage::token_health as repo;

/// How a token stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum TokenStatus {
    /// Nothing to do.
    Ok,
    /// Within the widest warning threshold of its expiry.
    Expiring,
    /// Its last sync failed (DEP: `lastSyncErrorCode` is not 0; VPP: `lastSyncStatus` failed).
    Failing,
    /// Past its expiry.
    Expired,
}

impl TokenStatus {
    /// Whether an operator must act now (the CLI exits non-zero).
    pub fn is_bad(self) -> bool {
        matches!(self, Self::Failing | Self::Expired)
    }

    /// The word printed in the table.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Expiring => "expiring",
            Self::Failing => "failing",
            Self::Expired => "expired",
        }
    }
}

/// One token of the report (never its secrets).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenLine {
    /// `dep` or `vpp`.
    pub kind: &'static str,
    /// The tenant.
    pub tenant_id: String,
    /// The token (setting) id.
    pub id: String,
    /// The token's name (`tokenName`; VPP: display or organisation name).
    pub name: Option<String>,
    /// `tokenExpirationDateTime` / `expirationDateTime`.
    pub expiration_date_time: String,
    /// Whole days until expiry (negative once expired).
    pub days_to_expiry: i64,
    /// The last successful sync, if any.
    pub last_sync_date_time: Option<String>,
    /// DEP: `lastSyncErrorCode` as text (`0` = fine); VPP: `lastSyncStatus`.
    pub last_error: String,
    /// Failed sync runs in a row (DEP).
    pub consecutive_failed_syncs: i32,
    /// DEP: `syncedDeviceCount`; VPP: none.
    pub device_count: Option<i32>,
    /// How it stands.
    pub status: TokenStatus,
}

/// The report of `tenant`'s tokens (all tenants with `None`), DEP tokens first.
pub async fn report(
    svc: &Services,
    tenant: Option<TenantId>,
) -> Result<Vec<TokenLine>, ServiceError> {
    lines(&svc.db, &svc.token_warnings, tenant, svc.clock.now_ticks()).await
}

/// [`report`] on the database at `database_url` (migrated first), for the CLI.
pub async fn report_in_database(
    database_url: &str,
    settings: &crate::config::TokenWarningSettings,
    tenant: Option<TenantId>,
    clock: &dyn crate::clock::Clock,
) -> Result<Vec<TokenLine>, ServiceError> {
    let db = Db::connect(database_url, 1).map_err(ServiceError::Internal)?;
    let migrate = db.clone();
    tokio::task::spawn_blocking(move || migrate.migrate())
        .await
        .map_err(|e| ServiceError::Internal(e.into()))?
        .map_err(ServiceError::Internal)?;
    lines(&db, settings, tenant, clock.now_ticks()).await
}

async fn lines(
    db: &Db,
    settings: &crate::config::TokenWarningSettings,
    tenant: Option<TenantId>,
    now: i64,
) -> Result<Vec<TokenLine>, ServiceError> {
    let (deps, vpps) = db
        .run(move |c| {
            Ok::<_, ServiceError>((repo::dep_tokens(c, tenant)?, repo::vpp_tokens(c, tenant)?))
        })
        .await?;
    let status = |expiration: i64, failing: bool| {
        let warned = !active(settings, expiration, None, 0, now).is_empty();
        if expiration != UNSET_TICKS && expiration <= now {
            TokenStatus::Expired
        } else if failing {
            TokenStatus::Failing
        } else if warned {
            TokenStatus::Expiring
        } else {
            TokenStatus::Ok
        }
    };
    let synced = |ticks: i64| (ticks != UNSET_TICKS).then(|| format_ticks(ticks));
    let mut out: Vec<TokenLine> = deps
        .into_iter()
        .map(|d| TokenLine {
            kind: DEP,
            tenant_id: d.tenant.to_string(),
            name: d.name,
            expiration_date_time: format_ticks(d.expiration),
            days_to_expiry: (d.expiration - now).div_euclid(TICKS_PER_DAY),
            last_sync_date_time: synced(d.last_sync),
            last_error: d.last_error.to_string(),
            consecutive_failed_syncs: d.failures,
            device_count: Some(d.devices),
            status: status(d.expiration, d.last_error != 0),
            id: d.id,
        })
        .collect();
    out.extend(vpps.into_iter().map(|v| TokenLine {
        kind: VPP,
        tenant_id: v.tenant.to_string(),
        name: Some(v.name),
        expiration_date_time: format_ticks(v.expiration),
        days_to_expiry: (v.expiration - now).div_euclid(TICKS_PER_DAY),
        last_sync_date_time: synced(v.last_sync),
        status: status(v.expiration, v.last_status == "failed"),
        last_error: v.last_status,
        consecutive_failed_syncs: 0,
        device_count: None,
        id: v.id,
    }));
    Ok(out)
}
