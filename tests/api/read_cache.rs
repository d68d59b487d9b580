//! The read cache with two instances on one PostgreSQL database (issue 11 item 3): every
//! entity read by id through instance B is kept in B's cache, and a write through instance A
//! reaches it (A's commit notifies, B's listener invalidates). Without that invalidation B
//! would serve the value it cached before the write forever and the waits below would fail.
//! SQLite has no second instance: one process owns the file.

use std::time::Duration;

use dep_gateway::Application;
use dep_gateway::config::Settings;
use diesel::{Connection, PgConnection, RunQueryDsl};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{AUDIENCE, Backend, TestApp, eventually};
use crate::vpp_tokens::vpptoken;

const SETTINGS: &str = "/beta/deviceManagement/depOnboardingSettings";
const VPP: &str = "/beta/deviceAppManagement/vppTokens";

/// A second gateway on `a`'s database and data directory (same signing keys).
async fn second_instance(a: &TestApp) -> String {
    let mut settings = Settings {
        bind: "127.0.0.1:0".into(),
        data_dir: a.data_dir.clone(),
        workers: Some(1),
        pool_size: 4,
        database_url: Some(a.database_url()),
        ..Settings::default()
    };
    settings.auth.dev_authority = Some(true);
    settings.auth.audiences = vec![AUDIENCE.into()];
    let app = Application::build(settings).await.expect("second gateway");
    let base = app.public_url().to_owned();
    tokio::spawn(app.run_until_stopped());
    base
}

/// GET `path` on the instance at `base`: status and body.
async fn get(a: &TestApp, base: &str, path: &str) -> (StatusCode, Value) {
    let resp = a
        .client
        .get(format!("{base}{path}"))
        .bearer_auth(a.token())
        .send()
        .await
        .expect("GET");
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// Waits until B answers `path` with `want(status, body)`.
async fn b_sees(
    a: &TestApp,
    b: &str,
    path: &str,
    what: &str,
    want: impl Fn(StatusCode, &Value) -> bool,
) {
    eventually(what, Duration::from_secs(10), || async {
        let (status, body) = get(a, b, path).await;
        want(status, &body).then_some(())
    })
    .await;
}

async fn patch(a: &TestApp, path: &str, body: &Value) {
    let resp = a.patch_json(path, body).await;
    assert_eq!(
        resp.status(),
        204,
        "{}",
        resp.text().await.unwrap_or_default()
    );
}

/// Reads through B twice (the second read is served from B's cache), then writes through A.
async fn read_twice(a: &TestApp, b: &str, path: &str, key: &str, before: &str) {
    for _ in 0..2 {
        let (status, body) = get(a, b, path).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body[key], before);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    let a = TestApp::spawn(Backend::Postgres).await;
    let b = second_instance(&a).await;

    let setting = a.create_setting(&json!({"tokenName": "before"})).await;
    let setting = setting["id"].as_str().unwrap().to_owned();
    let path = format!("{SETTINGS}/{setting}");
    read_twice(&a, &b, &path, "tokenName", "before").await;
    // A write that notifies nobody (triggers off for this session) is not seen by B: B serves
    // its cached entry, so the cache is on and what follows tests its invalidation.
    let mut raw = PgConnection::establish(&a.database_url()).expect("database");
    diesel::sql_query("SET session_replication_role = replica")
        .execute(&mut raw)
        .expect("triggers off");
    diesel::sql_query("UPDATE dep_onboarding_settings SET token_name = 'unnotified' WHERE id = $1")
        .bind::<diesel::sql_types::Text, _>(&setting)
        .execute(&mut raw)
        .expect("silent write");
    read_twice(&a, &b, &path, "tokenName", "before").await;
    patch(&a, &path, &json!({"tokenName": "after"})).await;
    b_sees(&a, &b, &path, "B sees A's setting write", |s, v| {
        s == 200 && v["tokenName"] == "after"
    })
    .await;

    let resp = a
        .post_json(
            &format!("{path}/enrollmentProfiles"),
            &json!({"@odata.type": "#microsoft.graph.depIOSEnrollmentProfile", "displayName": "before"}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let profile: Value = resp.json().await.unwrap();
    let profile = format!(
        "{path}/enrollmentProfiles/{}",
        profile["id"].as_str().unwrap()
    );
    read_twice(&a, &b, &profile, "displayName", "before").await;
    patch(
        &a,
        &profile,
        &json!({"@odata.type": "#microsoft.graph.depIOSEnrollmentProfile", "displayName": "after"}),
    )
    .await;
    b_sees(&a, &b, &profile, "B sees A's profile write", |s, v| {
        s == 200 && v["displayName"] == "after"
    })
    .await;

    let devices = format!("{path}/importedAppleDeviceIdentities");
    let resp = a
        .post_json(
            &format!("{devices}/importAppleDeviceIdentityList"),
            &json!({"importedAppleDeviceIdentities": [{"serialNumber": "C02CACHE0001", "platform": "ios"}]}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let (_, list) = get(&a, &a.base, &devices).await;
    let device = format!("{devices}/{}", list["value"][0]["id"].as_str().unwrap());
    read_twice(&a, &b, &device, "serialNumber", "C02CACHE0001").await;
    assert_eq!(a.delete(&device).await.status(), 204);
    b_sees(&a, &b, &device, "B sees A's identity delete", |s, _| {
        s == 404
    })
    .await;

    let token = vpptoken("Contoso", "2031-01-01T00:00:00Z");
    let resp = a
        .post_json(VPP, &json!({"token": token, "displayName": "before"}))
        .await;
    assert_eq!(resp.status(), 201);
    let vpp: Value = resp.json().await.unwrap();
    let vpp = format!("{VPP}/{}", vpp["id"].as_str().unwrap());
    read_twice(&a, &b, &vpp, "displayName", "before").await;
    patch(&a, &vpp, &json!({"displayName": "after"})).await;
    b_sees(&a, &b, &vpp, "B sees A's VPP token write", |s, v| {
        s == 200 && v["displayName"] == "after"
    })
    .await;
}
