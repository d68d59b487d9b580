//! Repository of imported Apple device identities (one row per serial number of a tenant).

use super::outbox::ChangeType;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::Text;

mod counts;
mod plan;

use super::dyn_sql::DynCondition;
use super::schema::imported_devices::{self as t, dsl};
use super::{DbConnection, PageQuery};
use crate::domain::devices::{
    DevicePlatform, DiscoverySource, EnrollmentState, ImportedAppleDeviceIdentity,
};
use crate::domain::ids::{IdentityId, SettingId, TenantId};
use crate::odata::{EntitySpec, Field, FieldKind, SqlCondition};

mod bulk;
mod by_setting;
mod tenant_wide;
pub use bulk::{defer_flush, insert_many};
pub use by_setting::{PerSettingPage, list_by_setting};
pub use tenant_wide::{count_in_tenant, list_in_tenant, setting_of};

/// Serials or ids per `IN (…)` list on `SQLite` (its limit is 32,766 parameters; `PostgreSQL`
/// binds the list as one array): a page of Apple's 1,000 devices is one lookup.
const LOOKUP_CHUNK: usize = 10_000;

/// The properties `$filter`, `$orderby` and `$select` may name, and their columns.
pub static SPEC: EntitySpec = EntitySpec {
    entity: "microsoft.graph.importedAppleDeviceIdentity",
    fields: &[
        Field::required("id", "id", FieldKind::Id),
        Field::required("createdDateTime", "created_date_time", FieldKind::DateTime),
        Field::nullable("description", "description", FieldKind::Text),
        Field::required(
            "discoverySource",
            "discovery_source",
            FieldKind::Enum(DiscoverySource::MEMBERS),
        ),
        Field::required(
            "enrollmentState",
            "enrollment_state",
            FieldKind::Enum(EnrollmentState::MEMBERS),
        ),
        Field::nullable("isDeleted", "is_deleted", FieldKind::Bool),
        Field::required("isSupervised", "is_supervised", FieldKind::Bool),
        Field::required(
            "lastContactedDateTime",
            "last_contacted_date_time",
            FieldKind::DateTime,
        ),
        Field::required(
            "platform",
            "platform",
            FieldKind::Enum(DevicePlatform::MEMBERS),
        ),
        Field::nullable(
            "requestedEnrollmentProfileAssignmentDateTime",
            "requested_enrollment_profile_assignment_date_time",
            FieldKind::DateTime,
        ),
        Field::nullable(
            "requestedEnrollmentProfileId",
            "requested_enrollment_profile_id",
            FieldKind::Id,
        ),
        Field::required("serialNumber", "serial_number", FieldKind::Serial),
    ],
    types: &[],
};

/// One row of `imported_devices`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = t)]
#[diesel(treat_none_as_null = true)]
struct DeviceRow {
    #[diesel(skip_update)]
    tenant_id: String,
    setting_id: String,
    id: String,
    serial_number: String,
    description: Option<String>,
    discovery_source: String,
    enrollment_state: String,
    is_deleted: Option<bool>,
    is_supervised: bool,
    last_contacted_date_time: i64,
    platform: String,
    requested_enrollment_profile_assignment_date_time: Option<i64>,
    requested_enrollment_profile_id: Option<String>,
    #[diesel(skip_update)]
    created_date_time: i64,
}

impl DeviceRow {
    fn from_domain(tenant: TenantId, setting: &SettingId, d: &ImportedAppleDeviceIdentity) -> Self {
        Self {
            tenant_id: tenant.to_string(),
            setting_id: setting.as_str().to_owned(),
            id: d.id.clone(),
            serial_number: d.serial_number.clone(),
            description: d.description.clone(),
            discovery_source: d.discovery_source.as_str().to_owned(),
            enrollment_state: d.enrollment_state.as_str().to_owned(),
            is_deleted: d.is_deleted,
            is_supervised: d.is_supervised,
            last_contacted_date_time: d.last_contacted_date_time,
            platform: d.platform.as_str().to_owned(),
            requested_enrollment_profile_assignment_date_time: d
                .requested_enrollment_profile_assignment_date_time,
            requested_enrollment_profile_id: d.requested_enrollment_profile_id.clone(),
            created_date_time: d.created_date_time,
        }
    }

