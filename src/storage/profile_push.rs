//! Repository of profile pushes to Apple: each token's profiles as defined at Apple
//! (`dep_apple_profiles`), the per-serial assignment queue and results
//! (`dep_profile_assignments`), and the per-token lease that keeps two gateway instances from
//! pushing one token's assignments at once (`dep_assign_leases`).

use std::collections::BTreeMap;

use diesel::prelude::*;

use super::DbConnection;
use super::schema::{
    dep_apple_profiles as defined, dep_assign_leases as leases, dep_profile_assignments as queue,
};
use crate::domain::ids::{ProfileId, SettingId, TenantId};

/// Rows per multi-row INSERT and per `IN (…)` list.
const CHUNK: usize = 500;

/// Status of a row waiting for its first push.
pub const PENDING: &str = "pending";
/// Status of a row whose token holds no Apple server token (nothing can be pushed).
pub const NO_SERVER_TOKEN: &str = "NO_SERVER_TOKEN";
/// Status of a row whose profile was deleted before it could be pushed.
pub const PROFILE_DELETED: &str = "PROFILE_DELETED";

/// The Apple definition of a profile: Apple's UUID and the digest of what was sent.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = defined)]
pub struct AppleProfile {
    /// Apple's `profile_uuid`, scoped to the token's MDM server.
    pub profile_uuid: String,
    /// SHA-256 (hex) of the JSON definition sent.
    pub digest: String,
}

/// The stored Apple definition of `profile_id`, if it was defined.
pub fn apple_profile(
    conn: &mut DbConnection,
    tenant: TenantId,
    setting: &SettingId,
    profile_id: &ProfileId,
) -> QueryResult<Option<AppleProfile>> {
    // No LIMIT: see `onboarding_settings::get`.
    let rows: Vec<AppleProfile> = defined::table
        .filter(defined::tenant_id.eq(tenant.to_string()))
        .filter(defined::setting_id.eq(setting.as_str()))
        .filter(defined::profile_id.eq(profile_id.as_str()))
        .select(AppleProfile::as_select())
        .load(conn)?;
    Ok(rows.into_iter().next())
}

/// Forgets the Apple definition of `profile_id` (the next push defines it again).
pub fn forget_apple_profile(
    conn: &mut DbConnection,
    tenant: TenantId,
    setting: &SettingId,
    profile_id: &ProfileId,
) -> QueryResult<()> {
    diesel::delete(
        defined::table
            .filter(defined::tenant_id.eq(tenant.to_string()))
            .filter(defined::setting_id.eq(setting.as_str()))
            .filter(defined::profile_id.eq(profile_id.as_str())),
    )
    .execute(conn)
    .map(drop)
}

