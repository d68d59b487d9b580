//! Use cases of a token's enrollment profiles: CRUD, type casts, defaults per platform,
//! mobileconfig export and device assignment.

mod by_setting;
mod shape;
#[cfg(test)]
mod tests;

pub use by_setting::{TokenProfiles, by_setting};
pub use shape::spec;
use shape::{render, type_of};

use serde_json::{Map, Value};
use uuid::Uuid;

use super::audit::{Audit, PROFILE};
use super::paging::{self, Page};
use super::{Entity, ServiceError, Services, vpp_tokens};
use crate::domain::ValidationError;
use crate::domain::edm::{self, EntityType};
use crate::domain::ids::{ProfileId, SettingId, TenantId};
use crate::domain::profiles::{self, Platform};
use crate::odata::QueryOptions;
use crate::storage::DbConnection;
use crate::storage::onboarding_settings;
use crate::storage::profiles::{self as repo, ProfileRecord};

/// Most profiles one token may hold (they are filtered and paged in memory).
pub const MAX_PROFILES_PER_TOKEN: i64 = 1000;

const ENTITY: Entity = Entity::EnrollmentProfile;

/// The profile property naming a VPP token.
const VPP_TOKEN: &str = "companyPortalVppTokenId";

/// A secret property that is stored but never rendered.
const WRITE_ONLY_PASSWORD: &str = "adminAccountPassword";

fn not_found(id: &(impl AsRef<str> + ?Sized)) -> ServiceError {
    ServiceError::NotFound {
        entity: ENTITY,
        id: id.as_ref().to_owned(),
    }
}

fn setting_not_found(id: &(impl AsRef<str> + ?Sized)) -> ServiceError {
    ServiceError::NotFound {
        entity: Entity::OnboardingSetting,
        id: id.as_ref().to_owned(),
    }
}

/// A token's default designations as (platform, profile id).
type Defaults = Vec<(String, String)>;

/// Loads a token's profiles and default designations, failing with 404 for an unknown token.
fn load_all(
    c: &mut DbConnection,
    tenant: TenantId,
    setting: &SettingId,
) -> Result<(Vec<ProfileRecord>, Defaults), ServiceError> {
    if !onboarding_settings::exists(c, tenant, setting)? {
        return Err(setting_not_found(setting));
    }
    Ok((
        repo::list(c, tenant, setting)?,
        repo::defaults(c, tenant, setting)?,
    ))
}

/// A profile and its token's defaults; a missing profile is `None`, a missing token an error.
fn find_one(
    c: &mut DbConnection,
    tenant: TenantId,
    setting: &SettingId,
    id: &ProfileId,
) -> Result<Option<(ProfileRecord, Defaults)>, ServiceError> {
    if !onboarding_settings::exists(c, tenant, setting)? {
        return Err(setting_not_found(setting));
    }
    let Some(rec) = repo::get(c, tenant, setting, id)? else {
        return Ok(None);
    };
    Ok(Some((rec, repo::defaults(c, tenant, setting)?)))
}

/// Rendered profiles of a token, optionally only those of (or derived from) `cast`.
async fn rendered(
    svc: &Services,
    tenant: TenantId,
    setting: &SettingId,
    cast: Option<&'static EntityType>,
) -> Result<Vec<Value>, ServiceError> {
    let key = setting.to_owned();
    let (records, defaults) = svc.db.run(move |c| load_all(c, tenant, &key)).await?;
    records
        .iter()
        .filter(|r| {
            cast.is_none_or(|t| {
                profiles::find_profile_type(&r.odata_type).is_some_and(|ty| ty.derives_from(t))
            })
        })
        .map(|r| render(r, &defaults))
        .collect()
}

/// Every profile of a token, rendered.
pub async fn all(
    svc: &Services,
    tenant: TenantId,
    setting: &SettingId,
) -> Result<Vec<Value>, ServiceError> {
    rendered(svc, tenant, setting, None).await
}

/// One page of a token's profiles.
pub async fn list(
    svc: &Services,
    tenant: TenantId,
    setting: &SettingId,
    q: &QueryOptions,
    cast: Option<&'static EntityType>,
) -> Result<Page<Value>, ServiceError> {
    let items = rendered(svc, tenant, setting, cast).await?;
    let set = format!(
        "depOnboardingSettings/{setting}/enrollmentProfiles/{}",
        cast.map_or("", |t| t.name)
    );
    paging::page_in_memory(
        spec(),
        &set,
        q,
        &svc.paging_key,
        svc.max_page_size,
        &["displayName"],
        items,
    )
}

/// How many of a token's profiles match `$filter`/`$search`.
pub async fn count(
    svc: &Services,
    tenant: TenantId,
    setting: &SettingId,
    q: &QueryOptions,
    cast: Option<&'static EntityType>,
) -> Result<i64, ServiceError> {
    q.ensure_only(paging::SEARCHABLE_COUNT_OPTIONS)?;
    let predicate = paging::effective_filter(q, &["displayName"])?
        .map(|f| crate::odata::compile_predicate(&f, spec()))
        .transpose()?;
    let items = rendered(svc, tenant, setting, cast).await?;
    let n = items
        .iter()
        .filter(|i| predicate.as_ref().is_none_or(|p| p.matches(i)))
        .count();
    Ok(i64::try_from(n).unwrap_or(i64::MAX))
}

