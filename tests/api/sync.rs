//! Device sync with Apple through HTTP against the bundled simulator: the full flow, incremental
//! changes, cursor errors, terms not signed, resuming after a failure, the periodic scheduler and
//! two gateway instances on one database.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use dep_gateway::Application;
use dep_gateway::apple_sim::{self, SimConfig, SimHandle};
use dep_gateway::config::Settings;
use diesel::{Connection, PgConnection, RunQueryDsl};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{AUDIENCE, Backend, TestApp, eventually};
use crate::on_both_backends;

pub(crate) const SETTINGS: &str = "/beta/deviceManagement/depOnboardingSettings";
const UNSET: &str = "0001-01-01T00:00:00Z";

pub(crate) struct Sim {
    handle: SimHandle,
    admin: reqwest::Client,
}

impl Sim {
    pub(crate) async fn start() -> Self {
        Self::start_with_limit(10).await
    }

    /// A simulator whose pages hold at most `limit_max` devices.
    pub(crate) async fn start_with_limit(limit_max: u32) -> Self {
        let handle = apple_sim::start(SimConfig {
            bind: "127.0.0.1:0".into(),
            state_file: None,
        })
        .await
        .expect("simulator");
        let sim = Self {
            handle,
            admin: reqwest::Client::new(),
        };
        // Small pages so that a few dozen devices take several requests.
        sim.send(
            Method::PATCH,
            "/admin/settings",
            &json!({"limit_max": limit_max}),
        )
        .await;
        sim
    }

    pub(crate) fn url(&self) -> String {
        self.handle.base_url()
    }

    pub(crate) async fn send(&self, method: Method, path: &str, body: &Value) -> Value {
        let resp = self
            .admin
            .request(method, format!("{}{path}", self.url()))
            .json(body)
            .send()
            .await
            .expect("admin request");
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
        resp.json().await.unwrap_or(Value::Null)
    }

    pub(crate) async fn get(&self, path: &str) -> Value {
        self.admin
            .get(format!("{}{path}", self.url()))
            .send()
            .await
            .expect("admin request")
            .json()
            .await
            .expect("json")
    }

    /// Requests `server` made to `endpoint` so far.
    pub(crate) async fn requests(&self, server: &str, endpoint: &str) -> u64 {
        let info = self.get(&format!("/admin/servers/{server}")).await;
        info["requests"][endpoint].as_u64().unwrap_or(0)
    }

