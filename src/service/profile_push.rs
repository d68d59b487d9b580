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

use std::collections::BTreeMap;
use std::sync::LazyLock;

use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{ServiceError, Services, apple};
use crate::apple::client::{ClientOptions, DepClient};
use crate::apple::error::AppleError;
use crate::apple::profile::dep_profile_from_graph;
use crate::apple::types::{DepProfile, DeviceStatus, serial_status};
use crate::domain::ids::TenantId;
use crate::domain::time::now_ticks;
use crate::storage::profile_push::{
    self as repo, AppleProfile, Assignment, NO_SERVER_TOKEN, Outcome, PENDING, PROFILE_DELETED,
    Queued,
};
use crate::storage::{DbConnection, apple_tokens, profiles};

/// Apple's limit of serials per `/profile/devices` call.
pub const MAX_SERIALS_PER_CALL: usize = 1000;
/// Lease of one token's push; renewed after each batch.
const LEASE_SECS: i64 = 300;
/// Rounds of one push (rows that became due while it ran are served by the next round).
const MAX_ROUNDS: usize = 5;
/// After this many pushes a serial is left with its last result.
pub const MAX_ATTEMPTS: i32 = 12;
/// The longest wait between two pushes of a serial (Apple's cooldown guidance: up to 24 h).
const MAX_BACKOFF_SECS: u64 = 24 * 3600;
const TICKS_PER_SEC: i64 = 10_000_000;

/// This process's id in push lease owners.
static INSTANCE: LazyLock<Uuid> = LazyLock::new(Uuid::new_v4);

fn ticks(secs: u64) -> i64 {
    i64::try_from(secs.min(MAX_BACKOFF_SECS)).unwrap_or(0) * TICKS_PER_SEC
}

/// Queues the assignment of `profile_id` to a token's `serials` in the caller's write
/// transaction: due at once if the token holds a server token, else recorded as
/// `NO_SERVER_TOKEN`.
pub fn enqueue_in(
    c: &mut DbConnection,
    tenant: TenantId,
    setting: &str,
    serials: &[String],
    profile_id: &str,
    now: i64,
) -> diesel::QueryResult<()> {
    let held = apple_tokens::held(c, tenant, setting)?.is_some();
    let entry = if held {
        Queued {
            profile_id,
            status: PENDING,
            next_attempt: Some(now),
        }
    } else {
        Queued {
            profile_id,
            status: NO_SERVER_TOKEN,
            next_attempt: None,
        }
    };
    repo::enqueue(c, tenant, setting, serials, &entry, now)
}

/// Starts a push of the token's due assignments in the background.
pub fn kick(svc: &Services, tenant: TenantId, setting: &str) {
    let (svc, setting) = (svc.clone(), setting.to_owned());
    tokio::spawn(async move {
        if let Err(e) = push_token(&svc, tenant, &setting).await {
            tracing::warn!(%tenant, %setting, error = %e, "profile push failed");
        }
    });
}

/// Pushes every token with due assignments, one at a time (the background worker's round).
pub async fn push_due(svc: &Services) -> Result<(), ServiceError> {
    let due = svc
        .db
        .run(|c| repo::due_tokens(c, now_ticks()).map_err(ServiceError::from))
        .await?;
    for (tenant, setting) in due {
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
    setting: &str,
) -> Result<bool, ServiceError> {
    let owner = format!("{}/{}", *INSTANCE, Uuid::new_v4());
    let (key, who) = (setting.to_owned(), owner.clone());
    let claimed = svc
        .db
        .write(tenant, move |c| {
            let now = now_ticks();
            Ok::<_, ServiceError>(repo::claim(
                c,
                tenant,
                &key,
                &who,
                now,
                now + LEASE_SECS * TICKS_PER_SEC,
            )?)
        })
        .await?;
    if !claimed {
        return Ok(false);
    }
    let result = Push {
        svc,
        tenant,
        setting,
        owner: &owner,
        client: None,
    }
    .run()
    .await;
    let key = setting.to_owned();
    svc.db
        .write(tenant, move |c| {
            repo::release(c, tenant, &key, &owner).map_err(ServiceError::from)
        })
        .await?;
    result.map(|()| true)
}

/// One push run of one token, holding its lease.
struct Push<'a> {
    svc: &'a Services,
    tenant: TenantId,
    setting: &'a str,
    owner: &'a str,
    client: Option<DepClient>,
}