/// One profile; with `cast`, 404 unless it is of (or derives from) that type.
pub async fn get(
    svc: &Services,
    tenant: TenantId,
    setting: &SettingId,
    id: ProfileId,
    cast: Option<&'static EntityType>,
) -> Result<Value, ServiceError> {
    let cache_key = format!("{}/{}", setting.as_str(), id.as_str());
    let (setting, wanted) = (setting.clone(), id.clone());
    let (rec, defaults) = svc
        .db
        .read_cached(tenant, "enrollmentProfile", &cache_key, move |c| {
            find_one(c, tenant, &setting, &wanted)
        })
        .await?
        .ok_or_else(|| not_found(&id))?;
    if cast.is_some_and(|t| !type_of(&rec).is_ok_and(|ty| ty.derives_from(t))) {
        return Err(not_found(&rec.id));
    }
    render(&rec, &defaults)
}

/// The token's default profile for `platform`, if one is set.
pub async fn default_profile(
    svc: &Services,
    tenant: TenantId,
    setting: &SettingId,
    platform: Platform,
) -> Result<Option<Value>, ServiceError> {
    let key = setting.to_owned();
    let (records, defaults) = svc.db.run(move |c| load_all(c, tenant, &key)).await?;
    let Some((_, id)) = defaults.iter().find(|(p, _)| p == platform.as_str()) else {
        return Ok(None);
    };
    records
        .iter()
        .find(|r| &r.id == id)
        .map(|r| render(r, &defaults))
        .transpose()
}

/// Creates a profile of the type its `@odata.type` names; ids are `{settingId}_{guid}`.
pub async fn create(
    svc: &Services,
    tenant: TenantId,
    setting: &SettingId,
    body: Map<String, Value>,
) -> Result<Value, ServiceError> {
    let ty = profiles::create_type(&body)?;
    if ty.is_abstract {
        return Err(ValidationError::new(format!(
            "'{}' is abstract and cannot be created.",
            ty.odata_type()
        ))
        .into());
    }
    // GRAPH-COMPAT: Graph issues profile ids as `{depOnboardingSettingId}_{guid}`; IntuneCD
    // derives the token id from the part before `_` (graph-dep-api.md §4).
    let id = format!("{setting}_{}", Uuid::new_v4());
    let mut props = Map::new();
    // Where Apple sends the device (see `profile_push::enrollment`); none until configured.
    if let Some(url) = &svc.enrollment_url {
        props.insert(
            "configurationEndpointUrl".to_owned(),
            Value::String(url.render(setting.as_str(), &id)),
        );
    }
    props.insert("isDefault".to_owned(), Value::Bool(false));
    edm::apply(ty, &mut props, &body)?;
    profiles::apply_create_defaults(ty, &body, &mut props);
    profiles::check_rules(ty, &props)?;
    seal_password(svc, tenant, &id, &body, &mut props);
    props.remove("isDefault");
    let rec = ProfileRecord {
        id,
        odata_type: ty.name.to_owned(),
        properties: props,
    };
    let setting = setting.to_owned();
    let now = svc.clock.now_ticks();
    svc.audited(tenant, Audit::new("Create", PROFILE), move |c, audit| {
            if !onboarding_settings::exists(c, tenant, &setting)? {
                return Err(setting_not_found(&setting));
            }
            if repo::count(c, tenant, &setting)? >= MAX_PROFILES_PER_TOKEN {
                return Err(ValidationError::new(format!(
                    "The token already holds the maximum of {MAX_PROFILES_PER_TOKEN} enrollment profiles."
                ))
                .into());
            }
            check_vpp_token(c, tenant, &rec.properties, None, now)?;
            repo::insert(c, tenant, &setting, &rec, now)?;
            audit.entity(&rec.odata_type, &rec.id, &Map::new(), &rec.properties);
            render(&rec, &[])
        })
        .await
}

