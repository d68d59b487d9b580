//! The write path of syncs and imports: many identities in one statement, and the token's kept
//! count raised once per statement (issue 11 items 1 and 5).

use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Nullable, Text};

use super::{ChangeType, DeviceRow, counts, dsl};
use crate::domain::devices::ImportedAppleDeviceIdentity;
use crate::domain::ids::{SettingId, TenantId};
use crate::storage::DbConnection;

/// Rows per multi-row INSERT on `SQLite`: 14 columns, so 28,000 parameters, under its limit of
/// 32,766. A page of Apple's 1,000 devices is one statement.
const SQLITE_CHUNK: usize = 2000;

/// One statement for any number of rows on `PostgreSQL`: a column per array parameter, so the
/// statement has 14 parameters whatever the row count (a multi-row `VALUES` of 500 rows had
/// 7,000 to bind and plan).
const PG_INSERT: &str = "INSERT INTO imported_devices (tenant_id, setting_id, id, serial_number, \
     description, discovery_source, enrollment_state, is_deleted, is_supervised, \
     last_contacted_date_time, platform, requested_enrollment_profile_assignment_date_time, \
     requested_enrollment_profile_id, created_date_time) \
     SELECT $1, $2, * FROM UNNEST($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], \
     $8::bool[], $9::bool[], $10::int8[], $11::text[], $12::int8[], $13::text[], $14::int8[])";

/// Inserts identities into a token, and adds them to its kept count, in the caller's
/// transaction; records a `created` change for each.
pub fn insert_many(
    conn: &mut DbConnection,
    tenant: TenantId,
    setting: &SettingId,
    devices: &[ImportedAppleDeviceIdentity],
) -> QueryResult<()> {
    if devices.is_empty() {
        return Ok(());
    }
    // Backend fork: MultiBackend has no multi-row INSERT, and only PostgreSQL has arrays.
    match conn {
        DbConnection::Sqlite(c) => {
            for chunk in devices.chunks(SQLITE_CHUNK) {
                let rows: Vec<DeviceRow> = chunk
                    .iter()
                    .map(|d| DeviceRow::from_domain(tenant, setting, d))
                    .collect();
                diesel::insert_into(dsl::imported_devices)
                    .values(&rows)
                    .execute(c)?;
            }
        }
        DbConnection::Pg(c) => {
            let column = |f: fn(&ImportedAppleDeviceIdentity) -> String| -> Vec<String> {
                devices.iter().map(f).collect()
            };
            diesel::sql_query(PG_INSERT)
                .bind::<Text, _>(tenant.to_string())
                .bind::<Text, _>(setting.as_str())
                .bind::<Array<Text>, _>(column(|d| d.id.clone()))
                .bind::<Array<Text>, _>(column(|d| d.serial_number.clone()))
                .bind::<Array<Nullable<Text>>, _>(
                    devices
                        .iter()
                        .map(|d| d.description.clone())
                        .collect::<Vec<_>>(),
                )
                .bind::<Array<Text>, _>(column(|d| d.discovery_source.as_str().to_owned()))
                .bind::<Array<Text>, _>(column(|d| d.enrollment_state.as_str().to_owned()))
                .bind::<Array<Nullable<Bool>>, _>(
                    devices.iter().map(|d| d.is_deleted).collect::<Vec<_>>(),
                )
                .bind::<Array<Bool>, _>(devices.iter().map(|d| d.is_supervised).collect::<Vec<_>>())
                .bind::<Array<BigInt>, _>(
                    devices
                        .iter()
                        .map(|d| d.last_contacted_date_time)
                        .collect::<Vec<_>>(),
                )
                .bind::<Array<Text>, _>(column(|d| d.platform.as_str().to_owned()))
                .bind::<Array<Nullable<BigInt>>, _>(
                    devices
                        .iter()
                        .map(|d| d.requested_enrollment_profile_assignment_date_time)
                        .collect::<Vec<_>>(),
                )
                .bind::<Array<Nullable<Text>>, _>(
                    devices
                        .iter()
                        .map(|d| d.requested_enrollment_profile_id.clone())
                        .collect::<Vec<_>>(),
                )
                .bind::<Array<BigInt>, _>(
                    devices
                        .iter()
                        .map(|d| d.created_date_time)
                        .collect::<Vec<_>>(),
                )
                .execute(c)?;
        }
    }
    counts::add(conn, tenant, setting, devices.len())?;
    let ids = devices.iter().map(|d| d.id.as_str());
    crate::storage::outbox::devices(conn, tenant, setting, ChangeType::Created, ids)
}

/// Lets this transaction's commit return before `PostgreSQL` has flushed it to disk
/// (`synchronous_commit = off`, for this transaction only). For a sync page only: its cursor
/// commits with it, so if the database server crashes before the flush, the page and its cursor
/// are lost together and the next run fetches the page again; nothing is half-applied (the
/// server replays its log up to a transaction boundary). `SQLite` already runs with
/// `synchronous = NORMAL` in WAL mode, which makes the same trade on a power loss.
pub fn defer_flush(conn: &mut DbConnection) -> QueryResult<()> {
    if let DbConnection::Pg(c) = conn {
        diesel::sql_query("SET LOCAL synchronous_commit = off").execute(c)?;
    }
    Ok(())
}
