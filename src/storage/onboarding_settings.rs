//! Repository of depOnboardingSettings rows.

use super::outbox::ChangeType;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::Text;

use super::dyn_sql::DynCondition;
use super::schema::dep_onboarding_settings::{self as t, dsl};
use super::{DbConnection, PageQuery};
use crate::domain::ids::{SettingId, TenantId};
use crate::domain::onboarding::{DepTokenType, OnboardingSetting};
use crate::odata::{EntitySpec, Field, FieldKind, SqlCondition};

/// The properties `$filter`, `$orderby` and `$select` may name, and their columns.
pub static SPEC: EntitySpec = EntitySpec {
    entity: "microsoft.graph.depOnboardingSetting",
    fields: &[
        Field::required("id", "id", FieldKind::Id),
        Field::nullable("appleIdentifier", "apple_identifier", FieldKind::Text),
        Field::required(
            "tokenExpirationDateTime",
            "token_expiration_date_time",
            FieldKind::DateTime,
        ),
        Field::required(
            "lastModifiedDateTime",
            "last_modified_date_time",
            FieldKind::DateTime,
        ),
        Field::required(
            "lastSuccessfulSyncDateTime",
            "last_successful_sync_date_time",
            FieldKind::DateTime,
        ),
        Field::required(
            "lastSyncTriggeredDateTime",
            "last_sync_triggered_date_time",
            FieldKind::DateTime,
        ),
        Field::required(
            "shareTokenWithSchoolDataSyncService",
            "share_token_with_school_data_sync_service",
            FieldKind::Bool,
        ),
        Field::required("lastSyncErrorCode", "last_sync_error_code", FieldKind::Int),
        Field::required(
            "tokenType",
            "token_type",
            FieldKind::Enum(DepTokenType::MEMBERS),
        ),
        Field::nullable("tokenName", "token_name", FieldKind::Text),
        Field::required("syncedDeviceCount", "synced_device_count", FieldKind::Int),
        Field::required(
            "dataSharingConsentGranted",
            "data_sharing_consent_granted",
            FieldKind::Bool,
        ),
        Field {
            name: "roleScopeTagIds",
            column: "role_scope_tag_ids",
            kind: FieldKind::Text,
            nullable: false,
            filterable: false,
            sortable: false,
        },
    ],
    types: &[],
};

/// One row of `dep_onboarding_settings`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = t)]
#[diesel(treat_none_as_null = true)]
pub struct OnboardingSettingRow {
    #[diesel(skip_update)]
    tenant_id: String,
    id: String,
    apple_identifier: Option<String>,
    data_sharing_consent_granted: bool,
    last_modified_date_time: i64,
    last_successful_sync_date_time: i64,
    last_sync_error_code: i32,
    last_sync_triggered_date_time: i64,
    role_scope_tag_ids: String,
    share_token_with_school_data_sync_service: bool,
    synced_device_count: i32,
    token_expiration_date_time: i64,
    token_name: Option<String>,
    token_type: String,
    #[diesel(skip_update)]
    created_ticks: i64,
}

impl OnboardingSettingRow {
    fn from_domain(tenant: TenantId, s: &OnboardingSetting, created_ticks: i64) -> Self {
        Self {
            tenant_id: tenant.to_string(),
            id: s.id.clone(),
            apple_identifier: s.apple_identifier.clone(),
            data_sharing_consent_granted: s.data_sharing_consent_granted,
            last_modified_date_time: s.last_modified_date_time,
            last_successful_sync_date_time: s.last_successful_sync_date_time,
            last_sync_error_code: s.last_sync_error_code,
            last_sync_triggered_date_time: s.last_sync_triggered_date_time,
            role_scope_tag_ids: serde_json::to_string(&s.role_scope_tag_ids)
                .unwrap_or_else(|_| "[]".into()),
            share_token_with_school_data_sync_service: s.share_token_with_school_data_sync_service,
            synced_device_count: s.synced_device_count,
            token_expiration_date_time: s.token_expiration_date_time,
            token_name: s.token_name.clone(),
            token_type: s.token_type.as_str().to_owned(),
            created_ticks,
        }
    }

    fn into_domain(self) -> OnboardingSetting {
        OnboardingSetting {
            id: self.id,
            apple_identifier: self.apple_identifier,
            token_expiration_date_time: self.token_expiration_date_time,
            last_modified_date_time: self.last_modified_date_time,
            last_successful_sync_date_time: self.last_successful_sync_date_time,
            last_sync_triggered_date_time: self.last_sync_triggered_date_time,
            share_token_with_school_data_sync_service: self
                .share_token_with_school_data_sync_service,
            last_sync_error_code: self.last_sync_error_code,
            token_type: DepTokenType::parse(&self.token_type).unwrap_or(DepTokenType::None),
            token_name: self.token_name,
            synced_device_count: self.synced_device_count,
            data_sharing_consent_granted: self.data_sharing_consent_granted,
            role_scope_tag_ids: serde_json::from_str(&self.role_scope_tag_ids).unwrap_or_default(),
        }
    }
}

