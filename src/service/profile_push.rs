//! Profile assignment at Apple (issue 4 item 5): `updateDeviceProfileAssignment` and newly
//! synced devices queue per-serial assignments; a push defines the profile at Apple for the
//! token once (again only when its definition changed), assigns it in batches of at most 1,000
//! serials and records Apple's per-serial result on the queue row.
//!
//! Pushes run in the background, never inside the HTTP request: Intune answers
//! `updateDeviceProfileAssignment` with 204 at once and applies it at Apple later, and Apple may
//! throttle or fail any serial for minutes to hours, which a request cannot wait out. The request
//! records the assignment and its queue rows in one transaction, answers 204 and kicks a push;
//! the background worker (`sync::scheduler`) retries whatever is still due, so a crash or a
//! restart loses nothing. One push per token at a time, across instances, through a lease.
//!
//! Retries: `THROTTLED` waits Apple's `retry_after_seconds` (else the backoff); `FAILED`, a
//! serial missing from Apple's answer, transport errors, 429 (honouring `Retry-After`) and 5xx
//! back off exponentially from `assign_retry_secs` up to a day; `NOT_ACCESSIBLE` (the serial is
//! not on this token's Apple MDM server) and `NOT_FOUND` are final. A token without an uploaded
//! server token records `NO_SERVER_TOKEN`; uploading one makes those rows due.

mod enrollment;
mod lease;
mod outcome;
mod queue;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};

use uuid::Uuid;

use super::audit::{Audit, DEVICE, PROFILE, assignment_status};
use super::lease::{heartbeat, lease_until};
use super::{ServiceError, Services, dep_tokens};
use crate::apple::DepApi;
use crate::apple::client::ClientOptions;
use crate::apple::profile::dep_profile_from_graph;
use crate::apple::types::serial_status;
use crate::domain::ids::{ProfileId, SettingId, TenantId};
use crate::storage::profile_push::{
    self as repo, AppleProfile, Assignment, NO_SERVER_TOKEN, Outcome, PROFILE_DELETED,
};
use crate::storage::profiles;
pub use enrollment::{NO_ENROLLMENT_URL, enrollment_url};
use lease::Lease;
use outcome::{call_failed, digest, is_profile_not_found, serial_outcome, settled};
pub use queue::enqueue_in;

/// Apple's limit of serials per `/profile/devices` call.
pub const MAX_SERIALS_PER_CALL: usize = 1000;
/// Rounds of one push (rows that became due while it ran are served by the next round).
const MAX_ROUNDS: usize = 5;
/// After this many pushes a serial is left with its last result.
pub const MAX_ATTEMPTS: i32 = 12;
/// The longest wait between two pushes of a serial (Apple's cooldown guidance: up to 24 h).
const MAX_BACKOFF_SECS: u64 = 24 * 3600;

/// This process's id in push lease owners.
static INSTANCE: LazyLock<Uuid> = LazyLock::new(Uuid::new_v4);

/// Starts a push of the token's due assignments in the background (tracked, so shutdown waits
/// for it to stop between batches; during shutdown the rows stay due for the next instance).
pub fn kick(svc: &Services, tenant: TenantId, setting: &SettingId) {
    svc.background
        .spawn(push_logged(svc.clone(), tenant, setting.clone()));
}

/// [`push_token`], its failure logged (a background task has no caller to tell).
async fn push_logged(svc: Services, tenant: TenantId, setting: SettingId) {
    if let Err(e) = push_token(&svc, tenant, &setting).await {
        tracing::warn!(%tenant, %setting, error = %e, "profile push failed");
    }
}

/// Pushes every token with due assignments, one at a time (the background worker's round).
pub async fn push_due(svc: &Services) -> Result<(), ServiceError> {
    let now = svc.clock.now_ticks();
    let due = svc
        .db
        .run(move |c| repo::due_tokens(c, now).map_err(ServiceError::from))
        .await?;
    for (tenant, setting) in due {
        if svc.background.is_stopping() {
            break;
        }
        // One token's failure must not starve the others.
        if let Err(e) = push_token(svc, tenant, &setting).await {
            tracing::warn!(%tenant, %setting, error = %e, "profile push failed");
        }
    }
    Ok(())
}

