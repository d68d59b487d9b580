//! The notification deliverer: a supervised worker on every instance that, on the services'
//! clock, removes expired subscriptions, queues `reauthorizationRequired` before expiry, and
//! sends each subscription's pending outbox rows as Graph `changeNotificationCollection`
//! batches — in `seq` order, through the subscription's lease (one instance at a time), retried
//! with doubling backoff, dropped after `max_attempts` with a `missed` lifecycle notification.
//! Delivery is at least once: a crash after the POST and before the delete sends the batch again
//! with the same notification ids (`{seq}-{index}`), by which receivers deduplicate.

use std::sync::LazyLock;
use std::time::Duration;

use serde::Serialize;
use uuid::Uuid;

use super::receiver::{self, Policy};
use super::{SIGNING_CONTEXT, Subscription};
use crate::domain::ids::TenantId;
use crate::domain::time::{format_ticks, secs_to_ticks};
use crate::service::lease::lease_until;
use crate::service::{ServiceError, Services};
use crate::storage::outbox::{self, Change, OutboxRow};
use crate::storage::subscriptions as repo;

/// Pause before a worker that panicked is started again.
const RESTART_PAUSE: Duration = Duration::from_secs(1);
/// Subscriptions served per round by one instance (concurrently).
const PER_ROUND: i64 = 32;
/// Batches sent to one subscription per lease, so that one busy subscription does not keep a
/// lease for long.
const BATCHES_PER_LEASE: usize = 20;

static INSTANCE: LazyLock<Uuid> = LazyLock::new(Uuid::new_v4);

/// One notification of a `changeNotificationCollection`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Notification<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    subscription_id: &'a str,
    subscription_expiration_date_time: String,
    client_state: Option<&'a str>,
    tenant_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    change_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_data: Option<ResourceData<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lifecycle_event: Option<&'a str>,
}

/// Graph's open `resourceData`: type, path and id of the changed entity.
#[derive(Debug, Serialize)]
struct ResourceData<'a> {
    #[serde(rename = "@odata.type")]
    odata_type: &'a str,
    #[serde(rename = "@odata.id")]
    odata_id: &'a str,
    id: &'a str,
}

/// `changeNotificationCollection`.
#[derive(Debug, Serialize)]
struct Collection<'a> {
    value: Vec<Notification<'a>>,
}

/// Starts the deliverer under the instance's supervisor.
pub fn start_delivery(svc: &Services) {
    let tick = Duration::from_millis(svc.notifications.poll_millis.max(10));
    let worker = svc.clone();
    svc.background
        .supervise("notification deliverer", RESTART_PAUSE, move || {
            let svc = worker.clone();
            async move {
                // A round that delivered is followed at once by the next (a backlog drains at
                // the receivers' pace, not one lease's batches per tick); an idle one waits.
                let mut busy = false;
                while (busy && !svc.background.is_stopping()) || pause(&svc, tick).await {
                    busy = round(&svc).await.unwrap_or_else(|e| {
                        tracing::warn!(error = %e, "notification delivery round failed");
                        false
                    });
                    svc.background.round_done();
                }
            }
        });
}

async fn pause(svc: &Services, tick: Duration) -> bool {
    tokio::select! {
        () = svc.clock.sleep(tick) => !svc.background.is_stopping(),
        () = svc.background.stopping() => false,
    }
}

/// One round: lifecycle upkeep, then the due subscriptions concurrently; whether this instance
/// served any.
pub async fn round(svc: &Services) -> Result<bool, ServiceError> {
    upkeep(svc).await?;
    let now = svc.clock.now_ticks();
    let due = svc
        .db
        .run(move |c| Ok::<_, ServiceError>(repo::due(c, now, PER_ROUND)?))
        .await?;
    let runs = due.into_iter().map(|(tenant, id)| async move {
        let attributes = vec![opentelemetry::KeyValue::new("subscription_id", id.clone())];
        let served = svc.spans.root("notification delivery", attributes, serve(svc, tenant, &id));
        served.await.unwrap_or_else(|e| {
            tracing::warn!(%tenant, subscription = %id, error = %e, "delivering notifications failed");
            false
        })
    });
    let served = futures_util::future::join_all(runs).await;
    Ok(served.contains(&true))
}

