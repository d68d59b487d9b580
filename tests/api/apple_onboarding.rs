//! The Apple onboarding actions through HTTP against the bundled simulator: encryption keys,
//! server-token upload (renewal, reuse refusals, bad tokens) and School Data Sync sharing.

use dep_gateway::apple_sim::{self, SimConfig, SimHandle};
use dep_gateway::domain::ids::TenantId;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Backend, READ_WRITE, TestApp, assert_graph_error};
use crate::on_both_backends;

const SETTINGS: &str = "/beta/deviceManagement/depOnboardingSettings";

async fn with_simulator(backend: Backend) -> (TestApp, SimHandle) {
    let sim = apple_sim::start(SimConfig {
        bind: "127.0.0.1:0".into(),
        state_file: None,
    })
    .await
    .expect("simulator");
    let url = sim.base_url();
    let app = TestApp::spawn_with(backend, move |s| s.apple_base_url = url).await;
    (app, sim)
}

async fn public_key(app: &TestApp, token: &str, setting: &str) -> String {
    let resp = app
        .client
        .get(format!(
            "{}{SETTINGS}/{setting}/getEncryptionPublicKey()",
            app.base
        ))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    body["value"].as_str().unwrap().to_owned()
}

async fn upload(app: &TestApp, token: &str, setting: &str, dep_token: &str) -> reqwest::Response {
    app.client
        .post(format!("{}{SETTINGS}/{setting}/uploadDepToken", app.base))
        .bearer_auth(token)
        .json(&json!({"appleId": "mdm-admin@example.com", "depToken": dep_token}))
        .send()
        .await
        .unwrap()
}

async fn new_setting(app: &TestApp, token: &str) -> String {
    let resp = app
        .client
        .post(format!("{}{SETTINGS}", app.base))
        .bearer_auth(token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let body: Value = resp.json().await.unwrap();
    body["id"].as_str().unwrap().to_owned()
}

async fn keys_are_staged_until_a_token_decrypts_with_them(backend: Backend) {
    let (app, sim) = with_simulator(backend).await;
    let token = app.token();
    let setting = new_setting(&app, &token).await;
    let first = public_key(&app, &token, &setting).await;
    assert!(first.starts_with("-----BEGIN CERTIFICATE-----"), "{first}");
    assert_eq!(
        public_key(&app, &token, &setting).await,
        first,
        "getEncryptionPublicKey is stable"
    );
    let resp = app
        .request(
            Method::POST,
            &format!("{SETTINGS}/{setting}/generateEncryptionPublicKey"),
        )
        .send()
        .await
        .unwrap();
    let generated: Value = resp.json().await.unwrap();
    let second = generated["value"].as_str().unwrap().to_owned();
    assert_ne!(second, first);

    // A token made for the first (replaced) key no longer decrypts.
    let stale = apple_sim::make_dep_token(&sim.base_url(), "server-stale", 3, &first)
        .await
        .unwrap();
    let msg = assert_graph_error(
        upload(&app, &token, &setting, &stale).await,
        400,
        "BadRequest",
    )
    .await;
    assert!(msg.contains("public key"), "{msg}");

    let dep_token = apple_sim::make_dep_token(&sim.base_url(), "server-a", 5, &second)
        .await
        .unwrap();
    assert_eq!(
        upload(&app, &token, &setting, &dep_token).await.status(),
        204
    );
    let text = app
        .get(&format!("{SETTINGS}/{setting}"))
        .await
        .text()
        .await
        .unwrap();
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["appleIdentifier"], "mdm-admin@example.com");
    assert_eq!(body["tokenType"], "dep");
    assert_eq!(body["tokenName"], "server-a");
    assert_ne!(body["tokenExpirationDateTime"], "0001-01-01T00:00:00Z");
    assert!(
        !text.contains("consumer") && !text.contains("secret"),
        "{text}"
    );
    assert_eq!(
        public_key(&app, &token, &setting).await,
        second,
        "the key that decrypted is current"
    );
}

