//! Use cases of VPP tokens: list, count, get, create, update, delete, the expiring count of
//! `getExpiringVppTokenCount` and the check behind `companyPortalVppTokenId`.

use serde_json::{Map, Value};
use uuid::Uuid;

use super::audit::{Audit, VPP_TOKEN, modified};
use super::paging::{self, ListPlan, Page};
use super::{Entity, ServiceError, Services};
use crate::domain::ValidationError;
use crate::domain::ids::TenantId;
use crate::domain::time::format_ticks;
use crate::domain::vpp::VppSecret;
use crate::domain::vpp::{VppToken, state_at};
use crate::odata::QueryOptions;
use crate::storage::DbConnection;
use crate::storage::vpp_tokens::{self as repo, SPEC};

const ENTITY: Entity = Entity::VppToken;

fn not_found(id: &(impl AsRef<str> + ?Sized)) -> ServiceError {
    ServiceError::NotFound {
        entity: ENTITY,
        id: id.as_ref().to_owned(),
    }
}

/// One page of the tenant's VPP tokens.
pub async fn list(
    svc: &Services,
    tenant: TenantId,
    q: &QueryOptions,
) -> Result<Page<VppToken>, ServiceError> {
    let ListPlan { query, pager } =
        paging::plan(&SPEC, "vppTokens", q, &svc.paging_key, svc.max_page_size)?;
    let want_count = q.count;
    let now = svc.clock.now_ticks();
    let (items, count) = svc
        .db
        .run(move |c| {
            let items = repo::list(c, tenant, &query, now)?;
            let count = if want_count {
                Some(repo::count(c, tenant, query.filter.as_ref())?)
            } else {
                None
            };
            Ok::<_, ServiceError>((items, count))
        })
        .await?;
    Ok(pager.finish(items, &svc.paging_key, count))
}

/// How many of the tenant's VPP tokens match the `$filter` of `q`.
pub async fn count(
    svc: &Services,
    tenant: TenantId,
    q: &QueryOptions,
) -> Result<i64, ServiceError> {
    let filter = paging::count_filter(&SPEC, q, &[])?;
    svc.db
        .run(move |c| Ok(repo::count(c, tenant, filter.as_ref())?))
        .await
}

/// How many of the tenant's VPP tokens expire before `before` (ticks), expired ones included.
pub async fn count_expiring_before(
    svc: &Services,
    tenant: TenantId,
    before: i64,
) -> Result<i64, ServiceError> {
    svc.db
        .run(move |c| Ok(repo::count_expiring_before(c, tenant, before)?))
        .await
}

/// One VPP token.
pub async fn get(svc: &Services, tenant: TenantId, id: &str) -> Result<VppToken, ServiceError> {
    let key = id.to_owned();
    let now = svc.clock.now_ticks();
    svc.db
        .read_cached(tenant, "vppToken", id, move |c| {
            repo::get(c, tenant, &key, now).map_err(ServiceError::from)
        })
        .await?
        // A cached token was read at an earlier `now`: its state is recomputed for this one.
        .map(|mut token| {
            token.state = state_at(token.expiration_date_time, now);
            token
        })
        .ok_or_else(|| not_found(id))
}

/// Refuses a token whose inner Apple token the tenant already holds under another id.
fn ensure_unique(
    c: &mut DbConnection,
    tenant: TenantId,
    token: &VppToken,
) -> Result<(), ServiceError> {
    match repo::find_by_fingerprint(c, tenant, &token.token_fingerprint)? {
        Some(other) if other != token.id => Err(ServiceError::Conflict(format!(
            "This VPP token is already uploaded as vppToken '{other}'; update or delete that one."
        ))),
        _ => Ok(()),
    }
}

/// Creates a token from a POST body carrying the `.vpptoken` content in `token`.
pub async fn create(
    svc: &Services,
    tenant: TenantId,
    body: Map<String, Value>,
) -> Result<VppToken, ServiceError> {
    let now = svc.clock.now_ticks();
    let token = VppToken::create(Uuid::new_v4().to_string(), &body, now)?;
    let stored = sealed(svc, tenant, &token);
    svc.audited(tenant, Audit::new("Create", VPP_TOKEN), move |c, audit| {
        ensure_unique(c, tenant, &stored)?;
        repo::insert(c, tenant, &stored, now)?;
        audit.resource(
            &stored.id,
            stored.display_name.as_deref(),
            modified(None::<&()>, Some(&stored)),
        );
        Ok::<_, ServiceError>(())
    })
    .await?;
    Ok(token)
}