/// Removes expired subscriptions — one with a lifecycle URL after its `subscriptionRemoved`
/// notification, queued behind what it still has pending — and queues `reauthorizationRequired`
/// for those about to expire that have a lifecycle URL (each once per expiry).
async fn upkeep(svc: &Services) -> Result<(), ServiceError> {
    let now = svc.clock.now_ticks();
    let before = now.saturating_add(secs_to_ticks(
        svc.notifications.reauthorize_before_mins.saturating_mul(60),
    ));
    let (expired, expiring) = svc
        .db
        .run(move |c| {
            repo::forget_drained(c)?;
            Ok::<_, ServiceError>((repo::expired(c, now)?, repo::expiring(c, now, before)?))
        })
        .await?;
    for sub in expired {
        let Ok(tenant) = sub.tenant_id.parse::<TenantId>() else {
            continue;
        };
        tracing::info!(%tenant, subscription = %sub.id, "subscription expired; removed");
        svc.db
            .write(tenant, svc.clock.now_ticks(), move |c| {
                if sub.lifecycle_notification_url.is_none() {
                    repo::delete(c, tenant, &sub.id)?;
                } else if repo::mark_removed(c, tenant, &sub.id)? {
                    // Deleted by `forget_drained` once this last notification is out.
                    outbox::lifecycle(c, tenant, &sub.id, "subscriptionRemoved")?;
                }
                Ok::<_, ServiceError>(())
            })
            .await?;
    }
    for sub in expiring {
        let Ok(tenant) = sub.tenant_id.parse::<TenantId>() else {
            continue;
        };
        svc.db
            .write(tenant, svc.clock.now_ticks(), move |c| {
                if repo::mark_reauthorize_sent(c, tenant, &sub.id)? {
                    outbox::lifecycle(c, tenant, &sub.id, "reauthorizationRequired")?;
                }
                Ok::<_, ServiceError>(())
            })
            .await?;
    }
    Ok(())
}

/// Delivers one subscription's due batches under its lease; false when another instance held it.
async fn serve(svc: &Services, tenant: TenantId, id: &str) -> Result<bool, ServiceError> {
    let owner = format!("{}/{}", *INSTANCE, Uuid::new_v4());
    let (key, who, now, until) = (
        id.to_owned(),
        owner.clone(),
        svc.clock.now_ticks(),
        lease_until(svc),
    );
    let claimed = svc
        .db
        .run(move |c| Ok::<_, ServiceError>(repo::claim(c, tenant, &key, &who, now, until)?))
        .await?;
    if !claimed {
        return Ok(false);
    }
    let outcome = deliver_batches(svc, tenant, id).await;
    let (attempts, next) = match &outcome {
        Ok(()) => (0, 0),
        Err(Failed { attempts, next }) => (*attempts, *next),
    };
    let key = id.to_owned();
    svc.db
        .run(move |c| {
            Ok::<_, ServiceError>(repo::release(c, tenant, &key, &owner, attempts, next).map(drop)?)
        })
        .await?;
    Ok(true)
}

/// A failed try: the attempts so far and when to try again.
struct Failed {
    attempts: i32,
    next: i64,
}

async fn deliver_batches(svc: &Services, tenant: TenantId, id: &str) -> Result<(), Failed> {
    let cfg = &svc.notifications;
    let policy = Policy::from(cfg);
    for _ in 0..BATCHES_PER_LEASE {
        if svc.background.is_stopping() {
            return Ok(());
        }
        let key = id.to_owned();
        let limit = i64::try_from(cfg.max_batch.max(1)).unwrap_or(i64::MAX);
        let loaded = svc
            .db
            .run(move |c| {
                let sub = repo::get_any(c, tenant, &key)?;
                let rows = outbox::pending(c, tenant, &key, limit)?;
                let attempts = repo::attempts(c, tenant, &key)?;
                let removed = repo::is_removed(c, tenant, &key)?;
                Ok::<_, ServiceError>((sub, rows, attempts, removed))
            })
            .await;
        let Ok((Some(sub), rows, attempts, removed)) = loaded else {
            return Ok(());
        };
        let batch = take_batch(&rows, cfg.max_batch.max(outbox::ROW_CHANGES));
        let Some(last) = batch.last().map(|r| r.seq) else {
            return Ok(());
        };
        let lifecycle = batch[0].lifecycle;
        let url = if lifecycle {
            sub.lifecycle_notification_url.clone()
        } else {
            Some(sub.notification_url.clone())
        };
        let sent = match url {
            // A lifecycle event without a lifecycle URL has nowhere to go: dropped.
            None => Ok(()),
            Some(url) => {
                let body = render(&sub, batch);
                let secret = sub
                    .signing_secret
                    .as_deref()
                    .and_then(|s| svc.secrets.open(SIGNING_CONTEXT, s).ok());
                receiver::post(cfg, &policy, &url, body, secret.as_deref()).await
            }
        };
        match sent {
            Ok(()) => remove(svc, tenant, id, last, None).await,
            Err(why) => {
                let attempts = attempts.saturating_add(1);
                tracing::info!(%tenant, subscription = %id, attempts, reason = %why, "notification delivery failed");
                if u32::try_from(attempts).unwrap_or(u32::MAX) >= cfg.max_attempts {
                    tracing::warn!(%tenant, subscription = %id, "notifications dropped after the last retry");
                    // A removed subscription's `subscriptionRemoved` already says to resync.
                    let missed =
                        (!lifecycle && !removed && sub.lifecycle_notification_url.is_some())
                            .then_some("missed");
                    remove(svc, tenant, id, last, missed).await;
                    return Err(Failed {
                        attempts: 0,
                        next: svc.clock.now_ticks(),
                    });
                }
                let wait = backoff(cfg, attempts);
                return Err(Failed {
                    attempts,
                    next: svc.clock.now_ticks().saturating_add(secs_to_ticks(wait)),
                });
            }
        }
    }
    Ok(())
}

