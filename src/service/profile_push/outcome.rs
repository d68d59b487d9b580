//! What a push records per serial: Apple's final results, and for retryable ones when to try
//! again (`THROTTLED` waits Apple's `retry_after_seconds`, `FAILED` and failed calls back off
//! doubling from `assign_retry_secs` to a day). Pure arithmetic over an explicit `now`, so the
//! backoff is tested without a clock.

use sha2::{Digest, Sha256};

use super::{MAX_ATTEMPTS, MAX_BACKOFF_SECS};
use crate::apple::error::AppleError;
use crate::apple::types::{DepProfile, DeviceStatus};
use crate::domain::time::secs_to_ticks;
use crate::storage::profile_push::{Assignment, Outcome};

/// `secs` (at most the longest backoff) in ticks.
fn ticks(secs: u64) -> i64 {
    secs_to_ticks(secs.min(MAX_BACKOFF_SECS))
}

/// SHA-256 (hex) of the JSON definition sent to Apple.
pub(super) fn digest(definition: &DepProfile) -> String {
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

pub(super) fn is_profile_not_found(e: &AppleError) -> bool {
    matches!(e, AppleError::Upstream { code: Some(code), .. } if code == "PROFILE_NOT_FOUND")
}

pub(super) fn settled(status: &str) -> Outcome {
    Outcome {
        status: status.to_owned(),
        attempts: 0,
        next_attempt: None,
        profile_uuid: None,
    }
}

/// The wait before push number `attempts + 1`: `base` doubled per earlier attempt, at most a day.
pub(super) fn backoff_secs(base: u64, attempts: i32) -> u64 {
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(0);
    base.max(1)
        .saturating_mul(1 << doublings)
        .min(MAX_BACKOFF_SECS)
}

/// A retryable outcome after `wait` seconds, unless the serial used up its attempts.
fn retry(row: &Assignment, status: &str, wait: u64, now: i64) -> Outcome {
    let attempts = row.attempts.saturating_add(1);
    Outcome {
        status: status.to_owned(),
        attempts,
        next_attempt: (attempts < MAX_ATTEMPTS).then(|| now.saturating_add(ticks(wait))),
        profile_uuid: None,
    }
}

/// The outcome of one serial in Apple's answer.
pub(super) fn serial_outcome(
    row: &Assignment,
    status: DeviceStatus,
    uuid: &str,
    retry_after: Option<u64>,
    base: u64,
    now: i64,
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
        DeviceStatus::Throttled => {
            retry(row, "THROTTLED", retry_after.unwrap_or(backoff).max(1), now)
        }
        DeviceStatus::Failed | DeviceStatus::Unknown => retry(row, "FAILED", backoff, now),
    }
}

/// The outcome of a serial whose whole call failed.
pub(super) fn call_failed(row: &Assignment, e: &AppleError, base: u64, now: i64) -> Outcome {
    let backoff = backoff_secs(base, row.attempts.saturating_add(1));
    match e {
        AppleError::RateLimited { retry_after } => {
            let asked = retry_after.map_or(0, |d| d.as_secs());
            retry(row, "THROTTLED", asked.max(backoff), now)
        }
        // Apple no longer knows the profile: define it again at the next round.
        e if is_profile_not_found(e) => retry(row, "FAILED", 0, now),
        _ => retry(row, "FAILED", backoff, now),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::time::TICKS_PER_SECOND as TICKS_PER_SEC;
    use crate::storage::profile_push::PENDING;

    /// Any fixed time: the arithmetic is relative to it.
    const NOW: i64 = 1_000 * TICKS_PER_SEC;

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
        let now = NOW;
        let ok = serial_outcome(&row(0), DeviceStatus::Success, "U", None, 60, now);
        assert_eq!((ok.status.as_str(), ok.next_attempt), ("SUCCESS", None));
        assert_eq!(ok.profile_uuid.as_deref(), Some("U"));
        let gone = serial_outcome(&row(0), DeviceStatus::NotAccessible, "U", None, 60, now);
        assert_eq!(
            (gone.status.as_str(), gone.next_attempt),
            ("NOT_ACCESSIBLE", None)
        );
        let cool = serial_outcome(&row(0), DeviceStatus::Throttled, "U", Some(3600), 60, now);
        assert_eq!(cool.next_attempt.unwrap() - now, 3600 * TICKS_PER_SEC);
        let failed = serial_outcome(&row(2), DeviceStatus::Failed, "U", None, 60, now);
        assert_eq!(failed.attempts, 3);
        assert_eq!(failed.next_attempt.unwrap() - now, 240 * TICKS_PER_SEC);
        let spent = serial_outcome(
            &row(MAX_ATTEMPTS - 1),
            DeviceStatus::Failed,
            "U",
            None,
            60,
            now,
        );
        assert_eq!(spent.next_attempt, None, "attempts used up");
    }

    #[test]
    fn a_429_waits_at_least_its_retry_after() {
        let now = NOW;
        let e = AppleError::RateLimited {
            retry_after: Some(std::time::Duration::from_secs(900)),
        };
        let o = call_failed(&row(0), &e, 60, now);
        assert_eq!(o.status, "THROTTLED");
        assert_eq!(o.next_attempt.unwrap() - now, 900 * TICKS_PER_SEC);
        let o = call_failed(&row(0), &AppleError::Transport("reset".into()), 60, now);
        assert_eq!(o.status, "FAILED");
        assert_eq!(o.next_attempt.unwrap() - now, 60 * TICKS_PER_SEC);
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
