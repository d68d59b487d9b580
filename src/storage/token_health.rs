//! What operators watch about their tokens, across tenants: the DEP and VPP tokens with their
//! expiry and sync state (for the metrics endpoint, the lifecycle check and the `tokens` CLI),
//! the assignment queue's depth, each DEP token's consecutive failed syncs, and the lifecycle
//! warnings already issued (`token_warnings`).
//!
//! The reads here are cross-tenant like the schedulers' `due` queries: the process-level
//! observers serve every tenant. Each takes an optional tenant to narrow it. Writes take the
//! tenant and run under its lock ([`super::Db::write`]).

use super::outbox::ChangeType;
use diesel::dsl::exists;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{
    dep_onboarding_settings as s, dep_profile_assignments as queue, dep_sync_failures as f,
    dep_token_credentials as creds, token_warnings as w, vpp_tokens as v,
};
use crate::domain::ids::{SettingId, TenantId};

/// A DEP token (an onboarding setting holding an Apple server token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepTokenRow {
    /// Its tenant.
    pub tenant: TenantId,
    /// The setting id.
    pub id: String,
    /// `tokenName`.
    pub name: Option<String>,
    /// `tokenExpirationDateTime` (ticks).
    pub expiration: i64,
    /// `lastSuccessfulSyncDateTime` (ticks; the unset value when it never synced).
    pub last_sync: i64,
    /// `lastSyncErrorCode`.
    pub last_error: i32,
    /// `syncedDeviceCount`.
    pub devices: i32,
    /// Sync runs that failed in a row since the last success.
    pub failures: i32,
}

/// A VPP token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VppTokenRow {
    /// Its tenant.
    pub tenant: TenantId,
    /// The token id.
    pub id: String,
    /// `displayName`, else `organizationName`.
    pub name: String,
    /// `expirationDateTime` (ticks).
    pub expiration: i64,
    /// `lastSyncDateTime` (ticks).
    pub last_sync: i64,
    /// `lastSyncStatus`.
    pub last_status: String,
}

type DepRaw = (String, String, Option<String>, i64, i64, i32, i32);
type VppRaw = (String, String, Option<String>, String, i64, i64, String);

/// Every DEP token holding a server token (of `tenant`, or of all tenants), ordered by tenant and
/// id, with its consecutive failures. Two queries.
pub fn dep_tokens(
    conn: &mut DbConnection,
    tenant: Option<TenantId>,
) -> QueryResult<Vec<DepTokenRow>> {
    let held = exists(
        creds::table
            .filter(creds::tenant_id.eq(s::tenant_id))
            .filter(creds::setting_id.eq(s::id)),
    );
    let mut query = s::table
        .filter(held)
        .select((
            s::tenant_id,
            s::id,
            s::token_name,
            s::token_expiration_date_time,
            s::last_successful_sync_date_time,
            s::last_sync_error_code,
            s::synced_device_count,
        ))
        .order((s::tenant_id, s::id))
        .into_boxed();
    let mut failures = f::table
        .select((f::tenant_id, f::setting_id, f::consecutive))
        .into_boxed();
    if let Some(t) = tenant {
        query = query.filter(s::tenant_id.eq(t.to_string()));
        failures = failures.filter(f::tenant_id.eq(t.to_string()));
    }
    let rows: Vec<DepRaw> = query.load(conn)?;
    let failures: std::collections::HashMap<(String, String), i32> = failures
        .load::<(String, String, i32)>(conn)?
        .into_iter()
        .map(|(t, id, n)| ((t, id), n))
        .collect();
    Ok(rows
        .into_iter()
        .filter_map(
            |(t, id, name, expiration, last_sync, last_error, devices)| {
                let failures = failures.get(&(t.clone(), id.clone())).copied().unwrap_or(0);
                Some(DepTokenRow {
                    tenant: t.parse().ok()?,
                    id,
                    name,
                    expiration,
                    last_sync,
                    last_error,
                    devices,
                    failures,
                })
            },
        )
        .collect())
}

/// Every VPP token (of `tenant`, or of all tenants), ordered by tenant and id. Never reads the
/// token's content.
pub fn vpp_tokens(
    conn: &mut DbConnection,
    tenant: Option<TenantId>,
) -> QueryResult<Vec<VppTokenRow>> {
    let mut query = v::table
        .select((
            v::tenant_id,
            v::id,
            v::display_name,
            v::organization_name,
            v::expiration_date_time,
            v::last_sync_date_time,
            v::last_sync_status,
        ))
        .order((v::tenant_id, v::id))
        .into_boxed();
    if let Some(t) = tenant {
        query = query.filter(v::tenant_id.eq(t.to_string()));
    }
    let rows: Vec<VppRaw> = query.load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(
            |(t, id, display, org, expiration, last_sync, last_status)| {
                Some(VppTokenRow {
                    tenant: t.parse().ok()?,
                    id,
                    name: display.unwrap_or(org),
                    expiration,
                    last_sync,
                    last_status,
                })
            },
        )
        .collect())
}