/// Seconds before try `attempts + 1`: `retry_first_secs` doubling, at most `retry_max_secs`.
fn backoff(cfg: &crate::config::NotificationSettings, attempts: i32) -> u64 {
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
    cfg.retry_first_secs
        .max(1)
        .saturating_mul(1_u64 << doublings)
        .min(cfg.retry_max_secs.max(1))
}

/// Deletes the rows through `last` (and queues a lifecycle event in the same transaction).
async fn remove(
    svc: &Services,
    tenant: TenantId,
    id: &str,
    last: i64,
    event: Option<&'static str>,
) {
    let key = id.to_owned();
    let done = svc
        .db
        .write(tenant, svc.clock.now_ticks(), move |c| {
            outbox::remove_through(c, tenant, &key, last)?;
            if let Some(event) = event {
                outbox::lifecycle(c, tenant, &key, event)?;
            }
            Ok::<_, ServiceError>(())
        })
        .await;
    if let Err(e) = done {
        // Sent again next round: at least once.
        tracing::warn!(%tenant, subscription = %id, error = %e, "removing delivered notifications failed");
    }
}

/// The oldest rows that go in one POST: one lifecycle row alone, or change rows up to `max`
/// notifications (at least one row).
fn take_batch(rows: &[OutboxRow], max: usize) -> &[OutboxRow] {
    let Some(first) = rows.first() else {
        return rows;
    };
    if first.lifecycle {
        return &rows[..1];
    }
    let mut total = 0;
    let mut end = 0;
    for r in rows {
        let n = usize::try_from(r.changes).unwrap_or(0);
        if r.lifecycle || (end > 0 && total + n > max) {
            break;
        }
        total += n;
        end += 1;
    }
    &rows[..end.max(1)]
}

/// The JSON body of a batch.
fn render(sub: &Subscription, rows: &[OutboxRow]) -> Vec<u8> {
    let expiry = format_ticks(sub.expiration_ticks);
    let changes: Vec<(i64, Vec<Change>)> = rows
        .iter()
        .filter(|r| !r.lifecycle)
        .map(|r| (r.seq, serde_json::from_str(&r.payload).unwrap_or_default()))
        .collect();
    let base = |id: Option<String>| Notification {
        id,
        subscription_id: &sub.id,
        subscription_expiration_date_time: expiry.clone(),
        client_state: sub.client_state.as_deref(),
        tenant_id: &sub.tenant_id,
        change_type: None,
        resource: None,
        resource_data: None,
        lifecycle_event: None,
    };
    let mut value = Vec::new();
    for r in rows.iter().filter(|r| r.lifecycle) {
        value.push(Notification {
            lifecycle_event: Some(r.payload.as_str()),
            ..base(None)
        });
    }
    for (seq, items) in &changes {
        for (i, c) in items.iter().enumerate() {
            value.push(Notification {
                change_type: Some(c.change_type.as_str()),
                resource: Some(&c.resource),
                resource_data: Some(ResourceData {
                    odata_type: &c.odata_type,
                    odata_id: &c.resource,
                    id: &c.id,
                }),
                ..base(Some(format!("{seq}-{i}")))
            });
        }
    }
    serde_json::to_vec(&Collection { value }).unwrap_or_default()
}
