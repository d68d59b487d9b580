//! The state the retired single-token API needs beyond the multi-token use cases: the tenant's
//! legacy default token (designating, reading, clearing, and creating the first one), the
//! tenant-wide reads that aggregate over tokens, and the upload that finds its token by key
//! ([`upload`]). `legacy/` only converts shapes and routes: what it reads or writes goes through
//! the multi-token use cases or through these.

pub mod upload;

use serde_json::Value;
use uuid::Uuid;

use super::audit::{self, Audit};
use super::paging::{self, ListPlan, Page};
use super::{Entity, ServiceError, Services, profiles};
use crate::clock::Clock;
use crate::domain::ValidationError;
use crate::domain::devices::ImportedAppleDeviceIdentity;
use crate::domain::ids::{IdentityId, SettingId, TenantId};
use crate::domain::onboarding::OnboardingSetting;
use crate::odata::QueryOptions;
use crate::storage::{Db, DbConnection, devices, legacy_defaults, onboarding_settings};

pub use upload::{ByKeyRefused, upload_by_key};

/// The properties of an imported Apple device identity (for `$select` of the old paths).
pub use crate::storage::devices::SPEC as DEVICE_SPEC;
/// The properties of a depOnboardingSetting (for `$select` of the old paths).
pub use crate::storage::onboarding_settings::SPEC as SETTING_SPEC;

/// The tenant's legacy default token, as far as it can be decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DefaultToken {
    /// The tenant has no token.
    NoToken,
    /// The token old calls go to.
    One(String),
    /// Several tokens and none designated: how many.
    Ambiguous(usize),
}

/// Decides the default from the tenant's setting ids and its designation (if any).
pub fn pick(ids: &[String], designated: Option<&str>) -> DefaultToken {
    match (designated, ids) {
        (Some(id), _) if ids.iter().any(|i| i == id) => DefaultToken::One(id.to_owned()),
        (_, []) => DefaultToken::NoToken,
        (_, [only]) => DefaultToken::One(only.clone()),
        (_, many) => DefaultToken::Ambiguous(many.len()),
    }
}

/// The tenant's setting ids (oldest first) and its designated default, if any.
pub async fn tokens(
    svc: &Services,
    tenant: TenantId,
) -> Result<(Vec<String>, Option<String>), ServiceError> {
    svc.db
        .run(move |c| {
            Ok::<_, ServiceError>((
                legacy_defaults::setting_ids(c, tenant)?,
                legacy_defaults::designated(c, tenant)?,
            ))
        })
        .await
}

/// The tenant's legacy default token.
pub async fn default_token(svc: &Services, tenant: TenantId) -> Result<DefaultToken, ServiceError> {
    let (ids, designated) = tokens(svc, tenant).await?;
    Ok(pick(&ids, designated.as_deref()))
}

/// Designates `setting` (which must be one of the tenant's) or, with `None`, clears the
/// designation (the only token, if there is one, stays the default).
pub async fn designate(
    svc: &Services,
    tenant: TenantId,
    setting: Option<SettingId>,
) -> Result<(), ServiceError> {
    designate_on(&svc.db, tenant, setting, svc.clock.now_ticks()).await
}

/// [`designate`] for the command line: on the database at `database_url`, after applying
/// pending migrations, without the rest of the services.
pub async fn designate_in_database(
    database_url: &str,
    tenant: TenantId,
    setting: Option<SettingId>,
    clock: &dyn Clock,
) -> Result<(), ServiceError> {
    let db = Db::connect(database_url, 1).map_err(ServiceError::Internal)?;
    let migrate = db.clone();
    tokio::task::spawn_blocking(move || migrate.migrate())
        .await
        .map_err(|e| ServiceError::Internal(e.into()))?
        .map_err(ServiceError::Internal)?;
    designate_on(&db, tenant, setting, clock.now_ticks()).await
}

async fn designate_on(
    db: &Db,
    tenant: TenantId,
    setting: Option<SettingId>,
    now: i64,
) -> Result<(), ServiceError> {
    let caller = audit::current_caller();
    db.write(tenant, now, move |c| {
        let mut event = Audit::new("Action", audit::SETTING);
        let before = legacy_defaults::designated(c, tenant)?;
        match &setting {
            Some(id) => {
                if !onboarding_settings::exists(c, tenant, id)? {
                    return Err(ServiceError::not_found(
                        Entity::OnboardingSetting,
                        id.as_str(),
                    ));
                }
                legacy_defaults::designate(c, tenant, id)?;
            }
            None => {
                legacy_defaults::clear(c, tenant)?;
            }
        }
        let after = setting.as_ref().map(SettingId::to_string);
        // Designating the token already designated (or clearing no designation) changes
        // nothing: no resource, so no event.
        let id = after.clone().or_else(|| before.clone());
        let changes = audit::legacy_default_change(before, after);
        if let Some(id) = id.filter(|_| !changes.is_empty()) {
            event.resource(&id, None, changes);
        }
        audit::record(c, tenant, now, caller, event)?;
        Ok(())
    })
    .await
}