/// Pushes a token's due assignments if its push lease can be had; returns whether it ran.
pub async fn push_token(
    svc: &Services,
    tenant: TenantId,
    setting: &SettingId,
) -> Result<bool, ServiceError> {
    let lease = Lease {
        tenant,
        setting: setting.clone(),
        owner: Arc::from(format!("{}/{}", *INSTANCE, Uuid::new_v4())),
    };
    let now = svc.clock.now_ticks();
    let until = lease_until(svc);
    let claim = lease.clone();
    let claimed = svc
        .db
        .write(tenant, now, move |c| {
            Ok::<_, ServiceError>(claim.claim(c, now, until)?)
        })
        .await?;
    if !claimed {
        return Ok(false);
    }
    let renew = lease.clone();
    let beat = heartbeat(svc, tenant, "profile push", move |c, until| {
        renew.renew(c, until)
    });
    let push = Push {
        svc,
        lease: lease.clone(),
        client: None,
    };
    let attributes = super::trace_ids(tenant, setting);
    let result = svc.spans.root("profile push", attributes, push.run()).await;
    drop(beat);
    svc.db
        .write(tenant, svc.clock.now_ticks(), move |c| {
            lease.release(c).map_err(ServiceError::from)
        })
        .await?;
    result.map(|()| true)
}

/// One push run of one token, holding its lease.
struct Push<'a> {
    svc: &'a Services,
    lease: Lease,
    client: Option<Arc<dyn DepApi>>,
}

