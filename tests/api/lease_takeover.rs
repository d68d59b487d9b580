//! Recovery after a crash (issue 12 item 8): a `dep-gateway serve` process holding a token's sync
//! lease is killed with SIGKILL (no chance to release it); a second process on the same database
//! takes the token over once that lease — `lease_secs`, renewed by a heartbeat while the run
//! lived — has run out, not after the old five-minute lease. A sync triggered while the dead
//! instance's lease is still live answers 204 as always and is recorded, and the next run
//! serves it.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use dep_gateway::domain::ids::SettingId;
use dep_gateway::domain::time::{parse_ticks, secs_to_ticks};
use dep_gateway::storage::{Db, StorageError, sync_state};
use reqwest::Method;
use serde_json::json;

use crate::helpers::{AUDIENCE, Backend, TestApp, eventually};
use crate::on_both_backends;
use crate::sync::{SETTINGS, Sim, setting, setting_with_token, text};

/// The lease the instances take: short, so that the test waits seconds, not the default 30 s.
const LEASE_SECS: u64 = 4;
const DEVICES: u32 = 25;

/// A `dep-gateway serve` child, killed (SIGKILL) when dropped if still running.
pub(crate) struct Instance {
    pub(crate) child: Child,
    log: std::path::PathBuf,
}

impl Instance {
    /// Starts the binary on `app`'s database and data directory (shared secrets key), with a
    /// scheduler ticking every second and leases of [`LEASE_SECS`].
    fn start(app: &TestApp, sim: &Sim, name: &str) -> Self {
        Self::start_with(app, sim, name, "")
    }

    /// As [`Instance::start`], with `extra` appended to the configuration file (TOML tables).
    pub(crate) fn start_with(app: &TestApp, sim: &Sim, name: &str, extra: &str) -> Self {
        let config = app.data_dir.join(format!("{name}.toml"));
        std::fs::write(
            &config,
            format!(
                "bind = \"127.0.0.1:0\"\ndatabase_url = \"{}\"\ndata_dir = \"{}\"\n\
                 apple_base_url = \"{}\"\nsync_interval_secs = 1\nlease_secs = {LEASE_SECS}\n\
                 [auth]\ndev_authority = true\naudiences = [\"{AUDIENCE}\"]\n{extra}",
                app.database_url(),
                app.data_dir.display(),
                sim.url()
            ),
        )
        .expect("config");
        let log = app.data_dir.join(format!("{name}.log"));
        let child = Command::new(env!("CARGO_BIN_EXE_dep-gateway"))
            .arg("--config")
            .arg(&config)
            .arg("serve")
            .env_remove("DEP_GATEWAY_CONFIG")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("dep-gateway serve starts");
        Self { child, log }
    }

    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The token's lease (owner, until in ticks) and whether a sync is requested.
async fn lease(app: &TestApp, setting: &str) -> (Option<String>, i64, bool) {
    let db = Db::connect(&app.database_url(), 1).expect("database");
    let (tenant, key) = (app.tenant, SettingId::new(setting));
    db.run(move |c| {
        let (owner, until) = sync_state::lease(c, tenant, &key)?.unwrap_or((None, 0));
        let requested = sync_state::get(c, tenant, &key)?.is_some_and(|s| s.requested);
        Ok::<_, StorageError>((owner, until, requested))
    })
    .await
    .expect("lease")
}

async fn a_killed_instances_token_is_taken_over_within_one_lease(backend: Backend) {
    let sim = Sim::start().await;
    let sim_url = sim.url();
    // This in-process instance sets the token up and answers the API; it runs no scheduler.
    let app = TestApp::spawn_with(backend, move |s| {
        s.apple_base_url = sim_url;
        s.sync_interval_secs = 0;
        s.lease_secs = LEASE_SECS;
    })
    .await;
    let id = setting_with_token(&app, &sim, "takeover", DEVICES).await;
    // Apple answers the first fetch with 503 and Retry-After: 30, so the first process's run
    // holds (and keeps renewing) the lease while its client waits to retry.
    sim.send(
        Method::POST,
        "/admin/failures",
        &json!({"endpoint": "server_devices", "server": "takeover", "count": 1, "status": 503,
            "body": "SERVICE_UNAVAILABLE", "retry_after": 30}),
    )
    .await;
    let mut first = Instance::start(&app, &sim, "first");
    let owner = eventually(
        "the first process to hold the lease",
        Duration::from_secs(60),
        || async {
            let (owner, _, _) = lease(&app, &id).await;
            let waiting = sim.requests("takeover", "server_devices").await == 1;
            owner.filter(|_| waiting)
        },
    )
    .await;

    // A sync triggered while that live lease is held: 204 as always, and recorded (not
    // dropped) for whoever runs next; the lease stays the first process's.
    let resp = app
        .request(
            Method::POST,
            &format!("{SETTINGS}/{id}/syncWithAppleDeviceEnrollmentProgram"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let (held_by, _, requested) = lease(&app, &id).await;
    assert_eq!(held_by.as_deref(), Some(owner.as_str()), "{}", first.log());
    assert!(
        requested,
        "the trigger is recorded while another instance holds the lease"
    );
    let triggered = text(&setting(&app, &id).await, "lastSyncTriggeredDateTime");

    // kill -9: no shutdown, no release; the lease stays in the database until it runs out.
    first.child.kill().expect("SIGKILL");
    first.child.wait().expect("wait");
    let (dead_owner, dead_until, _) = lease(&app, &id).await;
    assert_eq!(dead_owner.as_deref(), Some(owner.as_str()));
    // The dead lease ends LEASE_SECS after the process's last renewal, which came before the
    // kill, which followed the recorded trigger by a moment. Both times are the gateway's own
    // records: with the default 30 s lease (`lease_secs` ignored), renewed every 10 s, `until`
    // would lie at least 20 s past the trigger.
    let triggered_at = parse_ticks(&triggered).expect("a date");
    assert!(
        dead_until - triggered_at <= secs_to_ticks(LEASE_SECS + 8),
        "the dead lease outlives lease_secs: until {dead_until}, triggered {triggered_at}"
    );

    let second = Instance::start(&app, &sim, "second");
    // Deadline polling only: the second process must finish a whole sync once the dead lease
    // (at most LEASE_SECS old) has run out; the old five-minute lease would miss this by far.
    let done = eventually(
        "the second process to sync",
        Duration::from_secs(60),
        || async {
            let s = setting(&app, &id).await;
            let ok = text(&s, "lastSuccessfulSyncDateTime");
            (ok != "0001-01-01T00:00:00Z" && ok >= triggered).then_some(s)
        },
    )
    .await;
    assert_eq!(done["lastSyncErrorCode"], 0, "{done}\n{}", second.log());
    assert_eq!(done["syncedDeviceCount"], DEVICES, "{done}");
    // The run started only once the dead lease had expired: never two runs at once.
    let started = parse_ticks(&text(&done, "lastSuccessfulSyncDateTime")).expect("a date");
    assert!(started >= dead_until, "the second run took a live lease");
    let (now_owner, _, requested) = lease(&app, &id).await;
    assert_ne!(now_owner.as_deref(), Some(owner.as_str()));
    assert!(!requested, "the recorded trigger was served");
    // The dead run's one failed request, then the second process's full fetch.
    assert!(sim.requests("takeover", "server_devices").await >= 2);
}

on_both_backends!(a_killed_instances_token_is_taken_over_within_one_lease);
