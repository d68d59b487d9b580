//! The pages of one sync run: the full fetch unless one completed, then the incremental sync,
//! each page committed with the cursor after it.

use super::{PAGE_LIMIT, Run, RunError, lease_until, pages};
use crate::apple::DepApi;
use crate::apple::error::AppleError;
use crate::apple::types::DevicePage;
use crate::service::{ServiceError, Services};
use crate::storage::sync_state;

/// Which of Apple's device lists a request reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// `POST /server/devices`: the full list, page by page.
    Fetch,
    /// `POST /devices/sync`: the changes after the cursor.
    Sync,
}

/// Asks Apple for the page of `phase` after `cursor`.
async fn request(
    client: &dyn DepApi,
    phase: Phase,
    cursor: Option<String>,
) -> Result<DevicePage, AppleError> {
    match (phase, cursor) {
        (Phase::Fetch, cursor) => client.fetch_devices(cursor.as_deref(), PAGE_LIMIT).await,
        (Phase::Sync, Some(cursor)) => client.sync_devices(&cursor, PAGE_LIMIT).await,
        (Phase::Sync, None) => Err(AppleError::CursorRequired),
    }
}

/// Fetch (if needed) and sync pages until Apple has no more to follow. A bounded pipeline: the
/// next page is asked of Apple while the page before it commits (Apple's cursors are positions,
/// so a page fetched but never committed is simply asked for again by the next run), and at
/// most one page waits in memory.
pub(super) async fn pass(svc: &Services, client: &dyn DepApi, run: &Run) -> Result<(), RunError> {
    let (tenant, setting) = (run.tenant, &run.setting);
    let job = run.clone();
    let state = svc
        .db
        .run(move |c| sync_state::get(c, job.tenant, &job.setting).map_err(ServiceError::from))
        .await?
        .unwrap_or(sync_state::SyncState {
            cursor: None,
            fetch_complete: false,
            requested: false,
            next_run_ticks: 0,
        });
    let mut cursor = state.cursor;
    let mut phase = if state.fetch_complete {
        Phase::Sync
    } else {
        Phase::Fetch
    };
    stop_point(svc)?;
    let mut fetched = request(client, phase, cursor.clone()).await;
    loop {
        let page = match fetched {
            Err(AppleError::CursorExhausted) if phase == Phase::Fetch => {
                // The fetch already returned everything: sync from the same cursor.
                commit(svc, run, None, cursor.clone(), true).await?;
                stop_point(svc)?;
                phase = Phase::Sync;
                fetched = request(client, phase, cursor.clone()).await;
                continue;
            }
            other => other?,
        };
        let (more, stuck) = (page.more_to_follow, cursor.as_deref() == Some(&page.cursor));
        cursor = Some(page.cursor.clone());
        let next = match phase {
            Phase::Fetch if more && stuck => {
                // Apple bug (nanodep #73): same cursor with more to follow; stop until next run.
                tracing::warn!(%tenant, %setting, "Apple returned the request cursor with more_to_follow");
                None
            }
            Phase::Fetch if more => Some(Phase::Fetch),
            Phase::Fetch => Some(Phase::Sync),
            Phase::Sync if more && !stuck => Some(Phase::Sync),
            Phase::Sync => None,
        };
        let fetch_complete = phase == Phase::Sync || !more;
        let committed = commit(svc, run, Some(page), cursor.clone(), fetch_complete);
        let Some(next) = next else {
            return committed.await;
        };
        if svc.background.is_stopping() {
            committed.await?;
            return Err(RunError::Stopped);
        }
        let (done, after) = tokio::join!(committed, request(client, next, cursor.clone()));
        done?;
        (phase, fetched) = (next, after);
    }
}

/// A safe point between pages: everything before is committed with its cursor, so a shutdown
/// may end the run here and the next run resumes from the stored cursor.
fn stop_point(svc: &Services) -> Result<(), RunError> {
    if svc.background.is_stopping() {
        return Err(RunError::Stopped);
    }
    Ok(())
}

/// Commits a page's devices and the cursor after it in one write transaction, renewing the
/// lease; nothing is written if the lease was lost.
pub(super) async fn commit(
    svc: &Services,
    run: &Run,
    page: Option<DevicePage>,
    cursor: Option<String>,
    fetch_complete: bool,
) -> Result<(), RunError> {
    let Run {
        tenant,
        setting,
        owner,
    } = run.clone();
    let (now, until) = (svc.clock.now_ticks(), lease_until(svc));
    svc.db
        .write(tenant, svc.clock.now_ticks(), move |c| {
            if !sync_state::advance(
                c,
                tenant,
                &setting,
                &owner,
                cursor.as_deref(),
                fetch_complete,
                until,
            )? {
                return Err(RunError::LeaseLost);
            }
            if let Some(page) = page {
                crate::storage::devices::defer_flush(c)?;
                pages::apply(c, tenant, &setting, &page.devices, now)?;
            }
            Ok(())
        })
        .await
}