    /// Serial → device family of the server's devices.
    pub(crate) async fn families(&self, server: &str) -> HashMap<String, String> {
        let body = self.get(&format!("/admin/servers/{server}/devices")).await;
        body["devices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["serial_number"].as_str().unwrap().to_owned(),
                    d["device_family"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    }
}

pub(crate) async fn spawn(backend: Backend, sim: &Sim, interval: u64) -> TestApp {
    let url = sim.url();
    TestApp::spawn_with(backend, move |s| {
        s.apple_base_url = url;
        s.sync_interval_secs = interval;
    })
    .await
}

/// A setting holding the token of simulated server `server` with `devices` devices.
pub(crate) async fn setting_with_token(
    app: &TestApp,
    sim: &Sim,
    server: &str,
    devices: u32,
) -> String {
    let setting = app.create_setting(&json!({})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let key: Value = app
        .get(&format!("{SETTINGS}/{setting}/getEncryptionPublicKey()"))
        .await
        .json()
        .await
        .unwrap();
    let p7m =
        apple_sim::make_dep_token(&sim.url(), server, devices, key["value"].as_str().unwrap())
            .await
            .unwrap();
    let resp = app
        .post_json(
            &format!("{SETTINGS}/{setting}/uploadDepToken"),
            &json!({"appleId": "mdm-admin@example.com", "depToken": p7m}),
        )
        .await;
    assert_eq!(resp.status(), 204);
    setting
}

pub(crate) async fn setting(app: &TestApp, id: &str) -> Value {
    app.get(&format!("{SETTINGS}/{id}"))
        .await
        .json()
        .await
        .unwrap()
}

pub(crate) fn text(v: &Value, name: &str) -> String {
    v[name].as_str().unwrap_or_default().to_owned()
}

pub(crate) async fn trigger(app: &TestApp, id: &str) {
    let resp = app
        .request(
            Method::POST,
            &format!("{SETTINGS}/{id}/syncWithAppleDeviceEnrollmentProgram"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
}

/// Polls the setting (20 s at most) until `done` holds.
pub(crate) async fn wait_for(app: &TestApp, id: &str, done: impl Fn(&Value) -> bool) -> Value {
    let done = &done;
    eventually(
        "the sync to finish",
        Duration::from_secs(20),
        || async move {
            let s = setting(app, id).await;
            done(&s).then_some(s)
        },
    )
    .await
}

/// Triggers a sync and waits for a successful run that started after the trigger. (An error
/// code does not end the wait: it may be left from an earlier run.)
pub(crate) async fn sync_ok(app: &TestApp, id: &str) -> Value {
    trigger(app, id).await;
    let s = wait_for(app, id, |s| {
        let (ok, asked) = (
            text(s, "lastSuccessfulSyncDateTime"),
            text(s, "lastSyncTriggeredDateTime"),
        );
        ok != UNSET && ok >= asked
    })
    .await;
    assert_eq!(s["lastSyncErrorCode"], 0, "{s}");
    s
}

/// All identities of the setting (following nextLink).
pub(crate) async fn identities(app: &TestApp, id: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut url = format!("{}{SETTINGS}/{id}/importedAppleDeviceIdentities", app.base);
    loop {
        let page: Value = app
            .client
            .get(&url)
            .bearer_auth(app.token())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        out.extend(page["value"].as_array().unwrap().iter().cloned());
        match page["@odata.nextLink"].as_str() {
            Some(next) => next.clone_into(&mut url),
            None => return out,
        }
    }
}

/// Serial → identity, asserting there is one identity per serial.
pub(crate) async fn by_serial(app: &TestApp, id: &str) -> HashMap<String, Value> {
    let all = identities(app, id).await;
    let map: HashMap<String, Value> = all
        .iter()
        .map(|d| (text(d, "serialNumber"), d.clone()))
        .collect();
    assert_eq!(map.len(), all.len(), "duplicate identities");
    map
}

fn expected_platform(family: &str) -> &'static str {
    match family {
        "iPhone" | "iPad" | "iPod" => "ios",
        "Mac" => "macOS",
        "AppleTV" => "tvOS",
        "Vision" => "visionOS",
        _ => "unknown",
    }
}

async fn full_then_incremental_sync(backend: Backend) {
    let sim = Sim::start().await;
    let app = spawn(backend, &sim, 3600).await;
    let id = setting_with_token(&app, &sim, "server-sync", 25).await;
    let s = sync_ok(&app, &id).await;
    assert_eq!(s["syncedDeviceCount"], 25);
    let families = sim.families("server-sync").await;
    let found = by_serial(&app, &id).await;
    assert_eq!(found.len(), 25);
    for (serial, family) in &families {
        let d = &found[serial];
        assert_eq!(d["discoverySource"], "deviceEnrollmentProgram");
        assert_eq!(d["isDeleted"], false);
        assert_eq!(d["platform"], expected_platform(family), "{family}");
    }
    // Pages needed: 10 + 10 + 5 fetched, then one (empty) sync page.
    assert_eq!(sim.requests("server-sync", "server_devices").await, 3);
    assert_eq!(sim.requests("server-sync", "devices_sync").await, 1);

    let added = sim
        .send(
            Method::POST,
            "/admin/servers/server-sync/devices",
            &json!({"devices": [{"device_family": "Mac"}, {"device_family": "iPad"}]}),
        )
        .await;
    let mut serials = families.keys().cloned().collect::<Vec<_>>();
    serials.sort();
    let (modified, deleted) = (serials[0].clone(), serials[1].clone());
    sim.send(
        Method::POST,
        "/admin/servers/server-sync/devices/modify",
        &json!({"serials": [modified]}),
    )
    .await;
    sim.send(
        Method::POST,
        "/admin/servers/server-sync/devices/delete",
        &json!({"serials": [deleted]}),
    )
    .await;
    let before = by_serial(&app, &id).await;
    let s = sync_ok(&app, &id).await;
    assert_eq!(s["syncedDeviceCount"], 26);
    let after = by_serial(&app, &id).await;
    assert_eq!(after.len(), 27);
    assert_eq!(after[&deleted]["isDeleted"], true);
    assert_eq!(after[&deleted]["id"], before[&deleted]["id"], "row kept");
    assert_eq!(after[&modified]["isDeleted"], false);
    for d in added["devices"].as_array().unwrap() {
        let new = &after[&text(d, "serial_number")];
        assert_eq!(new["discoverySource"], "deviceEnrollmentProgram");
        assert_eq!(
            new["platform"],
            expected_platform(&text(d, "device_family"))
        );
    }
    let unchanged = after
        .iter()
        .filter(|(serial, d)| before.get(*serial) == Some(*d))
        .count();
    assert_eq!(unchanged, 24, "only the changed devices differ");
    assert_eq!(sim.requests("server-sync", "server_devices").await, 3);
    assert_eq!(sim.requests("server-sync", "devices_sync").await, 2);
}

async fn expired_cursor_restarts_a_full_fetch(backend: Backend) {
    let sim = Sim::start().await;
    let app = spawn(backend, &sim, 3600).await;
    let id = setting_with_token(&app, &sim, "server-cursor", 15).await;
    sync_ok(&app, &id).await;
    assert_eq!(sim.requests("server-cursor", "server_devices").await, 2);
    sim.send(
        Method::POST,
        "/admin/servers/server-cursor/devices",
        &json!({"count": 3}),
    )
    .await;
    sim.send(
        Method::POST,
        "/admin/failures",
        &json!({"endpoint": "devices_sync", "response": "bad_request_expired_cursor"}),
    )
    .await;
    let s = sync_ok(&app, &id).await;
    assert_eq!(s["syncedDeviceCount"], 18);
    assert_eq!(by_serial(&app, &id).await.len(), 18);
    // The failed sync, then a full fetch of 18 devices (2 pages) and one sync page.
    assert_eq!(sim.requests("server-cursor", "server_devices").await, 4);
    assert_eq!(sim.requests("server-cursor", "devices_sync").await, 3);
}

async fn unsigned_terms_record_403_and_keep_the_token(backend: Backend) {
    let sim = Sim::start().await;
    let app = spawn(backend, &sim, 3600).await;
    let id = setting_with_token(&app, &sim, "server-terms", 5).await;
    let first = sync_ok(&app, &id).await;
    sim.send(
        Method::POST,
        "/admin/servers/server-terms/terms",
        &json!({"signed": false}),
    )
    .await;
    trigger(&app, &id).await;
    let s = wait_for(&app, &id, |s| s["lastSyncErrorCode"] != 0).await;
    assert_eq!(s["lastSyncErrorCode"], 403);
    assert_eq!(
        s["lastSuccessfulSyncDateTime"],
        first["lastSuccessfulSyncDateTime"]
    );
    assert_eq!(s["appleIdentifier"], "mdm-admin@example.com");
    assert_eq!(
        s["tokenExpirationDateTime"],
        first["tokenExpirationDateTime"]
    );
    assert_eq!(s["syncedDeviceCount"], 5);

    sim.send(
        Method::POST,
        "/admin/servers/server-terms/terms",
        &json!({"signed": true}),
    )
    .await;
    let s = sync_ok(&app, &id).await;
    assert_ne!(
        s["lastSuccessfulSyncDateTime"],
        first["lastSuccessfulSyncDateTime"]
    );
}

async fn a_failed_run_resumes_from_the_stored_cursor(backend: Backend) {
    let sim = Sim::start().await;
    let app = spawn(backend, &sim, 3600).await;
    let id = setting_with_token(&app, &sim, "server-storm", 25).await;
    // The fetch pages commit; the sync page fails through all of the client's retries.
    sim.send(
        Method::POST,
        "/admin/failures",
        &json!({"endpoint": "devices_sync", "status": 500, "body": "boom", "retry_after": 0, "count": 4}),
    )
    .await;
    trigger(&app, &id).await;
    let s = wait_for(&app, &id, |s| s["lastSyncErrorCode"] != 0).await;
    assert_eq!(s["lastSyncErrorCode"], 500);
    assert_eq!(s["lastSuccessfulSyncDateTime"], UNSET);
    assert_eq!(
        by_serial(&app, &id).await.len(),
        25,
        "fetched pages were kept"
    );
    assert_eq!(sim.requests("server-storm", "server_devices").await, 3);

    sim.send(
        Method::POST,
        "/admin/servers/server-storm/devices",
        &json!({"count": 12}),
    )
    .await;
    let s = sync_ok(&app, &id).await;
    assert_eq!(s["syncedDeviceCount"], 37);
    let found = by_serial(&app, &id).await;
    let families = sim.families("server-storm").await;
    assert_eq!(
        found.keys().collect::<HashSet<_>>(),
        families.keys().collect::<HashSet<_>>()
    );
    // No second fetch: the run resumed from the stored cursor (12 changes = 2 sync pages).
    assert_eq!(sim.requests("server-storm", "server_devices").await, 3);
    assert_eq!(sim.requests("server-storm", "devices_sync").await, 4 + 2);
}

async fn a_setting_without_a_token_cannot_sync(backend: Backend) {
    let sim = Sim::start().await;
    let app = spawn(backend, &sim, 3600).await;
    let id = app.create_setting(&json!({})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = app
        .request(
            Method::POST,
            &format!("{SETTINGS}/{id}/syncWithAppleDeviceEnrollmentProgram"),
        )
        .send()
        .await
        .unwrap();
    let msg = crate::helpers::assert_graph_error(resp, 400, "BadRequest").await;
    assert!(msg.contains("uploadDepToken"), "{msg}");
    let qualified =
        format!("{SETTINGS}('{id}')/microsoft.graph.syncWithAppleDeviceEnrollmentProgram");
    let resp = app.request(Method::POST, &qualified).send().await.unwrap();
    crate::helpers::assert_graph_error(resp, 400, "BadRequest").await;
    assert_eq!(setting(&app, &id).await["lastSyncTriggeredDateTime"], UNSET);
}

async fn the_scheduler_syncs_without_a_trigger(backend: Backend) {
    let sim = Sim::start().await;
    let app = spawn(backend, &sim, 1).await;
    let id = setting_with_token(&app, &sim, "server-periodic", 12).await;
    let s = wait_for(&app, &id, |s| {
        text(s, "lastSuccessfulSyncDateTime") != UNSET
    })
    .await;
    assert_eq!(s["lastSyncTriggeredDateTime"], UNSET);
    assert_eq!(s["syncedDeviceCount"], 12);
    assert_eq!(by_serial(&app, &id).await.len(), 12);
}

/// A second gateway on the first one's database and data directory (same keys).
async fn second_instance(app: &TestApp, database_url: String, sim: &Sim) -> String {
    second_instance_with(app, database_url, sim, 3600).await
}

/// [`second_instance`] with its periodic sync every `interval` seconds.
async fn second_instance_with(
    app: &TestApp,
    database_url: String,
    sim: &Sim,
    interval: u64,
) -> String {
    let mut settings = Settings {
        bind: "127.0.0.1:0".into(),
        data_dir: app.data_dir.clone(),
        workers: Some(1),
        pool_size: 4,
        database_url: Some(database_url),
        apple_base_url: sim.url(),
        sync_interval_secs: interval,
        ..Settings::default()
    };
    settings.auth.dev_authority = Some(true);
    settings.auth.audiences = vec![AUDIENCE.into()];
    let second = Application::build(settings).await.expect("second gateway");
    let base = second.public_url().to_owned();
    tokio::spawn(second.run_until_stopped());
    base
}

/// A database both instances use: a fresh PostgreSQL database or SQLite file.
struct SharedDb {
    url: String,
    pg: Option<(String, String)>,
}

impl SharedDb {
    fn new(backend: Backend) -> Self {
        if backend == Backend::Sqlite {
            let path = std::env::temp_dir().join(format!("dg-shared-{}.db", Uuid::new_v4()));
            return Self {
                url: format!("sqlite://{}", path.display()),
                pg: None,
            };
        }
        let admin = std::env::var("DEP_GATEWAY_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
        let name = format!("dg_shared_{}", Uuid::new_v4().simple());
        let mut conn = PgConnection::establish(&admin).expect("postgres");
        diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
            .execute(&mut conn)
            .expect("create database");
        let mut url = url::Url::parse(&admin).unwrap();
        url.set_path(&name);
        Self {
            url: url.to_string(),
            pg: Some((admin, name)),
        }
    }
}

impl Drop for SharedDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.pg.take() {
            let _ = std::thread::spawn(move || {
                if let Ok(mut conn) = PgConnection::establish(&admin) {
                    let _ = diesel::sql_query(format!(
                        "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                    ))
                    .execute(&mut conn);
                }
            })
            .join();
        }
    }
}

async fn two_instances_never_sync_one_token_at_once(backend: Backend) {
    let sim = Sim::start().await;
    let shared = SharedDb::new(backend);
    let url = shared.url.clone();
    let sim_url = sim.url();
    let app = TestApp::spawn_with(backend, move |s| {
        s.apple_base_url = sim_url;
        s.database_url = Some(url);
    })
    .await;
    let other = second_instance(&app, shared.url.clone(), &sim).await;
    let servers = ["server-lease-a", "server-lease-b", "server-lease-c"];
    let mut ids = Vec::new();
    for server in servers {
        ids.push(setting_with_token(&app, &sim, server, 25).await);
    }
    // Both instances are asked to sync every token at the same moment.
    let path = |id: &str| format!("{SETTINGS}/{id}/syncWithAppleDeviceEnrollmentProgram");
    for id in &ids {
        let (a, b) = tokio::join!(
            app.request(Method::POST, &path(id)).send(),
            app.client
                .post(format!("{other}{}", path(id)))
                .bearer_auth(app.token())
                .send()
        );
        assert_eq!(a.unwrap().status(), 204);
        assert_eq!(b.unwrap().status(), 204);
    }
    for (id, server) in ids.iter().zip(servers) {
        let s = wait_for(&app, id, |s| {
            text(s, "lastSuccessfulSyncDateTime") >= text(s, "lastSyncTriggeredDateTime")
                || s["lastSyncErrorCode"] != 0
        })
        .await;
        assert_eq!(s["lastSyncErrorCode"], 0, "{s}");
        assert_eq!(by_serial(&app, id).await.len(), 25);
        // One full fetch in all: a second concurrent run would have fetched again.
        assert_eq!(sim.requests(server, "server_devices").await, 3, "{server}");
    }
    drop(app);
    drop(shared);
}

async fn release_apple_devices_disowns_and_marks_identities(backend: Backend) {
    let sim = Sim::start().await;
    let app = spawn(backend, &sim, 0).await;
    let id = setting_with_token(&app, &sim, "release", 4).await;
    sync_ok(&app, &id).await;
    let serials: Vec<String> = by_serial(&app, &id).await.into_keys().collect();
    let path = format!("{SETTINGS}/{id}/releaseAppleDevices");
    for (body, needle) in [
        (
            json!({"depToken": "x", "deviceSerialNumbers": ["NOTMINE00001"]}),
            "NOTMINE00001",
        ),
        (
            json!({"deviceSerialNumbers": [serials[0].clone()]}),
            "depToken",
        ),
        (
            json!({"depToken": "x", "deviceSerialNumbers": serials[0].clone()}),
            "deviceSerialNumbers",
        ),
    ] {
        let msg = crate::helpers::assert_graph_error(
            app.post_json(&path, &body).await,
            400,
            "BadRequest",
        )
        .await;
        assert!(msg.contains(needle), "{body}: {msg}");
    }
    assert_eq!(
        sim.requests("release", "devices_disown").await,
        0,
        "nothing reached Apple"
    );
    let resp = app
        .post_json(
            &path,
            &json!({"depToken": "x", "deviceSerialNumbers": [serials[0].clone()]}),
        )
        .await;
    assert_eq!(resp.status(), 204);
    assert_eq!(sim.requests("release", "devices_disown").await, 1);
    let after = by_serial(&app, &id).await;
    assert_eq!(after[&serials[0]]["isDeleted"], true);
    assert_eq!(after[&serials[1]]["isDeleted"], false);
    let read_only = app.token_for(app.tenant, &[crate::helpers::READ]);
    let resp = app
        .client
        .post(format!("{}{path}", app.base))
        .bearer_auth(read_only)
        .json(&json!({"depToken": "x", "deviceSerialNumbers": [serials[1].clone()]}))
        .send()
        .await
        .unwrap();
    crate::helpers::assert_graph_error(resp, 403, "Forbidden").await;
}

async fn throttling_during_a_sync_is_waited_out(backend: Backend) {
    let sim = Sim::start().await;
    let app = spawn(backend, &sim, 0).await;
    let id = setting_with_token(&app, &sim, "throttled", 30).await;
    // Apple throttles the first two fetches with Retry-After: 1.
    sim.send(
        Method::POST,
        "/admin/failures",
        &json!({"endpoint": "server_devices", "server": "throttled", "count": 2, "status": 429,
            "body": "TOO_MANY_REQUESTS", "retry_after": 1}),
    )
    .await;
    let state = sync_ok(&app, &id).await;
    assert_eq!(state["syncedDeviceCount"], 30);
    assert_eq!(identities(&app, &id).await.len(), 30);
    // The run succeeded (sync_ok checks lastSyncErrorCode 0) although the first fetches were 429s.
    assert!(
        sim.requests("throttled", "server_devices").await >= 3,
        "the throttled fetches were retried"
    );
}

async fn an_expired_server_token_records_its_error_and_is_kept(backend: Backend) {
    let sim = Sim::start().await;
    let app = spawn(backend, &sim, 0).await;
    let id = setting_with_token(&app, &sim, "expiring", 3).await;
    sync_ok(&app, &id).await;
    let before = setting(&app, &id).await;
    sim.send(
        Method::POST,
        "/admin/servers/expiring/token",
        &json!({"expire": true}),
    )
    .await;
    sim.send(
        Method::POST,
        "/admin/sessions/expire",
        &json!({"server": "expiring"}),
    )
    .await;
    trigger(&app, &id).await;
    let failed = wait_for(&app, &id, |s| s["lastSyncErrorCode"] != 0).await;
    assert_eq!(failed["lastSyncErrorCode"], 410, "{failed}");
    assert_eq!(
        failed["lastSuccessfulSyncDateTime"],
        before["lastSuccessfulSyncDateTime"]
    );
    assert_eq!(failed["tokenType"], "dep", "the token is kept");
    assert_eq!(identities(&app, &id).await.len(), 3);
}

async fn a_session_expiring_mid_sync_reauthenticates_once(backend: Backend) {
    let sim = Sim::start().await;
    let app = spawn(backend, &sim, 0).await;
    let id = setting_with_token(&app, &sim, "session-mid", 25).await;
    // The fetch pages go through; then Apple drops the session under the sync call.
    sim.send(
        Method::POST,
        "/admin/failures",
        &json!({"endpoint": "devices_sync", "server": "session-mid", "response": "session_expired"}),
    )
    .await;
    let sessions = sim.requests("session-mid", "session").await;
    let s = sync_ok(&app, &id).await;
    assert_eq!(s["syncedDeviceCount"], 25);
    assert_eq!(by_serial(&app, &id).await.len(), 25);
    // The run reuses the upload's session, opens one more after the expiry, and replays the
    // failed call once.
    assert_eq!(sim.requests("session-mid", "session").await, sessions + 1);
    assert_eq!(sim.requests("session-mid", "server_devices").await, 3);
    assert_eq!(sim.requests("session-mid", "devices_sync").await, 2);
    let pending: Value = sim.get("/admin/failures").await;
    assert_eq!(pending["failures"], json!([]), "the expiry was served");
}

/// Two instances with a 1 s periodic sync on one PostgreSQL database, 50 tokens, both asked to
/// sync every token at once as well: each token is fully fetched exactly once.
async fn two_instances_sync_50_tokens_without_overlap() {
    const TOKENS: usize = 50;
    let backend = Backend::Postgres;
    let sim = Sim::start().await;
    let shared = SharedDb::new(backend);
    let (url, sim_url) = (shared.url.clone(), sim.url());
    let app = TestApp::spawn_with(backend, move |s| {
        s.apple_base_url = sim_url;
        s.database_url = Some(url);
        s.sync_interval_secs = 1;
    })
    .await;
    let other = second_instance_with(&app, shared.url.clone(), &sim, 1).await;
    let servers: Vec<String> = (0..TOKENS).map(|i| format!("fleet-{i:02}")).collect();
    // One at a time: key generation is CPU-bound, parallel uploads gain nothing on two cores.
    let mut ids = Vec::new();
    for server in &servers {
        ids.push(setting_with_token(&app, &sim, server, 12).await);
    }
    let path = |id: &str| format!("{SETTINGS}/{id}/syncWithAppleDeviceEnrollmentProgram");
    let triggers = ids.iter().map(|id| {
        let (a, b) = (
            app.request(Method::POST, &path(id)).send(),
            app.client
                .post(format!("{other}{}", path(id)))
                .bearer_auth(app.token())
                .send(),
        );
        async move {
            let (a, b) = tokio::join!(a, b);
            assert_eq!(a.unwrap().status(), 204);
            assert_eq!(b.unwrap().status(), 204);
        }
    });
    futures_util::future::join_all(triggers).await;
    for id in &ids {
        let s = wait_for(&app, id, |s| {
            text(s, "lastSuccessfulSyncDateTime") >= text(s, "lastSyncTriggeredDateTime")
        })
        .await;
        assert_eq!(s["syncedDeviceCount"], 12, "{s}");
    }
    // Both schedulers keep syncing every token (incrementally): wait until each was synced
    // again, then no token was ever fetched twice.
    let state = eventually(
        "a periodic sync of every token",
        Duration::from_secs(60),
        || async {
            let state = sim.get("/admin/state").await;
            let again = state["servers"].as_array().is_some_and(|servers| {
                servers
                    .iter()
                    .all(|s| s["requests"]["devices_sync"].as_u64().unwrap_or(0) >= 2)
            });
            again.then_some(state)
        },
    )
    .await;
    for info in state["servers"].as_array().unwrap() {
        let name = info["name"].as_str().unwrap();
        // 12 devices at 10 per page: two fetch pages, once; a second concurrent run of the
        // same token would have fetched again.
        assert_eq!(info["requests"]["server_devices"], 2, "{name}: {info}");
        assert!(
            info["requests"]["devices_sync"].as_u64().unwrap() >= 1,
            "{name}"
        );
    }
    for id in &ids {
        assert_eq!(by_serial(&app, id).await.len(), 12);
    }
    drop(app);
    drop(shared);
}

mod two_instances_sync_50_tokens_without_overlap {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::two_instances_sync_50_tokens_without_overlap().await;
    }
}

on_both_backends!(
    a_session_expiring_mid_sync_reauthenticates_once,
    throttling_during_a_sync_is_waited_out,
    an_expired_server_token_records_its_error_and_is_kept,
    release_apple_devices_disowns_and_marks_identities,
    full_then_incremental_sync,
    expired_cursor_restarts_a_full_fetch,
    unsigned_terms_record_403_and_keep_the_token,
    a_failed_run_resumes_from_the_stored_cursor,
    a_setting_without_a_token_cannot_sync,
    the_scheduler_syncs_without_a_trigger,
    two_instances_never_sync_one_token_at_once,
);
