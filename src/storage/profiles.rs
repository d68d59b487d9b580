//! Repository of enrollment profiles (a JSON document per profile) and of each token's default
//! profile per platform.

use super::outbox::ChangeType;
use diesel::prelude::*;
use serde_json::{Map, Value};

use super::DbConnection;
use super::schema::{default_profiles as defaults, enrollment_profiles as profiles};
use crate::domain::ids::{ProfileId, SettingId, TenantId};

/// A stored profile: its id, its Graph type name and its properties (without `id`).
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileRecord {
    /// `{settingId}_{guid}`.
    pub id: String,
    /// Graph type name without the namespace, e.g. `depIOSEnrollmentProfile`.
    pub odata_type: String,
    /// Every stored property.
    pub properties: Map<String, Value>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = profiles)]
struct ProfileRow {
    tenant_id: String,
    setting_id: String,
    id: String,
    odata_type: String,
    properties: String,
    created_ticks: i64,
}

impl ProfileRow {
    fn into_record(self) -> ProfileRecord {
        let properties = match serde_json::from_str(&self.properties) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        };
        ProfileRecord {
            id: self.id,
            odata_type: self.odata_type,
            properties,
        }
    }
}

fn scoped<'a>(
    tenant: TenantId,
    setting: &SettingId,
) -> profiles::BoxedQuery<'a, super::connection::MultiBackend> {
    profiles::table
        .filter(profiles::tenant_id.eq(tenant.to_string()))
        .filter(profiles::setting_id.eq(setting.as_str().to_owned()))
        .into_boxed()
}

/// Every profile of one token, oldest first.
pub fn list(
    conn: &mut DbConnection,
    tenant: TenantId,
    setting: &SettingId,
) -> QueryResult<Vec<ProfileRecord>> {
    let rows: Vec<ProfileRow> = scoped(tenant, setting)
        .order((profiles::created_ticks, profiles::id))
        .select(ProfileRow::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(ProfileRow::into_record).collect())
}

/// Every profile of the listed tokens, as `(setting id, profile)`, oldest first within a token:
/// one statement for a page of settings (`$expand=enrollmentProfiles`).
pub fn list_by_setting(
    conn: &mut DbConnection,
    tenant: TenantId,
    settings: &[String],
) -> QueryResult<Vec<(String, ProfileRecord)>> {
    let rows: Vec<ProfileRow> = profiles::table
        .filter(profiles::tenant_id.eq(tenant.to_string()))
        .filter(profiles::setting_id.eq_any(settings))
        .order((profiles::setting_id, profiles::created_ticks, profiles::id))
        .select(ProfileRow::as_select())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| (r.setting_id.clone(), r.into_record()))
        .collect())
}

/// The default designations of the listed tokens as `(setting id, platform, profile id)`.
pub fn defaults_by_setting(
    conn: &mut DbConnection,
    tenant: TenantId,
    settings: &[String],
) -> QueryResult<Vec<(String, String, String)>> {
    defaults::table
        .filter(defaults::tenant_id.eq(tenant.to_string()))
        .filter(defaults::setting_id.eq_any(settings))
        .select((
            defaults::setting_id,
            defaults::platform,
            defaults::profile_id,
        ))
        .load(conn)
}

/// How many profiles one token holds.
pub fn count(conn: &mut DbConnection, tenant: TenantId, setting: &SettingId) -> QueryResult<i64> {
    scoped(tenant, setting).count().get_result(conn)
}

/// One profile of one token.
pub fn get(
    conn: &mut DbConnection,
    tenant: TenantId,
    setting: &SettingId,
    id: &ProfileId,
) -> QueryResult<Option<ProfileRecord>> {
    // No LIMIT: see `onboarding_settings::get`.
    let rows: Vec<ProfileRow> = scoped(tenant, setting)
        .filter(profiles::id.eq(id.as_str()))
        .select(ProfileRow::as_select())
        .load(conn)?;
    Ok(rows.into_iter().next().map(ProfileRow::into_record))
}

