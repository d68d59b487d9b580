//! Assignment pushes against the fake Apple, on a real SQLite database and a fake clock:
//! batches of at most 1,000 serials, `THROTTLED` waiting exactly Apple's `retry_after_seconds`,
//! `FAILED` backing off doubling up to the cap, `NOT_ACCESSIBLE` final, and the push lease of a
//! crashed owner taken over only once it expired.

use std::collections::HashMap;
use std::time::Duration;

use super::{MAX_ATTEMPTS, MAX_BACKOFF_SECS, enqueue_in, push_due, push_token};
use crate::apple::types::DeviceStatus;
use crate::clock::Clock;
use crate::domain::ids::ProfileId;
use crate::domain::time::{TICKS_PER_SECOND, secs_to_ticks};
use crate::service::test_support::Env;
use crate::storage::profile_push::{self as repo, Assignment};

/// Queues `profile` for `serials` as `updateDeviceProfileAssignment` does.
async fn enqueue(env: &Env, profile: &str, serials: &[String]) {
    let profile = ProfileId::parse(profile).expect("a profile id");
    let (tenant, setting) = (env.tenant, env.setting.clone());
    let (serials, now) = (serials.to_vec(), env.clock.now_ticks());
    env.read(move |c| enqueue_in(c, tenant, &setting, &serials, &profile, now))
        .await;
}

async fn rows(env: &Env) -> HashMap<String, Assignment> {
    let (tenant, setting) = (env.tenant, env.setting.clone());
    env.read(move |c| repo::list(c, tenant, &setting))
        .await
        .into_iter()
        .map(|r| (r.serial_number.clone(), r))
        .collect()
}

fn serials(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("C02PUSH{i:05}")).collect()
}

/// Seconds from now until the row is due.
fn due_in(env: &Env, row: &Assignment) -> Option<i64> {
    row.next_attempt_ticks
        .map(|t| (t - env.clock.now_ticks()) / TICKS_PER_SECOND)
}

async fn worker_round(env: &Env) {
    push_due(&env.svc).await.expect("push round");
}

#[tokio::test]
async fn assignments_go_out_in_batches_of_at_most_1000_after_one_definition() {
    let env = Env::new().await;
    let profile = env.profile("Fleet").await;
    let all = serials(2500);
    enqueue(&env, &profile, &all).await;
    assert!(
        push_token(&env.svc, env.tenant, &env.setting)
            .await
            .unwrap()
    );
    assert_eq!(
        env.apple.calls(""),
        [
            "define Fleet",
            "assign P1 1000",
            "assign P1 1000",
            "assign P1 500"
        ]
    );
    let done = rows(&env).await;
    assert_eq!(done.len(), 2500);
    assert!(done.values().all(|r| r.status == "SUCCESS"
        && r.next_attempt_ticks.is_none()
        && r.profile_uuid.as_deref() == Some("P1")));
    // A second push of the same profile does not define it again.
    enqueue(&env, &profile, &all[..1]).await;
    worker_round(&env).await;
    assert_eq!(env.apple.calls("define").len(), 1);
    assert_eq!(env.apple.calls("assign").len(), 4);
}

#[tokio::test]
async fn throttled_serials_wait_for_apples_retry_after_and_not_a_tick_less() {
    let env = Env::new().await;
    let profile = env.profile("Cool").await;
    let all = serials(3);
    {
        let mut apple = env.apple.state();
        apple
            .outcomes
            .insert(all[0].clone(), DeviceStatus::Throttled);
        apple.retry_after = Some(900);
    }
    enqueue(&env, &profile, &all).await;
    worker_round(&env).await;
    let first = rows(&env).await;
    assert_eq!(first[&all[0]].status, "THROTTLED");
    assert_eq!(due_in(&env, &first[&all[0]]), Some(900));
    assert_eq!(first[&all[1]].status, "SUCCESS");

    {
        let mut apple = env.apple.state();
        apple.outcomes.clear();
        apple.retry_after = None;
    }
    env.advance(Duration::from_secs(899));
    worker_round(&env).await;
    assert_eq!(
        env.apple.calls("assign").len(),
        1,
        "not before Apple's cooldown"
    );
    env.advance(Duration::from_secs(1));
    worker_round(&env).await;
    assert_eq!(env.apple.calls("assign"), ["assign P1 3", "assign P1 1"]);
    let done = rows(&env).await;
    assert_eq!(done[&all[0]].status, "SUCCESS");
    assert_eq!(done[&all[0]].attempts, 2);
}

