//! The bundled Apple DEP simulator over HTTP: OAuth sessions, paging, sync, cursor errors,
//! failure injection, profiles, disown and persistence, driven by a small DEP client that signs
//! with the gateway's own `apple::oauth::sign_request`.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use dep_gateway::apple::oauth::{new_nonce, sign_request};
use dep_gateway::apple::token_file::ServerTokenCredentials;
use dep_gateway::apple_sim::{self, SimConfig, SimHandle};
use reqwest::{Method, RequestBuilder, Response};
use serde_json::{Value, json};
use url::Url;
use uuid::Uuid;

const UA: &str = "dep-gateway-tests/1.0";

/// A running simulator plus an admin client.
struct Sim {
    handle: SimHandle,
    http: reqwest::Client,
}

impl Sim {
    async fn start() -> Self {
        Self::start_with(None).await
    }

    async fn start_with(state_file: Option<PathBuf>) -> Self {
        let handle = apple_sim::start(SimConfig {
            bind: "127.0.0.1:0".into(),
            state_file,
        })
        .await
        .expect("simulator starts");
        Self {
            handle,
            http: reqwest::Client::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.handle.base_url())
    }

    async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self.http.request(method, self.url(path));
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

    /// Creates (or gets) server `name` with `devices` devices; returns a client for it.
    async fn server(&self, name: &str, devices: u32) -> Dep {
        let info = self
            .post("/admin/servers", json!({"name": name, "devices": devices}))
            .await;
        let creds: ServerTokenCredentials =
            serde_json::from_value(info["credentials"].clone()).expect("credentials");
        Dep {
            base: self.handle.base_url(),
            http: self.http.clone(),
            creds,
            session: None,
            name: name.to_owned(),
        }
    }

    async fn counter(&self, endpoint: &str) -> u64 {
        let state = self.admin(Method::GET, "/admin/state", None).await;
        state["requests"][endpoint].as_u64().expect("counter")
    }
}

/// A minimal DEP client for one server token.
struct Dep {
    base: String,
    http: reqwest::Client,
    creds: ServerTokenCredentials,
    session: Option<String>,
    name: String,
}

impl Dep {
    fn session_url(&self) -> Url {
        Url::parse(&format!("{}/session", self.base)).expect("url")
    }

    fn signed(&self, nonce: &str, timestamp: i64) -> String {
        sign_request(
            "GET",
            &self.session_url(),
            &self.creds.oauth_keys(),
            timestamp,
            nonce,
        )
    }

    async fn session_with(&self, authorization: &str) -> Response {
        self.http
            .get(self.session_url())
            .header("User-Agent", UA)
            .header("X-Server-Protocol-Version", "7")
            .header("Authorization", authorization)
            .send()
            .await
            .expect("session request")
    }

    async fn authenticate(&mut self) {
        let header = self.signed(&new_nonce(), Utc::now().timestamp());
        let resp = self.session_with(&header).await;
        assert_eq!(resp.status(), 200);
        let body: Value = resp.json().await.expect("json");
        let token = body["auth_session_token"].as_str().expect("token");
        assert!(!token.is_empty());
        self.session = Some(token.to_owned());
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .header("User-Agent", UA)
            .header("X-Server-Protocol-Version", "10")
            .header(
                "X-ADM-Auth-Session",
                self.session.clone().unwrap_or_default(),
            )
    }

    async fn call(&self, method: Method, path: &str, body: &Value) -> Response {
        self.request(method, path)
            .header("Content-Type", "application/json;charset=UTF8")
            .body(body.to_string())
            .send()
            .await
            .expect("request")
    }

    async fn post(&self, path: &str, body: &Value) -> Response {
        self.call(Method::POST, path, body).await
    }

    async fn ok(&self, method: Method, path: &str, body: &Value) -> Value {
        let resp = self.call(method, path, body).await;
        let status = resp.status();
        let text = resp.text().await.expect("body");
        assert_eq!(status, 200, "{path}: {text}");
        serde_json::from_str(&text).expect("json")
    }