/// Inserts a profile.
pub fn insert(
    conn: &mut DbConnection,
    tenant: TenantId,
    setting: &SettingId,
    p: &ProfileRecord,
    now: i64,
) -> QueryResult<()> {
    diesel::insert_into(profiles::table)
        .values(ProfileRow {
            tenant_id: tenant.to_string(),
            setting_id: setting.as_str().to_owned(),
            id: p.id.clone(),
            odata_type: p.odata_type.clone(),
            properties: Value::Object(p.properties.clone()).to_string(),
            created_ticks: now,
        })
        .execute(conn)?;
    super::outbox::profile(
        conn,
        tenant,
        setting,
        ChangeType::Created,
        &p.odata_type,
        &p.id,
    )
}

/// Replaces a profile's properties; returns whether it existed.
pub fn update(
    conn: &mut DbConnection,
    tenant: TenantId,
    setting: &SettingId,
    p: &ProfileRecord,
) -> QueryResult<bool> {
    let n = diesel::update(profiles::table)
        .filter(profiles::tenant_id.eq(tenant.to_string()))
        .filter(profiles::setting_id.eq(setting.as_str()))
        .filter(profiles::id.eq(&p.id))
        .set(profiles::properties.eq(Value::Object(p.properties.clone()).to_string()))
        .execute(conn)?;
    if n == 1 {
        super::outbox::profile(
            conn,
            tenant,
            setting,
            ChangeType::Updated,
            &p.odata_type,
            &p.id,
        )?;
    }
    Ok(n == 1)
}

/// Deletes a profile (its default designations go with it); returns whether it existed.
pub fn delete(
    conn: &mut DbConnection,
    tenant: TenantId,
    setting: &SettingId,
    id: &ProfileId,
) -> QueryResult<bool> {
    let n = diesel::delete(profiles::table)
        .filter(profiles::tenant_id.eq(tenant.to_string()))
        .filter(profiles::setting_id.eq(setting.as_str()))
        .filter(profiles::id.eq(id.as_str()))
        .execute(conn)?;
    if n == 1 {
        let any = super::outbox::PROFILE_TYPE;
        super::outbox::profile(conn, tenant, setting, ChangeType::Deleted, any, id.as_str())?;
    }
    Ok(n == 1)
}

/// The token's default profiles as (platform, profile id) pairs.
pub fn defaults(
    conn: &mut DbConnection,
    tenant: TenantId,
    setting: &SettingId,
) -> QueryResult<Vec<(String, String)>> {
    defaults::table
        .filter(defaults::tenant_id.eq(tenant.to_string()))
        .filter(defaults::setting_id.eq(setting.as_str()))
        .select((defaults::platform, defaults::profile_id))
        .load(conn)
}

/// Makes `profile_id` the token's default for each of `platforms`, replacing any other. Runs
/// inside the caller's tenant-locked transaction, so concurrent calls serialise. Each profile
/// whose `isDefault` flips (this one, and those it replaces as the last default they held)
/// records an `updated` change.
pub fn set_default(
    conn: &mut DbConnection,
    tenant: TenantId,
    setting: &SettingId,
    platforms: &[&str],
    profile_id: &ProfileId,
) -> QueryResult<()> {
    let before = defaults(conn, tenant, setting)?;
    for platform in platforms {
        diesel::delete(defaults::table)
            .filter(defaults::tenant_id.eq(tenant.to_string()))
            .filter(defaults::setting_id.eq(setting.as_str()))
            .filter(defaults::platform.eq(platform))
            .execute(conn)?;
        diesel::insert_into(defaults::table)
            .values((
                defaults::tenant_id.eq(tenant.to_string()),
                defaults::setting_id.eq(setting.as_str()),
                defaults::platform.eq(platform),
                defaults::profile_id.eq(profile_id.as_str()),
            ))
            .execute(conn)?;
    }
    let after = defaults(conn, tenant, setting)?;
    let is_default = |list: &[(String, String)], id: &str| list.iter().any(|(_, d)| d == id);
    let mut flipped: Vec<&str> = before
        .iter()
        .chain(&after)
        .map(|(_, id)| id.as_str())
        .filter(|id| is_default(&before, id) != is_default(&after, id))
        .collect();
    flipped.sort_unstable();
    flipped.dedup();
    for id in flipped {
        let odata_type: String = scoped(tenant, setting)
            .filter(profiles::id.eq(id.to_owned()))
            .select(profiles::odata_type)
            .first(conn)?;
        super::outbox::profile(conn, tenant, setting, ChangeType::Updated, &odata_type, id)?;
    }
    Ok(())
}