impl Push<'_> {
    async fn run(mut self) -> Result<(), ServiceError> {
        for _ in 0..MAX_ROUNDS {
            let svc = self.svc.clone();
            let Lease {
                tenant,
                setting: key,
                ..
            } = self.lease.clone();
            let now = self.svc.clock.now_ticks();
            let (rows, creds) = self
                .svc
                .db
                .run(move |c| {
                    let rows = repo::due(c, tenant, &key, now)?;
                    let creds = if rows.is_empty() {
                        None
                    } else {
                        dep_tokens::credentials(&svc, c, tenant, &key)?.map(|(creds, _)| creds)
                    };
                    Ok::<_, ServiceError>((rows, creds))
                })
                .await?;
            if rows.is_empty() {
                return Ok(());
            }
            let mut by_profile: BTreeMap<String, Vec<Assignment>> = BTreeMap::new();
            for row in rows {
                by_profile
                    .entry(row.profile_id.clone())
                    .or_default()
                    .push(row);
            }
            let Some(creds) = creds else {
                for rows in by_profile.values() {
                    self.record_all(rows, |_| settled(NO_SERVER_TOKEN)).await?;
                }
                return Ok(());
            };
            if self.client.is_none() {
                // Retries are the queue's job: one retry inline at most, honouring Retry-After.
                let options = ClientOptions {
                    max_retries: 1,
                    ..ClientOptions::default()
                };
                self.client = Some(self.svc.apple.connect(creds, options));
            }
            for (profile, rows) in &by_profile {
                // A queued id that is not `{setting}_{guid}` names no stored profile.
                let Some(profile) = ProfileId::parse(profile) else {
                    self.record_all(rows, |_| settled(PROFILE_DELETED)).await?;
                    continue;
                };
                if !self.push_profile(&profile, rows).await? {
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    fn client(&self) -> Result<&dyn DepApi, ServiceError> {
        self.client.as_deref().ok_or_else(|| {
            ServiceError::Internal(anyhow::anyhow!("profile push without an Apple client"))
        })
    }

    /// Defines (if needed) and assigns one profile to its due rows; false when the lease was
    /// lost and the run must stop.
    async fn push_profile(
        &self,
        profile_id: &ProfileId,
        rows: &[Assignment],
    ) -> Result<bool, ServiceError> {
        let Lease {
            tenant,
            setting: key,
            ..
        } = self.lease.clone();
        let id = profile_id.clone();
        let (record, stored) = self
            .svc
            .db
            .run(move |c| {
                let record = profiles::get(c, tenant, &key, &id)?;
                Ok::<_, ServiceError>((record, repo::apple_profile(c, tenant, &key, &id)?))
            })
            .await?;
        let Some(record) = record else {
            self.record_all(rows, |_| settled(PROFILE_DELETED)).await?;
            return Ok(true);
        };
        // The current setting, not the profile's stored `configurationEndpointUrl`: a changed
        // URL changes the digest, so the profile is defined again with it.
        let Ok(template) = enrollment_url(self.svc) else {
            self.record_all(rows, |_| settled(NO_ENROLLMENT_URL))
                .await?;
            return Ok(true);
        };
        let url = template.render(self.lease.setting.as_str(), profile_id.as_str());
        let definition = dep_profile_from_graph(&record.odata_type, &record.properties, &url);
        let digest = digest(&definition);
        let uuid = match stored {
            Some(p) if p.digest == digest => p.profile_uuid,
            _ => match self.client()?.define_profile(&definition).await {
                Ok(defined) => {
                    let stored = AppleProfile {
                        profile_uuid: defined.profile_uuid,
                        digest,
                    };
                    let Lease {
                        tenant,
                        setting: key,
                        ..
                    } = self.lease.clone();
                    let id = profile_id.clone();
                    let keep = stored.clone();
                    let now = self.svc.clock.now_ticks();
                    self.svc
                        .db
                        .write(tenant, now, move |c| {
                            repo::put_apple_profile(c, tenant, &key, &id, &keep, now)
                                .map_err(ServiceError::from)
                        })
                        .await?;
                    stored.profile_uuid
                }
                Err(e) => {
                    let Lease {
                        tenant, setting, ..
                    } = &self.lease;
                    tracing::warn!(%tenant, %setting, profile = %profile_id.as_str(), error = %e, "defining a profile at Apple failed");
                    let base = self.svc.assign_retry_secs;
                    let now = self.svc.clock.now_ticks();
                    self.record_all(rows, |row| call_failed(row, &e, base, now))
                        .await?;
                    return Ok(true);
                }
            },
        };
        self.assign(profile_id, &uuid, rows).await
    }

    /// Assigns Apple profile `uuid` to the rows in batches of at most 1,000 serials, recording
    /// each batch's results; false when the lease was lost or shutdown began.
    async fn assign(
        &self,
        profile_id: &ProfileId,
        uuid: &str,
        rows: &[Assignment],
    ) -> Result<bool, ServiceError> {
        let Lease {
            tenant, setting, ..
        } = &self.lease;
        for batch in rows.chunks(MAX_SERIALS_PER_CALL) {
            if self.svc.background.is_stopping() {
                // A safe point between batches: the rest stays due for the next instance.
                return Ok(false);
            }
            let serials: Vec<String> = batch.iter().map(|r| r.serial_number.clone()).collect();
            let base = self.svc.assign_retry_secs;
            let answer = self.client()?.assign_profile(uuid, &serials).await;
            // Backoff counts from when Apple answered.
            let now = self.svc.clock.now_ticks();
            let outcomes: Vec<(&Assignment, Outcome)> = match answer {
                Ok(answer) => batch
                    .iter()
                    .map(|row| {
                        let status = serial_status(&answer.devices, &row.serial_number);
                        (
                            row,
                            serial_outcome(
                                row,
                                status,
                                uuid,
                                answer.retry_after_seconds,
                                base,
                                now,
                            ),
                        )
                    })
                    .collect(),
                Err(e) => {
                    tracing::warn!(%tenant, %setting, profile = %profile_id.as_str(), error = %e, "assigning a profile at Apple failed");
                    if is_profile_not_found(&e) {
                        // Apple no longer knows the UUID: define the profile again.
                        let Lease {
                            tenant,
                            setting: key,
                            ..
                        } = self.lease.clone();
                        let id = profile_id.clone();
                        self.svc
                            .db
                            .write(tenant, now, move |c| {
                                repo::forget_apple_profile(c, tenant, &key, &id)
                                    .map_err(ServiceError::from)
                            })
                            .await?;
                    }
                    batch
                        .iter()
                        .map(|row| (row, call_failed(row, &e, base, now)))
                        .collect()
                }
            };
            if !self.record(outcomes).await? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    async fn record_all(
        &self,
        rows: &[Assignment],
        outcome: impl Fn(&Assignment) -> Outcome,
    ) -> Result<bool, ServiceError> {
        let outcomes = rows.iter().map(|row| (row, outcome(row))).collect();
        self.record(outcomes).await
    }

    /// Records outcomes and renews the lease in one transaction; false when the lease was lost
    /// (the outcomes are Apple's answers and are recorded all the same).
    async fn record(&self, outcomes: Vec<(&Assignment, Outcome)>) -> Result<bool, ServiceError> {
        let pairs: Vec<(Assignment, Outcome)> = outcomes
            .into_iter()
            .map(|(row, o)| (row.clone(), o))
            .collect();
        let lease = self.lease.clone();
        let now = self.svc.clock.now_ticks();
        let until = lease_until(self.svc);
        // Apple refusing (or failing) an assignment is an event of the trail, by the gateway.
        let audit = Audit::new("Assign", PROFILE).failed();
        self.svc
            .audited(lease.tenant, audit, move |c, audit| {
                let refs: Vec<(&Assignment, Outcome)> =
                    pairs.iter().map(|(row, o)| (row, o.clone())).collect();
                repo::record(c, lease.tenant, &lease.setting, &refs, now)?;
                for (row, o) in refs.iter().filter(|(_, o)| o.status != "SUCCESS") {
                    let change = assignment_status(row, o);
                    audit.resource_of(DEVICE, &row.serial_number, Some(&row.serial_number), change);
                }
                Ok::<_, ServiceError>(lease.renew(c, until)?)
            })
            .await
    }
}