/// Assignments waiting to be pushed to Apple, all tenants.
pub fn queue_depth(conn: &mut DbConnection) -> QueryResult<i64> {
    queue::table
        .filter(queue::next_attempt_ticks.is_not_null())
        .count()
        .get_result(conn)
}

/// Records the outcome of a sync run of the token: a failure adds one to its consecutive
/// failures, a success resets them. Returns the count after the run. Run it in the tenant's
/// write transaction (the read-then-write relies on its lock).
pub fn record_sync(
    conn: &mut DbConnection,
    tenant: TenantId,
    setting: &SettingId,
    failed: bool,
) -> QueryResult<i32> {
    let key = || {
        f::table
            .filter(f::tenant_id.eq(tenant.to_string()))
            .filter(f::setting_id.eq(setting.as_str().to_owned()))
    };
    let current: Option<i32> = key().select(f::consecutive).first(conn).optional()?;
    let next = if failed {
        current.unwrap_or(0).saturating_add(1)
    } else {
        0
    };
    match current {
        Some(n) if n == next => {}
        Some(_) => {
            diesel::update(key())
                .set(f::consecutive.eq(next))
                .execute(conn)?;
        }
        None if next == 0 => {}
        None => {
            diesel::insert_into(f::table)
                .values((
                    f::tenant_id.eq(tenant.to_string()),
                    f::setting_id.eq(setting.as_str().to_owned()),
                    f::consecutive.eq(next),
                ))
                .execute(conn)?;
        }
    }
    // The sync outcome is an update of the setting for its subscribers.
    super::outbox::setting(conn, tenant, ChangeType::Updated, setting.as_str())?;
    Ok(next)
}

/// A warning already issued: (tenant, token kind, token id, warning).
pub type WarningKey = (TenantId, String, String, String);

/// Every warning already issued (of `tenant`, or of all tenants).
pub fn warned(conn: &mut DbConnection, tenant: Option<TenantId>) -> QueryResult<Vec<WarningKey>> {
    let mut query = w::table
        .select((w::tenant_id, w::token_kind, w::token_id, w::warning))
        .into_boxed();
    if let Some(t) = tenant {
        query = query.filter(w::tenant_id.eq(t.to_string()));
    }
    let rows: Vec<(String, String, String, String)> = query.load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(t, kind, id, warning)| Some((t.parse().ok()?, kind, id, warning)))
        .collect())
}

/// Records a warning as issued; false when it already was (another instance won). Run it in the
/// tenant's write transaction.
pub fn mark_warned(
    conn: &mut DbConnection,
    tenant: TenantId,
    kind: &str,
    id: &str,
    warning: &str,
    now: i64,
) -> QueryResult<bool> {
    let already: i64 = w::table
        .filter(w::tenant_id.eq(tenant.to_string()))
        .filter(w::token_kind.eq(kind))
        .filter(w::token_id.eq(id))
        .filter(w::warning.eq(warning))
        .count()
        .get_result(conn)?;
    if already > 0 {
        return Ok(false);
    }
    diesel::insert_into(w::table)
        .values((
            w::tenant_id.eq(tenant.to_string()),
            w::token_kind.eq(kind),
            w::token_id.eq(id),
            w::warning.eq(warning),
            w::warned_ticks.eq(now),
        ))
        .execute(conn)?;
    // A DEP token's expiry (or terms, or failing syncs) warning updates its setting.
    if kind == "dep" {
        super::outbox::setting(conn, tenant, ChangeType::Updated, id)?;
    }
    Ok(true)
}

/// Forgets an issued warning whose condition no longer holds (re-arming it).
pub fn forget_warning(
    conn: &mut DbConnection,
    tenant: TenantId,
    kind: &str,
    id: &str,
    warning: &str,
) -> QueryResult<()> {
    diesel::delete(
        w::table
            .filter(w::tenant_id.eq(tenant.to_string()))
            .filter(w::token_kind.eq(kind))
            .filter(w::token_id.eq(id))
            .filter(w::warning.eq(warning)),
    )
    .execute(conn)?;
    Ok(())
}
