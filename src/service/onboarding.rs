//! Use cases of depOnboardingSettings: list, count, get, create, update, delete.

use std::sync::Arc;

use serde_json::{Map, Value};
use uuid::Uuid;

mod expand;

pub use expand::{Expansion, Nav, expand_page, plan as plan_expand};

use super::audit::{Audit, SETTING, modified};
use super::paging::{self, ListPlan, Page};
use super::{Entity, ServiceError, Services};
use crate::domain::ValidationError;
use crate::domain::ids::{SettingId, TenantId};
use crate::domain::onboarding::OnboardingSetting;
use crate::domain::values::Write;
use crate::odata::QueryOptions;
use crate::storage::onboarding_settings::{self as repo, SPEC};

const ENTITY: Entity = Entity::OnboardingSetting;

fn not_found(id: &(impl AsRef<str> + ?Sized)) -> ServiceError {
    ServiceError::NotFound {
        entity: ENTITY,
        id: id.as_ref().to_owned(),
    }
}

/// What `$search` matches on settings: the token's name and its Apple ID.
pub const SEARCH_PROPERTIES: &[&str] = &["tokenName", "appleIdentifier"];

/// One page of the tenant's settings (`$search` matches token names and Apple IDs).
pub async fn list(
    svc: &Services,
    tenant: TenantId,
    q: &QueryOptions,
) -> Result<Page<OnboardingSetting>, ServiceError> {
    let ListPlan { query, pager } = paging::plan_searchable(
        &SPEC,
        "depOnboardingSettings",
        q,
        &svc.paging_key,
        svc.max_page_size,
        SEARCH_PROPERTIES,
    )?;
    let (items, count) = svc
        .db
        .run(move |c| {
            let items = repo::list(c, tenant, &query)?;
            // GRAPH-COMPAT: Intune sends @odata.count on this collection even without
            // $count=true (graph-dep-api.md §6), so the total is always computed.
            let count = repo::count(c, tenant, query.filter.as_ref())?;
            Ok::<_, ServiceError>((items, count))
        })
        .await?;
    Ok(pager.finish(items, &svc.paging_key, Some(count)))
}

/// How many of the tenant's settings match the `$filter` of `q`.
pub async fn count(
    svc: &Services,
    tenant: TenantId,
    q: &QueryOptions,
) -> Result<i64, ServiceError> {
    let filter = paging::count_filter(&SPEC, q, SEARCH_PROPERTIES)?;
    svc.db
        .run(move |c| Ok(repo::count(c, tenant, filter.as_ref())?))
        .await
}

/// One setting.
pub async fn get(
    svc: &Services,
    tenant: TenantId,
    id: &SettingId,
) -> Result<OnboardingSetting, ServiceError> {
    let key = id.clone();
    svc.db
        .read_cached(tenant, "depOnboardingSetting", id.as_str(), move |c| {
            repo::get(c, tenant, &key).map_err(ServiceError::from)
        })
        .await?
        .ok_or_else(|| not_found(id))
}

/// Creates a setting from a POST body, within the tenant's `maximumDepTokens`.
pub async fn create(
    svc: &Services,
    tenant: TenantId,
    body: Map<String, Value>,
) -> Result<OnboardingSetting, ServiceError> {
    let now = svc.clock.now_ticks();
    let mut setting = OnboardingSetting::new(Uuid::new_v4().to_string(), now);
    setting.apply(&body, Write::Create)?;
    let max = svc.max_dep_tokens;
    svc.audited(tenant, Audit::new("Create", SETTING), move |c, audit| {
        if repo::count(c, tenant, None)? >= i64::from(max) {
            return Err(ValidationError::new(format!(
                "The tenant already has the maximum number of DEP tokens ({max}); delete one first."
            ))
            .into());
        }
        repo::insert(c, tenant, &setting, now)?;
        audit.resource(
            &setting.id,
            setting.token_name.as_deref(),
            modified(None::<&()>, Some(&setting)),
        );
        Ok(setting)
    })
    .await
}

/// Applies a PATCH body to a setting.
pub async fn update(
    svc: &Services,
    tenant: TenantId,
    id: &SettingId,
    body: Map<String, Value>,
) -> Result<(), ServiceError> {
    let key = id.clone();
    let clock = Arc::clone(&svc.clock);
    svc.audited(tenant, Audit::new("Patch", SETTING), move |c, audit| {
        let mut setting = repo::get(c, tenant, &key)?.ok_or_else(|| not_found(&key))?;
        let before = setting.clone();
        setting.apply(&body, Write::Update)?;
        setting.last_modified_date_time = clock.now_ticks();
        repo::update(c, tenant, &setting)?;
        audit.resource(
            &setting.id,
            setting.token_name.as_deref(),
            modified(Some(&before), Some(&setting)),
        );
        Ok(())
    })
    .await
}

/// Deletes a setting and everything the token owns.
pub async fn delete(svc: &Services, tenant: TenantId, id: &SettingId) -> Result<(), ServiceError> {
    let key = id.clone();
    svc.audited(tenant, Audit::new("Delete", SETTING), move |c, audit| {
        let before = repo::get(c, tenant, &key)?;
        if repo::delete(c, tenant, &key)? {
            let name = before.as_ref().and_then(|b| b.token_name.clone());
            audit.resource(
                key.as_str(),
                name.as_deref(),
                modified(before.as_ref(), None::<&()>),
            );
            Ok(())
        } else {
            Err(not_found(&key))
        }
    })
    .await
}
