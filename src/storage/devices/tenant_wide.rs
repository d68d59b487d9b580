//! The tenant-wide reads of identities across all of a tenant's tokens (the single-token API's
//! view, and finding the token that holds an identity).

use diesel::prelude::*;

use super::{count_of, counts, dsl, in_tenant, page_of};
use crate::domain::devices::ImportedAppleDeviceIdentity;
use crate::domain::ids::{IdentityId, TenantId};
use crate::odata::SqlCondition;
use crate::storage::{DbConnection, PageQuery};

/// One page of the tenant's identities across all its tokens (the single-token API's
/// tenant-wide set).
pub fn list_in_tenant(
    conn: &mut DbConnection,
    tenant: TenantId,
    q: &PageQuery,
) -> QueryResult<Vec<ImportedAppleDeviceIdentity>> {
    page_of(conn, in_tenant(tenant), q, false)
}

/// How many of the tenant's identities, across all its tokens, match `filter` (without one,
/// the sum of the kept per-token counts).
pub fn count_in_tenant(
    conn: &mut DbConnection,
    tenant: TenantId,
    filter: Option<&SqlCondition>,
) -> QueryResult<i64> {
    match filter {
        Some(_) => count_of(conn, in_tenant(tenant), filter),
        None => counts::of_tenant(conn, tenant),
    }
}

/// The token (setting id) that holds the tenant's identity `id`, if any.
pub fn setting_of(
    conn: &mut DbConnection,
    tenant: TenantId,
    id: &IdentityId,
) -> QueryResult<Option<String>> {
    let rows: Vec<String> = dsl::imported_devices
        .filter(dsl::tenant_id.eq(tenant.to_string()))
        .filter(dsl::id.eq(id.as_str()))
        .select(dsl::setting_id)
        .load(conn)?;
    Ok(rows.into_iter().next())
}