    fn into_domain(self) -> (String, ImportedAppleDeviceIdentity) {
        let device = ImportedAppleDeviceIdentity {
            id: self.id,
            created_date_time: self.created_date_time,
            description: self.description,
            discovery_source: DiscoverySource::parse(&self.discovery_source)
                .unwrap_or(DiscoverySource::Unknown),
            enrollment_state: EnrollmentState::parse(&self.enrollment_state)
                .unwrap_or(EnrollmentState::Unknown),
            is_deleted: self.is_deleted,
            is_supervised: self.is_supervised,
            last_contacted_date_time: self.last_contacted_date_time,
            platform: DevicePlatform::parse(&self.platform).unwrap_or(DevicePlatform::Unknown),
            requested_enrollment_profile_assignment_date_time: self
                .requested_enrollment_profile_assignment_date_time,
            requested_enrollment_profile_id: self.requested_enrollment_profile_id,
            serial_number: self.serial_number,
        };
        (self.setting_id, device)
    }
}

type Boxed<'a> = t::BoxedQuery<'a, super::connection::MultiBackend>;

fn in_tenant<'a>(tenant: TenantId) -> Boxed<'a> {
    dsl::imported_devices
        .filter(dsl::tenant_id.eq(tenant.to_string()))
        .into_boxed()
}

fn scoped<'a>(tenant: TenantId, setting: &SettingId) -> Boxed<'a> {
    in_tenant(tenant).filter(dsl::setting_id.eq(setting.as_str().to_owned()))
}

/// The page `q` asks for, of the identities `query` selects.
fn page_of(
    conn: &mut DbConnection,
    mut query: Boxed<'_>,
    q: &PageQuery,
    sort: bool,
) -> QueryResult<Vec<ImportedAppleDeviceIdentity>> {
    for condition in [&q.filter, &q.after].into_iter().flatten() {
        query = query.filter(DynCondition(condition.clone()));
    }
    let order = if sort {
        plan::sorted(&q.order_by)
    } else {
        q.order_by.clone()
    };
    let rows: Vec<DeviceRow> = query
        .order(sql::<Text>(&order))
        .limit(q.limit)
        .offset(q.offset)
        .select(DeviceRow::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(|r| r.into_domain().1).collect())
}

/// How many of the identities `query` selects match `filter`.
fn count_of(
    conn: &mut DbConnection,
    query: Boxed<'_>,
    filter: Option<&SqlCondition>,
) -> QueryResult<i64> {
    match filter {
        Some(f) => query
            .filter(DynCondition(f.clone()))
            .count()
            .get_result(conn),
        None => query.count().get_result(conn),
    }
}

/// One page of a token's identities.
pub fn list(
    conn: &mut DbConnection,
    tenant: TenantId,
    setting: &SettingId,
    q: &PageQuery,
) -> QueryResult<Vec<ImportedAppleDeviceIdentity>> {
    let Some(filter) = &q.filter else {
        return page_of(conn, scoped(tenant, setting), q, false);
    };
    let plan = plan::plan(conn, || scoped(tenant, setting), filter)?;
    let q = PageQuery {
        filter: Some(plan.filter),
        ..q.clone()
    };
    page_of(conn, scoped(tenant, setting), &q, plan.sort)
}

/// How many of a token's identities match `filter` (without one, the kept count).
pub fn count(
    conn: &mut DbConnection,
    tenant: TenantId,
    setting: &SettingId,
    filter: Option<&SqlCondition>,
) -> QueryResult<i64> {
    match filter {
        Some(f) => {
            let plan = plan::plan(conn, || scoped(tenant, setting), f)?;
            count_of(conn, scoped(tenant, setting), Some(&plan.filter))
        }
        None => counts::of_token(conn, tenant, setting),
    }
}

/// One identity of a token.
pub fn get(
    conn: &mut DbConnection,
    tenant: TenantId,
    setting: &SettingId,
    id: &IdentityId,
) -> QueryResult<Option<ImportedAppleDeviceIdentity>> {
    // No LIMIT: see `onboarding_settings::get`.
    let rows: Vec<DeviceRow> = scoped(tenant, setting)
        .filter(dsl::id.eq(id.as_str()))
        .select(DeviceRow::as_select())
        .load(conn)?;
    Ok(rows.into_iter().next().map(|r| r.into_domain().1))
}

