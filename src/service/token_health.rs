//! Token lifecycle: which DEP and VPP tokens need an operator (expiring, expired, Apple's terms
//! not signed, syncs failing), the periodic check that warns about each once per crossing, the
//! report behind the `dep-gateway tokens` CLI, and the values the metrics endpoint reads at
//! scrape time.
//!
//! "Once per crossing" is kept in the database (`token_warnings`): a warning is issued by the
//! instance whose transaction records it first, and forgotten when its condition stops holding
//! (a renewed token, a successful sync), which re-arms it. Expiry warnings name the expiration
//! they are about, so a renewed token is warned about again a year later.

mod report;

pub use report::{TokenLine, TokenStatus, report, report_in_database};

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use super::audit;
use super::{ServiceError, Services};
use crate::config::TokenWarningSettings;
use crate::domain::ids::TenantId;
use crate::domain::time::{TICKS_PER_SECOND, UNSET_TICKS, format_ticks};
use crate::storage::audit::AuditProperty;
use crate::storage::token_health::{self as repo, DepTokenRow, VppTokenRow};
use crate::telemetry::metrics::{PoolStats, Snapshot, TokenGauges};

/// Pause before the warning worker is started again after a panic.
const RESTART_PAUSE: Duration = Duration::from_secs(1);
const TICKS_PER_DAY: i64 = 86_400 * TICKS_PER_SECOND;
/// `lastSyncErrorCode` of a sync Apple refused because its terms and conditions are not signed.
const TERMS_NOT_SIGNED: i32 = 403;

/// A token kind, as labels and the CLI spell it.
pub const DEP: &str = "dep";
/// A token kind, as labels and the CLI spell it.
pub const VPP: &str = "vpp";

/// A warning the check issued.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Issued {
    /// The token's tenant.
    pub tenant: TenantId,
    /// [`DEP`] or [`VPP`].
    pub kind: &'static str,
    /// The token id.
    pub token: String,
    /// The warning's label: `expires_<N>d`, `expired`, `terms_not_signed`, `sync_failing`.
    pub warning: String,
}

/// The warnings whose conditions hold for one token at `now`: (stored key, label). Pure, so the
/// thresholds are tested without a clock or a database.
pub fn active(
    settings: &TokenWarningSettings,
    expiration: i64,
    last_error: Option<i32>,
    failures: i32,
    now: i64,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if expiration != UNSET_TICKS {
        if expiration <= now {
            out.push((format!("expired@{expiration}"), "expired".to_owned()));
        } else {
            for days in &settings.expiry_days {
                if expiration - now <= i64::from(*days) * TICKS_PER_DAY {
                    let label = format!("expires_{days}d");
                    out.push((format!("{label}@{expiration}"), label));
                }
            }
        }
    }
    if last_error == Some(TERMS_NOT_SIGNED) {
        out.push(("terms_not_signed".to_owned(), "terms_not_signed".to_owned()));
    }
    if settings.failed_syncs > 0 && i64::from(failures) >= i64::from(settings.failed_syncs) {
        out.push(("sync_failing".to_owned(), "sync_failing".to_owned()));
    }
    out
}

type Key = (TenantId, String, String, String);
/// Per tenant: the warnings to record (with their labels) and those to forget.
type TenantWork = (Vec<(Key, String)>, Vec<Key>);

fn conditions(
    settings: &TokenWarningSettings,
    deps: &[DepTokenRow],
    vpps: &[VppTokenRow],
    now: i64,
) -> BTreeMap<Key, String> {
    let mut out = BTreeMap::new();
    for d in deps {
        for (key, label) in active(settings, d.expiration, Some(d.last_error), d.failures, now) {
            out.insert((d.tenant, DEP.to_owned(), d.id.clone(), key), label);
        }
    }
    for v in vpps {
        for (key, label) in active(settings, v.expiration, None, 0, now) {
            out.insert((v.tenant, VPP.to_owned(), v.id.clone(), key), label);
        }
    }
    out
}

/// One check of every tenant's tokens: records and returns the warnings newly crossed, forgets
/// those no longer holding. Each issued warning is logged and counted here, once.
pub async fn check(svc: &Services) -> Result<Vec<Issued>, ServiceError> {
    let now = svc.clock.now_ticks();
    let (deps, vpps, warned) = svc
        .db
        .run(|c| {
            Ok::<_, ServiceError>((
                repo::dep_tokens(c, None)?,
                repo::vpp_tokens(c, None)?,
                repo::warned(c, None)?,
            ))
        })
        .await?;
    let holding = conditions(&svc.token_warnings, &deps, &vpps, now);
    let warned: BTreeSet<Key> = warned.into_iter().collect();
    let mut per_tenant: BTreeMap<TenantId, TenantWork> = BTreeMap::new();
    for (key, label) in &holding {
        if !warned.contains(key) {
            per_tenant
                .entry(key.0)
                .or_default()
                .0
                .push((key.clone(), label.clone()));
        }
    }
    for key in warned.iter().filter(|k| !holding.contains_key(*k)) {
        per_tenant.entry(key.0).or_default().1.push(key.clone());
    }
    let mut issued = Vec::new();
    for (tenant, (new, stale)) in per_tenant {
        let mine = svc
            .db
            .write(tenant, svc.clock.now_ticks(), move |c| {
                let mut mine = Vec::new();
                for ((t, kind, id, key), label) in new {
                    if repo::mark_warned(c, t, &kind, &id, &key, now)? {
                        mine.push((kind, id, label));
                    }
                }
                for (t, kind, id, key) in stale {
                    repo::forget_warning(c, t, &kind, &id, &key)?;
                }
                Ok::<_, ServiceError>(mine)
            })
            .await?;
        issued.extend(mine.into_iter().map(|(kind, token, warning)| Issued {
            tenant,
            kind: if kind == VPP { VPP } else { DEP },
            token,
            warning,
        }));
    }
    let issued = tightest(&issued);
    for w in &issued {
        announce(svc, w, &deps, &vpps).await;
    }
    Ok(issued)
}