async fn renewals_and_reuse_are_checked(backend: Backend) {
    let (app, sim) = with_simulator(backend).await;
    let token = app.token();
    let (a, b) = (
        new_setting(&app, &token).await,
        new_setting(&app, &token).await,
    );
    let key_a = public_key(&app, &token, &a).await;
    let key_b = public_key(&app, &token, &b).await;
    let server_a = apple_sim::make_dep_token(&sim.base_url(), "server-a", 3, &key_a)
        .await
        .unwrap();
    assert_eq!(upload(&app, &token, &a, &server_a).await.status(), 204);
    // Renewal of the same Apple MDM server works.
    let renewed = apple_sim::make_dep_token(&sim.base_url(), "server-a", 3, &key_a)
        .await
        .unwrap();
    assert_eq!(upload(&app, &token, &a, &renewed).await.status(), 204);
    // Another server's token is not a renewal.
    let server_b = apple_sim::make_dep_token(&sim.base_url(), "server-b", 3, &key_a)
        .await
        .unwrap();
    let msg =
        assert_graph_error(upload(&app, &token, &a, &server_b).await, 400, "BadRequest").await;
    assert!(msg.contains("same"), "{msg}");
    // The same server in another setting of the tenant is a conflict naming the holder.
    let again = apple_sim::make_dep_token(&sim.base_url(), "server-a", 3, &key_b)
        .await
        .unwrap();
    let msg = assert_graph_error(upload(&app, &token, &b, &again).await, 409, "Conflict").await;
    assert!(msg.contains(&a), "{msg}");
    // Another tenant cannot take it.
    let other = app.token_for(TenantId::new(Uuid::new_v4()), &[READ_WRITE]);
    let foreign_setting = new_setting(&app, &other).await;
    let foreign_key = public_key(&app, &other, &foreign_setting).await;
    let stolen = apple_sim::make_dep_token(&sim.base_url(), "server-a", 3, &foreign_key)
        .await
        .unwrap();
    let msg = assert_graph_error(
        upload(&app, &other, &foreign_setting, &stolen).await,
        400,
        "BadRequest",
    )
    .await;
    assert!(msg.contains("another tenant"), "{msg}");
    let untouched: Value = app
        .client
        .get(format!("{}{SETTINGS}/{foreign_setting}", app.base))
        .bearer_auth(&other)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(untouched["tokenType"], "none");
}