/// The setting whose key the old "download the public key" step returns: the legacy default
/// token; on a tenant without any token, a new setting, designated as the legacy default (so
/// that the old download-key → upload flow works from scratch, and keeps working when tokens
/// are added through the multi-token API later). `Ambiguous` when the tenant has several
/// tokens and none designated.
pub async fn key_setting(svc: &Services, tenant: TenantId) -> Result<DefaultToken, ServiceError> {
    match default_token(svc, tenant).await? {
        DefaultToken::NoToken => {}
        decided => return Ok(decided),
    }
    // Decided again under the tenant's write lock, so that concurrent first calls end with one
    // setting: the first creates and designates it, the others find it designated.
    let now = svc.clock.now_ticks();
    let fresh = OnboardingSetting::new(Uuid::new_v4().to_string(), now);
    let max_tokens = svc.max_dep_tokens;
    svc.audited(
        tenant,
        Audit::new("Create", audit::SETTING),
        move |c, event| {
            let picked = create_first(c, tenant, fresh.clone(), now, max_tokens)?;
            if matches!(&picked, DefaultToken::One(id) if *id == fresh.id) {
                let name = fresh.token_name.as_deref();
                event.resource(&fresh.id, name, audit::modified(None::<&()>, Some(&fresh)));
            }
            Ok(picked)
        },
    )
    .await
}

fn create_first(
    c: &mut DbConnection,
    tenant: TenantId,
    fresh: OnboardingSetting,
    now: i64,
    max_tokens: i32,
) -> Result<DefaultToken, ServiceError> {
    let ids = legacy_defaults::setting_ids(c, tenant)?;
    if !ids.is_empty() {
        let designated = legacy_defaults::designated(c, tenant)?;
        return Ok(pick(&ids, designated.as_deref()));
    }
    if max_tokens < 1 {
        return Err(ValidationError::new(
            "maximumDepTokens is 0: this gateway accepts no DEP token.",
        )
        .into());
    }
    onboarding_settings::insert(c, tenant, &fresh, now)?;
    legacy_defaults::designate(c, tenant, &SettingId::new(&fresh.id))?;
    Ok(DefaultToken::One(fresh.id))
}

/// The token (setting id) that holds the tenant's identity `id`, if any.
pub async fn token_of_device(
    svc: &Services,
    tenant: TenantId,
    id: IdentityId,
) -> Result<Option<String>, ServiceError> {
    svc.db
        .run(move |c| Ok(devices::setting_of(c, tenant, &id)?))
        .await
}

/// One page of the tenant's identities across all its tokens: one keyset-paged query
/// (`$filter`, `$orderby`, `$top`, `$count`, `$search` on serial numbers).
pub async fn identities(
    svc: &Services,
    tenant: TenantId,
    q: &QueryOptions,
) -> Result<Page<ImportedAppleDeviceIdentity>, ServiceError> {
    let ListPlan { query, pager } = paging::plan_searchable(
        &DEVICE_SPEC,
        "legacy/importedAppleDeviceIdentities",
        q,
        &svc.paging_key,
        svc.max_page_size,
        &["serialNumber"],
    )?;
    let want_count = q.count;
    let (items, count) = svc
        .db
        .run(move |c| {
            let items = devices::list_in_tenant(c, tenant, &query)?;
            let count = if want_count {
                Some(devices::count_in_tenant(c, tenant, query.filter.as_ref())?)
            } else {
                None
            };
            Ok::<_, ServiceError>((items, count))
        })
        .await?;
    Ok(pager.finish(items, &svc.paging_key, count))
}

/// How many of the tenant's identities, across all its tokens, match `$filter`/`$search`.
pub async fn count_identities(
    svc: &Services,
    tenant: TenantId,
    q: &QueryOptions,
) -> Result<i64, ServiceError> {
    let filter = paging::count_filter(&DEVICE_SPEC, q, &["serialNumber"])?;
    svc.db
        .run(move |c| Ok(devices::count_in_tenant(c, tenant, filter.as_ref())?))
        .await
}

/// Every profile of every token of the tenant that `convert` keeps, converted (the old API
/// sees only the types it knew).
pub async fn profiles(
    svc: &Services,
    tenant: TenantId,
    convert: impl Fn(&Value) -> Option<Value>,
) -> Result<Vec<Value>, ServiceError> {
    let (ids, _) = tokens(svc, tenant).await?;
    let mut out = Vec::new();
    for setting in ids {
        match profiles::all(svc, tenant, &SettingId::from(setting)).await {
            Ok(items) => out.extend(items.iter().filter_map(&convert)),
            // Deleted between the two reads: it has no profiles any more.
            Err(ServiceError::NotFound {
                entity: Entity::OnboardingSetting,
                ..
            }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("s{i}")).collect()
    }

    #[test]
    fn the_only_token_or_the_designated_one_is_the_default() {
        assert_eq!(pick(&ids(0), None), DefaultToken::NoToken);
        assert_eq!(pick(&ids(1), None), DefaultToken::One("s0".into()));
        assert_eq!(pick(&ids(3), None), DefaultToken::Ambiguous(3));
        assert_eq!(pick(&ids(3), Some("s2")), DefaultToken::One("s2".into()));
        // A designation that names no token of the tenant is no designation.
        assert_eq!(pick(&ids(2), Some("gone")), DefaultToken::Ambiguous(2));
    }
}
