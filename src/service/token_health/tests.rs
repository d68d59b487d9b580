//! The lifecycle check on the fake clock: each warning once per crossing, re-armed when its
//! condition stops holding, and counted in the metrics.

use std::time::Duration;

use super::{DEP, Issued, active, check};
use crate::apple::error::AppleError;
use crate::clock::Clock;
use crate::config::TokenWarningSettings;
use crate::domain::time::{TICKS_PER_SECOND, UNSET_TICKS};
use crate::service::sync::sync_token;
use crate::service::test_support::Env;
use crate::storage::{onboarding_settings, token_health};
use crate::telemetry::metrics::Snapshot;

const DAY: i64 = 86_400 * TICKS_PER_SECOND;

fn days(n: u64) -> Duration {
    Duration::from_secs(n * 86_400)
}

async fn expire_in(env: &Env, ticks_from_now: i64) {
    let (tenant, setting) = (env.tenant, env.setting.clone());
    let at = env.clock.now_ticks() + ticks_from_now;
    env.svc
        .db
        .write(tenant, env.svc.clock.now_ticks(), move |c| {
            let mut s = onboarding_settings::get(c, tenant, &setting)?.expect("setting");
            s.token_expiration_date_time = at;
            onboarding_settings::update(c, tenant, &s)?;
            Ok::<_, crate::service::ServiceError>(())
        })
        .await
        .expect("update");
}

async fn warnings(env: &Env) -> Vec<String> {
    let issued: Vec<Issued> = check(&env.svc).await.expect("check");
    issued
        .into_iter()
        .map(|w| {
            assert_eq!(
                (w.tenant, w.kind, w.token.as_str()),
                (env.tenant, DEP, env.setting.as_str())
            );
            w.warning
        })
        .collect()
}

#[test]
fn thresholds_hold_from_their_day_to_expiry() {
    let s = TokenWarningSettings::default();
    let now = 1_000 * DAY;
    let labels = |exp: i64, err: Option<i32>, failures: i32| -> Vec<String> {
        active(&s, exp, err, failures, now)
            .into_iter()
            .map(|(_, l)| l)
            .collect()
    };
    assert!(labels(now + 31 * DAY, Some(0), 0).is_empty());
    assert_eq!(labels(now + 30 * DAY, Some(0), 0), ["expires_30d"]);
    assert_eq!(
        labels(now + 6 * DAY, None, 0),
        ["expires_30d", "expires_14d", "expires_7d"]
    );
    assert_eq!(labels(now, None, 0), ["expired"]);
    assert!(labels(UNSET_TICKS, None, 0).is_empty());
    assert_eq!(
        labels(now + 99 * DAY, Some(403), 3),
        ["terms_not_signed", "sync_failing"]
    );
    assert!(labels(now + 99 * DAY, Some(500), 2).is_empty());
    // The key names the expiration: a renewed token is a new crossing.
    assert_ne!(
        active(&s, now + DAY, None, 0, now)[0].0,
        active(&s, now + 2 * DAY, None, 0, now)[0].0
    );
}

#[tokio::test]
async fn expiry_warnings_come_once_per_crossing_and_again_after_renewal() {
    let env = Env::new().await;
    expire_in(&env, 20 * DAY).await;
    assert_eq!(warnings(&env).await, ["expires_30d"]);
    assert!(
        warnings(&env).await.is_empty(),
        "not again on the next check"
    );
    env.advance(days(7));
    assert_eq!(warnings(&env).await, ["expires_14d"]);
    env.advance(days(12));
    // 1 day left: 7 and 1 are crossed at once, only the tightest is announced.
    assert_eq!(warnings(&env).await, ["expires_1d"]);
    env.advance(days(1));
    assert_eq!(warnings(&env).await, ["expired"]);
    assert!(warnings(&env).await.is_empty());

    // Renewed for a year: the old warnings are forgotten, the new expiry is warned about later.
    expire_in(&env, 365 * DAY).await;
    assert!(warnings(&env).await.is_empty());
    let tenant = env.tenant;
    let left = env
        .read(move |c| token_health::warned(c, Some(tenant)))
        .await;
    assert!(left.is_empty(), "{left:?}");
    env.advance(days(340));
    assert_eq!(warnings(&env).await, ["expires_30d"]);

    let text = env.svc.metrics.render(&Snapshot::default());
    for (warning, n) in [
        ("expires_30d", 2),
        ("expires_14d", 1),
        ("expires_1d", 1),
        ("expired", 1),
    ] {
        let line =
            format!("dep_gateway_token_warnings_total{{kind=\"dep\",warning=\"{warning}\"}} {n}\n");
        assert!(text.contains(&line), "{line} in {text}");
    }
}

#[tokio::test]
async fn failing_syncs_and_unsigned_terms_warn_once_and_rearm_after_a_success() {
    let env = Env::new().await;
    expire_in(&env, 300 * DAY).await;
    let sync = || async {
        sync_token(&env.svc, env.tenant, &env.setting)
            .await
            .expect("sync")
    };
    for _ in 0..2 {
        env.apple
            .state()
            .errors
            .push_back(AppleError::TermsNotSigned);
        assert!(sync().await);
    }
    assert_eq!(
        warnings(&env).await,
        ["terms_not_signed"],
        "2 failures: below the threshold"
    );
    env.apple
        .state()
        .errors
        .push_back(AppleError::TermsNotSigned);
    assert!(sync().await);
    assert_eq!(warnings(&env).await, ["sync_failing"]);
    assert!(warnings(&env).await.is_empty());

    assert!(sync().await, "a successful run");
    assert!(warnings(&env).await.is_empty());
    for _ in 0..3 {
        env.apple
            .state()
            .errors
            .push_back(AppleError::Transport("down".into()));
        assert!(sync().await);
    }
    assert_eq!(
        warnings(&env).await,
        ["sync_failing"],
        "re-armed by the success"
    );
    let text = env.svc.metrics.render(&Snapshot::default());
    assert!(
        text.contains(
            "dep_gateway_token_warnings_total{kind=\"dep\",warning=\"sync_failing\"} 2\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("dep_gateway_sync_runs_total{outcome=\"apple_error\"} 6\n"),
        "{text}"
    );
    assert!(
        text.contains("dep_gateway_sync_runs_total{outcome=\"ok\"} 1\n"),
        "{text}"
    );
}