async fn bad_uploads_change_nothing(backend: Backend) {
    let (app, sim) = with_simulator(backend).await;
    let token = app.token();
    let setting = new_setting(&app, &token).await;
    let path = format!("{SETTINGS}/{setting}/uploadDepToken");
    // No key yet.
    let msg = assert_graph_error(
        upload(&app, &token, &setting, "anything").await,
        400,
        "BadRequest",
    )
    .await;
    assert!(msg.contains("generateEncryptionPublicKey"), "{msg}");
    let key = public_key(&app, &token, &setting).await;
    let good = apple_sim::make_dep_token(&sim.base_url(), "server-z", 3, &key)
        .await
        .unwrap();
    for (body, needle) in [
        (
            json!({"appleId": "a@b.c", "depToken": "garbage"}),
            "could not be read",
        ),
        (
            json!({"appleId": "a@b.c", "depToken": &good[..good.len() / 2]}),
            "could not be read",
        ),
        (json!({"depToken": good}), "appleId"),
        (json!({"appleId": "a@b.c", "depToken": 7}), "Edm.String"),
        (
            json!({"appleId": "a@b.c", "depToken": good, "extra": 1}),
            "'extra'",
        ),
    ] {
        let msg = assert_graph_error(app.post_json(&path, &body).await, 400, "BadRequest").await;
        assert!(msg.contains(needle), "{msg}");
    }
    let body: Value = app
        .get(&format!("{SETTINGS}/{setting}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["tokenType"], "none");
    assert!(body["appleIdentifier"].is_null());
    let resp = app
        .request(
            Method::POST,
            &format!("{SETTINGS}/{}/uploadDepToken", Uuid::new_v4()),
        )
        .json(&json!({"appleId": "a", "depToken": "b"}))
        .send()
        .await
        .unwrap();
    assert_graph_error(resp, 404, "ResourceNotFound").await;
}

async fn school_data_sync_sharing_flips_the_flag(backend: Backend) {
    let (app, _sim) = with_simulator(backend).await;
    let token = app.token();
    let setting = new_setting(&app, &token).await;
    let share = app
        .request(
            Method::POST,
            &format!("{SETTINGS}/{setting}/shareForSchoolDataSyncService"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(share.status(), 204);
    let body: Value = app
        .get(&format!("{SETTINGS}/{setting}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["shareTokenWithSchoolDataSyncService"], true);
    let unshare = app
        .request(
            Method::POST,
            &format!("{SETTINGS}/{setting}/microsoft.graph.unshareForSchoolDataSyncService"),
        )
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(unshare.status(), 204);
    let body: Value = app
        .get(&format!("{SETTINGS}/{setting}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["shareTokenWithSchoolDataSyncService"], false);
    let read_only = app.token_for(app.tenant, &[crate::helpers::READ]);
    let resp = app
        .client
        .post(format!(
            "{}{SETTINGS}/{setting}/shareForSchoolDataSyncService",
            app.base
        ))
        .bearer_auth(read_only)
        .send()
        .await
        .unwrap();
    assert_graph_error(resp, 403, "Forbidden").await;
}

on_both_backends!(
    keys_are_staged_until_a_token_decrypts_with_them,
    renewals_and_reuse_are_checked,
    bad_uploads_change_nothing,
    school_data_sync_sharing_flips_the_flag,
);

#[derive(diesel::QueryableByName)]
struct Stored {
    #[diesel(sql_type = diesel::sql_types::Text)]
    value: String,
}

/// Reads a text column straight from the gateway's SQLite file.
pub fn stored(app: &TestApp, sql: &str) -> Vec<String> {
    use diesel::{Connection, RunQueryDsl, SqliteConnection};
    let path = app.data_dir.join("gateway.db");
    let mut conn =
        SqliteConnection::establish(&path.to_string_lossy()).expect("open the gateway's database");
    diesel::sql_query(sql)
        .load::<Stored>(&mut conn)
        .expect("query")
        .into_iter()
        .map(|r| r.value)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_are_sealed_at_rest() {
    let (app, sim) = with_simulator(Backend::Sqlite).await;
    let token = app.token();
    let setting = new_setting(&app, &token).await;
    let key = public_key(&app, &token, &setting).await;
    let server: Value = sim_server(&sim, "sealed").await;
    let dep_token = apple_sim::make_dep_token(&sim.base_url(), "sealed", 2, &key)
        .await
        .unwrap();
    assert_eq!(
        upload(&app, &token, &setting, &dep_token).await.status(),
        204
    );
    let vpp = crate::vpp_tokens::vpptoken("Contoso", "2099-01-01T00:00:00Z");
    let resp = app
        .post_json(
            "/beta/deviceAppManagement/vppTokens",
            &json!({"token": vpp}),
        )
        .await;
    assert_eq!(resp.status(), 201);

    let credentials = stored(
        &app,
        "SELECT credentials AS value FROM dep_token_credentials",
    );
    let keys = stored(&app, "SELECT private_key AS value FROM dep_token_keys");
    let vpp_tokens = stored(&app, "SELECT token AS value FROM vpp_tokens");
    let secret = server["credentials"]["consumer_secret"].as_str().unwrap();
    assert_eq!(credentials.len(), 1);
    assert!(!credentials[0].contains(secret) && credentials[0].starts_with("v1:"));
    assert!(
        keys.iter()
            .all(|k| k.starts_with("v1:") && !k.contains("PRIVATE KEY"))
    );
    assert!(
        vpp_tokens
            .iter()
            .all(|t| t.starts_with("v1:") && !t.contains(&vpp))
    );
}

async fn sim_server(sim: &SimHandle, name: &str) -> Value {
    reqwest::Client::new()
        .post(format!("{}/admin/servers", sim.base_url()))
        .json(&json!({"name": name, "devices": 2}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}
