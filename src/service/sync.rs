//! Device sync with Apple (reference §3): `syncWithAppleDeviceEnrollmentProgram`, the sync of
//! one token (full fetch, then incremental sync from the stored cursor, each page committed with
//! its cursor), and the periodic scheduler. A token is synced by whoever holds its lease in
//! `dep_sync_state`, so several gateway instances on one database never sync it at once.

mod fetch;
mod pages;
mod scheduler;
#[cfg(test)]
mod tests;

pub(crate) use pages::new_id;
pub use scheduler::{start_assignment_worker, start_scheduler};

use std::sync::{Arc, LazyLock};

use uuid::Uuid;

use super::audit::{Audit, SETTING, modified};
use super::lease::lease_until;
use super::{ServiceError, Services, dep_tokens};
use crate::apple::client::ClientOptions;
use crate::apple::error::{AppleError, SYNC_OK};
use crate::domain::ValidationError;
use crate::domain::ids::{SettingId, TenantId};
use crate::domain::time::secs_to_ticks;
use crate::storage::{devices, onboarding_settings, sync_state, token_health};

/// Devices per page asked of Apple (its maximum; the service caps larger values).
const PAGE_LIMIT: u32 = 1000;
/// The scheduler's longest sleep.
const MAX_TICK_SECS: u64 = 30;
/// The earliest retry after Apple throttled a whole sync.
const MIN_THROTTLE_BACKOFF_SECS: u64 = 60;
/// Runs of one token back to back at most, when requests keep arriving during runs.
const MAX_ROUNDS: usize = 3;

/// This process's instance id, chosen at startup; lease owners are `<instance>/<run>`.
static INSTANCE: LazyLock<Uuid> = LazyLock::new(Uuid::new_v4);

/// One run of a token's sync: the token and the lease owner the run holds (`<instance>/<run>`).
/// Its ids are reference-counted, so moving a copy into a database closure costs a count bump.
#[derive(Clone, Debug)]
struct Run {
    tenant: TenantId,
    setting: SettingId,
    owner: Arc<str>,
}