    /// Full fetch; returns the serials, the final cursor and the number of pages.
    async fn full_fetch(&self, limit: u32) -> (Vec<String>, String, usize) {
        let mut serials = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let body = match &cursor {
                Some(c) => json!({"cursor": c, "limit": limit}),
                None => json!({"limit": limit}),
            };
            let page = self.ok(Method::POST, "/server/devices", &body).await;
            pages += 1;
            serials.extend(serials_of(&page));
            cursor = page["cursor"].as_str().map(str::to_owned);
            if !page["more_to_follow"].as_bool().expect("more_to_follow") {
                return (serials, cursor.expect("cursor"), pages);
            }
        }
    }

    /// Syncs until nothing more follows; returns `(serial, op_type)` pairs and the cursor.
    async fn sync_all(&self, cursor: &str) -> (Vec<(String, String)>, String) {
        let mut cursor = cursor.to_owned();
        let mut changes = Vec::new();
        loop {
            let page = self
                .ok(Method::POST, "/devices/sync", &json!({"cursor": cursor}))
                .await;
            for d in page["devices"].as_array().expect("devices") {
                let serial = d["serial_number"].as_str().unwrap_or_default().to_owned();
                changes.push((serial, d["op_type"].as_str().unwrap_or_default().to_owned()));
            }
            page["cursor"]
                .as_str()
                .expect("cursor")
                .clone_into(&mut cursor);
            if !page["more_to_follow"].as_bool().unwrap_or(false) {
                return (changes, cursor);
            }
        }
    }
}

fn serials_of(page: &Value) -> Vec<String> {
    page["devices"]
        .as_array()
        .expect("devices")
        .iter()
        .map(|d| d["serial_number"].as_str().expect("serial").to_owned())
        .collect()
}

async fn assert_error(resp: Response, status: u16, code: &str) -> reqwest::header::HeaderMap {
    assert_eq!(resp.status().as_u16(), status);
    let headers = resp.headers().clone();
    let body = resp.text().await.expect("body");
    assert!(body.contains(code), "expected {code}, got {body:?}");
    headers
}

