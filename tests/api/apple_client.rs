//! The gateway's Apple DEP client (`apple::client::DepClient`) against the bundled simulator:
//! sessions, paging, sync, cursor errors, re-authentication, throttling, terms, profiles and
//! disown. No gateway is started; each test runs its own simulator on port 0.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use dep_gateway::apple::client::{ClientOptions, DepClient};
use dep_gateway::apple::error::AppleError;
use dep_gateway::apple::profile::dep_profile_from_graph;
use dep_gateway::apple::token_file::ServerTokenCredentials;
use dep_gateway::apple::types::{DepProfile, DeviceStatus, OpType, ProfileStatus, serial_status};
use dep_gateway::apple_sim::{self, SimConfig, SimHandle};
use dep_gateway::clock::testing::FakeClock;
use reqwest::Method;
use serde_json::{Value, json};
use url::Url;

/// A running simulator plus an admin client.
struct Sim {
    handle: SimHandle,
    http: reqwest::Client,
}

impl Sim {
    async fn start() -> Self {
        let handle = apple_sim::start(SimConfig::default())
            .await
            .expect("simulator starts");
        Self {
            handle,
            http: reqwest::Client::new(),
        }
    }

    async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.handle.base_url());
        let mut req = self.http.request(method, url);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.expect("admin request");
        let status = resp.status();
        let text = resp.text().await.expect("admin body");
        assert!(status.is_success(), "{path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.admin(Method::POST, path, Some(body)).await
    }

    /// Creates server `name` with `devices` devices; returns its credentials.
    async fn server(&self, name: &str, devices: u32) -> ServerTokenCredentials {
        let info = self
            .post("/admin/servers", json!({"name": name, "devices": devices}))
            .await;
        serde_json::from_value(info["credentials"].clone()).expect("credentials")
    }

    fn client(&self, creds: ServerTokenCredentials, options: ClientOptions) -> DepClient {
        let base = Url::parse(&self.handle.base_url()).expect("base url");
        DepClient::new(self.http.clone(), base, creds, options)
    }

    /// A client of a new server with `devices` devices, retrying fast.
    async fn dep(&self, name: &str, devices: u32) -> DepClient {
        self.client(self.server(name, devices).await, fast())
    }

    /// How often the simulator served `endpoint` (all servers).
    async fn counter(&self, endpoint: &str) -> u64 {
        let state = self.admin(Method::GET, "/admin/state", None).await;
        state["requests"][endpoint].as_u64().expect("counter")
    }

    async fn inject(&self, rule: Value) {
        self.post("/admin/failures", rule).await;
    }
}

/// Default options but waits of at most 20 ms between retries.
fn fast() -> ClientOptions {
    ClientOptions {
        max_backoff: Duration::from_millis(20),
        ..ClientOptions::default()
    }
}