/// Why a sync run stopped early.
#[derive(Debug, thiserror::Error)]
enum RunError {
    #[error(transparent)]
    Apple(#[from] AppleError),
    #[error(transparent)]
    Service(#[from] ServiceError),
    #[error("the sync lease was lost to another run")]
    LeaseLost,
    #[error("the setting no longer holds a server token")]
    NoToken,
    #[error("the instance is shutting down")]
    Stopped,
}

impl RunError {
    fn code(&self) -> i32 {
        match self {
            Self::Apple(e) => e.lsync_error_code(),
            Self::Service(_) | Self::LeaseLost | Self::NoToken | Self::Stopped => 500,
        }
    }
}

/// `syncWithAppleDeviceEnrollmentProgram`: stamps `lastSyncTriggeredDateTime`, marks the token's
/// sync as requested and starts it in the background.
pub async fn trigger(
    svc: &Services,
    tenant: TenantId,
    setting: &SettingId,
) -> Result<(), ServiceError> {
    let key = setting.to_owned();
    let now = svc.clock.now_ticks();
    svc.audited(tenant, Audit::new("Action", SETTING), move |c, audit| {
        let mut s =
            onboarding_settings::get(c, tenant, &key)?.ok_or_else(|| ServiceError::NotFound {
                entity: super::Entity::OnboardingSetting,
                id: key.to_string(),
            })?;
        if crate::storage::apple_tokens::held(c, tenant, &key)?.is_none() {
            return Err(ValidationError::new(
                "This setting holds no Apple server token: upload one with uploadDepToken first.",
            )
            .into());
        }
        let old = s.clone();
        s.last_sync_triggered_date_time = now;
        onboarding_settings::update(c, tenant, &s)?;
        audit.resource(
            key.as_str(),
            s.token_name.as_deref(),
            modified(Some(&old), Some(&s)),
        );
        sync_state::ensure(c, tenant, &key, now)?;
        sync_state::request(c, tenant, &key)?;
        Ok::<_, ServiceError>(())
    })
    .await?;
    let setting = setting.clone();
    let services = svc.clone();
    // Tracked, so that shutdown waits for the run to stop at a safe point and free its lease.
    // (During shutdown it does not start: the request stays recorded for whoever runs next.)
    svc.background.spawn(async move {
        if let Err(e) = sync_token(&services, tenant, &setting).await {
            tracing::error!(%tenant, %setting, error = %e, "DEP sync failed");
        }
    });
    Ok(())
}

/// Syncs one token if its lease can be had; returns whether this call ran the sync. Apple's
/// failures are recorded on the setting (`lastSyncErrorCode`), not returned.
pub async fn sync_token(
    svc: &Services,
    tenant: TenantId,
    setting: &SettingId,
) -> Result<bool, ServiceError> {
    let mut ran = false;
    // A request that arrived while this run held the lease is served at once by another round.
    for _ in 0..MAX_ROUNDS {
        if svc.background.is_stopping() {
            break;
        }
        let run = Run {
            tenant,
            setting: setting.clone(),
            owner: Arc::from(format!("{}/{}", *INSTANCE, Uuid::new_v4())),
        };
        let (now, until) = (svc.clock.now_ticks(), lease_until(svc));
        let claim = run.clone();
        let claimed = svc
            .db
            .write(tenant, svc.clock.now_ticks(), move |c| {
                sync_state::ensure(c, tenant, &claim.setting, now)?;
                let held = sync_state::claim(c, tenant, &claim.setting, &claim.owner, now, until)?;
                Ok::<_, ServiceError>(held)
            })
            .await?;
        if !claimed {
            tracing::debug!(%tenant, %setting, "DEP sync skipped: another run holds the lease");
            break;
        }
        ran = true;
        let started = svc.clock.now_ticks();
        let renew = run.clone();
        let beat = super::lease::heartbeat(svc, tenant, "sync", move |c, until| {
            sync_state::renew(c, tenant, &renew.setting, &renew.owner, until)
        });
        let wall = std::time::Instant::now();
        let attributes = super::trace_ids(tenant, setting);
        let result = svc
            .spans
            .root("dep sync", attributes, run_once(svc, &run))
            .await;
        drop(beat);
        svc.metrics.sync_run(outcome_label(&result), wall.elapsed());
        if let Err(e) = &result {
            tracing::warn!(%tenant, %setting, error = %e, "DEP sync did not complete");
        }
        let synced = result.is_ok();
        finish(svc, &run, started, result).await?;
        if synced {
            // Devices the run added may have default profiles queued for Apple.
            super::profile_push::kick(svc, tenant, setting);
        }
        let again = svc
            .db
            .run(move |c| sync_state::get(c, tenant, &run.setting).map_err(ServiceError::from))
            .await?
            .is_some_and(|s| s.requested);
        if !again {
            break;
        }
    }
    Ok(ran)
}

/// The `outcome` label of a run in `dep_gateway_sync_runs_total`.
fn outcome_label(result: &Result<(), RunError>) -> &'static str {
    match result {
        Ok(()) => "ok",
        Err(RunError::Apple(_)) => "apple_error",
        Err(RunError::Service(_)) => "failed",
        Err(RunError::LeaseLost) => "lease_lost",
        Err(RunError::NoToken) => "no_token",
        Err(RunError::Stopped) => "stopped",
    }
}

/// Records the outcome on the setting and releases the lease with the next run scheduled.
async fn finish(
    svc: &Services,
    run: &Run,
    started: i64,
    result: Result<(), RunError>,
) -> Result<(), ServiceError> {
    let interval = secs_to_ticks(svc.sync_interval_secs.max(1));
    let now = svc.clock.now_ticks();
    let next_run = match &result {
        Err(RunError::Apple(AppleError::RateLimited { retry_after })) => {
            let wait = retry_after.map_or(0, |d| d.as_secs());
            now + secs_to_ticks(wait.max(MIN_THROTTLE_BACKOFF_SECS)).max(interval)
        }
        // Stopped by a shutdown: due at once, so another instance finishes the run.
        Err(RunError::Stopped) => now,
        _ => now + interval,
    };
    let Run {
        tenant,
        setting: key,
        owner,
    } = run.clone();
    // A failed run is an event of the trail, by the gateway; a successful one is routine.
    let audit = Audit::new("Sync", SETTING).failed();
    svc.audited(tenant, audit, move |c, audit| {
        if let Some(mut s) = onboarding_settings::get(c, tenant, &key)? {
            let old = s.clone();
            match &result {
                Ok(()) => {
                    s.last_successful_sync_date_time = started;
                    s.last_sync_error_code = SYNC_OK;
                    let count = devices::count_synced(c, tenant, &key)?;
                    s.synced_device_count = i32::try_from(count).unwrap_or(i32::MAX);
                }
                Err(RunError::LeaseLost | RunError::NoToken | RunError::Stopped) => {}
                Err(e) => {
                    s.last_sync_error_code = e.code();
                    let changes = modified(Some(&old), Some(&s));
                    audit.resource(key.as_str(), s.token_name.as_deref(), changes);
                }
            }
            if !matches!(
                result,
                Err(RunError::LeaseLost | RunError::NoToken | RunError::Stopped)
            ) {
                token_health::record_sync(c, tenant, &key, result.is_err())?;
            }
            onboarding_settings::update(c, tenant, &s)?;
        }
        if matches!(result, Err(RunError::Stopped)) {
            // The run was cut short by a shutdown: whoever runs next finishes it.
            sync_state::request(c, tenant, &key)?;
        }
        sync_state::release(c, tenant, &key, &owner, next_run)?;
        Ok::<_, ServiceError>(())
    })
    .await
}

/// One run: full fetch unless one completed, then incremental sync; a cursor error resets the
/// cursor and restarts with a full fetch, once.
async fn run_once(svc: &Services, run: &Run) -> Result<(), RunError> {
    let (tenant, setting) = (run.tenant, &run.setting);
    let services = svc.clone();
    let job = run.clone();
    let Some((creds, _held)) = svc
        .db
        .run(move |c| dep_tokens::credentials(&services, c, job.tenant, &job.setting))
        .await?
    else {
        return Err(RunError::NoToken);
    };
    let client = svc.apple.connect(creds, ClientOptions::default());
    let mut restarted = false;
    let outcome = loop {
        match fetch::pass(svc, client.as_ref(), run).await {
            Err(RunError::Apple(e)) if e.is_cursor_error() && !restarted => {
                tracing::info!(%tenant, %setting, error = %e, "DEP cursor rejected: restarting with a full fetch");
                restarted = true;
                fetch::commit(svc, run, None, None, false).await?;
            }
            other => break other,
        }
    };
    tracing::info!(%tenant, %setting, requests = client.requests_made(), ok = outcome.is_ok(), "DEP sync run ended");
    outcome
}

impl From<crate::storage::StorageError> for RunError {
    fn from(e: crate::storage::StorageError) -> Self {
        Self::Service(e.into())
    }
}

impl From<diesel::result::Error> for RunError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Service(e.into())
    }
}
