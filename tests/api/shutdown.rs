//! Graceful shutdown of a real `dep-gateway serve` process: sent SIGTERM while its periodic
//! sync holds a token's lease (Apple made it wait with a `503` and `Retry-After`), it stops
//! accepting, lets the run reach its next safe point (the page committed), releases the lease,
//! records the sync as still wanted, and exits 0; another instance can sync the token at once.

use std::process::{Command, Stdio};
use std::time::Duration;

use dep_gateway::domain::ids::SettingId;
use dep_gateway::storage::{Db, StorageError, sync_state};
use reqwest::Method;
use serde_json::json;

use crate::helpers::{AUDIENCE, Backend, TestApp, eventually};
use crate::sync::{Sim, setting_with_token, sync_ok};

/// The token's lease owner and whether a sync is requested.
async fn lease(app: &TestApp, setting: &str) -> (Option<String>, bool) {
    let db = Db::connect(&app.database_url(), 1).expect("database");
    let (tenant, key) = (app.tenant, SettingId::new(setting));
    db.run(move |c| {
        let owner = sync_state::lease(c, tenant, &key)?.and_then(|(owner, _)| owner);
        let requested = sync_state::get(c, tenant, &key)?.is_some_and(|s| s.requested);
        Ok::<_, StorageError>((owner, requested))
    })
    .await
    .expect("lease")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_the_sync_reach_a_safe_point_releases_the_lease_and_exits_0() {
    let sim = Sim::start().await;
    let sim_url = sim.url();
    // This instance only sets the token up (no periodic sync of its own).
    let app = TestApp::spawn_with(Backend::Sqlite, move |s| {
        s.apple_base_url = sim_url;
        s.sync_interval_secs = 0;
    })
    .await;
    let setting = setting_with_token(&app, &sim, "sigterm", 25).await;
    // Apple answers the first fetch with 503 and Retry-After: 5, so the run holds the lease
    // while its client waits to retry.
    sim.send(
        Method::POST,
        "/admin/failures",
        &json!({"endpoint": "server_devices", "server": "sigterm", "count": 1, "status": 503,
            "body": "SERVICE_UNAVAILABLE", "retry_after": 5}),
    )
    .await;
    let config = app.data_dir.join("serve.toml");
    std::fs::write(
        &config,
        format!(
            "bind = \"127.0.0.1:0\"\ndatabase_url = \"{}\"\ndata_dir = \"{}\"\n\
             apple_base_url = \"{}\"\nsync_interval_secs = 1\nshutdown_timeout_secs = 20\n\
             [auth]\ndev_authority = true\naudiences = [\"{AUDIENCE}\"]\n",
            app.database_url(),
            app.data_dir.display(),
            sim.url()
        ),
    )
    .expect("config");
    let log = std::fs::File::create(app.data_dir.join("serve.log")).expect("log file");
    let mut child = Command::new(env!("CARGO_BIN_EXE_dep-gateway"))
        .arg("--config")
        .arg(&config)
        .arg("serve")
        .env_remove("DEP_GATEWAY_CONFIG")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("dep-gateway serve starts");
    let pid = child.id().to_string();
    let serve_log = || std::fs::read_to_string(app.data_dir.join("serve.log")).unwrap_or_default();

    // The process's scheduler picks the token up and is held by Apple's 503.
    eventually(
        "the process to hold the lease",
        Duration::from_secs(30),
        || async {
            let held = lease(&app, &setting).await.0.is_some();
            let refused = sim.requests("sigterm", "server_devices").await == 1;
            (held && refused).then_some(())
        },
    )
    .await;

    let status = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(status.success());
    let exit = eventually("the process to exit", Duration::from_secs(30), || {
        let exited = child.try_wait().expect("try_wait");
        async move { exited }
    })
    .await;
    assert!(exit.success(), "exit status {exit:?}\n{}", serve_log());

    // The run finished its page (the retry after Retry-After), then stopped there.
    assert_eq!(sim.requests("sigterm", "server_devices").await, 2);
    let (owner, requested) = lease(&app, &setting).await;
    assert_eq!(owner, None, "the lease is released");
    assert!(requested, "the interrupted sync is still wanted");
    // Another instance syncs the token at once, from the committed cursor.
    let s = sync_ok(&app, &setting).await;
    assert_eq!(s["syncedDeviceCount"], 25);
}
