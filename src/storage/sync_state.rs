//! Repository of a token's Apple sync state (`dep_sync_state`): the cursor, whether the full
//! fetch finished, the "sync requested" flag, the next periodic run and the lease that keeps two
//! gateway instances from syncing one token at once. Lease checks are single `UPDATE`s whose
//! row count says who won, so they hold on SQLite and PostgreSQL alike.

use diesel::prelude::*;

use super::DbConnection;
use super::schema::{dep_sync_state as t, dep_token_credentials as creds};
use crate::domain::ids::{SettingId, TenantId};

/// The stored sync state of one token.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = t)]
pub struct SyncState {
    /// Apple's cursor of the last committed page.
    pub cursor: Option<String>,
    /// Whether a full fetch has completed since the last cursor reset.
    pub fetch_complete: bool,
    /// Whether a sync was asked for and has not started yet.
    pub requested: bool,
    /// When the periodic sync is due (ticks).
    pub next_run_ticks: i64,
}

fn row(
    tenant: TenantId,
    setting: &SettingId,
) -> t::BoxedQuery<'static, super::connection::MultiBackend> {
    t::table
        .filter(t::tenant_id.eq(tenant.to_string()))
        .filter(t::setting_id.eq(setting.as_str().to_owned()))
        .into_boxed()
}

/// The token's state, if it has one.
pub fn get(
    conn: &mut DbConnection,
    tenant: TenantId,
    setting: &SettingId,
) -> QueryResult<Option<SyncState>> {
    let rows: Vec<SyncState> = row(tenant, setting)
        .select(SyncState::as_select())
        .load(conn)?;
    Ok(rows.into_iter().next())
}

/// The token's lease: its owner (`None` when free) and until when it holds (ticks).
pub fn lease(
    conn: &mut DbConnection,
    tenant: TenantId,
    setting: &SettingId,
) -> QueryResult<Option<(Option<String>, i64)>> {
    let rows: Vec<(Option<String>, i64)> = row(tenant, setting)
        .select((t::lease_owner, t::lease_until_ticks))
        .load(conn)?;
    Ok(rows.into_iter().next())
}

/// Creates the token's state row if missing, due at `next_run`. Call it inside
/// [`super::Db::write`]: the tenant lock makes the check-then-insert safe.
pub fn ensure(
    conn: &mut DbConnection,
    tenant: TenantId,
    setting: &SettingId,
    next_run: i64,
) -> QueryResult<()> {
    if get(conn, tenant, setting)?.is_some() {
        return Ok(());
    }
    diesel::insert_into(t::table)
        .values((
            t::tenant_id.eq(tenant.to_string()),
            t::setting_id.eq(setting.as_str()),
            t::cursor.eq(None::<String>),
            t::fetch_complete.eq(false),
            t::requested.eq(false),
            t::next_run_ticks.eq(next_run),
            t::lease_owner.eq(None::<String>),
            t::lease_until_ticks.eq(0_i64),
        ))
        .execute(conn)
        .map(drop)
}

/// Marks a sync as requested (the row must exist).
pub fn request(conn: &mut DbConnection, tenant: TenantId, setting: &SettingId) -> QueryResult<()> {
    diesel::update(t::table)
        .filter(t::tenant_id.eq(tenant.to_string()))
        .filter(t::setting_id.eq(setting.as_str()))
        .set(t::requested.eq(true))
        .execute(conn)
        .map(drop)
}

