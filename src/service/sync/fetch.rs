//! The pages of one sync run: the full fetch unless one completed, then the incremental sync,
//! each page committed with the cursor after it.

use super::{PAGE_LIMIT, RunError, lease_until, pages};
use crate::apple::DepApi;
use crate::apple::error::AppleError;
use crate::apple::types::DevicePage;
use crate::domain::ids::{SettingId, TenantId};
use crate::service::{ServiceError, Services};
use crate::storage::sync_state;

/// Fetch (if needed) and sync pages until Apple has no more to follow.
pub(super) async fn pass(
    svc: &Services,
    client: &dyn DepApi,
    tenant: TenantId,
    setting: &SettingId,
    owner: &str,
) -> Result<(), RunError> {
    let (key, state_tenant) = (setting.to_owned(), tenant);
    let state = svc
        .db
        .run(move |c| sync_state::get(c, state_tenant, &key).map_err(ServiceError::from))
        .await?
        .unwrap_or(sync_state::SyncState {
            cursor: None,
            fetch_complete: false,
            requested: false,
            next_run_ticks: 0,
        });
    let mut cursor = state.cursor;
    if !state.fetch_complete {
        loop {
            stop_point(svc)?;
            let page = match client.fetch_devices(cursor.as_deref(), PAGE_LIMIT).await {
                Err(AppleError::CursorExhausted) => {
                    // The fetch already returned everything: sync from the same cursor.
                    commit(svc, tenant, setting, owner, None, cursor.clone(), true).await?;
                    break;
                }
                other => other?,
            };
            let (more, stuck) = (page.more_to_follow, cursor.as_deref() == Some(&page.cursor));
            cursor = Some(page.cursor.clone());
            commit(
                svc,
                tenant,
                setting,
                owner,
                Some(page),
                cursor.clone(),
                !more,
            )
            .await?;
            if more && stuck {
                // Apple bug (nanodep #73): same cursor with more to follow; stop until next run.
                tracing::warn!(%tenant, %setting, "Apple returned the request cursor with more_to_follow");
                return Ok(());
            }
            if !more {
                break;
            }
        }
    }
    loop {
        stop_point(svc)?;
        let Some(current) = cursor.clone() else {
            return Err(AppleError::CursorRequired.into());
        };
        let page = client.sync_devices(&current, PAGE_LIMIT).await?;
        let (more, stuck) = (page.more_to_follow, page.cursor == current);
        cursor = Some(page.cursor.clone());
        commit(
            svc,
            tenant,
            setting,
            owner,
            Some(page),
            cursor.clone(),
            true,
        )
        .await?;
        if !more || stuck {
            return Ok(());
        }
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
    tenant: TenantId,
    setting: &SettingId,
    owner: &str,
    page: Option<DevicePage>,
    cursor: Option<String>,
    fetch_complete: bool,
) -> Result<(), RunError> {
    let (key, owner) = (setting.to_owned(), owner.to_owned());
    let (now, until) = (svc.clock.now_ticks(), lease_until(svc));
    svc.db
        .write(tenant, svc.clock.now_ticks(), move |c| {
            if !sync_state::advance(
                c,
                tenant,
                &key,
                &owner,
                cursor.as_deref(),
                fetch_complete,
                until,
            )? {
                return Err(RunError::LeaseLost);
            }
            if let Some(page) = page {
                pages::apply(c, tenant, &key, &page.devices, now)?;
            }
            Ok(())
        })
        .await
}