/// Stores the Apple definition of `profile_id`, replacing an older one. Call it in a write
/// transaction (delete then insert: `MultiBackend` has no ON CONFLICT).
pub fn put_apple_profile(
    conn: &mut DbConnection,
    tenant: TenantId,
    setting: &SettingId,
    profile_id: &ProfileId,
    profile: &AppleProfile,
    now: i64,
) -> QueryResult<()> {
    forget_apple_profile(conn, tenant, setting, profile_id)?;
    diesel::insert_into(defined::table)
        .values((
            defined::tenant_id.eq(tenant.to_string()),
            defined::setting_id.eq(setting.as_str()),
            defined::profile_id.eq(profile_id.as_str()),
            defined::profile_uuid.eq(&profile.profile_uuid),
            defined::digest.eq(&profile.digest),
            defined::defined_ticks.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

#[derive(Insertable)]
#[diesel(table_name = queue)]
struct NewAssignment<'a> {
    tenant_id: String,
    setting_id: &'a str,
    serial_number: &'a str,
    profile_id: &'a str,
    status: &'a str,
    attempts: i32,
    next_attempt_ticks: Option<i64>,
    profile_uuid: Option<String>,
    updated_ticks: i64,
}

/// What [`enqueue`] writes for each serial.
#[derive(Debug, Clone, Copy)]
pub struct Queued<'a> {
    /// The profile.
    pub profile_id: &'a ProfileId,
    /// [`PENDING`] or a settled status.
    pub status: &'a str,
    /// When to push; `None`: not to be pushed.
    pub next_attempt: Option<i64>,
}

/// Queues (or records) the assignment of `profile_id` to `serials` of a token with `status`,
/// replacing each serial's earlier row; `next_attempt` `None` means "not to be pushed".
pub fn enqueue(
    conn: &mut DbConnection,
    tenant: TenantId,
    setting: &SettingId,
    serials: &[String],
    entry: &Queued<'_>,
    now: i64,
) -> QueryResult<()> {
    let Queued {
        profile_id,
        status,
        next_attempt,
    } = *entry;
    for chunk in serials.chunks(CHUNK) {
        diesel::delete(
            queue::table
                .filter(queue::tenant_id.eq(tenant.to_string()))
                .filter(queue::setting_id.eq(setting.as_str()))
                .filter(queue::serial_number.eq_any(chunk)),
        )
        .execute(conn)?;
        let rows: Vec<NewAssignment<'_>> = chunk
            .iter()
            .map(|serial| NewAssignment {
                tenant_id: tenant.to_string(),
                setting_id: setting.as_str(),
                serial_number: serial,
                profile_id: profile_id.as_str(),
                status,
                attempts: 0,
                next_attempt_ticks: next_attempt,
                profile_uuid: None,
                updated_ticks: now,
            })
            .collect();
        let insert = diesel::insert_into(queue::table).values(&rows);
        // Backend fork: MultiBackend has no multi-row INSERT; each backend does.
        match conn {
            DbConnection::Sqlite(c) => insert.execute(c)?,
            DbConnection::Pg(c) => insert.execute(c)?,
        };
    }
    Ok(())
}

/// Makes a token's rows of `status` due at `at` (e.g. `NO_SERVER_TOKEN` once a token is
/// uploaded); returns how many.
pub fn requeue_status(
    conn: &mut DbConnection,
    tenant: TenantId,
    setting: &SettingId,
    status: &str,
    at: i64,
) -> QueryResult<usize> {
    diesel::update(
        queue::table
            .filter(queue::tenant_id.eq(tenant.to_string()))
            .filter(queue::setting_id.eq(setting.as_str()))
            .filter(queue::status.eq(status)),
    )
    .set((queue::status.eq(PENDING), queue::next_attempt_ticks.eq(at)))
    .execute(conn)
}

/// One row of the queue.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = queue)]
pub struct Assignment {
    /// Normalised serial number.
    pub serial_number: String,
    /// The profile (`{settingId}_{guid}`).
    pub profile_id: String,
    /// `pending`, Apple's last per-serial result, or a gateway status.
    pub status: String,
    /// Pushes tried so far.
    pub attempts: i32,
    /// When it is due; `None`: settled.
    pub next_attempt_ticks: Option<i64>,
    /// The Apple profile UUID last assigned successfully.
    pub profile_uuid: Option<String>,
    /// Last change (ticks); a push only records results over rows as it read them.
    pub updated_ticks: i64,
}

/// A token's rows that are due at `now`, by serial.
pub fn due(
    conn: &mut DbConnection,
    tenant: TenantId,
    setting: &SettingId,
    now: i64,
) -> QueryResult<Vec<Assignment>> {
    queue::table
        .filter(queue::tenant_id.eq(tenant.to_string()))
        .filter(queue::setting_id.eq(setting.as_str()))
        .filter(queue::next_attempt_ticks.le(now))
        .order(queue::serial_number)
        .select(Assignment::as_select())
        .load(conn)
}

/// Every row of a token, by serial (for inspection and tests).
pub fn list(
    conn: &mut DbConnection,
    tenant: TenantId,
    setting: &SettingId,
) -> QueryResult<Vec<Assignment>> {
    queue::table
        .filter(queue::tenant_id.eq(tenant.to_string()))
        .filter(queue::setting_id.eq(setting.as_str()))
        .order(queue::serial_number)
        .select(Assignment::as_select())
        .load(conn)
}

/// Every (tenant, setting) with a due row at `now`. The queue's only cross-tenant query: the
/// background worker serves every tenant, then handles each token under its tenant.
pub fn due_tokens(conn: &mut DbConnection, now: i64) -> QueryResult<Vec<(TenantId, SettingId)>> {
    let rows: Vec<(String, String)> = queue::table
        .filter(queue::next_attempt_ticks.le(now))
        .select((queue::tenant_id, queue::setting_id))
        .distinct()
        .order((queue::tenant_id, queue::setting_id))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(t, s)| Some((t.parse().ok()?, SettingId::from(s))))
        .collect())
}