/// Of the expiry thresholds a token crossed at once (first seen 5 days before expiry crosses
/// 30, 14 and 7), only the tightest is announced; all are recorded.
fn tightest(issued: &[Issued]) -> Vec<Issued> {
    let days = |w: &Issued| {
        w.warning
            .strip_prefix("expires_")
            .and_then(|d| d.trim_end_matches('d').parse::<u32>().ok())
    };
    let mut best: BTreeMap<(TenantId, &str, String), u32> = BTreeMap::new();
    for w in issued {
        if let Some(d) = days(w) {
            let slot = best.entry((w.tenant, w.kind, w.token.clone())).or_insert(d);
            *slot = (*slot).min(d);
        }
    }
    let mut out: Vec<Issued> = issued
        .iter()
        .filter(|w| {
            days(w).is_none_or(|d| best.get(&(w.tenant, w.kind, w.token.clone())) == Some(&d))
        })
        .cloned()
        .collect();
    out.sort();
    out
}

/// Logs, counts and audits one warning (the gateway is the actor). The change notification,
/// still to come, is emitted here too.
async fn announce(svc: &Services, w: &Issued, deps: &[DepTokenRow], vpps: &[VppTokenRow]) {
    let expiration = if w.kind == DEP {
        deps.iter()
            .find(|d| d.tenant == w.tenant && d.id == w.token)
            .map(|d| d.expiration)
    } else {
        vpps.iter()
            .find(|v| v.tenant == w.tenant && v.id == w.token)
            .map(|v| v.expiration)
    };
    tracing::warn!(
        tenant = %w.tenant,
        kind = w.kind,
        token = %w.token,
        warning = %w.warning,
        expires = %expiration.map(format_ticks).unwrap_or_default(),
        "token needs attention"
    );
    svc.metrics.token_warning(w.kind, &w.warning);
    let kind = if w.kind == DEP {
        audit::SETTING
    } else {
        audit::VPP_TOKEN
    };
    let mut event = audit::Audit::new("Warn", kind);
    let warning = AuditProperty {
        display_name: "TokenWarning".to_owned(),
        old_value: None,
        new_value: Some(w.warning.clone()),
    };
    let expires = AuditProperty {
        display_name: "ExpirationDateTime".to_owned(),
        old_value: None,
        new_value: expiration.map(format_ticks),
    };
    event.resource(&w.token, None, vec![warning, expires]);
    if let Err(e) = audit::record_outcome(svc, w.tenant, event).await {
        tracing::warn!(tenant = %w.tenant, error = %e, "recording a token warning in the audit trail failed");
    }
}

/// Starts the periodic lifecycle check (at once, then every `check_interval_secs` on the
/// services' clock) unless the interval is 0.
pub fn start_checker(svc: &Services) {
    let interval = svc.token_warnings.check_interval_secs;
    if interval == 0 {
        return;
    }
    let worker = svc.clone();
    svc.background
        .supervise("token warnings", RESTART_PAUSE, move || {
            let svc = worker.clone();
            async move {
                loop {
                    if let Err(e) = svc.spans.root("token health check", vec![], check(&svc)).await {
                        tracing::warn!(error = %e, "token lifecycle check failed");
                    }
                    // No `round_done`: tests count the sync and assignment workers' rounds, and
                    // an hourly check must not satisfy their "N more rounds".
                    let go_on = tokio::select! {
                        () = svc.clock.sleep(Duration::from_secs(interval)) => !svc.background.is_stopping(),
                        () = svc.background.stopping() => false,
                    };
                    if !go_on {
                        return;
                    }
                }
            }
        });
}

/// What the metrics endpoint reads at scrape time: the pool, the queue's depth, background
/// restarts and the per-token gauges (two small queries and a count). When the database does
/// not answer, the scrape still reports the pool and every counter, without the database's part.
pub async fn metrics_snapshot(svc: &Services) -> Snapshot {
    let read = svc
        .db
        .run(|c| Ok::<_, ServiceError>((repo::queue_depth(c)?, repo::dep_tokens(c, None)?)))
        .await;
    let (depth, deps) = read.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "metrics: the database part of the scrape failed");
        (0, Vec::new())
    });
    let now = svc.clock.now_ticks();
    let secs = |ticks: i64| ticks / TICKS_PER_SECOND;
    let pool = svc.db.pool_state();
    Snapshot {
        pool: PoolStats {
            max_size: pool.max_size,
            connections: pool.connections,
            in_use: pool.in_use,
            checkouts: pool.checkouts,
            checkout_wait: pool.checkout_wait,
            timeouts: pool.timeouts,
        },
        assignment_queue_depth: depth,
        background_restarts: svc.background.restarts(),
        dep_tokens: deps
            .into_iter()
            .map(|d| TokenGauges {
                tenant: d.tenant.to_string(),
                seconds_to_expiry: secs(d.expiration - now),
                last_sync_error_code: i64::from(d.last_error),
                seconds_since_sync: (d.last_sync != UNSET_TICKS).then(|| secs(now - d.last_sync)),
                token: d.id,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests;
