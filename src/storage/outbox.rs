//! The durable change-notification outbox. Change sites call [`record`] (through the small
//! helpers below) inside the transaction of the change, so a notification exists exactly when
//! its change committed; the delivery worker reads a subscription's rows in `seq` order and
//! deletes them once the receiver accepted them. A tenant without a subscription on the
//! resource costs one indexed read per call.

use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::DbConnection;
use super::schema::notification_outbox as o;
use super::subscriptions;
use crate::domain::ids::{SettingId, TenantId};

/// Most changes stored in one outbox row (one row is never split across two deliveries, so
/// this is also the smallest batch a delivery can send).
pub const ROW_CHANGES: usize = 100;

/// `created`, `updated` or `deleted` (Graph's `changeType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ChangeType {
    /// The entity was created.
    Created,
    /// The entity changed.
    Updated,
    /// The entity was deleted.
    Deleted,
}

impl ChangeType {
    /// Graph's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Updated => "updated",
            Self::Deleted => "deleted",
        }
    }
}

/// One change as stored: what changed, how, and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// How it changed.
    #[serde(rename = "c")]
    pub change_type: ChangeType,
    /// The entity's path, relative to the service root without the version.
    #[serde(rename = "r")]
    pub resource: String,
    /// `#microsoft.graph.…`.
    #[serde(rename = "t")]
    pub odata_type: String,
    /// The entity's id.
    #[serde(rename = "i")]
    pub id: String,
}

/// A pending outbox row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = o)]
pub struct OutboxRow {
    /// Order within the subscription; part of each notification's id.
    pub seq: i64,
    /// Whether this is a lifecycle event (payload: its name) rather than changes.
    pub lifecycle: bool,
    /// JSON array of [`Change`], or the lifecycle event's name.
    pub payload: String,
    /// How many notifications the row makes.
    pub changes: i32,
}

const SETTINGS: &str = "deviceManagement/depOnboardingSettings";
const SETTING_TYPE: &str = "#microsoft.graph.depOnboardingSetting";
const DEVICE_TYPE: &str = "#microsoft.graph.importedAppleDeviceIdentity";
/// The `@odata.type` of a profile known only by id (a deletion).
pub const PROFILE_TYPE: &str = "#microsoft.graph.enrollmentProfile";

/// The collection path of a token's identities.
pub fn devices_resource(setting: &SettingId) -> String {
    format!("{SETTINGS}/{setting}/importedAppleDeviceIdentities")
}

/// The collection path of a token's enrollment profiles.
pub fn profiles_resource(setting: &SettingId) -> String {
    format!("{SETTINGS}/{setting}/enrollmentProfiles")
}

/// The collection path of the onboarding settings.
pub fn settings_resource() -> &'static str {
    SETTINGS
}

/// Records changes of identities of a token.
pub fn devices<'a>(
    conn: &mut DbConnection,
    tenant: TenantId,
    setting: &SettingId,
    change: ChangeType,
    ids: impl IntoIterator<Item = &'a str>,
) -> QueryResult<()> {
    let base = devices_resource(setting);
    record(conn, tenant, &base, |r| {
        ids.into_iter()
            .map(|id| item(change, &r, DEVICE_TYPE, id))
            .collect()
    })
}

/// Records a change of one enrollment profile of `odata_type` (`#microsoft.graph.…`).
pub fn profile(
    conn: &mut DbConnection,
    tenant: TenantId,
    setting: &SettingId,
    change: ChangeType,
    odata_type: &str,
    id: &str,
) -> QueryResult<()> {
    let base = profiles_resource(setting);
    let odata_type = match odata_type.strip_prefix('#') {
        Some(t) => format!("#{t}"),
        None if odata_type.contains('.') => format!("#{odata_type}"),
        None => format!("#microsoft.graph.{odata_type}"),
    };
    record(conn, tenant, &base, |r| {
        vec![item(change, &r, &odata_type, id)]
    })
}

/// Records a change of an onboarding setting (its token: upload, renewal, sync outcome,
/// expiry warnings).
pub fn setting(
    conn: &mut DbConnection,
    tenant: TenantId,
    change: ChangeType,
    id: &str,
) -> QueryResult<()> {
    record(conn, tenant, SETTINGS, |r| {
        vec![item(change, &r, SETTING_TYPE, id)]
    })
}

fn item(change: ChangeType, base: &str, odata_type: &str, id: &str) -> Change {
    Change {
        change_type: change,
        resource: format!("{base}/{id}"),
        odata_type: odata_type.to_owned(),
        id: id.to_owned(),
    }
}

