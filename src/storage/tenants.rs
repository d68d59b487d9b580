//! The tenants table: one row per tenant, locked by every write transaction.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use super::DbConnection;
use crate::domain::ids::TenantId;

/// Creates the tenant's row if missing and takes its write lock for the rest of the
/// transaction (`now` dates a new row). Must be the transaction's first statement: on SQLite a transaction that starts
/// with a write waits for the database lock instead of failing to upgrade a read snapshot.
pub fn lock(conn: &mut DbConnection, tenant: TenantId, now: i64) -> QueryResult<()> {
    // Backend fork: MultiBackend has no ON CONFLICT, and the row lock differs
    // (SQLite locks the whole database on the first write; PostgreSQL locks the row).
    match conn {
        DbConnection::Sqlite(c) => {
            diesel::sql_query(
                "INSERT OR IGNORE INTO tenants (tenant_id, created_ticks) VALUES (?, ?)",
            )
            .bind::<Text, _>(tenant.to_string())
            .bind::<BigInt, _>(now)
            .execute(c)?;
        }
        DbConnection::Pg(c) => {
            diesel::sql_query(
                "INSERT INTO tenants (tenant_id, created_ticks) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            )
            .bind::<Text, _>(tenant.to_string())
            .bind::<BigInt, _>(now)
            .execute(c)?;
            diesel::sql_query("SELECT 1 FROM tenants WHERE tenant_id = $1 FOR UPDATE")
                .bind::<Text, _>(tenant.to_string())
                .execute(c)?;
        }
    }
    Ok(())
}
