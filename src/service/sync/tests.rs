//! Sync of one token against the fake Apple, on a real SQLite database and a fake clock: full
//! fetch then incremental sync, the cursor committed with each page, `EXPIRED_CURSOR` restarting
//! a full fetch, lease expiry, and a shutdown stopping a run between pages.

use std::time::Duration;

use super::sync_token;
use crate::apple::error::AppleError;
use crate::clock::Clock;
use crate::domain::time::secs_to_ticks;
use crate::service::test_support::{Env, device};
use crate::storage::{devices, onboarding_settings, sync_state};

async fn state(env: &Env) -> sync_state::SyncState {
    let (tenant, setting) = (env.tenant, env.setting.clone());
    env.read(move |c| sync_state::get(c, tenant, &setting))
        .await
        .expect("a state row")
}

/// (synced devices, `lastSyncErrorCode`).
async fn outcome(env: &Env) -> (i64, i32) {
    let (tenant, setting) = (env.tenant, env.setting.clone());
    env.read(move |c| {
        let s = onboarding_settings::get(c, tenant, &setting)?.expect("setting");
        Ok((
            devices::count_synced(c, tenant, &setting)?,
            s.last_sync_error_code,
        ))
    })
    .await
}

async fn sync(env: &Env) -> bool {
    sync_token(&env.svc, env.tenant, &env.setting)
        .await
        .expect("sync")
}

fn serials(n: usize) -> Vec<crate::apple::types::Device> {
    (0..n)
        .map(|i| device(&format!("C02TEST{i:05}"), None))
        .collect()
}

#[tokio::test]
async fn a_full_fetch_is_followed_by_incremental_syncs() {
    let env = Env::new().await;
    env.apple.state().devices = serials(5);
    assert!(sync(&env).await);
    assert_eq!(
        env.apple.calls(""),
        ["fetch -", "fetch f2", "fetch f4", "sync s0"]
    );
    let s = state(&env).await;
    assert!(s.fetch_complete);
    assert_eq!(s.cursor.as_deref(), Some("s0"));
    assert_eq!(outcome(&env).await, (5, 0));

    {
        let mut apple = env.apple.state();
        apple.changes = vec![
            device("C02NEW000001", Some("added")),
            device("C02TEST00001", Some("deleted")),
        ];
        apple.calls.clear();
    }
    assert!(sync(&env).await);
    assert_eq!(env.apple.calls(""), ["sync s0"], "no new fetch");
    assert_eq!(state(&env).await.cursor.as_deref(), Some("s2"));
    assert_eq!(outcome(&env).await, (5, 0), "one added, one deleted");
}

#[tokio::test]
async fn each_page_is_committed_with_its_cursor_and_a_failed_run_resumes_there() {
    let env = Env::new().await;
    env.apple.state().devices = serials(6);
    // The third page fails (after the client's own retries): two pages stay committed.
    env.apple
        .state()
        .fail_at
        .insert(3, AppleError::Transport("connection reset".into()));
    assert!(sync(&env).await);
    let s = state(&env).await;
    assert_eq!(s.cursor.as_deref(), Some("f4"), "the last committed page");
    assert!(!s.fetch_complete);
    let (count, code) = outcome(&env).await;
    assert_eq!(count, 4);
    assert_ne!(code, 0, "the failure is recorded");

    env.apple.state().calls.clear();
    assert!(sync(&env).await, "the lease was released");
    assert_eq!(env.apple.calls(""), ["fetch f4", "sync s0"], "resumed");
    assert_eq!(outcome(&env).await, (6, 0));
}

#[tokio::test]
async fn an_expired_cursor_restarts_with_a_full_fetch() {
    let env = Env::new().await;
    env.apple.state().devices = serials(3);
    assert!(sync(&env).await);
    env.apple.state().calls.clear();
    env.apple
        .state()
        .errors
        .push_back(AppleError::CursorExpired);
    assert!(sync(&env).await);
    assert_eq!(
        env.apple.calls(""),
        ["sync s0", "fetch -", "fetch f2", "sync s0"]
    );
    assert_eq!(outcome(&env).await, (3, 0));
    assert!(state(&env).await.fetch_complete);
}