/// Appends the changes `make(resource)` lists for every live subscription of the tenant on
/// `resource` that asked for their change type; does nothing (one indexed read) when none does.
pub fn record(
    conn: &mut DbConnection,
    tenant: TenantId,
    resource: &str,
    make: impl FnOnce(String) -> Vec<Change>,
) -> QueryResult<()> {
    let now = write_now()?;
    let subs = subscriptions::watching(conn, tenant, resource, now)?;
    if subs.is_empty() {
        return Ok(());
    }
    let changes = make(resource.to_owned());
    if changes.is_empty() {
        return Ok(());
    }
    let mut rows = Vec::new();
    for (sub, types) in &subs {
        let wanted: Vec<&Change> = changes
            .iter()
            .filter(|c| types.split(',').any(|t| t.trim() == c.change_type.as_str()))
            .collect();
        for chunk in wanted.chunks(ROW_CHANGES) {
            let payload = serde_json::to_string(chunk).unwrap_or_else(|_| "[]".to_owned());
            rows.push(new_row(tenant, sub, false, payload, chunk.len(), now));
        }
    }
    insert(conn, &rows)
}

/// Queues a lifecycle event (`missed`, `subscriptionRemoved`, `reauthorizationRequired`).
pub fn lifecycle(
    conn: &mut DbConnection,
    tenant: TenantId,
    subscription: &str,
    event: &str,
) -> QueryResult<()> {
    let row = new_row(
        tenant,
        subscription,
        true,
        event.to_owned(),
        1,
        write_now()?,
    );
    insert(conn, &[row])
}

/// The time of the write this change belongs to (the services' clock). A notification is
/// recorded only inside [`super::Db::write`]: outside a transaction it could not commit with its
/// change.
fn write_now() -> QueryResult<i64> {
    super::write_clock::now().ok_or_else(|| {
        diesel::result::Error::QueryBuilderError(
            "a change notification is recorded only inside a write transaction".into(),
        )
    })
}

type NewRow = (
    diesel::dsl::Eq<o::tenant_id, String>,
    diesel::dsl::Eq<o::subscription_id, String>,
    diesel::dsl::Eq<o::lifecycle, bool>,
    diesel::dsl::Eq<o::payload, String>,
    diesel::dsl::Eq<o::changes, i32>,
    diesel::dsl::Eq<o::created_ticks, i64>,
);

fn new_row(
    tenant: TenantId,
    sub: &str,
    lifecycle: bool,
    payload: String,
    changes: usize,
    now: i64,
) -> NewRow {
    (
        o::tenant_id.eq(tenant.to_string()),
        o::subscription_id.eq(sub.to_owned()),
        o::lifecycle.eq(lifecycle),
        o::payload.eq(payload),
        o::changes.eq(i32::try_from(changes).unwrap_or(i32::MAX)),
        o::created_ticks.eq(now),
    )
}

fn insert(conn: &mut DbConnection, rows: &[NewRow]) -> QueryResult<()> {
    for row in rows {
        // One row per subscription and page: a single-row insert each keeps one code path
        // (MultiBackend has no multi-row INSERT).
        diesel::insert_into(o::table)
            .values(row.clone())
            .execute(conn)?;
    }
    Ok(())
}

/// A subscription's oldest pending rows, in order (at most `limit`).
pub fn pending(
    conn: &mut DbConnection,
    tenant: TenantId,
    subscription: &str,
    limit: i64,
) -> QueryResult<Vec<OutboxRow>> {
    o::table
        .filter(o::tenant_id.eq(tenant.to_string()))
        .filter(o::subscription_id.eq(subscription.to_owned()))
        .order(o::seq)
        .limit(limit)
        .select(OutboxRow::as_select())
        .load(conn)
}

/// Removes a subscription's rows up to and including `last` (delivered, or dropped).
pub fn remove_through(
    conn: &mut DbConnection,
    tenant: TenantId,
    subscription: &str,
    last: i64,
) -> QueryResult<usize> {
    diesel::delete(o::table)
        .filter(o::tenant_id.eq(tenant.to_string()))
        .filter(o::subscription_id.eq(subscription.to_owned()))
        .filter(o::seq.le(last))
        .execute(conn)
}

/// How many notifications are pending for the tenant's subscription (tests and metrics).
pub fn pending_count(
    conn: &mut DbConnection,
    tenant: TenantId,
    subscription: &str,
) -> QueryResult<i64> {
    o::table
        .filter(o::tenant_id.eq(tenant.to_string()))
        .filter(o::subscription_id.eq(subscription.to_owned()))
        .select(diesel::dsl::sum(o::changes))
        .first::<Option<i64>>(conn)
        .map(Option::unwrap_or_default)
}