type Boxed<'a> = t::BoxedQuery<'a, super::connection::MultiBackend>;

fn scoped<'a>(tenant: TenantId) -> Boxed<'a> {
    dsl::dep_onboarding_settings
        .filter(dsl::tenant_id.eq(tenant.to_string()))
        .into_boxed()
}

fn filtered<'a>(tenant: TenantId, filter: Option<&SqlCondition>) -> Boxed<'a> {
    match filter {
        Some(f) => scoped(tenant).filter(DynCondition(f.clone())),
        None => scoped(tenant),
    }
}

/// One page of the tenant's settings.
pub fn list(
    conn: &mut DbConnection,
    tenant: TenantId,
    q: &PageQuery,
) -> QueryResult<Vec<OnboardingSetting>> {
    let mut query = filtered(tenant, q.filter.as_ref());
    if let Some(after) = &q.after {
        query = query.filter(DynCondition(after.clone()));
    }
    let rows: Vec<OnboardingSettingRow> = query
        .order(sql::<Text>(&q.order_by))
        .limit(q.limit)
        .offset(q.offset)
        .select(OnboardingSettingRow::as_select())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(OnboardingSettingRow::into_domain)
        .collect())
}

/// How many of the tenant's settings match `filter`.
pub fn count(
    conn: &mut DbConnection,
    tenant: TenantId,
    filter: Option<&SqlCondition>,
) -> QueryResult<i64> {
    filtered(tenant, filter).count().get_result(conn)
}

/// One setting of the tenant.
pub fn get(
    conn: &mut DbConnection,
    tenant: TenantId,
    id: &SettingId,
) -> QueryResult<Option<OnboardingSetting>> {
    // No LIMIT on this hot primary-key read: SQLite re-prepares a statement with a bound LIMIT
    // on every execution (callgrind: ~180k of ~300k instructions of an authenticated GET).
    // Not boxed either: a statically typed query finds its cached statement without building
    // its SQL text first.
    let (tenant, id) = (tenant.to_string(), id.as_str());
    macro_rules! query {
        () => {
            dsl::dep_onboarding_settings
                .filter(dsl::tenant_id.eq(&tenant))
                .filter(dsl::id.eq(id))
                .select(OnboardingSettingRow::as_select())
        };
    }
    // Backend fork for speed only (same SQL): the inner connection runs the statically typed
    // query from its statement cache; through MultiConnection it is serialised again each time.
    let rows: Vec<OnboardingSettingRow> = match conn {
        DbConnection::Sqlite(c) => query!().load(c)?,
        DbConnection::Pg(c) => query!().load(c)?,
    };
    Ok(rows
        .into_iter()
        .next()
        .map(OnboardingSettingRow::into_domain))
}

/// Whether the tenant has a setting with this id.
pub fn exists(conn: &mut DbConnection, tenant: TenantId, id: &SettingId) -> QueryResult<bool> {
    scoped(tenant)
        .filter(dsl::id.eq(id.as_str().to_owned()))
        .count()
        .get_result::<i64>(conn)
        .map(|n| n > 0)
}

/// Inserts a new setting.
pub fn insert(
    conn: &mut DbConnection,
    tenant: TenantId,
    s: &OnboardingSetting,
    now: i64,
) -> QueryResult<()> {
    diesel::insert_into(dsl::dep_onboarding_settings)
        .values(OnboardingSettingRow::from_domain(tenant, s, now))
        .execute(conn)?;
    super::outbox::setting(conn, tenant, ChangeType::Created, &s.id)
}

/// Overwrites the stored setting with `s` (same tenant and id); returns whether it existed.
pub fn update(
    conn: &mut DbConnection,
    tenant: TenantId,
    s: &OnboardingSetting,
) -> QueryResult<bool> {
    let n = diesel::update(dsl::dep_onboarding_settings)
        .filter(dsl::tenant_id.eq(tenant.to_string()))
        .filter(dsl::id.eq(&s.id))
        .set(OnboardingSettingRow::from_domain(tenant, s, 0))
        .execute(conn)?;
    if n == 1 {
        super::outbox::setting(conn, tenant, ChangeType::Updated, &s.id)?;
    }
    Ok(n == 1)
}

/// Deletes a setting; returns whether it existed.
pub fn delete(conn: &mut DbConnection, tenant: TenantId, id: &SettingId) -> QueryResult<bool> {
    let n = diesel::delete(dsl::dep_onboarding_settings)
        .filter(dsl::tenant_id.eq(tenant.to_string()))
        .filter(dsl::id.eq(id.as_str()))
        .execute(conn)?;
    if n == 1 {
        super::outbox::setting(conn, tenant, ChangeType::Deleted, id.as_str())?;
    }
    Ok(n == 1)
}