/// Takes the lease for `owner` until `until` if nobody holds a live one; clears `requested`.
/// Returns whether this caller won.
pub fn claim(
    conn: &mut DbConnection,
    tenant: TenantId,
    setting: &SettingId,
    owner: &str,
    now: i64,
    until: i64,
) -> QueryResult<bool> {
    let n = diesel::update(t::table)
        .filter(t::tenant_id.eq(tenant.to_string()))
        .filter(t::setting_id.eq(setting.as_str()))
        .filter(t::lease_owner.is_null().or(t::lease_until_ticks.lt(now)))
        .set((
            t::lease_owner.eq(owner),
            t::lease_until_ticks.eq(until),
            t::requested.eq(false),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// Stores the cursor of a committed page and renews `owner`'s lease; returns false (change
/// nothing) when `owner` no longer holds the lease.
pub fn advance(
    conn: &mut DbConnection,
    tenant: TenantId,
    setting: &SettingId,
    owner: &str,
    cursor: Option<&str>,
    fetch_complete: bool,
    until: i64,
) -> QueryResult<bool> {
    let n = diesel::update(t::table)
        .filter(t::tenant_id.eq(tenant.to_string()))
        .filter(t::setting_id.eq(setting.as_str()))
        .filter(t::lease_owner.eq(owner))
        .set((
            t::cursor.eq(cursor),
            t::fetch_complete.eq(fetch_complete),
            t::lease_until_ticks.eq(until),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// Extends `owner`'s lease to `until`; returns false (change nothing) when `owner` no longer
/// holds it.
pub fn renew(
    conn: &mut DbConnection,
    tenant: TenantId,
    setting: &SettingId,
    owner: &str,
    until: i64,
) -> QueryResult<bool> {
    let n = diesel::update(t::table)
        .filter(t::tenant_id.eq(tenant.to_string()))
        .filter(t::setting_id.eq(setting.as_str()))
        .filter(t::lease_owner.eq(owner))
        .set(t::lease_until_ticks.eq(until))
        .execute(conn)?;
    Ok(n == 1)
}

/// Gives up `owner`'s lease and schedules the next periodic run.
pub fn release(
    conn: &mut DbConnection,
    tenant: TenantId,
    setting: &SettingId,
    owner: &str,
    next_run: i64,
) -> QueryResult<bool> {
    let n = diesel::update(t::table)
        .filter(t::tenant_id.eq(tenant.to_string()))
        .filter(t::setting_id.eq(setting.as_str()))
        .filter(t::lease_owner.eq(owner))
        .set((
            t::lease_owner.eq(None::<String>),
            t::lease_until_ticks.eq(0_i64),
            t::next_run_ticks.eq(next_run),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// A token the scheduler should look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueToken {
    /// Its tenant.
    pub tenant: TenantId,
    /// The setting holding it.
    pub setting: SettingId,
    /// False when it has no state row yet (never synced, never scheduled).
    pub has_state: bool,
}

/// Every held token, across tenants, that is due at `now`, requested, or has no state yet, and
/// whose lease is free. The scheduler's only cross-tenant query: periodic sync serves every
/// tenant; each token is then handled under its own tenant.
pub fn due(conn: &mut DbConnection, now: i64) -> QueryResult<Vec<DueToken>> {
    let held: Vec<(String, String)> = creds::table
        .select((creds::tenant_id, creds::setting_id))
        .order((creds::tenant_id, creds::setting_id))
        .load(conn)?;
    let states: Vec<(String, String, bool, i64, Option<String>, i64)> = t::table
        .select((
            t::tenant_id,
            t::setting_id,
            t::requested,
            t::next_run_ticks,
            t::lease_owner,
            t::lease_until_ticks,
        ))
        .load(conn)?;
    let states: std::collections::HashMap<(String, String), (bool, i64, bool)> = states
        .into_iter()
        .map(|(tn, s, requested, next, owner, until)| {
            let free = owner.is_none() || until < now;
            ((tn, s), (requested, next, free))
        })
        .collect();
    Ok(held
        .into_iter()
        .filter_map(|(tn, setting)| {
            let tenant = tn.parse().ok()?;
            let known = states.get(&(tn, setting.clone())).copied();
            let setting = SettingId::from(setting);
            match known {
                None => Some(DueToken {
                    tenant,
                    setting,
                    has_state: false,
                }),
                Some((requested, next, free)) => {
                    (free && (requested || next <= now)).then_some(DueToken {
                        tenant,
                        setting,
                        has_state: true,
                    })
                }
            }
        })
        .collect())
}
