//! Hardening at the edges: text no database can store (NUL) refused alike on both backends,
//! a lost or frozen database answered with 503 within a bound, and errors of the HTTP layer in
//! Graph's envelope.

use std::net::{SocketAddr, ToSocketAddrs};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, READ, READ_WRITE, TestApp, assert_graph_error};
use crate::on_both_backends;
use crate::pausable_proxy::PausableProxy;

const SETTINGS: &str = "/beta/deviceManagement/depOnboardingSettings";

/// Asserts a Graph 400 whose message names `place` and the NUL.
async fn assert_nul_refused(resp: reqwest::Response, case: &str, place: &str) {
    let message = assert_graph_error(resp, 400, "BadRequest").await;
    assert!(message.contains("U+0000"), "{case}: {message}");
    assert!(
        message.contains(place),
        "{case}: {message} does not name {place}"
    );
}

async fn nul_is_refused_everywhere_with_a_graph_400(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let setting = app.create_setting(&json!({"tokenName": "nul"})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let identities = format!("{SETTINGS}/{setting}/importedAppleDeviceIdentities");
    let gets = [
        (
            format!("{SETTINGS}?$filter=tokenName eq '%00'"),
            "'$filter'",
        ),
        (
            format!("{SETTINGS}?%24filter=tokenName%20eq%20'a%00b'"),
            "'$filter'",
        ),
        (format!("{identities}?$search=%00"), "'$search'"),
        (format!("{SETTINGS}?$orderby=tokenName%00"), "'$orderby'"),
        (format!("{SETTINGS}?$skiptoken=%00"), "'$skiptoken'"),
        (format!("{SETTINGS}/%00"), "path"),
        (format!("{SETTINGS}('%00')"), "path"),
        ("/beta/deviceAppManagement/vppTokens/%00".to_owned(), "path"),
        (format!("{identities}/%00"), "path"),
    ];
    for (path, place) in &gets {
        assert_nul_refused(app.get(path).await, path, place).await;
    }
    let writes = [
        (
            Method::POST,
            SETTINGS.to_owned(),
            json!({"tokenName": "a\u{0}b"}),
            "'tokenName'",
        ),
        (
            Method::PATCH,
            format!("{SETTINGS}/{setting}"),
            json!({"tokenName": "a\u{0}b"}),
            "'tokenName'",
        ),
        (
            Method::POST,
            identities.clone(),
            json!({"serialNumber": "C02NUL000001", "platform": "ios", "description": "x\u{0}"}),
            "'description'",
        ),
        (
            Method::POST,
            format!("{identities}/importAppleDeviceIdentityList"),
            json!({"importedAppleDeviceIdentities": [
                {"serialNumber": "C02NUL000002", "platform": "ios"},
                {"serialNumber": "C02NUL000003", "platform": "ios", "description": "\u{0}"}],
                "overwriteImportedDeviceIdentities": false}),
            "'importedAppleDeviceIdentities[1].description'",
        ),
        (
            Method::PUT,
            "/beta/deviceManagement/depGateway.legacyDefaultToken".to_owned(),
            json!({"depOnboardingSettingId": "\u{0}"}),
            "'depOnboardingSettingId'",
        ),
        (
            Method::POST,
            SETTINGS.to_owned(),
            json!({"a\u{0}": 1}),
            "'a\\u0000'",
        ),
    ];
    for (method, path, body, place) in &writes {
        let resp = app
            .request(method.clone(), path)
            .json(body)
            .send()
            .await
            .unwrap();
        assert_nul_refused(resp, &format!("{method} {path}"), place).await;
    }
    // Nothing was stored: the setting keeps its name and holds no identity.
    let stored: Value = app
        .get(&format!("{SETTINGS}/{setting}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stored["tokenName"], "nul");
    let listed: Value = app.get(&identities).await.json().await.unwrap();
    assert_eq!(listed["value"], json!([]), "{listed}");
    nul_fails_only_its_batch_item(&app, &setting).await;
    // An escaped backslash is text like any other, not a NUL.
    let resp = app
        .post_json(SETTINGS, &json!({"tokenName": "back\\u0000slash"}))
        .await;
    assert_eq!(resp.status(), 201);
}

/// `$batch`: each item is refused on its own with a Graph 400; its neighbours still run.
async fn nul_fails_only_its_batch_item(app: &TestApp, setting: &str) {
    let batch = json!({"requests": [
        {"id": "1", "method": "GET", "url": "/deviceManagement/depOnboardingSettings/%00"},
        {"id": "2", "method": "GET", "url": "/deviceManagement/depOnboardingSettings?$filter=tokenName eq '%00'"},
        {"id": "3", "method": "POST", "url": "/deviceManagement/depOnboardingSettings",
         "headers": {"Content-Type": "application/json"}, "body": {"tokenName": "a\u{0}"}},
        {"id": "4", "method": "PATCH", "url": format!("/deviceManagement/depOnboardingSettings/{setting}"),
         "headers": {"Content-Type": "application/json"},
         // base64 of {"tokenName":"\u0000"}: the decoded body is checked too.
         "body": base64_json(&json!({"tokenName": "\u{0}"}))},
        {"id": "5", "method": "GET", "url": "/deviceManagement/depOnboardingSettings"},
    ]});
    let resp = app.post_json("/beta/$batch", &batch).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    let responses = body["responses"].as_array().unwrap();
    for (id, place) in [
        ("1", "path"),
        ("2", "'$filter'"),
        ("3", "'tokenName'"),
        ("4", "'tokenName'"),
    ] {
        let item = responses.iter().find(|r| r["id"] == id).unwrap();
        assert_eq!(item["status"], 400, "{item}");
        assert_eq!(item["body"]["error"]["code"], "BadRequest", "{item}");
        let message = item["body"]["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("U+0000") && message.contains(place),
            "{item}"
        );
    }
    let fine = responses.iter().find(|r| r["id"] == "5").unwrap();
    assert_eq!(fine["status"], 200, "{fine}");
}

fn base64_json(value: &Value) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(value.to_string())
}

on_both_backends!(nul_is_refused_everywhere_with_a_graph_400);

/// The shared PostgreSQL server's address, from the suite's admin URL.
fn postgres_addr() -> SocketAddr {
    let admin = std::env::var("DEP_GATEWAY_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let url = url::Url::parse(&admin).unwrap();
    (url.host_str().unwrap(), url.port().unwrap_or(5432))
        .to_socket_addrs()
        .unwrap()
        .next()
        .unwrap()
}

/// A Graph 503 with `Retry-After` for an unavailable database.
async fn assert_unavailable(resp: reqwest::Response, case: &str) {
    assert_eq!(resp.status(), 503, "{case}");
    let retry_after = resp
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(retry_after.as_deref(), Some("5"), "{case}");
    assert_graph_error(resp, 503, "serviceNotAvailable").await;
}

/// Polls `path` until it answers 200 (the database is back), failing after a deadline.
async fn wait_until_served(app: &TestApp, path: &str) {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let status = app.get(path).await.status();
        if status == 200 {
            return;
        }
        assert!(Instant::now() < deadline, "{path} still answers {status}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A frozen PostgreSQL (the proxy stops forwarding) and a lost one (the proxy closes and
/// refuses connections): requests answer a Graph 503 with Retry-After within the configured
/// bound instead of hanging or failing with 500, `/healthz` stays 200, `/readyz` answers 503
/// naming the database, and service resumes without a restart. PostgreSQL only: a SQLite file
/// has no server to freeze or lose (its bound is the busy timeout).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frozen_or_lost_postgres_answers_503_and_recovers_postgres() {
    let proxy = PausableProxy::start(postgres_addr());
    let app = TestApp::spawn_with(Backend::Postgres, |s| {
        let mut url = url::Url::parse(s.database_url.as_deref().unwrap()).unwrap();
        url.set_host(Some("127.0.0.1")).unwrap();
        url.set_port(Some(proxy.addr().port())).unwrap();
        s.database_url = Some(url.to_string());
        s.pool_size = 2;
        s.db_connect_timeout_secs = 2;
        s.db_checkout_timeout_secs = 2;
        s.db_statement_timeout_secs = 2;
        s.sync_interval_secs = 0;
    })
    .await;
    // A client that would rather fail the test than wait forever on a hung request.
    let client = app.client_with(|b| b.timeout(Duration::from_secs(60)));
    let setting = app.create_setting(&json!({"tokenName": "frozen"})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let one = format!("{SETTINGS}/{setting}");
    let send = |method: Method, path: String| {
        client
            .request(method, format!("{}{path}", app.base))
            .bearer_auth(app.token())
    };

    for outage in ["frozen", "lost"] {
        if outage == "frozen" {
            proxy.pause();
        } else {
            proxy.refuse();
        }
        // More requests than pooled connections: the first wait on the frozen server, the rest
        // on the pool; every one ends in a 503.
        let requests = (0..5).map(|i| {
            let (method, path) = match i % 3 {
                0 => (Method::GET, SETTINGS.to_owned()),
                1 => (Method::GET, one.clone()),
                _ => (Method::PATCH, one.clone()),
            };
            send(method, path)
                .json(&json!({"tokenName": "renamed"}))
                .send()
        });
        for resp in futures_util::future::join_all(requests).await {
            assert_unavailable(resp.unwrap(), outage).await;
        }
        let health = client
            .get(format!("{}/healthz", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(health.status(), 200, "{outage}: liveness");
        let ready = client
            .get(format!("{}/readyz", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(ready.status(), 503, "{outage}: readiness");
        // The outage is reported as the database's, never as pending migrations.
        let body: Value = ready.json().await.unwrap();
        assert_eq!(body["status"], "unavailable", "{outage}: {body}");
        assert_eq!(
            body["checks"]["database"]["status"], "unavailable",
            "{outage}: {body}"
        );
        assert_ne!(
            body["checks"]["migrations"]["status"], "pending",
            "{outage}: {body}"
        );

        proxy.resume();
        wait_until_served(&app, &one).await;
        let ready = client
            .get(format!("{}/readyz", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(ready.status(), 200, "{outage}: ready again");
    }
}

/// Read permission changes nothing (issue 12 item 7): `generateEncryptionPublicKey` needs
/// `ReadWrite` (and leaves the key an admin downloaded in place), and the legacy key download on
/// an empty tenant, which creates the first token, answers a read-only caller with the 403
/// naming `ReadWrite` and creates nothing; with `ReadWrite` it still creates the token.
async fn read_permission_changes_no_state(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let read_only = app.token_for(app.tenant, &[READ]);
    let as_reader = |method: Method, path: String| {
        app.client
            .request(method, format!("{}{path}", app.base))
            .bearer_auth(&read_only)
    };
    let count = || async {
        let resp = app.get(&format!("{SETTINGS}/$count")).await;
        assert_eq!(resp.status(), 200);
        resp.text().await.unwrap()
    };
    let org = format!("/beta/organization/{}", app.tenant);
    for path in [
        format!("{SETTINGS}/getEncryptionPublicKey()"),
        format!("{SETTINGS}/getEncryptionPublicKey"),
        format!("{org}/getEncryptionPublicKey()"),
    ] {
        let resp = as_reader(Method::GET, path.clone()).send().await.unwrap();
        let message = assert_graph_error(resp, 403, "Forbidden").await;
        assert!(message.contains(READ_WRITE), "{path}: {message}");
        assert_eq!(count().await, "0", "{path} created a token for a reader");
    }
    let list = app.get(SETTINGS).await.json::<Value>().await.unwrap();
    assert_eq!(list["value"], json!([]), "{list}");

    // With ReadWrite the first call creates the token, as the old flow needs.
    let resp = app.get(&format!("{org}/getEncryptionPublicKey()")).await;
    assert_eq!(resp.status(), 200);
    let created_key = resp.json::<Value>().await.unwrap()["value"].clone();
    assert!(created_key.as_str().unwrap().contains("BEGIN CERTIFICATE"));
    assert_eq!(count().await, "1");
    // Once it exists, reading its key is a read.
    let resp = as_reader(Method::GET, format!("{SETTINGS}/getEncryptionPublicKey()"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.unwrap()["value"], created_key);

    // generateEncryptionPublicKey is a write: refused to a reader, the key left as it was.
    let id = app.get(SETTINGS).await.json::<Value>().await.unwrap()["value"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = as_reader(
        Method::POST,
        format!("{SETTINGS}/{id}/generateEncryptionPublicKey"),
    )
    .send()
    .await
    .unwrap();
    let message = assert_graph_error(resp, 403, "Forbidden").await;
    assert!(message.contains(READ_WRITE), "{message}");
    let key = app
        .get(&format!("{SETTINGS}/{id}/getEncryptionPublicKey()"))
        .await
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(key["value"], created_key, "a reader replaced the key");
    // With ReadWrite it stages a new one.
    let resp = app
        .post_json(
            &format!("{SETTINGS}/{id}/generateEncryptionPublicKey"),
            &json!({}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let staged = resp.json::<Value>().await.unwrap()["value"].clone();
    assert_ne!(staged, created_key);

    // A token created without a key: a reader's download would generate one, so it is refused and
    // the token stays keyless (a writer's download then generates it).
    let fresh = app.create_setting(&json!({"tokenName": "keyless"})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let download = format!("{SETTINGS}/{fresh}/getEncryptionPublicKey()");
    for _ in 0..2 {
        let resp = as_reader(Method::GET, download.clone())
            .send()
            .await
            .unwrap();
        let message = assert_graph_error(resp, 403, "Forbidden").await;
        assert!(message.contains(READ_WRITE), "{message}");
    }
    let resp = app.get(&download).await;
    assert_eq!(resp.status(), 200);
    let generated = resp.json::<Value>().await.unwrap()["value"].clone();
    let resp = as_reader(Method::GET, download).send().await.unwrap();
    assert_eq!(resp.status(), 200, "a reader reads an existing key");
    assert_eq!(resp.json::<Value>().await.unwrap()["value"], generated);
}

on_both_backends!(read_permission_changes_no_state);
