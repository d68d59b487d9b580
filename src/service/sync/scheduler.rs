//! The background work of a gateway instance: the periodic sync (one task that wakes every
//! min(interval, 30 s) and syncs each due or requested token, one at a time, through its lease)
//! and the profile-assignment worker (wakes every second and pushes each token's due
//! assignments to Apple through the token's push lease). Both run under the instance's
//! [`crate::background::Background`] supervisor, wait on the injected clock, and return once
//! shutdown begins.

use std::time::Duration;

use super::{MAX_TICK_SECS, sync_token};
use crate::domain::time::secs_to_ticks;
use crate::service::{ServiceError, Services, profile_push};
use crate::storage::sync_state;

/// Pause before a worker that panicked is started again.
const RESTART_PAUSE: Duration = Duration::from_secs(1);

/// Starts the periodic sync if `sync_interval_secs > 0`: wakes every min(interval, 30 s) and
/// syncs each due or requested token, one at a time, through its lease.
pub fn start_scheduler(svc: &Services) {
    if svc.sync_interval_secs == 0 {
        return;
    }
    let tick = Duration::from_secs(svc.sync_interval_secs.clamp(1, MAX_TICK_SECS));
    let worker = svc.clone();
    svc.background
        .supervise("sync scheduler", RESTART_PAUSE, move || {
            let svc = worker.clone();
            async move {
                while pause(&svc, tick).await {
                    if let Err(e) = scheduler_tick(&svc).await {
                        tracing::warn!(error = %e, "DEP sync scheduler tick failed");
                    }
                    svc.background.round_done();
                }
            }
        });
}

/// How often the assignment worker looks for due pushes: one indexed query per second, so that
/// a retry Apple allows after `retry_after_seconds` is sent about then, not a tick later.
const ASSIGN_TICK: Duration = Duration::from_secs(1);

/// Starts the profile-assignment worker: retries queued pushes when they are due (throttled,
/// failed, or left behind by a crashed instance), whatever the sync interval.
pub fn start_assignment_worker(svc: &Services) {
    let worker = svc.clone();
    svc.background
        .supervise("assignment worker", RESTART_PAUSE, move || {
            let svc = worker.clone();
            async move {
                while pause(&svc, ASSIGN_TICK).await {
                    if let Err(e) = profile_push::push_due(&svc).await {
                        tracing::warn!(error = %e, "profile assignment worker round failed");
                    }
                    svc.background.round_done();
                }
            }
        });
}

/// Waits `tick` on the services' clock; false once shutdown began.
async fn pause(svc: &Services, tick: Duration) -> bool {
    tokio::select! {
        () = svc.clock.sleep(tick) => !svc.background.is_stopping(),
        () = svc.background.stopping() => false,
    }
}

/// One scheduler round. Tokens never scheduled get a state row due one interval from now.
pub(crate) async fn scheduler_tick(svc: &Services) -> Result<(), ServiceError> {
    let now = svc.clock.now_ticks();
    let due = svc
        .db
        .run(move |c| sync_state::due(c, now).map_err(ServiceError::from))
        .await?;
    let first_run = now + secs_to_ticks(svc.sync_interval_secs);
    for token in due {
        if svc.background.is_stopping() {
            break;
        }
        let (tenant, setting) = (token.tenant, token.setting);
        if token.has_state {
            // One token's failure must not starve the others of this round.
            if let Err(e) = sync_token(svc, tenant, &setting).await {
                tracing::warn!(%tenant, %setting, error = %e, "DEP sync failed");
            }
        } else {
            svc.db
                .write(tenant, svc.clock.now_ticks(), move |c| {
                    sync_state::ensure(c, tenant, &setting, first_run).map_err(ServiceError::from)
                })
                .await?;
        }
    }
    Ok(())
}
