//! Repository of change-notification subscriptions (`subscriptions`) and of the delivery lease
//! and retry state kept on each. Lease checks are single `UPDATE`s whose row count says who won,
//! as for sync, so they hold on SQLite and PostgreSQL alike.

use diesel::prelude::*;

use super::DbConnection;
use super::schema::{notification_outbox as o, subscriptions as t};
use crate::domain::ids::TenantId;

/// A stored subscription (everything but the worker's lease and retry state).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = t)]
pub struct SubscriptionRow {
    /// Owning tenant.
    pub tenant_id: String,
    /// Subscription id (a GUID).
    pub id: String,
    /// Watched path, without the version prefix.
    pub resource: String,
    /// Comma-separated `created`, `updated`, `deleted`.
    pub change_types: String,
    /// Receiver of change notifications.
    pub notification_url: String,
    /// Receiver of lifecycle notifications.
    pub lifecycle_notification_url: Option<String>,
    /// Echoed in every notification; never returned by a read.
    pub client_state: Option<String>,
    /// The sealed HMAC key of the gateway's signature header, if asked for.
    pub signing_secret: Option<String>,
    /// Expiry (ticks).
    pub expiration_ticks: i64,
    /// The creating application.
    pub application_id: Option<String>,
    /// The creating user or service principal.
    pub creator_id: Option<String>,
    /// Creation time (ticks).
    pub created_ticks: i64,
    /// Whether `reauthorizationRequired` was queued for the current expiry.
    pub reauthorize_sent: bool,
}

/// The most subscriptions one tenant may hold.
pub const MAX_PER_TENANT: i64 = 100;

fn scoped(tenant: TenantId) -> t::BoxedQuery<'static, super::connection::MultiBackend> {
    t::table
        .filter(t::tenant_id.eq(tenant.to_string()))
        .into_boxed()
}

/// The tenant's subscriptions as the API sees them: not those the gateway removed, which stay
/// only until their `subscriptionRemoved` notification is out.
fn visible(tenant: TenantId) -> t::BoxedQuery<'static, super::connection::MultiBackend> {
    scoped(tenant).filter(t::removed.eq(false))
}

