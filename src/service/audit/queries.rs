//! Reading the trail (list, count, get, the two functions) and pruning it past retention.

use std::time::Duration;

use super::super::paging::{self, ListPlan, Page};
use super::super::{Entity, ServiceError, Services};
use crate::domain::ids::TenantId;
use crate::odata::QueryOptions;
use crate::storage::audit::{self as repo, AuditEvent, SPEC};

/// `getAuditCategories()`: the categories Intune lists (audit-events.md §7.1); the gateway
/// writes `Enrollment` only.
pub const CATEGORIES: &[&str] = &[
    "Other",
    "Enrollment",
    "Compliance",
    "DeviceConfiguration",
    "Device",
    "Application",
    "EBookManagement",
    "ConditionalAccess",
    "OnPremiseAccess",
    "Role",
    "SoftwareUpdates",
    "DeviceSetupConfiguration",
];

/// Events deleted per pruning statement, so one round never holds a long transaction.
const PRUNE_BATCH: i64 = 500;

/// The default order: newest first (`$orderby` overrides it).
fn with_default_order(q: &QueryOptions) -> Result<QueryOptions, ServiceError> {
    if q.orderby.is_some() {
        return Ok(q.clone());
    }
    let mut q = q.clone();
    q.orderby = QueryOptions::parse("$orderby=activityDateTime%20desc")?.orderby;
    Ok(q)
}

/// One page of the tenant's events (newest first unless `$orderby` says otherwise).
pub async fn list(
    svc: &Services,
    tenant: TenantId,
    q: &QueryOptions,
) -> Result<Page<AuditEvent>, ServiceError> {
    let q = with_default_order(q)?;
    let ListPlan { query, pager } =
        paging::plan(&SPEC, "auditEvents", &q, &svc.paging_key, svc.max_page_size)?;
    let want_count = q.count;
    let (items, count) = svc
        .db
        .run(move |c| {
            let items = repo::list(c, tenant, &query)?;
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

/// How many of the tenant's events match the `$filter` of `q`.
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

/// One event.
pub async fn get(svc: &Services, tenant: TenantId, id: &str) -> Result<AuditEvent, ServiceError> {
    let key = id.to_owned();
    svc.db
        .run(move |c| {
            repo::get(c, tenant, &key)?
                .ok_or_else(|| ServiceError::not_found(Entity::AuditEvent, &key))
        })
        .await
}

/// `getAuditActivityTypes(category=…)`: the activity types the tenant's trail holds in it.
// GRAPH-COMPAT: Intune's real output is unconfirmed (audit-events.md §10); the gateway answers
// with what it has recorded, so an unknown category is an empty list, not an error.
pub async fn activity_types(
    svc: &Services,
    tenant: TenantId,
    category: &str,
) -> Result<Vec<String>, ServiceError> {
    let category = category.to_owned();
    svc.db
        .run(move |c| Ok(repo::activity_types(c, tenant, &category)?))
        .await
}

/// Deletes every event older than `retention` before the services' clock; returns how many.
pub async fn prune(svc: &Services, retention: Duration) -> Result<usize, ServiceError> {
    let ticks = i64::try_from(retention.as_secs())
        .unwrap_or(i64::MAX / 10_000_000)
        .saturating_mul(10_000_000);
    let before = svc.clock.now_ticks().saturating_sub(ticks);
    let mut total = 0;
    loop {
        let n = svc
            .db
            .run(move |c| Ok::<_, ServiceError>(repo::prune(c, before, PRUNE_BATCH)?))
            .await?;
        total += n;
        if i64::try_from(n).unwrap_or(i64::MAX) < PRUNE_BATCH {
            return Ok(total);
        }
    }
}

/// Starts the pruner: at once, then every `every` on the services' clock, until shutdown.
pub fn start_pruner(svc: &Services, retention: Duration, every: Duration) {
    let worker = svc.clone();
    svc.background
        .supervise("audit pruner", Duration::from_secs(5), move || {
            let svc = worker.clone();
            async move {
                loop {
                    match prune(&svc, retention).await {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(deleted = n, "audit events past retention pruned"),
                        Err(e) => tracing::warn!(error = %e, "audit pruning failed"),
                    }
                    let go_on = tokio::select! {
                        () = svc.clock.sleep(every) => !svc.background.is_stopping(),
                        () = svc.background.stopping() => false,
                    };
                    if !go_on {
                        return;
                    }
                }
            }
        });
}
