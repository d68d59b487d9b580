//! Repository of the legacy default token: which depOnboardingSetting a tenant's old
//! single-token calls go to (one row per tenant at most).

use diesel::prelude::*;

use super::DbConnection;
use super::schema::dep_onboarding_settings::dsl as settings;
use super::schema::legacy_default_tokens::dsl;
use crate::domain::ids::{SettingId, TenantId};

/// The setting the tenant designated, if any.
pub fn designated(conn: &mut DbConnection, tenant: TenantId) -> QueryResult<Option<String>> {
    let rows: Vec<String> = dsl::legacy_default_tokens
        .filter(dsl::tenant_id.eq(tenant.to_string()))
        .select(dsl::setting_id)
        .load(conn)?;
    Ok(rows.into_iter().next())
}

/// Designates `setting` (which must be a setting of the tenant: the foreign key says so),
/// replacing any earlier designation.
pub fn designate(
    conn: &mut DbConnection,
    tenant: TenantId,
    setting: &SettingId,
) -> QueryResult<()> {
    // Delete then insert: MultiBackend has no ON CONFLICT; callers run this in a write
    // transaction, so nobody sees the gap.
    clear(conn, tenant)?;
    diesel::insert_into(dsl::legacy_default_tokens)
        .values((
            dsl::tenant_id.eq(tenant.to_string()),
            dsl::setting_id.eq(setting.as_str()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Removes the tenant's designation; returns whether there was one.
pub fn clear(conn: &mut DbConnection, tenant: TenantId) -> QueryResult<bool> {
    let n = diesel::delete(dsl::legacy_default_tokens)
        .filter(dsl::tenant_id.eq(tenant.to_string()))
        .execute(conn)?;
    Ok(n > 0)
}

/// Ids of the tenant's settings, oldest first.
pub fn setting_ids(conn: &mut DbConnection, tenant: TenantId) -> QueryResult<Vec<String>> {
    settings::dep_onboarding_settings
        .filter(settings::tenant_id.eq(tenant.to_string()))
        .order((settings::created_ticks.asc(), settings::id.asc()))
        .select(settings::id)
        .load(conn)
}