/// The outcome of one push for one serial.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Outcome {
    /// Apple's result or a gateway status.
    pub status: String,
    /// Pushes tried, this one included.
    pub attempts: i32,
    /// When to try again; `None`: settled.
    pub next_attempt: Option<i64>,
    /// The profile UUID assigned (on success).
    pub profile_uuid: Option<String>,
}

/// Records outcomes of rows as a push read them, grouped into one `UPDATE` per distinct
/// outcome. A row changed since the push read it (another profile or `updated_ticks`, e.g. a new
/// assignment request) keeps its newer state.
pub fn record(
    conn: &mut DbConnection,
    tenant: TenantId,
    setting: &SettingId,
    outcomes: &[(&Assignment, Outcome)],
    now: i64,
) -> QueryResult<()> {
    let mut groups: BTreeMap<(&str, i64, &Outcome), Vec<&str>> = BTreeMap::new();
    for (row, o) in outcomes {
        groups
            .entry((&row.profile_id, row.updated_ticks, o))
            .or_default()
            .push(&row.serial_number);
    }
    for ((profile_id, seen, o), serials) in groups {
        for chunk in serials.chunks(CHUNK) {
            diesel::update(
                queue::table
                    .filter(queue::tenant_id.eq(tenant.to_string()))
                    .filter(queue::setting_id.eq(setting.as_str()))
                    .filter(queue::profile_id.eq(profile_id))
                    .filter(queue::updated_ticks.eq(seen))
                    .filter(queue::serial_number.eq_any(chunk)),
            )
            .set((
                queue::status.eq(&o.status),
                queue::attempts.eq(o.attempts),
                queue::next_attempt_ticks.eq(o.next_attempt),
                queue::profile_uuid.eq(&o.profile_uuid),
                queue::updated_ticks.eq(now),
            ))
            .execute(conn)?;
        }
    }
    Ok(())
}

/// Takes the token's push lease for `owner` until `until` if it is free; returns whether this
/// caller won. Call it in a write transaction (the tenant lock makes the insert safe).
pub fn claim(
    conn: &mut DbConnection,
    tenant: TenantId,
    setting: &SettingId,
    owner: &str,
    now: i64,
    until: i64,
) -> QueryResult<bool> {
    let scoped = || {
        leases::table
            .filter(leases::tenant_id.eq(tenant.to_string()))
            .filter(leases::setting_id.eq(setting.as_str().to_owned()))
    };
    let exists: Vec<String> = scoped().select(leases::setting_id).load(conn)?;
    if exists.is_empty() {
        diesel::insert_into(leases::table)
            .values((
                leases::tenant_id.eq(tenant.to_string()),
                leases::setting_id.eq(setting.as_str()),
                leases::lease_owner.eq(None::<String>),
                leases::lease_until_ticks.eq(0_i64),
            ))
            .execute(conn)?;
    }
    let n = diesel::update(scoped())
        .filter(
            leases::lease_owner
                .is_null()
                .or(leases::lease_until_ticks.lt(now)),
        )
        .set((
            leases::lease_owner.eq(owner),
            leases::lease_until_ticks.eq(until),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// Renews `owner`'s lease; false when it was lost.
pub fn renew(
    conn: &mut DbConnection,
    tenant: TenantId,
    setting: &SettingId,
    owner: &str,
    until: i64,
) -> QueryResult<bool> {
    let n = diesel::update(
        leases::table
            .filter(leases::tenant_id.eq(tenant.to_string()))
            .filter(leases::setting_id.eq(setting.as_str()))
            .filter(leases::lease_owner.eq(owner)),
    )
    .set(leases::lease_until_ticks.eq(until))
    .execute(conn)?;
    Ok(n == 1)
}

/// Gives up `owner`'s lease.
pub fn release(
    conn: &mut DbConnection,
    tenant: TenantId,
    setting: &SettingId,
    owner: &str,
) -> QueryResult<()> {
    diesel::update(
        leases::table
            .filter(leases::tenant_id.eq(tenant.to_string()))
            .filter(leases::setting_id.eq(setting.as_str()))
            .filter(leases::lease_owner.eq(owner)),
    )
    .set((
        leases::lease_owner.eq(None::<String>),
        leases::lease_until_ticks.eq(0_i64),
    ))
    .execute(conn)
    .map(drop)
}