/// The tenant's identities with these serial numbers, whatever their token, as
/// (setting id, identity).
pub fn find_by_serials(
    conn: &mut DbConnection,
    tenant: TenantId,
    serials: &[String],
) -> QueryResult<Vec<(String, ImportedAppleDeviceIdentity)>> {
    let mut found = Vec::new();
    for chunk in serials.chunks(LOOKUP_CHUNK) {
        let rows: Vec<DeviceRow> = dsl::imported_devices
            .filter(dsl::tenant_id.eq(tenant.to_string()))
            .filter(dsl::serial_number.eq_any(chunk))
            .select(DeviceRow::as_select())
            .load(conn)?;
        found.extend(rows.into_iter().map(DeviceRow::into_domain));
    }
    Ok(found)
}

/// Overwrites a stored identity (found by tenant and id) and moves it to `setting`.
pub fn update(
    conn: &mut DbConnection,
    tenant: TenantId,
    setting: &SettingId,
    d: &ImportedAppleDeviceIdentity,
) -> QueryResult<bool> {
    let n = diesel::update(dsl::imported_devices)
        .filter(dsl::tenant_id.eq(tenant.to_string()))
        .filter(dsl::id.eq(&d.id))
        .set(DeviceRow::from_domain(tenant, setting, d))
        .execute(conn)?;
    // Apple's removal keeps the identity, marked deleted: a `deleted` change for subscribers.
    let change = if d.is_deleted == Some(true) {
        ChangeType::Deleted
    } else {
        ChangeType::Updated
    };
    if n == 1 {
        super::outbox::devices(conn, tenant, setting, change, [d.id.as_str()])?;
    }
    Ok(n == 1)
}

/// Deletes an identity of a token; returns whether it existed.
pub fn delete(
    conn: &mut DbConnection,
    tenant: TenantId,
    setting: &SettingId,
    id: &IdentityId,
) -> QueryResult<bool> {
    let n = diesel::delete(dsl::imported_devices)
        .filter(dsl::tenant_id.eq(tenant.to_string()))
        .filter(dsl::setting_id.eq(setting.as_str()))
        .filter(dsl::id.eq(id.as_str()))
        .execute(conn)?;
    if n == 1 {
        super::outbox::devices(conn, tenant, setting, ChangeType::Deleted, [id.as_str()])?;
    }
    Ok(n == 1)
}

/// Records the requested profile and assignment time on a token's identities with these serials.
pub fn assign_profile(
    conn: &mut DbConnection,
    tenant: TenantId,
    setting: &SettingId,
    serials: &[String],
    profile: &str,
    now: i64,
) -> QueryResult<usize> {
    let mut updated = 0;
    for chunk in serials.chunks(LOOKUP_CHUNK) {
        updated += diesel::update(dsl::imported_devices)
            .filter(dsl::tenant_id.eq(tenant.to_string()))
            .filter(dsl::setting_id.eq(setting.as_str()))
            .filter(dsl::serial_number.eq_any(chunk))
            .set((
                dsl::requested_enrollment_profile_id.eq(profile),
                dsl::requested_enrollment_profile_assignment_date_time.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(updated)
}

/// How many of a token's identities came from Apple's DEP sync and are not deleted
/// (`syncedDeviceCount`).
pub fn count_synced(
    conn: &mut DbConnection,
    tenant: TenantId,
    setting: &SettingId,
) -> QueryResult<i64> {
    scoped(tenant, setting)
        .filter(dsl::discovery_source.eq(DiscoverySource::DeviceEnrollmentProgram.as_str()))
        .filter(dsl::is_deleted.is_null().or(dsl::is_deleted.eq(false)))
        .count()
        .get_result(conn)
}

/// Marks these identities of a token as deleted from Apple Business Manager: a `deleted`
/// change for subscribers, as when Apple's sync reports a removal.
pub fn mark_deleted(
    conn: &mut DbConnection,
    tenant: TenantId,
    setting: &SettingId,
    ids: &[String],
) -> QueryResult<usize> {
    let mut updated = 0;
    for chunk in ids.chunks(LOOKUP_CHUNK) {
        updated += diesel::update(dsl::imported_devices)
            .filter(dsl::tenant_id.eq(tenant.to_string()))
            .filter(dsl::setting_id.eq(setting.as_str()))
            .filter(dsl::id.eq_any(chunk))
            .set(dsl::is_deleted.eq(Some(true)))
            .execute(conn)?;
    }
    let ids = ids.iter().map(String::as_str);
    super::outbox::devices(conn, tenant, setting, ChangeType::Deleted, ids)?;
    Ok(updated)
}