fn secret_context(tenant: TenantId, id: &str) -> String {
    format!("{tenant}/vpp/{id}")
}

/// The token with its `.vpptoken` content sealed for storage.
fn sealed(svc: &Services, tenant: TenantId, token: &VppToken) -> VppToken {
    let mut stored = token.clone();
    let content = svc.secrets.seal(
        &secret_context(tenant, &token.id),
        token.token.expose().as_bytes(),
    );
    stored.token = VppSecret::new(content);
    stored
}

/// The stored token with its `.vpptoken` content opened.
fn opened(svc: &Services, tenant: TenantId, mut token: VppToken) -> Result<VppToken, ServiceError> {
    let plain = svc
        .secrets
        .open(&secret_context(tenant, &token.id), token.token.expose())
        .map_err(|e| ServiceError::Internal(anyhow::anyhow!(e)))?;
    token.token = VppSecret::new(String::from_utf8_lossy(&plain).into_owned());
    Ok(token)
}

/// Applies a PATCH body (a new `token` renews the token).
pub async fn update(
    svc: &Services,
    tenant: TenantId,
    id: &str,
    body: Map<String, Value>,
) -> Result<(), ServiceError> {
    let key = id.to_owned();
    let svc2 = svc.clone();
    svc.audited(tenant, Audit::new("Patch", VPP_TOKEN), move |c, audit| {
        let now = svc2.clock.now_ticks();
        let stored = repo::get(c, tenant, &key, now)?.ok_or_else(|| not_found(&key))?;
        let old = stored.clone();
        let mut token = opened(&svc2, tenant, stored)?;
        token.apply(&body, now)?;
        token.last_modified_date_time = now;
        let token = sealed(&svc2, tenant, &token);
        ensure_unique(c, tenant, &token)?;
        repo::update(c, tenant, &token)?;
        audit.resource(
            &token.id,
            token.display_name.as_deref(),
            modified(Some(&old), Some(&token)),
        );
        Ok(())
    })
    .await
}

/// Deletes a token.
pub async fn delete(svc: &Services, tenant: TenantId, id: &str) -> Result<(), ServiceError> {
    let now = svc.clock.now_ticks();
    let key = id.to_owned();
    svc.audited(tenant, Audit::new("Delete", VPP_TOKEN), move |c, audit| {
        let old = repo::get(c, tenant, &key, now)?;
        if repo::delete(c, tenant, &key)? {
            let name = old.as_ref().and_then(|o| o.display_name.clone());
            audit.resource(&key, name.as_deref(), modified(old.as_ref(), None::<&()>));
            Ok(())
        } else {
            Err(not_found(&key))
        }
    })
    .await
}

/// Ok only when `id` names an existing, unexpired VPP token of the tenant; otherwise a
/// validation error naming the id and why (for `companyPortalVppTokenId`).
pub async fn check_company_portal_vpp_token(
    svc: &Services,
    tenant: TenantId,
    id: &str,
) -> Result<(), ServiceError> {
    let key = id.to_owned();
    let now = svc.clock.now_ticks();
    svc.db
        .run(move |c| check_company_portal_vpp_token_in(c, tenant, &key, now))
        .await
}

/// [`check_company_portal_vpp_token`] on a connection the caller holds (e.g. inside the
/// transaction of a profile write), judged at `now`.
pub fn check_company_portal_vpp_token_in(
    c: &mut DbConnection,
    tenant: TenantId,
    id: &str,
    now: i64,
) -> Result<(), ServiceError> {
    let Some(token) = repo::get(c, tenant, id, now)? else {
        return Err(ValidationError::new(format!(
            "companyPortalVppTokenId '{id}' does not name a VPP token of this tenant."
        ))
        .into());
    };
    if token.expiration_date_time <= now {
        return Err(ValidationError::new(format!(
            "companyPortalVppTokenId '{id}' names a VPP token that expired on {}; renew it first.",
            format_ticks(token.expiration_date_time)
        ))
        .into());
    }
    Ok(())
}