impl Push<'_> {
    async fn run(mut self) -> Result<(), ServiceError> {
        for _ in 0..MAX_ROUNDS {
            let (svc, tenant, key) = (self.svc.clone(), self.tenant, self.setting.to_owned());
            let (rows, creds) = self
                .svc
                .db
                .run(move |c| {
                    let rows = repo::due(c, tenant, &key, now_ticks())?;
                    let creds = if rows.is_empty() {
                        None
                    } else {
                        apple::credentials(&svc, c, tenant, &key)?.map(|(creds, _)| creds)
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
                for (profile, rows) in &by_profile {
                    self.record_all(profile, rows, |_| settled(NO_SERVER_TOKEN))
                        .await?;
                }
                return Ok(());
            };
            if self.client.is_none() {
                // Retries are the queue's job: one retry inline at most, honouring Retry-After.
                let options = ClientOptions {
                    max_retries: 1,
                    ..ClientOptions::default()
                };
                self.client = Some(DepClient::new(
                    self.svc.http.clone(),
                    self.svc.apple_base_url.clone(),
                    creds,
                    options,
                ));
            }
            for (profile, rows) in &by_profile {
                if !self.push_profile(profile, rows).await? {
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    fn client(&self) -> &DepClient {
        self.client.as_ref().expect("client set before pushing")
    }

    /// Defines (if needed) and assigns one profile to its due rows; false when the lease was
    /// lost and the run must stop.
    async fn push_profile(
        &self,
        profile_id: &str,
        rows: &[Assignment],
    ) -> Result<bool, ServiceError> {
        let (tenant, key, id) = (self.tenant, self.setting.to_owned(), profile_id.to_owned());
        let (record, stored) = self
            .svc
            .db
            .run(move |c| {
                Ok::<_, ServiceError>((
                    profiles::get(c, tenant, &key, &id)?,
                    repo::apple_profile(c, tenant, &key, &id)?,
                ))
            })
            .await?;
        let Some(record) = record else {
            self.record_all(profile_id, rows, |_| settled(PROFILE_DELETED))
                .await?;
            return Ok(true);
        };
        let url = record
            .properties
            .get("configurationEndpointUrl")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default();
        let definition = dep_profile_from_graph(&record.odata_type, &record.properties, url);
        let digest = digest(&definition);
        let uuid = match stored {
            Some(p) if p.digest == digest => p.profile_uuid,
            _ => match self.client().define_profile(&definition).await {
                Ok(defined) => {
                    let stored = AppleProfile {
                        profile_uuid: defined.profile_uuid,
                        digest,
                    };
                    let (key, id, keep) = (
                        self.setting.to_owned(),
                        profile_id.to_owned(),
                        stored.clone(),
                    );
                    self.svc
                        .db
                        .write(tenant, move |c| {
                            repo::put_apple_profile(c, tenant, &key, &id, &keep, now_ticks())
                                .map_err(ServiceError::from)
                        })
                        .await?;
                    stored.profile_uuid
                }
                Err(e) => {
                    tracing::warn!(%tenant, setting = %self.setting, profile = %profile_id, error = %e, "defining a profile at Apple failed");
                    let base = self.svc.assign_retry_secs;
                    self.record_all(profile_id, rows, |row| call_failed(row, &e, base))
                        .await?;
                    return Ok(true);
                }
            },
        };
        for batch in rows.chunks(MAX_SERIALS_PER_CALL) {
            let serials: Vec<&str> = batch.iter().map(|r| r.serial_number.as_str()).collect();
            let base = self.svc.assign_retry_secs;
            let outcomes: Vec<(&Assignment, Outcome)> = match self
                .client()
                .assign_profile(&uuid, &serials)
                .await
            {
                Ok(answer) => batch
                    .iter()
                    .map(|row| {
                        let status = serial_status(&answer.devices, &row.serial_number);
                        (
                            row,
                            serial_outcome(row, status, &uuid, answer.retry_after_seconds, base),
                        )
                    })
                    .collect(),
                Err(e) => {
                    tracing::warn!(%tenant, setting = %self.setting, profile = %profile_id, error = %e, "assigning a profile at Apple failed");
                    if is_profile_not_found(&e) {
                        // Apple no longer knows the UUID: define the profile again.
                        let (key, id) = (self.setting.to_owned(), profile_id.to_owned());
                        self.svc
                            .db
                            .write(tenant, move |c| {
                                repo::forget_apple_profile(c, tenant, &key, &id)
                                    .map_err(ServiceError::from)
                            })
                            .await?;
                    }
                    batch
                        .iter()
                        .map(|row| (row, call_failed(row, &e, base)))
                        .collect()
                }
            };
            if !self.record(profile_id, outcomes).await? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    async fn record_all(
        &self,
        profile_id: &str,
        rows: &[Assignment],
        outcome: impl Fn(&Assignment) -> Outcome,
    ) -> Result<bool, ServiceError> {
        let outcomes = rows.iter().map(|row| (row, outcome(row))).collect();
        self.record(profile_id, outcomes).await
    }

    /// Records outcomes and renews the lease in one transaction; false when the lease was lost
    /// (the outcomes are Apple's answers and are recorded all the same).
    async fn record(
        &self,
        profile_id: &str,
        outcomes: Vec<(&Assignment, Outcome)>,
    ) -> Result<bool, ServiceError> {
        let pairs: Vec<(Assignment, Outcome)> = outcomes
            .into_iter()
            .map(|(row, o)| (row.clone(), o))
            .collect();
        let (tenant, key, id, owner) = (
            self.tenant,
            self.setting.to_owned(),
            profile_id.to_owned(),
            self.owner.to_owned(),
        );
        self.svc
            .db
            .write(tenant, move |c| {
                let refs: Vec<(&Assignment, Outcome)> =
                    pairs.iter().map(|(row, o)| (row, o.clone())).collect();
                let now = now_ticks();
                repo::record(c, tenant, &key, &id, &refs, now)?;
                Ok::<_, ServiceError>(repo::renew(
                    c,
                    tenant,
                    &key,
                    &owner,
                    now + LEASE_SECS * TICKS_PER_SEC,
                )?)
            })
            .await
    }
}

/// SHA-256 (hex) of the JSON definition sent to Apple.
fn digest(definition: &DepProfile) -> String {
    let json = serde_json::to_vec(definition).unwrap_or_default();
    hex_lower(&Sha256::digest(json))
}

fn hex_lower(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn is_profile_not_found(e: &AppleError) -> bool {
    matches!(e, AppleError::Upstream { code: Some(code), .. } if code == "PROFILE_NOT_FOUND")
}

fn settled(status: &str) -> Outcome {
    Outcome {
        status: status.to_owned(),
        attempts: 0,
        next_attempt: None,
        profile_uuid: None,
    }
}

/// The wait before push number `attempts + 1`: `base` doubled per earlier attempt, at most a day.
fn backoff_secs(base: u64, attempts: i32) -> u64 {
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(0);
    base.max(1)
        .saturating_mul(1 << doublings)
        .min(MAX_BACKOFF_SECS)
}

/// A retryable outcome after `wait` seconds, unless the serial used up its attempts.
fn retry(row: &Assignment, status: &str, wait: u64) -> Outcome {
    let attempts = row.attempts.saturating_add(1);
    Outcome {
        status: status.to_owned(),
        attempts,
        next_attempt: (attempts < MAX_ATTEMPTS).then(|| now_ticks() + ticks(wait)),
        profile_uuid: None,
    }
}

/// The outcome of one serial in Apple's answer.
fn serial_outcome(
    row: &Assignment,
    status: DeviceStatus,
    uuid: &str,
    retry_after: Option<u64>,
    base: u64,
) -> Outcome {
    let attempts = row.attempts.saturating_add(1);
    let backoff = backoff_secs(base, attempts);
    match status {
        DeviceStatus::Success => Outcome {
            status: "SUCCESS".to_owned(),
            attempts,
            next_attempt: None,
            profile_uuid: Some(uuid.to_owned()),
        },
        DeviceStatus::NotAccessible | DeviceStatus::NotFound => Outcome {
            status: if status == DeviceStatus::NotFound {
                "NOT_FOUND"
            } else {
                "NOT_ACCESSIBLE"
            }
            .to_owned(),
            attempts,
            next_attempt: None,
            profile_uuid: None,
        },
        // Apple's cooldown: wait what it asks, else back off.
        DeviceStatus::Throttled => retry(row, "THROTTLED", retry_after.unwrap_or(backoff).max(1)),
        DeviceStatus::Failed | DeviceStatus::Unknown => retry(row, "FAILED", backoff),
    }
}

/// The outcome of a serial whose whole call failed.
fn call_failed(row: &Assignment, e: &AppleError, base: u64) -> Outcome {
    let backoff = backoff_secs(base, row.attempts.saturating_add(1));
    match e {
        AppleError::RateLimited { retry_after } => {
            let asked = retry_after.map_or(0, |d| d.as_secs());
            retry(row, "THROTTLED", asked.max(backoff))
        }
        // Apple no longer knows the profile: define it again at the next round.
        e if is_profile_not_found(e) => retry(row, "FAILED", 0),
        _ => retry(row, "FAILED", backoff),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(attempts: i32) -> Assignment {
        Assignment {
            serial_number: "C02ABC".into(),
            profile_id: "s_p".into(),
            status: PENDING.into(),
            attempts,
            next_attempt_ticks: Some(0),
            profile_uuid: None,
            updated_ticks: 0,
        }
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff_secs(60, 1), 60);
        assert_eq!(backoff_secs(60, 2), 120);
        assert_eq!(backoff_secs(60, 4), 480);
        assert_eq!(backoff_secs(60, 40), MAX_BACKOFF_SECS);
        assert_eq!(backoff_secs(0, 1), 1);
    }

    #[test]
    fn final_results_are_not_retried_and_throttling_waits_what_apple_asks() {
        let now = now_ticks();
        let ok = serial_outcome(&row(0), DeviceStatus::Success, "U", None, 60);
        assert_eq!((ok.status.as_str(), ok.next_attempt), ("SUCCESS", None));
        assert_eq!(ok.profile_uuid.as_deref(), Some("U"));
        let gone = serial_outcome(&row(0), DeviceStatus::NotAccessible, "U", None, 60);
        assert_eq!(
            (gone.status.as_str(), gone.next_attempt),
            ("NOT_ACCESSIBLE", None)
        );
        let cool = serial_outcome(&row(0), DeviceStatus::Throttled, "U", Some(3600), 60);
        let wait = cool.next_attempt.unwrap() - now;
        assert!((3600 * TICKS_PER_SEC..3610 * TICKS_PER_SEC).contains(&wait));
        let failed = serial_outcome(&row(2), DeviceStatus::Failed, "U", None, 60);
        assert_eq!(failed.attempts, 3);
        let wait = failed.next_attempt.unwrap() - now;
        assert!((240 * TICKS_PER_SEC..250 * TICKS_PER_SEC).contains(&wait));
        let spent = serial_outcome(&row(MAX_ATTEMPTS - 1), DeviceStatus::Failed, "U", None, 60);
        assert_eq!(spent.next_attempt, None, "attempts used up");
    }

    #[test]
    fn a_429_waits_at_least_its_retry_after() {
        let now = now_ticks();
        let e = AppleError::RateLimited {
            retry_after: Some(std::time::Duration::from_secs(900)),
        };
        let o = call_failed(&row(0), &e, 60);
        assert_eq!(o.status, "THROTTLED");
        assert!(o.next_attempt.unwrap() - now >= 900 * TICKS_PER_SEC);
        let o = call_failed(&row(0), &AppleError::Transport("reset".into()), 60);
        assert_eq!(o.status, "FAILED");
        assert!(o.next_attempt.unwrap() - now >= 60 * TICKS_PER_SEC);
    }

    #[test]
    fn the_digest_changes_with_the_definition() {
        let a = DepProfile::new("A", "https://gw/e");
        let mut b = a.clone();
        assert_eq!(digest(&a), digest(&b));
        b.department = Some("IT".into());
        assert_ne!(digest(&a), digest(&b));
        assert_eq!(digest(&a).len(), 64);
    }
}
