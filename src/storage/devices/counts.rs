//! The identity counts the database keeps per token (`imported_device_counts`), in the same
//! transaction as every write to `imported_devices`: raised by [`add`] once per insert statement,
//! lowered or moved by triggers on deletes and moves (migrations
//! `2026-12-03-000001_identity_counts_and_filter_indexes`, `2026-12-05-300001_identity_write_path`). Counting a million rows takes tens
//! to hundreds of milliseconds; reading the kept count takes one primary-key lookup.

use diesel::prelude::*;

use crate::domain::ids::{SettingId, TenantId};
use crate::storage::DbConnection;
use crate::storage::schema::imported_device_counts::dsl;

/// How many identities a token holds.
pub(super) fn of_token(
    conn: &mut DbConnection,
    tenant: TenantId,
    setting: &SettingId,
) -> QueryResult<i64> {
    let kept: Vec<i64> = dsl::imported_device_counts
        .filter(dsl::tenant_id.eq(tenant.to_string()))
        .filter(dsl::setting_id.eq(setting.as_str()))
        .select(dsl::n)
        .load(conn)?;
    // Every token gets its row when it is created; no row means no token, so no identities.
    Ok(kept.into_iter().next().unwrap_or(0))
}

/// How many identities the tenant's tokens hold together.
pub(super) fn of_tenant(conn: &mut DbConnection, tenant: TenantId) -> QueryResult<i64> {
    let kept: Vec<i64> = dsl::imported_device_counts
        .filter(dsl::tenant_id.eq(tenant.to_string()))
        .select(dsl::n)
        .load(conn)?;
    Ok(kept.into_iter().sum())
}

/// Adds `k` identities to a token's kept count (the insert path; deletes and moves between
/// tokens are counted by triggers).
pub(super) fn add(
    conn: &mut DbConnection,
    tenant: TenantId,
    setting: &SettingId,
    k: usize,
) -> QueryResult<()> {
    let k = i64::try_from(k).unwrap_or(i64::MAX);
    diesel::update(
        dsl::imported_device_counts
            .filter(dsl::tenant_id.eq(tenant.to_string()))
            .filter(dsl::setting_id.eq(setting.as_str())),
    )
    .set(dsl::n.eq(dsl::n + k))
    .execute(conn)?;
    Ok(())
}