fn problem(headers: &reqwest::header::HeaderMap) -> String {
    headers
        .get("WWW-Authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_checks_the_oauth_signature_nonce_and_token_expiry() {
    let sim = Sim::start().await;
    let mut dep = sim.server("oauth", 0).await;
    dep.authenticate().await;

    let now = Utc::now().timestamp();
    let good = dep.signed("nonce-1", now);
    assert_eq!(dep.session_with(&good).await.status(), 200);
    let reused = assert_error(dep.session_with(&good).await, 401, "UNAUTHORIZED").await;
    assert!(problem(&reused).contains("nonce_used"));

    let tampered = dep
        .signed("nonce-2", now)
        .replace("oauth_nonce=\"nonce-2\"", "oauth_nonce=\"nonce-3\"");
    let bad = assert_error(dep.session_with(&tampered).await, 401, "UNAUTHORIZED").await;
    assert!(problem(&bad).contains("signature_invalid"));

    let stale = dep.signed("nonce-4", now - 3600);
    let old = assert_error(dep.session_with(&stale).await, 401, "UNAUTHORIZED").await;
    assert!(problem(&old).contains("timestamp_refused"));

    let mut stranger = sim.server("oauth-other", 0).await;
    stranger.creds.consumer_secret = "CS_wrong".into();
    let header = stranger.signed("nonce-5", now);
    assert_error(stranger.session_with(&header).await, 401, "UNAUTHORIZED").await;

    sim.post("/admin/servers/oauth/token", json!({"expire": true}))
        .await;
    let expired = assert_error(
        dep.session_with(&dep.signed("nonce-6", now)).await,
        401,
        "UNAUTHORIZED",
    )
    .await;
    assert!(problem(&expired).contains("token_expired"));
    let account = dep.call(Method::GET, "/account", &json!({})).await;
    assert_error(account, 401, "UNAUTHORIZED").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_fetch_pages_with_more_to_follow_and_an_opaque_cursor() {
    let sim = Sim::start().await;
    let mut dep = sim.server("fetch", 25).await;
    dep.authenticate().await;

    let (serials, last, pages) = dep.full_fetch(10).await;
    assert_eq!(pages, 3);
    assert_eq!(
        sim.counter("server_devices").await,
        3,
        "no more requests than pages"
    );
    let mut sorted = serials.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 25);
    assert!(last.len() <= 1000);

    let again = dep.post("/server/devices", &json!({"cursor": last})).await;
    assert_error(again, 400, "EXHAUSTED_CURSOR").await;

    let page = dep
        .ok(Method::POST, "/server/devices", &json!({"limit": 5000}))
        .await;
    assert_eq!(serials_of(&page).len(), 25);
    assert!(page["fetched_until"].as_str().is_some());
    let device = &page["devices"][0];
    for field in [
        "serial_number",
        "model",
        "os",
        "device_family",
        "profile_status",
        "device_assigned_by",
    ] {
        assert!(device.get(field).is_some(), "{field} in {device}");
    }
    assert!(
        device.get("op_type").is_none(),
        "fetch devices carry no op_type"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incremental_sync_shows_exactly_the_admin_changes() {
    let sim = Sim::start().await;
    let mut a = sim.server("sync-a", 5).await;
    let mut b = sim.server("sync-b", 1).await;
    a.authenticate().await;
    b.authenticate().await;
    let (serials, cursor_a, _) = a.full_fetch(100).await;
    let (_, cursor_b, _) = b.full_fetch(100).await;
    let (empty, _) = a.sync_all(&cursor_a).await;
    assert!(empty.is_empty());

    let added = sim
        .post(
            "/admin/servers/sync-a/devices",
            json!({"count": 1, "devices": [{"serial_number": "SIMTEST0001", "model": "iPad Air"}]}),
        )
        .await;
    let new_serial = added["devices"][0]["serial_number"]
        .as_str()
        .expect("serial")
        .to_owned();
    sim.post(
        "/admin/servers/sync-a/devices/modify",
        json!({"serials": [serials[0]], "set": {"asset_tag": "TAG-1"}}),
    )
    .await;
    sim.post(
        "/admin/devices/move",
        json!({"serials": [serials[1]], "to": "sync-b"}),
    )
    .await;
    sim.post(
        "/admin/servers/sync-a/devices/delete",
        json!({"serials": [serials[2]]}),
    )
    .await;

    let (changes, next) = a.sync_all(&cursor_a).await;
    let expected = [
        (new_serial.as_str(), "added"),
        ("SIMTEST0001", "added"),
        (serials[0].as_str(), "modified"),
        (serials[1].as_str(), "deleted"),
        (serials[2].as_str(), "deleted"),
    ];
    let got: Vec<(&str, &str)> = changes
        .iter()
        .map(|(s, o)| (s.as_str(), o.as_str()))
        .collect();
    assert_eq!(got, expected);
    let (moved_in, _) = b.sync_all(&cursor_b).await;
    assert_eq!(moved_in, [(serials[1].clone(), "added".to_owned())]);
    let (nothing, _) = a.sync_all(&next).await;
    assert!(
        nothing.is_empty(),
        "a sync cursor moves past what it returned"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cursor_errors_have_apples_codes() {
    let sim = Sim::start().await;
    let mut dep = sim.server("cursors", 3).await;
    let mut other = sim.server("cursors-other", 3).await;
    dep.authenticate().await;
    other.authenticate().await;
    let (_, cursor, _) = dep.full_fetch(100).await;
    let (_, foreign, _) = other.full_fetch(100).await;

    assert_error(
        dep.post("/devices/sync", &json!({})).await,
        400,
        "CURSOR_REQUIRED",
    )
    .await;
    assert_error(
        dep.post("/devices/sync", &json!({"cursor": "MTY1NzI2ODE5Ny0x"}))
            .await,
        400,
        "INVALID_CURSOR",
    )
    .await;
    let last = if cursor.ends_with('A') { 'B' } else { 'A' };
    let tampered = format!("{}{last}", &cursor[..cursor.len() - 1]);
    assert_error(
        dep.post("/devices/sync", &json!({"cursor": tampered}))
            .await,
        400,
        "INVALID_CURSOR",
    )
    .await;
    assert_error(
        dep.post("/devices/sync", &json!({"cursor": foreign})).await,
        400,
        "INVALID_CURSOR",
    )
    .await;
    assert_error(
        dep.post("/server/devices", &json!({"cursor": cursor}))
            .await,
        400,
        "EXHAUSTED_CURSOR",
    )
    .await;
    assert_error(
        dep.post("/devices/sync", &json!({"cursor": 12})).await,
        400,
        "MALFORMED_REQUEST_BODY",
    )
    .await;

    sim.admin(
        Method::PATCH,
        "/admin/settings",
        Some(json!({"cursor_max_age_secs": 0})),
    )
    .await;
    assert_error(
        dep.post("/devices/sync", &json!({"cursor": cursor})).await,
        400,
        "EXPIRED_CURSOR",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_sessions_answer_401_and_re_authentication_works() {
    let sim = Sim::start().await;
    let mut dep = sim.server("sessions", 2).await;
    dep.authenticate().await;
    dep.ok(Method::GET, "/account", &json!({})).await;

    let expired = sim
        .post("/admin/sessions/expire", json!({"server": "sessions"}))
        .await;
    assert_eq!(expired["expired"], 1);
    assert_error(
        dep.call(Method::GET, "/account", &json!({})).await,
        401,
        "UNAUTHORIZED",
    )
    .await;
    dep.authenticate().await;
    let account = dep.ok(Method::GET, "/account", &json!({})).await;
    assert_eq!(account["server_name"], "sessions");
    assert!(account["urls"].as_array().is_some_and(|u| !u.is_empty()));

    // Expiry in the middle of a sync.
    let (_, cursor, _) = dep.full_fetch(100).await;
    sim.post(
        "/admin/failures",
        json!({"endpoint": "devices_sync", "response": "session_expired"}),
    )
    .await;
    assert_error(
        dep.post("/devices/sync", &json!({"cursor": cursor})).await,
        401,
        "UNAUTHORIZED",
    )
    .await;
    assert_error(
        dep.post("/devices/sync", &json!({"cursor": cursor})).await,
        401,
        "UNAUTHORIZED",
    )
    .await;
    dep.authenticate().await;
    dep.ok(Method::POST, "/devices/sync", &json!({"cursor": cursor}))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_429_storm_carries_retry_after() {
    let sim = Sim::start().await;
    let mut dep = sim.server("storm", 2).await;
    dep.authenticate().await;
    let rule = json!({"endpoint": "POST /server/devices", "server": "storm", "count": 2, "status": 429, "body": "TOO_MANY_REQUESTS", "retry_after": 7});
    sim.post("/admin/failures", rule).await;
    for _ in 0..2 {
        let headers = assert_error(
            dep.post("/server/devices", &json!({})).await,
            429,
            "TOO_MANY_REQUESTS",
        )
        .await;
        assert_eq!(
            headers.get("Retry-After").and_then(|v| v.to_str().ok()),
            Some("7")
        );
    }
    dep.ok(Method::POST, "/server/devices", &json!({})).await;
    assert_eq!(sim.counter("server_devices").await, 3);

    sim.post(
        "/admin/failures",
        json!({"endpoint": "session", "response": "service_unavailable"}),
    )
    .await;
    let header = dep.signed(&new_nonce(), Utc::now().timestamp());
    assert_error(dep.session_with(&header).await, 503, "Service Unavailable").await;
    let pending = sim.admin(Method::GET, "/admin/failures", None).await;
    assert_eq!(pending["failures"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsigned_terms_block_every_call_until_accepted() {
    let sim = Sim::start().await;
    let mut dep = sim.server("terms", 1).await;
    dep.authenticate().await;
    sim.post("/admin/servers/terms/terms", json!({"signed": false}))
        .await;
    assert_error(
        dep.call(Method::GET, "/account", &json!({})).await,
        403,
        "T_C_NOT_SIGNED",
    )
    .await;
    let header = dep.signed(&new_nonce(), Utc::now().timestamp());
    assert_error(dep.session_with(&header).await, 403, "T_C_NOT_SIGNED").await;
    sim.post("/admin/servers/terms/terms", json!({"signed": true}))
        .await;
    dep.ok(Method::GET, "/account", &json!({})).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profiles_are_defined_assigned_and_removed_per_serial() {
    let sim = Sim::start().await;
    let mut dep = sim.server("profiles", 3).await;
    let foreign = sim.server("profiles-other", 1).await;
    dep.authenticate().await;
    let (serials, cursor, _) = dep.full_fetch(100).await;
    let (foreign_serials, _, _) = {
        let mut f = foreign;
        f.authenticate().await;
        f.full_fetch(100).await
    };

    let invalid = dep
        .post("/profile", &json!({"profile_name": "Staff"}))
        .await;
    assert_error(invalid, 400, "CONFIG_URL_REQUIRED").await;
    let flags =
        json!({"profile_name": "S", "url": "https://mdm.example.com/e", "is_mdm_removable": false});
    assert_error(dep.post("/profile", &flags).await, 400, "FLAGS_INVALID").await;

    let profile = json!({"profile_name": "Staff", "url": "https://mdm.example.com/enroll", "is_supervised": true, "devices": [serials[0], foreign_serials[0]]});
    let defined = dep.ok(Method::POST, "/profile", &profile).await;
    let uuid = defined["profile_uuid"].as_str().expect("uuid").to_owned();
    assert_eq!(uuid.len(), 32);
    assert_eq!(defined["devices"][&serials[0]], "SUCCESS");
    assert_eq!(defined["devices"][&foreign_serials[0]], "NOT_ACCESSIBLE");

    let fetched = dep
        .ok(
            Method::GET,
            &format!("/profile?profile_uuid={uuid}"),
            &json!({}),
        )
        .await;
    assert_eq!(fetched["profile_name"], "Staff");
    assert_error(
        dep.call(Method::GET, "/profile?profile_uuid=NOPE", &json!({}))
            .await,
        404,
        "PROFILE_NOT_FOUND",
    )
    .await;

    sim.post(
        "/admin/servers/profiles/assign-outcomes",
        json!({"serials": [serials[2]], "outcome": "THROTTLED", "retry_after_seconds": 90}),
    )
    .await;
    let assign = json!({"profile_uuid": uuid, "devices": [serials[1], serials[2]]});
    let assigned = dep.ok(Method::PUT, "/profile/devices", &assign).await;
    assert_eq!(assigned["devices"][&serials[1]], "SUCCESS");
    assert_eq!(assigned["devices"][&serials[2]], "THROTTLED");
    assert_eq!(assigned["retry_after_seconds"], 90);
    let missing = dep
        .post(
            "/profile/devices",
            &json!({"profile_uuid": uuid, "devices": []}),
        )
        .await;
    assert_error(missing, 400, "DEVICE_ID_REQUIRED").await;

    let removed = dep
        .ok(
            Method::DELETE,
            "/profile/devices",
            &json!({"devices": [serials[0], "NOPE"]}),
        )
        .await;
    assert_eq!(
        removed["devices"],
        json!({"NOPE": "NOT_ACCESSIBLE", serials[0].clone(): "SUCCESS"})
    );

    let (changes, _) = dep.sync_all(&cursor).await;
    let ops: Vec<&str> = changes.iter().map(|(_, op)| op.as_str()).collect();
    assert_eq!(ops, ["modified", "modified", "modified"]);
    let details = dep
        .ok(
            Method::POST,
            "/devices",
            &json!({"devices": [serials[0], serials[1], "NOPE"]}),
        )
        .await;
    assert_eq!(details["devices"][&serials[0]]["profile_status"], "removed");
    assert_eq!(
        details["devices"][&serials[1]]["profile_uuid"],
        uuid.as_str()
    );
    assert_eq!(details["devices"]["NOPE"]["response_status"], "NOT_FOUND");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disowned_devices_leave_the_server_for_good() {
    let sim = Sim::start().await;
    let mut dep = sim.server("disown", 2).await;
    dep.authenticate().await;
    let (serials, cursor, _) = dep.full_fetch(100).await;
    let out = dep
        .ok(
            Method::POST,
            "/devices/disown",
            &json!({"devices": [serials[0], "GHOST"]}),
        )
        .await;
    assert_eq!(
        out["devices"],
        json!({"GHOST": "NOT_ACCESSIBLE", serials[0].clone(): "SUCCESS"})
    );
    let (changes, _) = dep.sync_all(&cursor).await;
    assert_eq!(changes, [(serials[0].clone(), "deleted".to_owned())]);
    let (left, _, _) = dep.full_fetch(100).await;
    assert_eq!(left, [serials[1].clone()]);
    let again = sim
        .post(
            "/admin/devices/move",
            json!({"serials": [serials[0]], "to": "disown"}),
        )
        .await;
    assert_eq!(again["not_found"], json!([serials[0]]));
    let gone = sim
        .post(
            "/admin/servers/disown/devices/delete",
            json!({"serials": [serials[1]], "disown": true}),
        )
        .await;
    assert_eq!(gone["changed"], json!([serials[1]]));
    let state = sim.admin(Method::GET, "/admin/state", None).await;
    assert_eq!(state["disowned_devices"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_need_a_user_agent_a_version_a_session_and_json() {
    let sim = Sim::start().await;
    let mut dep = sim.server("headers", 1).await;
    dep.authenticate().await;
    let url = sim.url("/account");
    let bare = sim.http.get(&url).header(
        "X-ADM-Auth-Session",
        dep.session.clone().unwrap_or_default(),
    );
    assert_error(bare.send().await.expect("send"), 400, "USER_AGENT_MISSING").await;
    let no_version = sim.http.get(&url).header("User-Agent", UA);
    assert_error(
        no_version.send().await.expect("send"),
        400,
        "SERVER_PROTOCOL_VERSION_MISSING",
    )
    .await;
    let session = dep.session.clone().unwrap_or_default();
    let bad_ua = sim
        .http
        .get(&url)
        .header("User-Agent", "nanodep-godep/0")
        .header("X-Server-Protocol-Version", "7");
    let bad_ua = bad_ua.header("X-ADM-Auth-Session", &session);
    assert_error(
        bad_ua.send().await.expect("send"),
        400,
        "USER_AGENT_INVALID",
    )
    .await;
    let no_session = sim
        .http
        .get(&url)
        .header("User-Agent", UA)
        .header("X-Server-Protocol-Version", "7");
    assert_error(no_session.send().await.expect("send"), 401, "UNAUTHORIZED").await;
    let unknown = sim
        .http
        .get(&url)
        .header("User-Agent", UA)
        .header("X-Server-Protocol-Version", "7");
    let unknown = unknown.header("X-ADM-Auth-Session", "nope");
    assert_error(unknown.send().await.expect("send"), 401, "UNAUTHORIZED").await;
    let form = dep
        .request(Method::POST, "/server/devices")
        .header("Content-Type", "text/plain")
        .body("{}");
    assert_error(
        form.send().await.expect("send"),
        415,
        "UNSUPPORTED_MEDIA_TYPE",
    )
    .await;
    let garbage = dep.call(Method::POST, "/devices", &json!("x")).await;
    assert_error(garbage, 400, "MALFORMED_REQUEST_BODY").await;
    let wrong_method = dep
        .request(Method::GET, "/devices/sync")
        .send()
        .await
        .expect("send");
    assert_eq!(wrong_method.status(), 405);

    let log = sim
        .admin(Method::GET, "/admin/requests?server=headers&limit=2", None)
        .await;
    let log = log["requests"].as_array().expect("requests");
    assert_eq!(log.len(), 2);
    assert_eq!(log[0]["user_agent"], UA);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_file_keeps_servers_devices_and_cursors_across_restarts() {
    let dir = std::env::temp_dir().join(format!("apple-sim-{}", Uuid::new_v4()));
    let file = dir.join("state.json");
    let sim = Sim::start_with(Some(file.clone())).await;
    let mut dep = sim.server("persisted", 4).await;
    dep.authenticate().await;
    let (before, cursor, _) = dep.full_fetch(100).await;
    sim.handle.stop().await;
    assert!(file.exists());

    let sim = Sim::start_with(Some(file.clone())).await;
    let mut again = sim.server("persisted", 0).await;
    assert_eq!(again.creds, dep.creds, "same server, same token");
    assert_error(
        again.call(Method::GET, "/account", &json!({})).await,
        401,
        "UNAUTHORIZED",
    )
    .await;
    again.authenticate().await;
    let (after, _, _) = again.full_fetch(100).await;
    assert_eq!(after, before);
    sim.post("/admin/servers/persisted/devices", json!({"count": 1}))
        .await;
    let (changes, _) = again.sync_all(&cursor).await;
    assert_eq!(
        changes.len(),
        1,
        "a cursor from before the restart still works"
    );
    assert_eq!(again.name, "persisted");
    sim.handle.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulator_hands_out_p7m_tokens_for_a_certificate() {
    let sim = Sim::start().await;
    let dep = sim.server("p7m", 0).await;
    let (key, cert) =
        dep_gateway::apple::token_file::generate_key_and_certificate("depserver").expect("pair");
    let resp = sim
        .http
        .post(sim.url("/admin/servers/p7m/p7m?cipher=des3"))
        .body(cert.clone())
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 200);
    let p7m = resp.text().await.expect("p7m");
    assert!(p7m.starts_with("Content-Type: application/pkcs7-mime"));
    let read =
        dep_gateway::apple::token_file::read_server_token_p7m(&p7m, &key, &cert).expect("decrypts");
    assert_eq!(read, dep.creds);
    let expiry: DateTime<Utc> = read.access_token_expiry;
    assert!(expiry > Utc::now() + chrono::Duration::days(364));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn depsim_mode_and_the_same_cursor_bug_can_be_reproduced() {
    let sim = Sim::start().await;
    let mut dep = sim.server("quirks", 3).await;
    dep.authenticate().await;
    let first = dep
        .ok(Method::POST, "/server/devices", &json!({"limit": 1}))
        .await;
    let cursor = first["cursor"].as_str().expect("cursor").to_owned();
    sim.post(
        "/admin/failures",
        json!({"endpoint": "server_devices", "response": "same_cursor"}),
    )
    .await;
    let stuck = dep
        .ok(
            Method::POST,
            "/server/devices",
            &json!({"cursor": cursor, "limit": 1}),
        )
        .await;
    assert_eq!(stuck["cursor"], cursor.as_str());
    assert_eq!(stuck["more_to_follow"], true);

    sim.admin(
        Method::PATCH,
        "/admin/settings",
        Some(json!({"depsim_compat": true})),
    )
    .await;
    let stale = dep
        .http
        .get(sim.url("/account"))
        .header("User-Agent", UA)
        .header("X-Server-Protocol-Version", "3");
    let stale = stale
        .header("X-ADM-Auth-Session", "restarted")
        .send()
        .await
        .expect("send");
    assert_eq!(stale.status(), 403);
    assert_eq!(stale.text().await.expect("body"), "\"FORBIDDEN\"");
    let sync = dep.post("/devices/sync", &json!({"cursor": "bad"})).await;
    assert_eq!(sync.text().await.expect("body"), "\"INVALID_CURSOR\"");
    let defined = dep
        .ok(
            Method::POST,
            "/profile",
            &json!({"profile_name": "P", "url": "https://e.com/x"}),
        )
        .await;
    assert_eq!(defined["profile_uuid"].as_str().map(str::len), Some(16));
}

fn gateway() -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_dep-gateway"));
    cmd.env_remove("DEP_GATEWAY_CONFIG");
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn make_dep_token_prints_a_p7m_for_the_certificate() {
    let sim = Sim::start().await;
    let dir = std::env::temp_dir().join(format!("make-dep-token-{}", Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("dir");
    let (key, cert) =
        dep_gateway::apple::token_file::generate_key_and_certificate("depserver").expect("pair");
    let cert_file = dir.join("cert.pem");
    std::fs::write(&cert_file, &cert).expect("write");
    let base = sim.handle.base_url();
    let out = tokio::task::spawn_blocking(move || {
        gateway()
            .args(["make-dep-token", "--server", "from-cli", "--devices", "3"])
            .arg("--sim-url")
            .arg(base)
            .arg("--public-key-pem")
            .arg(&cert_file)
            .output()
            .expect("run")
    })
    .await
    .expect("join");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let p7m = String::from_utf8(out.stdout).expect("utf-8");
    let creds =
        dep_gateway::apple::token_file::read_server_token_p7m(&p7m, &key, &cert).expect("decrypts");
    let dep = sim.server("from-cli", 0).await;
    assert_eq!(creds, dep.creds);
    let info = sim
        .admin(Method::GET, "/admin/servers/from-cli", None)
        .await;
    assert_eq!(info["device_count"], 3);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apple_sim_subcommand_serves_until_interrupted_and_keeps_its_state() {
    use std::io::BufRead;

    let dir = std::env::temp_dir().join(format!("apple-sim-cli-{}", Uuid::new_v4()));
    let state = dir.join("sim.json");
    let mut child = gateway()
        .args(["apple-sim", "--bind", "127.0.0.1:0", "--state"])
        .arg(&state)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .expect("line");
        line
    })
    .await
    .expect("join");
    let base = line.trim().rsplit(' ').next().expect("url").to_owned();
    let created = reqwest::Client::new()
        .post(format!("{base}/admin/servers"))
        .json(&json!({"name": "cli-server", "devices": 2}))
        .send()
        .await
        .expect("admin call");
    assert_eq!(created.status(), 201, "{line}");
    let pid = child.id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    let exit = tokio::task::spawn_blocking(move || child.wait().expect("wait"))
        .await
        .expect("join");
    assert!(exit.success(), "{exit:?}");
    let saved = std::fs::read_to_string(&state).expect("state file");
    assert!(saved.contains("cli-server"));
    let _ = std::fs::remove_dir_all(&dir);
}