/// Fetches every page; returns the serials, the last cursor and the page count.
async fn full_fetch(dep: &DepClient, limit: u32) -> (Vec<String>, String, usize) {
    let (mut serials, mut cursor, mut pages) = (Vec::new(), None::<String>, 0);
    loop {
        let page = dep
            .fetch_devices(cursor.as_deref(), limit)
            .await
            .expect("page");
        pages += 1;
        serials.extend(page.devices.into_iter().map(|d| d.serial_number));
        if !page.more_to_follow {
            return (serials, page.cursor, pages);
        }
        cursor = Some(page.cursor);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_describes_the_server_and_requests_carry_apples_headers() {
    let sim = Sim::start().await;
    let dep = sim.dep("acme-mdm", 0).await;

    let account = dep.account().await.expect("account");

    assert_eq!(account.server_name, "acme-mdm");
    assert!(!account.server_uuid.is_empty());
    let paged = account.urls.iter().find(|u| u.uri == "/server/devices");
    assert_eq!(paged.and_then(|u| u.limit).map(|l| l.maximum), Some(1000));
    assert_eq!(dep.requests_made(), 2, "one /session, one /account");
    let log = sim.admin(Method::GET, "/admin/requests", None).await;
    for r in log["requests"].as_array().expect("log") {
        assert!(
            r["user_agent"]
                .as_str()
                .expect("ua")
                .starts_with("dep-gateway/")
        );
        assert_eq!(r["protocol_version"], "10");
        assert_eq!(r["status"], 200);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_fetch_of_2500_devices_takes_three_requests_then_sync_returns_exactly_the_changes() {
    let sim = Sim::start().await;
    let dep = sim.dep("big", 2500).await;

    let (serials, cursor, pages) = full_fetch(&dep, 1000).await;

    assert_eq!((serials.len(), pages), (2500, 3));
    assert_eq!(serials.iter().collect::<BTreeSet<_>>().len(), 2500);
    assert_eq!(sim.counter("server_devices").await, 3);
    assert_eq!(sim.counter("session").await, 1);
    assert_eq!(dep.requests_made(), 4);

    let device = json!({"serial_number": "CLIENTTEST01", "model": "iPad Air"});
    sim.post("/admin/servers/big/devices", json!({"devices": [device]}))
        .await;
    let set = json!({"serials": [serials[0]], "set": {"asset_tag": "TAG-1"}});
    sim.post("/admin/servers/big/devices/modify", set).await;
    let delete = json!({"serials": [serials[1]]});
    sim.post("/admin/servers/big/devices/delete", delete).await;
    let page = dep.sync_devices(&cursor, 1000).await.expect("sync");

    let got: Vec<(&str, OpType)> = page
        .devices
        .iter()
        .map(|d| (d.serial_number.as_str(), d.effective_op_type()))
        .collect();
    assert_eq!(
        got,
        [
            ("CLIENTTEST01", OpType::Added),
            (serials[0].as_str(), OpType::Modified),
            (serials[1].as_str(), OpType::Deleted),
        ]
    );
    assert!(page.devices.iter().all(|d| d.op_date.is_some()));
    assert_eq!(page.devices[1].asset_tag.as_deref(), Some("TAG-1"));
    assert!(!page.more_to_follow);
    let again = dep.sync_devices(&page.cursor, 1000).await.expect("sync");
    assert!(again.devices.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_cursor_error_maps_to_its_variant() {
    let sim = Sim::start().await;
    let dep = sim.dep("cursors", 3).await;
    let (_, cursor, _) = full_fetch(&dep, 100).await;

    let required = dep.sync_devices("", 10).await.unwrap_err();
    let invalid = dep.sync_devices("MTY1NzI2ODE5Ny0x", 10).await.unwrap_err();
    let exhausted = dep.fetch_devices(Some(&cursor), 10).await.unwrap_err();
    let settings = json!({"cursor_max_age_secs": 0});
    sim.admin(Method::PATCH, "/admin/settings", Some(settings))
        .await;
    let expired = dep.sync_devices(&cursor, 10).await.unwrap_err();

    let errors = [required, invalid, exhausted, expired];
    assert_eq!(
        errors,
        [
            AppleError::CursorRequired,
            AppleError::CursorInvalid,
            AppleError::CursorExhausted,
            AppleError::CursorExpired,
        ]
    );
    assert!(errors.iter().all(AppleError::is_cursor_error));
    let codes: Vec<i32> = errors.iter().map(AppleError::lsync_error_code).collect();
    assert_eq!(codes, [4004, 4002, 4003, 4001]);
    assert_eq!(
        dep.requests_made(),
        2 + 4,
        "cursor errors are neither retried nor replayed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_expiring_mid_fetch_is_renewed_once_and_the_fetch_completes() {
    let sim = Sim::start().await;
    let dep = sim.dep("expiring", 25).await;
    let first = dep.fetch_devices(None, 10).await.expect("page 1");
    let rule = json!({"endpoint": "server_devices", "response": "session_expired"});
    sim.inject(rule).await;

    let second = dep
        .fetch_devices(Some(&first.cursor), 10)
        .await
        .expect("page 2");
    let third = dep
        .fetch_devices(Some(&second.cursor), 10)
        .await
        .expect("page 3");

    assert_eq!(third.devices.len(), 5);
    assert!(!third.more_to_follow);
    assert_eq!(sim.counter("session").await, 2);
    // session, page 1, refused page 2, session, page 2 again, page 3.
    assert_eq!(dep.requests_made(), 6);

    sim.post("/admin/sessions/expire", json!({})).await;
    dep.account()
        .await
        .expect("re-authenticates after an admin expiry");
    assert_eq!(sim.counter("session").await, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_401_after_re_authentication_is_unauthorized() {
    let sim = Sim::start().await;
    let dep = sim.dep("stubborn", 1).await;
    let rule = json!({"endpoint": "account", "response": "unauthorized", "count": 5});
    sim.inject(rule).await;

    let err = dep.account().await.unwrap_err();

    assert_eq!(err, AppleError::Unauthorized);
    assert_eq!(err.lsync_error_code(), 401);
    assert_eq!(sim.counter("account").await, 2, "one replay, no loop");
    assert_eq!(sim.counter("session").await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_credentials_are_unauthorized_and_expired_tokens_token_expired() {
    let sim = Sim::start().await;
    let revoked = sim.server("revoked", 1).await;
    sim.post("/admin/servers/revoked/token", json!({"renew": true}))
        .await;
    let live = sim.dep("expired", 1).await;
    live.account().await.expect("works before expiry");
    sim.post("/admin/servers/expired/token", json!({"expire": true}))
        .await;

    let replaced = sim.client(revoked.clone(), fast()).account().await;
    let expired = live.account().await.unwrap_err();
    let mut stale = revoked;
    stale.access_token_expiry = chrono::Utc::now() - chrono::Duration::days(1);
    let locally_expired = sim.client(stale, fast()).account().await;

    assert_eq!(replaced.unwrap_err(), AppleError::Unauthorized);
    assert_eq!(
        expired,
        AppleError::TokenExpired,
        "even with a live session"
    );
    assert_eq!(expired.lsync_error_code(), 410);
    assert_eq!(locally_expired.unwrap_err(), AppleError::TokenExpired);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_is_honoured_and_the_call_then_succeeds() {
    let sim = Sim::start().await;
    let options = ClientOptions {
        max_retries: 3,
        ..ClientOptions::default()
    };
    // The client waits on a fake clock: the test decides when Retry-After (1 s) has passed.
    let clock = Arc::new(FakeClock::default());
    let dep = Arc::new(
        sim.client(sim.server("throttled", 1).await, options)
            .with_clock(clock.clone()),
    );
    let rule = json!({"endpoint": "account", "response": "too_many_requests", "count": 2});
    sim.inject(rule).await;

    let call = tokio::spawn({
        let dep = Arc::clone(&dep);
        async move { dep.account().await }
    });
    for answered in 1..=2 {
        let waiting = || {
            let clock = Arc::clone(&clock);
            async move { (clock.sleepers() == 1).then_some(()) }
        };
        crate::helpers::eventually("the client to wait", Duration::from_secs(10), waiting).await;
        assert_eq!(
            sim.counter("account").await,
            answered,
            "429 number {answered}"
        );
        // A moment short of Retry-After: still waiting, nothing sent.
        clock.advance(Duration::from_millis(999));
        tokio::task::yield_now().await;
        assert_eq!(clock.sleepers(), 1);
        assert_eq!(sim.counter("account").await, answered);
        clock.advance(Duration::from_millis(1));
        let next = || {
            let sim_requests = dep.requests_made();
            async move { (sim_requests > answered + 1).then_some(()) }
        };
        crate::helpers::eventually("the retry", Duration::from_secs(10), next).await;
    }
    let account = call.await.unwrap().expect("succeeds after two 429s");

    assert_eq!(account.server_name, "throttled");
    assert_eq!(sim.counter("account").await, 3);
    assert_eq!(dep.requests_made(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_and_5xx_beyond_max_retries_are_reported() {
    let sim = Sim::start().await;
    let options = ClientOptions {
        max_retries: 2,
        ..fast()
    };
    let dep = sim.client(sim.server("storm", 1).await, options);
    dep.account().await.expect("session opened");
    let storm = json!({"endpoint": "account", "response": "too_many_requests", "count": 10});
    sim.inject(storm).await;

    let err = dep.account().await.unwrap_err();

    let retry_after = Some(Duration::from_secs(1));
    assert_eq!(err, AppleError::RateLimited { retry_after });
    assert_eq!(err.lsync_error_code(), 429);
    assert_eq!(sim.counter("account").await, 1 + 3);
    sim.admin(Method::DELETE, "/admin/failures", None).await;
    let outage = json!({"endpoint": "account", "response": "service_unavailable", "count": 3});
    sim.inject(outage).await;
    let err = dep.account().await.unwrap_err();
    assert!(
        matches!(err, AppleError::Upstream { status: 503, .. }),
        "{err:?}"
    );
    let blip = json!({"endpoint": "account", "response": "internal_server_error"});
    sim.inject(blip).await;
    dep.account().await.expect("one 500 is retried away");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsigned_terms_are_terms_not_signed_without_re_authentication_loops() {
    let sim = Sim::start().await;
    let dep = sim.dep("terms", 1).await;
    let fresh = sim.client(sim.server("terms", 0).await, fast());
    dep.account().await.expect("session opened");
    sim.post("/admin/servers/terms/terms", json!({"signed": false}))
        .await;

    let err = dep.account().await.unwrap_err();
    let before_session = fresh.account().await.unwrap_err();

    assert_eq!(err, AppleError::TermsNotSigned);
    assert_eq!(err.lsync_error_code(), 403);
    assert_eq!(before_session, AppleError::TermsNotSigned);
    assert_eq!(dep.requests_made(), 3, "the 403 is final");
    assert_eq!(fresh.requests_made(), 1, "refused at /session");
    sim.post("/admin/servers/terms/terms", json!({"signed": true}))
        .await;
    dep.account().await.expect("works once accepted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profiles_are_defined_and_assigned_with_a_result_per_serial() {
    let sim = Sim::start().await;
    let dep = sim.dep("profiles", 3).await;
    let (serials, _, _) = full_fetch(&dep, 100).await;
    let graph = json!({"displayName": "Staff iPads", "supervisedModeEnabled": true,
        "profileRemovalDisabled": true, "isMandatory": true, "siriDisabled": true,
        "iTunesPairingMode": "disallow", "supportDepartment": "IT",
        "enabledSkipKeys": ["TermsOfAddress"], "configurationWebUrl": true});
    let profile = dep_profile_from_graph(
        "#microsoft.graph.depIOSEnrollmentProfile",
        graph.as_object().expect("object"),
        "https://gw.example.com/enroll/1",
    );

    let defined = dep.define_profile(&profile).await.expect("defined");
    let targets = [serials[0].as_str(), serials[1].as_str(), "NOTMINE00001"];
    let assigned = dep
        .assign_profile(&defined.profile_uuid, &targets)
        .await
        .expect("assigned");

    assert_eq!(assigned.profile_uuid, defined.profile_uuid);
    assert_eq!(
        serial_status(&assigned.devices, &serials[0]),
        DeviceStatus::Success
    );
    assert_eq!(
        serial_status(&assigned.devices, &serials[1]),
        DeviceStatus::Success
    );
    assert_eq!(
        serial_status(&assigned.devices, "NOTMINE00001"),
        DeviceStatus::NotAccessible
    );
    assert_eq!(
        serial_status(&assigned.devices, "NEVERASKED01"),
        DeviceStatus::Failed
    );
    let details = dep
        .device_details(&[serials[0].as_str(), "NOTMINE00001"])
        .await
        .expect("details");
    let device = &details[&serials[0]];
    assert_eq!(
        device.profile_uuid.as_deref(),
        Some(defined.profile_uuid.as_str())
    );
    assert_eq!(device.profile_status, Some(ProfileStatus::Assigned));
    assert_eq!(device.response_status.as_deref(), Some("SUCCESS"));
    let missing = &details["NOTMINE00001"];
    assert_eq!(missing.response_status.as_deref(), Some("NOT_FOUND"));
    let removed = dep.remove_profile(&[&serials[0]]).await.expect("removed");
    assert_eq!(removed[&serials[0]], DeviceStatus::Success);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttled_assignments_and_profile_errors_are_reported() {
    let sim = Sim::start().await;
    let dep = sim.dep("throttle", 2).await;
    let (serials, _, _) = full_fetch(&dep, 100).await;
    let mut profile = DepProfile::new("Staff", "https://mdm.example.com/enroll");
    profile.devices = vec![serials[0].clone()];
    let defined = dep.define_profile(&profile).await.expect("defined");
    assert_eq!(defined.devices[&serials[0]], DeviceStatus::Success);
    let outcome =
        json!({"serials": [serials[1]], "outcome": "THROTTLED", "retry_after_seconds": 90});
    sim.post("/admin/servers/throttle/assign-outcomes", outcome)
        .await;

    let assigned = dep
        .assign_profile(&defined.profile_uuid, &[&serials[1]])
        .await
        .expect("answered");
    let unknown = dep
        .assign_profile("NOPE", &[&serials[1]])
        .await
        .unwrap_err();
    let invalid = dep
        .define_profile(&DepProfile::new("", "https://x.example"))
        .await
        .unwrap_err();

    assert_eq!(assigned.devices[&serials[1]], DeviceStatus::Throttled);
    assert_eq!(assigned.retry_after_seconds, Some(90));
    let code = |e: &AppleError| match e {
        AppleError::Upstream { status, code, .. } => (*status, code.clone().unwrap_or_default()),
        other => panic!("{other:?}"),
    };
    assert_eq!(code(&unknown), (404, "PROFILE_NOT_FOUND".to_owned()));
    assert_eq!(code(&invalid), (400, "CONFIG_NAME_INVALID".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disowned_devices_leave_the_server() {
    let sim = Sim::start().await;
    let dep = sim.dep("disown", 2).await;
    let (serials, cursor, _) = full_fetch(&dep, 100).await;

    let out = dep
        .disown(&[serials[0].as_str(), "GHOST0000001"])
        .await
        .expect("disowned");

    assert_eq!(out[&serials[0]], DeviceStatus::Success);
    assert_eq!(out["GHOST0000001"], DeviceStatus::NotAccessible);
    let page = dep.sync_devices(&cursor, 100).await.expect("sync");
    assert_eq!(page.devices.len(), 1);
    assert_eq!(page.devices[0].effective_op_type(), OpType::Deleted);
    let (left, _, _) = full_fetch(&dep, 100).await;
    assert_eq!(left, [serials[1].clone()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_share_one_session() {
    let sim = Sim::start().await;
    let dep = Arc::new(sim.dep("shared", 1).await);

    let calls: Vec<_> = (0..8)
        .map(|_| {
            let dep = Arc::clone(&dep);
            tokio::spawn(async move { dep.account().await })
        })
        .collect();
    for call in calls {
        call.await.expect("joined").expect("account");
    }

    assert_eq!(sim.counter("session").await, 1);
    assert_eq!(dep.requests_made(), 9);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn depsim_quirks_quoted_errors_and_forbidden_sessions_are_handled() {
    let sim = Sim::start().await;
    let dep = sim.dep("depsim", 3).await;
    let (_, cursor, _) = full_fetch(&dep, 100).await;
    let settings = json!({"depsim_compat": true, "rotate_session_tokens": true});
    sim.admin(Method::PATCH, "/admin/settings", Some(settings))
        .await;

    let err = dep.sync_devices("bogus", 10).await.unwrap_err();
    sim.post("/admin/sessions/expire", json!({})).await;
    let page = dep
        .sync_devices(&cursor, 10)
        .await
        .expect("re-authenticated after 403 FORBIDDEN");

    assert_eq!(err, AppleError::CursorInvalid, "from a JSON-quoted body");
    assert!(page.devices.is_empty());
    assert_eq!(sim.counter("session").await, 2);
    dep.account()
        .await
        .expect("a rotated session token is adopted");
}