#[tokio::test]
async fn failed_serials_back_off_doubling_up_to_the_cap_then_stop() {
    let env = Env::new().await;
    let mut svc = env.svc.clone();
    svc.assign_retry_secs = 3600;
    let profile = env.profile("Flaky").await;
    let one = serials(1);
    env.apple
        .state()
        .outcomes
        .insert(one[0].clone(), DeviceStatus::Failed);
    enqueue(&env, &profile, &one).await;
    push_due(&svc).await.unwrap();
    let mut waits = Vec::new();
    while let Some(wait) = due_in(&env, &rows(&env).await[&one[0]]) {
        waits.push(wait);
        let calls = env.apple.calls("assign").len();
        env.advance(Duration::from_secs(u64::try_from(wait - 1).unwrap()));
        push_due(&svc).await.unwrap();
        assert_eq!(env.apple.calls("assign").len(), calls, "retried early");
        env.advance(Duration::from_secs(1));
        push_due(&svc).await.unwrap();
        assert_eq!(
            env.apple.calls("assign").len(),
            calls + 1,
            "retried when due"
        );
    }
    let cap = i64::try_from(MAX_BACKOFF_SECS).unwrap();
    let mut expected = vec![3600, 7200, 14_400, 28_800, 57_600];
    expected.resize(usize::try_from(MAX_ATTEMPTS).unwrap() - 1, cap);
    assert_eq!(waits, expected);
    let last = &rows(&env).await[&one[0]];
    assert_eq!(
        (last.status.as_str(), last.attempts),
        ("FAILED", MAX_ATTEMPTS)
    );
}

#[tokio::test]
async fn not_accessible_is_final() {
    let env = Env::new().await;
    let profile = env.profile("Gone").await;
    let all = serials(2);
    env.apple
        .state()
        .outcomes
        .insert(all[0].clone(), DeviceStatus::NotAccessible);
    enqueue(&env, &profile, &all).await;
    worker_round(&env).await;
    let done = rows(&env).await;
    assert_eq!(done[&all[0]].status, "NOT_ACCESSIBLE");
    assert_eq!(done[&all[0]].next_attempt_ticks, None);
    env.advance(Duration::from_secs(MAX_BACKOFF_SECS * 2));
    worker_round(&env).await;
    assert_eq!(env.apple.calls("assign").len(), 1, "never retried");
    assert_eq!(rows(&env).await[&all[0]].attempts, 1);
}

#[tokio::test]
async fn a_crashed_pushers_lease_is_taken_over_once_it_expires_not_before() {
    let env = Env::new().await;
    let profile = env.profile("Later").await;
    enqueue(&env, &profile, &serials(1)).await;
    let (tenant, setting) = (env.tenant, env.setting.clone());
    let now = env.clock.now_ticks();
    let until = now + secs_to_ticks(30);
    assert!(
        env.read(move |c| repo::claim(c, tenant, &setting, "crashed/run", now, until))
            .await
    );
    worker_round(&env).await;
    env.advance(Duration::from_secs(30));
    worker_round(&env).await;
    assert!(env.apple.calls("").is_empty(), "the lease is live");
    env.advance(Duration::from_millis(1));
    worker_round(&env).await;
    assert_eq!(env.apple.calls(""), ["define Later", "assign P1 1"]);
}

#[tokio::test]
async fn without_an_enrollment_url_queued_rows_settle_and_apple_is_not_called() {
    // Assignments are refused without the URL; rows queued before a restart without it (or by
    // a sync, for a default set earlier) must not reach Apple with no URL.
    let mut env = Env::new().await;
    env.svc.enrollment_url = None;
    let profile = env.profile("Fleet").await;
    enqueue(&env, &profile, &serials(3)).await;
    worker_round(&env).await;
    assert!(env.apple.calls("").is_empty(), "{:?}", env.apple.calls(""));
    let done = rows(&env).await;
    assert_eq!(done.len(), 3);
    assert!(
        done.values()
            .all(|r| r.status == super::NO_ENROLLMENT_URL && r.next_attempt_ticks.is_none()),
        "{done:?}"
    );
}