#[tokio::test]
async fn a_crashed_owners_lease_is_taken_over_once_it_expires_not_before() {
    let env = Env::new().await;
    env.apple.state().devices = serials(1);
    let (tenant, setting) = (env.tenant, env.setting.clone());
    let now = env.clock.now_ticks();
    let until = now + secs_to_ticks(30);
    let claimed = env
        .read(move |c| {
            sync_state::ensure(c, tenant, &setting, now)?;
            sync_state::claim(c, tenant, &setting, "crashed/run", now, until)
        })
        .await;
    assert!(claimed);
    assert!(!sync(&env).await, "the lease is live");
    env.advance(Duration::from_secs(30));
    assert!(!sync(&env).await, "still live at its last tick");
    assert!(env.apple.calls("").is_empty());
    env.advance(Duration::from_millis(1));
    assert!(sync(&env).await, "expired: taken over");
    assert_eq!(outcome(&env).await, (1, 0));
}

#[tokio::test]
async fn a_shutdown_stops_the_run_between_pages_and_frees_the_lease_for_the_next_run() {
    let env = Env::new().await;
    env.apple.state().devices = serials(6);
    // The shutdown arrives while the second page is in flight.
    env.apple.state().stop_at = Some((2, env.svc.background.clone()));
    assert!(sync(&env).await);
    assert_eq!(env.apple.calls(""), ["fetch -", "fetch f2"]);
    let s = state(&env).await;
    assert_eq!(
        s.cursor.as_deref(),
        Some("f4"),
        "the page in flight is committed"
    );
    assert!(s.requested, "the interrupted run is asked for again");
    assert!(s.next_run_ticks <= env.clock.now_ticks(), "and due at once");
    assert_eq!(outcome(&env).await, (4, 0), "no error recorded");
    // Another instance (a fresh supervisor on the same database) takes over at once.
    let mut other = env.svc.clone();
    other.background = crate::background::Background::new();
    assert!(sync_token(&other, env.tenant, &env.setting).await.unwrap());
    assert_eq!(outcome(&env).await, (6, 0));
    // This instance starts nothing more.
    assert!(!sync(&env).await);
}

/// The token's lease end (ticks).
async fn lease_end(env: &Env) -> i64 {
    let (tenant, setting) = (env.tenant, env.setting.clone());
    env.read(move |c| sync_state::lease(c, tenant, &setting))
        .await
        .map_or(0, |(_, until)| until)
}

/// Waits (5 s of real time at most) until `check` holds; the fake Apple and the heartbeat run
/// on other tasks and the database on the blocking pool.
async fn until<F: std::future::Future<Output = bool>>(mut check: impl FnMut() -> F) {
    tokio::time::timeout(Duration::from_secs(5), async {
        while !check().await {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the condition held in time");
}

#[tokio::test]
async fn a_heartbeat_keeps_a_slow_runs_short_lease_and_a_sync_asked_for_meanwhile_runs_after() {
    let env = Env::new().await;
    env.apple.state().devices = serials(1);
    let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(0));
    // Apple takes its time over the first page.
    env.apple.state().hold_at = Some((1, gate.clone()));
    let (svc, tenant, setting) = (env.svc.clone(), env.tenant, env.setting.clone());
    let slow = tokio::spawn(async move { sync_token(&svc, tenant, &setting).await });
    until(|| async { env.apple.calls("").len() == 1 && env.clock.sleepers() == 1 }).await;
    // 40 s pass on a 30 s lease: each third of it, the heartbeat extends it.
    for _ in 0..4 {
        let before = lease_end(&env).await;
        env.advance(Duration::from_secs(10));
        // Renewed, and the heartbeat waits for its next beat (only then may time move on).
        until(|| async {
            lease_end(&env).await == before + secs_to_ticks(10) && env.clock.sleepers() == 1
        })
        .await;
    }
    assert_eq!(
        lease_end(&env).await,
        env.clock.now_ticks() + secs_to_ticks(30)
    );
    // Another instance is asked to sync meanwhile: the lease is live, the request stays.
    let mut other = env.svc.clone();
    other.background = crate::background::Background::new();
    let (tenant, setting) = (env.tenant, env.setting.clone());
    env.read(move |c| sync_state::request(c, tenant, &setting))
        .await;
    assert!(!sync_token(&other, env.tenant, &env.setting).await.unwrap());
    gate.add_permits(1);
    assert!(slow.await.unwrap().unwrap());
    // The holder served the request with a second run as soon as its own ended.
    assert_eq!(env.apple.calls(""), ["fetch -", "sync s0", "sync s0"]);
    assert!(!state(&env).await.requested);
    assert_eq!(outcome(&env).await, (1, 0));
}