/// Stores a new subscription.
pub fn insert(conn: &mut DbConnection, row: &SubscriptionRow) -> QueryResult<()> {
    diesel::insert_into(t::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// How many subscriptions the tenant holds.
pub fn count(conn: &mut DbConnection, tenant: TenantId) -> QueryResult<i64> {
    visible(tenant).count().get_result(conn)
}

/// One subscription of the tenant.
pub fn get(
    conn: &mut DbConnection,
    tenant: TenantId,
    id: &str,
) -> QueryResult<Option<SubscriptionRow>> {
    visible(tenant)
        .filter(t::id.eq(id.to_owned()))
        .select(SubscriptionRow::as_select())
        .first(conn)
        .optional()
}

/// One subscription of the tenant, also one the gateway removed (for its last notifications).
pub fn get_any(
    conn: &mut DbConnection,
    tenant: TenantId,
    id: &str,
) -> QueryResult<Option<SubscriptionRow>> {
    scoped(tenant)
        .filter(t::id.eq(id.to_owned()))
        .select(SubscriptionRow::as_select())
        .first(conn)
        .optional()
}

/// The tenant's subscriptions, oldest first.
pub fn list(conn: &mut DbConnection, tenant: TenantId) -> QueryResult<Vec<SubscriptionRow>> {
    visible(tenant)
        .order((t::created_ticks, t::id))
        .select(SubscriptionRow::as_select())
        .load(conn)
}

/// The tenant's live subscriptions watching `resource`: (id, change types).
pub fn watching(
    conn: &mut DbConnection,
    tenant: TenantId,
    resource: &str,
    now: i64,
) -> QueryResult<Vec<(String, String)>> {
    visible(tenant)
        .filter(t::resource.eq(resource.to_owned()))
        .filter(t::expiration_ticks.gt(now))
        .select((t::id, t::change_types))
        .load(conn)
}

/// Renews a subscription and optionally moves its receivers; returns whether it existed.
pub fn update(
    conn: &mut DbConnection,
    tenant: TenantId,
    row: &SubscriptionRow,
) -> QueryResult<bool> {
    let n = diesel::update(t::table)
        .filter(t::tenant_id.eq(tenant.to_string()))
        .filter(t::id.eq(&row.id))
        .filter(t::removed.eq(false))
        .set((
            t::expiration_ticks.eq(row.expiration_ticks),
            t::notification_url.eq(&row.notification_url),
            t::reauthorize_sent.eq(false),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// Deletes a subscription (its pending notifications go with it); returns whether it existed
/// (one the gateway already removed does not).
pub fn delete(conn: &mut DbConnection, tenant: TenantId, id: &str) -> QueryResult<bool> {
    let n = diesel::delete(t::table)
        .filter(t::tenant_id.eq(tenant.to_string()))
        .filter(t::id.eq(id))
        .filter(t::removed.eq(false))
        .execute(conn)?;
    Ok(n == 1)
}

/// Marks a subscription removed by the gateway (hidden from the API, watching nothing, kept for
/// its lifecycle notification); false when it was already (another instance did first).
pub fn mark_removed(conn: &mut DbConnection, tenant: TenantId, id: &str) -> QueryResult<bool> {
    let n = diesel::update(t::table)
        .filter(t::tenant_id.eq(tenant.to_string()))
        .filter(t::id.eq(id))
        .filter(t::removed.eq(false))
        .set(t::removed.eq(true))
        .execute(conn)?;
    Ok(n == 1)
}

/// Whether the gateway removed this subscription (its remaining rows are its last).
pub fn is_removed(conn: &mut DbConnection, tenant: TenantId, id: &str) -> QueryResult<bool> {
    scoped(tenant)
        .filter(t::id.eq(id.to_owned()))
        .select(t::removed)
        .first(conn)
        .optional()
        .map(|r| r.unwrap_or(true))
}

/// Deletes, across tenants, the removed subscriptions whose outbox is empty (their
/// `subscriptionRemoved` was delivered or dropped); returns how many.
pub fn forget_drained(conn: &mut DbConnection) -> QueryResult<usize> {
    let pending = o::table
        .filter(o::tenant_id.eq(t::tenant_id))
        .filter(o::subscription_id.eq(t::id));
    diesel::delete(t::table)
        .filter(t::removed.eq(true))
        .filter(diesel::dsl::not(diesel::dsl::exists(pending)))
        .execute(conn)
}

/// Subscriptions, across tenants, with pending notifications that are due at `now` and whose
/// lease is free: (tenant, id). The delivery worker's only cross-tenant read besides expiry.
pub fn due(conn: &mut DbConnection, now: i64, limit: i64) -> QueryResult<Vec<(TenantId, String)>> {
    let pending = o::table
        .filter(o::tenant_id.eq(t::tenant_id))
        .filter(o::subscription_id.eq(t::id));
    let rows: Vec<(String, String)> = t::table
        .filter(t::lease_owner.is_null().or(t::lease_until_ticks.lt(now)))
        .filter(t::next_attempt_ticks.le(now))
        .filter(diesel::dsl::exists(pending))
        .order(t::next_attempt_ticks)
        .limit(limit)
        .select((t::tenant_id, t::id))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(tn, id)| Some((tn.parse().ok()?, id)))
        .collect())
}

/// Takes the delivery lease for `owner` until `until` if nobody holds a live one.
pub fn claim(
    conn: &mut DbConnection,
    tenant: TenantId,
    id: &str,
    owner: &str,
    now: i64,
    until: i64,
) -> QueryResult<bool> {
    let n = diesel::update(t::table)
        .filter(t::tenant_id.eq(tenant.to_string()))
        .filter(t::id.eq(id))
        .filter(t::lease_owner.is_null().or(t::lease_until_ticks.lt(now)))
        .set((t::lease_owner.eq(owner), t::lease_until_ticks.eq(until)))
        .execute(conn)?;
    Ok(n == 1)
}

/// The retry state of the oldest pending batch: failed tries so far.
pub fn attempts(conn: &mut DbConnection, tenant: TenantId, id: &str) -> QueryResult<i32> {
    scoped(tenant)
        .filter(t::id.eq(id.to_owned()))
        .select(t::attempts)
        .first(conn)
        .optional()
        .map(Option::unwrap_or_default)
}

/// Gives up `owner`'s lease, storing the retry state (`attempts` failed tries of the oldest
/// batch, next try at `next_attempt`).
pub fn release(
    conn: &mut DbConnection,
    tenant: TenantId,
    id: &str,
    owner: &str,
    attempts: i32,
    next_attempt: i64,
) -> QueryResult<bool> {
    let n = diesel::update(t::table)
        .filter(t::tenant_id.eq(tenant.to_string()))
        .filter(t::id.eq(id))
        .filter(t::lease_owner.eq(owner))
        .set((
            t::lease_owner.eq(None::<String>),
            t::lease_until_ticks.eq(0_i64),
            t::attempts.eq(attempts),
            t::next_attempt_ticks.eq(next_attempt),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// Subscriptions, across tenants, that expired at `now` and are not yet removed.
pub fn expired(conn: &mut DbConnection, now: i64) -> QueryResult<Vec<SubscriptionRow>> {
    t::table
        .filter(t::expiration_ticks.le(now))
        .filter(t::removed.eq(false))
        .select(SubscriptionRow::as_select())
        .load(conn)
}

/// Live subscriptions, across tenants, expiring before `before` that were not yet asked to
/// reauthorize.
pub fn expiring(
    conn: &mut DbConnection,
    now: i64,
    before: i64,
) -> QueryResult<Vec<SubscriptionRow>> {
    t::table
        .filter(t::expiration_ticks.gt(now))
        .filter(t::expiration_ticks.le(before))
        .filter(t::reauthorize_sent.eq(false))
        .filter(t::lifecycle_notification_url.is_not_null())
        .select(SubscriptionRow::as_select())
        .load(conn)
}

/// Notes that `reauthorizationRequired` was queued; false when another instance did first.
pub fn mark_reauthorize_sent(
    conn: &mut DbConnection,
    tenant: TenantId,
    id: &str,
) -> QueryResult<bool> {
    let n = diesel::update(t::table)
        .filter(t::tenant_id.eq(tenant.to_string()))
        .filter(t::id.eq(id))
        .filter(t::reauthorize_sent.eq(false))
        .set(t::reauthorize_sent.eq(true))
        .execute(conn)?;
    Ok(n == 1)
}
