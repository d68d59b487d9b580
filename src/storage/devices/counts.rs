//! The identity counts the database keeps per token (`imported_device_counts`, maintained by
//! triggers in the same transaction as every write to `imported_devices`; see the migration
//! `2026-12-03-000001_identity_counts_and_filter_indexes`). Counting a million rows takes tens
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
