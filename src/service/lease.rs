//! Short leases with a heartbeat (sync and profile push alike). A lease lasts `lease_secs`
//! (30 s by default) from its last renewal; while the work runs, a heartbeat renews it every
//! third of that, on the services' clock, so a slow Apple call never loses it, and a crashed
//! instance's token is free again within one lease. Renewal is conditional on still being the
//! owner, so a late heartbeat never revives a released or taken-over lease.

use std::time::Duration;

use super::Services;
use crate::domain::ids::TenantId;
use crate::domain::time::secs_to_ticks;
use crate::storage::{DbConnection, StorageError};

/// The end of a lease taken or renewed now.
pub(crate) fn lease_until(svc: &Services) -> i64 {
    svc.clock
        .now_ticks()
        .saturating_add(secs_to_ticks(svc.lease_secs.max(1)))
}

/// Renews a lease until dropped.
pub(crate) struct Heartbeat(tokio::task::JoinHandle<()>);

impl Drop for Heartbeat {
    fn drop(&mut self) {
        // A renewal already sent still completes; it changes nothing once the lease is released.
        self.0.abort();
    }
}

/// Starts renewing a lease of `tenant` with `renew(conn, until)`, which returns whether this
/// owner still holds it; stops when it no longer does or when dropped.
pub(crate) fn heartbeat<F>(
    svc: &Services,
    tenant: TenantId,
    what: &'static str,
    renew: F,
) -> Heartbeat
where
    F: Fn(&mut DbConnection, i64) -> diesel::QueryResult<bool> + Clone + Send + Sync + 'static,
{
    let svc = svc.clone();
    let every = Duration::from_secs((svc.lease_secs / 3).max(1));
    Heartbeat(tokio::spawn(async move {
        loop {
            svc.clock.sleep(every).await;
            let (until, renew) = (lease_until(&svc), renew.clone());
            let held = svc
                .db
                .write(tenant, svc.clock.now_ticks(), move |c| {
                    renew(c, until).map_err(StorageError::from)
                })
                .await;
            match held {
                Ok(true) => {}
                Ok(false) => {
                    tracing::warn!(%tenant, lease = what, "lease lost; heartbeat stops");
                    return;
                }
                // Transient: the next beat tries again before the lease runs out.
                Err(e) => {
                    tracing::warn!(%tenant, lease = what, error = %e, "renewing a lease failed");
                }
            }
        }
    }))
}
