//! Unit tests of the audit trail: one transaction with the change, the actor of background work,
//! secrets left out, and retention pruning on the fake clock.

use std::time::Duration;

use serde_json::json;

use super::{Audit, Caller, SETTING, modified, prune, record, scope, service_actor};
use crate::clock::Clock;
use crate::domain::onboarding::OnboardingSetting;
use crate::service::ServiceError;
use crate::service::test_support::Env;
use crate::storage::audit::{self as repo, AuditActor};
use crate::storage::{PageQuery, onboarding_settings};

fn all() -> PageQuery {
    PageQuery {
        filter: None,
        after: None,
        order_by: "activity_date_time, id".to_owned(),
        limit: 1000,
        offset: 0,
    }
}

async fn events(env: &Env) -> Vec<repo::AuditEvent> {
    let tenant = env.tenant;
    env.read(move |c| repo::list(c, tenant, &all())).await
}

async fn settings(env: &Env) -> i64 {
    let tenant = env.tenant;
    env.read(move |c| onboarding_settings::count(c, tenant, None))
        .await
}

#[tokio::test]
async fn a_write_that_fails_after_its_event_was_inserted_leaves_neither() {
    let env = Env::new().await;
    let (tenant, now) = (env.tenant, env.clock.now_ticks());
    let before = settings(&env).await;
    let failed = env
        .svc
        .db
        .write(tenant, now, move |c| {
            let s = OnboardingSetting::new("rolled-back".into(), now);
            onboarding_settings::insert(c, tenant, &s, now)?;
            let mut audit = Audit::new("Create", SETTING);
            audit.resource(&s.id, None, modified(None::<&()>, Some(&s)));
            record(c, tenant, now, None, audit)?;
            Err::<(), _>(ServiceError::Conflict("fails after the event".into()))
        })
        .await;
    assert!(failed.is_err());
    assert_eq!(settings(&env).await, before);
    assert!(events(&env).await.is_empty());
}

#[tokio::test]
async fn audited_commits_the_change_and_its_event_or_neither() {
    let env = Env::new().await;
    let (tenant, now) = (env.tenant, env.clock.now_ticks());
    let refused: Result<(), ServiceError> = env
        .svc
        .audited(tenant, Audit::new("Create", SETTING), move |c, audit| {
            let s = OnboardingSetting::new("refused".into(), now);
            onboarding_settings::insert(c, tenant, &s, now)?;
            audit.resource(&s.id, None, Vec::new());
            Err(ServiceError::Conflict("refused".into()))
        })
        .await;
    assert!(refused.is_err());
    assert!(events(&env).await.is_empty());

    let caller = Caller {
        actor: AuditActor {
            audit_actor_type: "ItPro".into(),
            user_principal_name: Some("admin@contoso.com".into()),
            ..AuditActor::default()
        },
        correlation_id: "6f1c2b1e-0000-4000-8000-000000000002".into(),
        operation: Some("deviceManagement_CreateDepOnboardingSetting".into()),
    };
    let svc = env.svc.clone();
    scope(caller, async move {
        svc.audited(tenant, Audit::new("Create", SETTING), move |c, audit| {
            let s = OnboardingSetting::new("kept".into(), now);
            onboarding_settings::insert(c, tenant, &s, now)?;
            audit.resource(&s.id, None, modified(None::<&()>, Some(&s)));
            Ok::<_, ServiceError>(())
        })
        .await
    })
    .await
    .expect("audited write");
    let got = events(&env).await;
    assert_eq!(got.len(), 1);
    let e = &got[0];
    assert_eq!(e.activity_type, "Create DepOnboardingSetting");
    assert_eq!(e.correlation_id, "6f1c2b1e-0000-4000-8000-000000000002");
    assert_eq!(
        e.actor.user_principal_name.as_deref(),
        Some("admin@contoso.com")
    );
    assert_eq!(e.activity_date_time, now);
    assert_eq!(e.resources[0].resource_id, "kept");
}

#[tokio::test]
async fn background_work_is_recorded_with_the_service_as_actor() {
    let env = Env::new().await;
    super::record_outcome(&env.svc, env.tenant, {
        let mut a = Audit::new("Sync", SETTING).failed();
        a.resource(env.setting.as_str(), None, Vec::new());
        a
    })
    .await
    .expect("recorded");
    let got = events(&env).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].actor, service_actor());
    assert_eq!(got[0].activity_result, "Failure");
    assert_eq!(got[0].activity, None);
}

#[test]
fn modified_properties_leave_secrets_out_and_render_strings() {
    let old = json!({"displayName": "A", "adminAccountPassword": "s3cret", "isDefault": false,
        "token": "vpp-secret", "tags": ["0"]});
    let new = json!({"displayName": "B", "adminAccountPassword": "other", "isDefault": true,
        "token": "vpp-other", "tags": ["0"], "locale": null});
    let changes = modified(Some(&old), Some(&new));
    let text = serde_json::to_string(&changes).expect("json");
    assert!(!text.contains("s3cret") && !text.contains("other") && !text.contains("vpp-"));
    assert!(!text.to_ascii_lowercase().contains("password"), "{text}");
    assert_eq!(
        serde_json::to_value(&changes).expect("json"),
        json!([
            {"displayName": "DisplayName", "oldValue": "A", "newValue": "B"},
            {"displayName": "IsDefault", "oldValue": "false", "newValue": "true"},
        ])
    );
}

#[tokio::test]
async fn the_pruner_deletes_events_older_than_retention_on_the_clock() {
    let env = Env::new().await;
    let outcome = |id: &str| {
        let mut a = Audit::new("Sync", SETTING).failed();
        a.resource(id, None, Vec::new());
        a
    };
    super::record_outcome(&env.svc, env.tenant, outcome("old"))
        .await
        .expect("old");
    env.advance(Duration::from_secs(10 * 86_400));
    super::record_outcome(&env.svc, env.tenant, outcome("new"))
        .await
        .expect("new");
    let retention = Duration::from_secs(7 * 86_400);
    assert_eq!(prune(&env.svc, retention).await.expect("prune"), 1);
    let left: Vec<String> = events(&env)
        .await
        .into_iter()
        .map(|e| e.resources[0].resource_id.clone())
        .collect();
    assert_eq!(left, ["new"]);
    // Nothing else is old enough until the clock moves past the second event's retention.
    assert_eq!(prune(&env.svc, retention).await.expect("prune"), 0);
    env.advance(Duration::from_secs(8 * 86_400));
    assert_eq!(prune(&env.svc, retention).await.expect("prune"), 1);
    assert!(events(&env).await.is_empty());
}