/// Applies a PATCH body; `@odata.type`, when present, must be the stored type.
pub async fn update(
    svc: &Services,
    tenant: TenantId,
    setting: &SettingId,
    id: ProfileId,
    body: Map<String, Value>,
) -> Result<(), ServiceError> {
    let setting = setting.clone();
    let svc2 = svc.clone();
    let now = svc.clock.now_ticks();
    svc.audited(tenant, Audit::new("Patch", PROFILE), move |c, audit| {
        let (mut rec, defaults) =
            find_one(c, tenant, &setting, &id)?.ok_or_else(|| not_found(&id))?;
        let old = rec.properties.clone();
        let ty = type_of(&rec)?;
        profiles::check_patch_type(ty, &body)?;
        let mut body = body;
        // GRAPH-COMPAT: GET renders the write-only password as null, so a GET body PATCHed
        // back carries null: that keeps the stored password instead of erasing it.
        if body.get(WRITE_ONLY_PASSWORD).is_some_and(Value::is_null) {
            body.remove(WRITE_ONLY_PASSWORD);
        }
        let is_default = defaults.iter().any(|(_, d)| *d == rec.id);
        rec.properties
            .insert("isDefault".to_owned(), Value::Bool(is_default));
        let before = rec.properties.get(VPP_TOKEN).cloned();
        edm::apply(ty, &mut rec.properties, &body)?;
        profiles::check_rules(ty, &rec.properties)?;
        check_vpp_token(c, tenant, &rec.properties, before.as_ref(), now)?;
        seal_password(&svc2, tenant, &rec.id, &body, &mut rec.properties);
        rec.properties.remove("isDefault");
        repo::update(c, tenant, &setting, &rec)?;
        audit.entity(&rec.odata_type, &rec.id, &old, &rec.properties);
        Ok(())
    })
    .await
}

/// A password the request sets is sealed (AES-256-GCM) before it is stored.
fn seal_password(
    svc: &Services,
    tenant: TenantId,
    id: &str,
    body: &Map<String, Value>,
    props: &mut Map<String, Value>,
) {
    if let (Some(Value::String(_)), Some(Value::String(plain))) = (
        body.get(WRITE_ONLY_PASSWORD),
        props.get(WRITE_ONLY_PASSWORD),
    ) {
        let sealed = svc
            .secrets
            .seal(&format!("{tenant}/profile/{id}/password"), plain.as_bytes());
        props.insert(WRITE_ONLY_PASSWORD.to_owned(), Value::String(sealed));
    }
}

/// `companyPortalVppTokenId` must name an existing, unexpired VPP token of the tenant when it is
/// set or changed (a token that expired after it was set does not block other edits), as of `now`.
fn check_vpp_token(
    c: &mut DbConnection,
    tenant: TenantId,
    props: &Map<String, Value>,
    before: Option<&Value>,
    now: i64,
) -> Result<(), ServiceError> {
    match props.get(VPP_TOKEN) {
        Some(Value::String(id)) if before != props.get(VPP_TOKEN) => {
            vpp_tokens::check_company_portal_vpp_token_in(c, tenant, id, now)
        }
        _ => Ok(()),
    }
}

/// Deletes a profile; a default designation goes with it.
pub async fn delete(
    svc: &Services,
    tenant: TenantId,
    setting: &SettingId,
    id: ProfileId,
) -> Result<(), ServiceError> {
    let setting = setting.clone();
    svc.audited(tenant, Audit::new("Delete", PROFILE), move |c, audit| {
        let Some((rec, _)) = find_one(c, tenant, &setting, &id)? else {
            return Err(not_found(&id));
        };
        repo::delete(c, tenant, &setting, &id)?;
        audit.entity(&rec.odata_type, &rec.id, &rec.properties, &Map::new());
        Ok(())
    })
    .await
}

/// `setDefaultProfile`: the profile becomes its token's default for each platform its type
/// serves, replacing the previous default.
pub async fn set_default(
    svc: &Services,
    tenant: TenantId,
    setting: &SettingId,
    id: ProfileId,
) -> Result<(), ServiceError> {
    // A default profile is pushed to every device a sync brings in.
    super::profile_push::enrollment_url(svc)?;
    let setting = setting.clone();
    svc.audited(tenant, Audit::new("Action", PROFILE), move |c, audit| {
            let (rec, _) = find_one(c, tenant, &setting, &id)?.ok_or_else(|| not_found(&id))?;
            let platforms = profiles::default_platforms(type_of(&rec)?);
            if platforms.is_empty() {
                return Err(ValidationError::new(
                    "Apple Configurator enrollment profiles ('#microsoft.graph.enrollmentProfile') cannot be a token's default profile.",
                )
                .into());
            }
            let names: Vec<&str> = platforms.iter().map(|p| p.as_str()).collect();
            repo::set_default(c, tenant, &setting, &names, &id)?;
            let flag = |v: bool| Map::from_iter([("isDefault".to_owned(), Value::Bool(v))]);
            audit.entity(&rec.odata_type, &rec.id, &flag(false), &flag(true));
            Ok(())
        })
        .await
}

/// `exportMobileConfig()`: base64 of the profile's `.mobileconfig`.
pub async fn export_mobile_config(
    svc: &Services,
    tenant: TenantId,
    setting: &SettingId,
    id: ProfileId,
) -> Result<String, ServiceError> {
    let setting = setting.clone();
    let (rec, _) = svc
        .db
        .run(move |c| find_one(c, tenant, &setting, &id)?.ok_or_else(|| not_found(&id)))
        .await?;
    Ok(profiles::export_mobileconfig(
        type_of(&rec)?,
        &rec.properties,
        &rec.id,
    )?)
}
