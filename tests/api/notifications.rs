//! `/subscriptions` (issue 14): Graph's subscription shape and validation handshake against a
//! real receiver, validation of bad input, the SSRF guard, tenant isolation, 401 and 403.

use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Backend, READ, TestApp, assert_graph_error};
use crate::notifications_receiver::{Mode, Receiver};
use crate::on_both_backends;

pub(crate) const SUBSCRIPTIONS: &str = "/beta/subscriptions";
pub(crate) const SETTINGS_RESOURCE: &str = "deviceManagement/depOnboardingSettings";

/// A gateway that may send to the test's loopback receivers over HTTP, retrying fast.
pub(crate) async fn spawn(backend: Backend) -> TestApp {
    TestApp::spawn_with(backend, allow_receivers).await
}

/// Settings for loopback receivers and quick retries.
pub(crate) fn allow_receivers(s: &mut dep_gateway::config::Settings) {
    s.notifications.allow_http = true;
    s.notifications.allow_loopback = true;
    s.notifications.retry_first_secs = 1;
    s.notifications.retry_max_secs = 1;
    s.notifications.poll_millis = 100;
    s.notifications.validation_timeout_secs = 2;
}

/// An expiry an hour from now.
pub(crate) fn in_an_hour() -> String {
    (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339()
}

pub(crate) fn body(resource: &str, url: &str) -> Value {
    json!({
        "changeType": "created,updated,deleted",
        "notificationUrl": url,
        "resource": resource,
        "expirationDateTime": in_an_hour(),
        "clientState": "secretClientValue",
    })
}

/// Creates a subscription, asserting 201; returns it.
pub(crate) async fn subscribe(app: &TestApp, body: &Value) -> Value {
    let resp = app.post_json(SUBSCRIPTIONS, body).await;
    assert_eq!(resp.status(), 201, "{:?}", resp.text().await);
    resp.json().await.unwrap()
}

async fn create_read_renew_delete(backend: Backend) {
    let app = spawn(backend).await;
    let receiver = Receiver::start();
    let setting = app.create_setting(&json!({})).await;
    let resource = format!(
        "{SETTINGS_RESOURCE}/{}/importedAppleDeviceIdentities",
        setting["id"].as_str().unwrap()
    );
    let mut create = body(&resource, &receiver.url("/hook?a=1"));
    create["lifecycleNotificationUrl"] = json!(receiver.url("/life"));
    let created = subscribe(&app, &create).await;
    assert_eq!(receiver.validations(), 2, "both URLs validated");
    let id = created["id"].as_str().unwrap();
    assert!(Uuid::parse_str(id).is_ok());
    assert_eq!(created["resource"], resource);
    assert_eq!(created["changeType"], "created,updated,deleted");
    assert_eq!(created["clientState"], "secretClientValue");
    assert_eq!(created["notificationUrl"], receiver.url("/hook?a=1"));
    assert!(
        created["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("/beta/$metadata#subscriptions/$entity")
    );
    let got: Value = app
        .get(&format!("{SUBSCRIPTIONS}/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got["id"], id);
    assert_eq!(
        got["clientState"],
        Value::Null,
        "GRAPH-COMPAT: not returned on reads"
    );
    let list: Value = app.get(SUBSCRIPTIONS).await.json().await.unwrap();
    assert_eq!(list["value"].as_array().unwrap().len(), 1);

    renew_and_move(&app, id, &receiver.url("/hook?a=1")).await;

    assert_eq!(
        app.delete(&format!("{SUBSCRIPTIONS}/{id}")).await.status(),
        204
    );
    let resp = app.get(&format!("{SUBSCRIPTIONS}/{id}")).await;
    assert_graph_error(resp, 404, "ResourceNotFound").await;
    let resp = app.delete(&format!("{SUBSCRIPTIONS}/{id}")).await;
    assert_graph_error(resp, 404, "ResourceNotFound").await;
}

/// PATCH: renewal (raised to 45 minutes, refused beyond the maximum) and a new URL (validated;
/// a failing one changes nothing).
async fn renew_and_move(app: &TestApp, id: &str, url: &str) {
    let later = (chrono::Utc::now() + chrono::Duration::hours(2)).to_rfc3339();
    let resp = app
        .patch_json(
            &format!("{SUBSCRIPTIONS}/{id}"),
            &json!({"expirationDateTime": later}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let renewed: Value = resp.json().await.unwrap();
    let new_expiry =
        chrono::DateTime::parse_from_rfc3339(renewed["expirationDateTime"].as_str().unwrap())
            .unwrap();
    assert!(
        new_expiry > chrono::Utc::now() + chrono::Duration::minutes(110),
        "{renewed}"
    );
    // Beyond the maximum lifetime (4230 minutes by default): Graph's 400.
    let too_late = (chrono::Utc::now() + chrono::Duration::days(4)).to_rfc3339();
    let resp = app
        .patch_json(
            &format!("{SUBSCRIPTIONS}/{id}"),
            &json!({"expirationDateTime": too_late}),
        )
        .await;
    let message = assert_graph_error(resp, 400, "BadRequest").await;
    assert!(message.contains("4230 minutes"), "{message}");
    // Under 45 minutes is raised to 45 minutes (Graph's rule).
    let soon = (chrono::Utc::now() + chrono::Duration::minutes(5)).to_rfc3339();
    let raised: Value = app
        .patch_json(
            &format!("{SUBSCRIPTIONS}/{id}"),
            &json!({"expirationDateTime": soon}),
        )
        .await
        .json()
        .await
        .unwrap();
    let raised =
        chrono::DateTime::parse_from_rfc3339(raised["expirationDateTime"].as_str().unwrap())
            .unwrap();
    assert!(raised > chrono::Utc::now() + chrono::Duration::minutes(44));
    // A new URL goes through the handshake: a failing one is refused and nothing changes.
    let wrong = Receiver::start();
    wrong.set_mode(Mode::WrongEcho);
    let resp = app
        .patch_json(
            &format!("{SUBSCRIPTIONS}/{id}"),
            &json!({"notificationUrl": wrong.url("/x")}),
        )
        .await;
    assert_graph_error(resp, 400, "InvalidRequest").await;
    let got: Value = app
        .get(&format!("{SUBSCRIPTIONS}/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got["notificationUrl"], url);
}

async fn a_failed_handshake_is_graphs_400_and_creates_nothing(backend: Backend) {
    let app = spawn(backend).await;
    let receiver = Receiver::start();
    for (mode, message) in [
        (
            Mode::WrongEcho,
            "Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.",
        ),
        (
            Mode::Down,
            "Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.",
        ),
        (Mode::Slow(3), "Subscription validation request timed out."),
    ] {
        receiver.set_mode(mode);
        let resp = app
            .post_json(
                SUBSCRIPTIONS,
                &body(SETTINGS_RESOURCE, &receiver.url("/hook")),
            )
            .await;
        assert_eq!(
            assert_graph_error(resp, 400, "InvalidRequest").await,
            message,
            "{mode:?}"
        );
    }
    let list: Value = app.get(SUBSCRIPTIONS).await.json().await.unwrap();
    assert_eq!(list["value"], json!([]));
}

async fn bad_input_is_refused_without_a_handshake(backend: Backend) {
    let app = spawn(backend).await;
    let receiver = Receiver::start();
    let url = receiver.url("/hook");
    let good = body(SETTINGS_RESOURCE, &url);
    let with = |name: &str, value: Value| {
        let mut b = good.clone();
        b[name] = value;
        b
    };
    let cases = [
        with("changeType", json!("created,moved")),
        with("changeType", json!(1)),
        with("resource", json!("users")),
        with(
            "resource",
            json!(format!(
                "{SETTINGS_RESOURCE}/{}/enrollmentProfiles",
                Uuid::new_v4()
            )),
        ),
        with("notificationUrl", json!("not a url")),
        with(
            "notificationUrl",
            json!("http://169.254.169.254/latest/meta-data"),
        ),
        with("notificationUrl", json!("http://10.0.0.1/hook")),
        with("notificationUrl", json!("ftp://127.0.0.1/hook")),
        with("expirationDateTime", json!("tomorrow")),
        with(
            "expirationDateTime",
            json!((chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339()),
        ),
        with("clientState", json!("x".repeat(256))),
        with("includeResourceData", json!(true)),
        with("unknownProperty", json!(1)),
        json!({"resource": SETTINGS_RESOURCE}),
    ];
    for case in &cases {
        let resp = app.post_json(SUBSCRIPTIONS, case).await;
        assert_graph_error(resp, 400, "BadRequest").await;
    }
    let resp = app
        .request(Method::POST, SUBSCRIPTIONS)
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_graph_error(resp, 400, "BadRequest").await;
    let resp = app
        .request(Method::POST, SUBSCRIPTIONS)
        .header("Content-Type", "application/json")
        .body(format!(
            "{{\"clientState\":\"{}\"}}",
            "x".repeat(5 * 1024 * 1024)
        ))
        .send()
        .await
        .unwrap();
    assert_graph_error(resp, 413, "RequestEntityTooLarge").await;
    assert_eq!(receiver.validations(), 0, "nothing reached the receiver");
    let list: Value = app.get(SUBSCRIPTIONS).await.json().await.unwrap();
    assert_eq!(list["value"], json!([]));
}

async fn https_is_required_unless_configured(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let receiver = Receiver::start();
    let resp = app
        .post_json(
            SUBSCRIPTIONS,
            &body(SETTINGS_RESOURCE, &receiver.url("/hook")),
        )
        .await;
    let message = assert_graph_error(resp, 400, "BadRequest").await;
    assert!(message.contains("https"), "{message}");
    // Allowed HTTP still refuses loopback unless that is allowed too.
    let app = TestApp::spawn_with(backend, |s| s.notifications.allow_http = true).await;
    let resp = app
        .post_json(
            SUBSCRIPTIONS,
            &body(SETTINGS_RESOURCE, &receiver.url("/hook")),
        )
        .await;
    let message = assert_graph_error(resp, 400, "BadRequest").await;
    assert!(message.contains("internal address"), "{message}");
    assert_eq!(receiver.validations(), 0);
}

async fn tenants_see_and_watch_only_their_own(backend: Backend) {
    let app = spawn(backend).await;
    let receiver = Receiver::start();
    let setting = app.create_setting(&json!({})).await;
    let sid = setting["id"].as_str().unwrap();
    let devices = format!("{SETTINGS_RESOURCE}/{sid}/importedAppleDeviceIdentities");
    let mine = subscribe(&app, &body(&devices, &receiver.url("/a"))).await;
    let id = mine["id"].as_str().unwrap();

    let other = dep_gateway::domain::ids::TenantId::new(Uuid::new_v4());
    let token = app.token_for(other, &[crate::helpers::READ_WRITE]);
    let send = |method: Method, path: String| {
        app.client
            .request(method, format!("{}{path}", app.base))
            .bearer_auth(&token)
    };
    let list: Value = send(Method::GET, SUBSCRIPTIONS.into())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["value"], json!([]));
    for method in [Method::GET, Method::DELETE] {
        let resp = send(method, format!("{SUBSCRIPTIONS}/{id}"))
            .send()
            .await
            .unwrap();
        assert_graph_error(resp, 404, "ResourceNotFound").await;
    }
    let resp = send(Method::PATCH, format!("{SUBSCRIPTIONS}/{id}"))
        .json(&json!({"expirationDateTime": in_an_hour()}))
        .send()
        .await
        .unwrap();
    assert_graph_error(resp, 404, "ResourceNotFound").await;
    // Watching another tenant's token is refused like an unknown one.
    let resp = send(Method::POST, SUBSCRIPTIONS.into())
        .json(&body(&devices, &receiver.url("/b")))
        .send()
        .await
        .unwrap();
    assert_graph_error(resp, 400, "BadRequest").await;
    let got: Value = app
        .get(&format!("{SUBSCRIPTIONS}/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got["id"], id, "still there");
}

async fn unauthenticated_is_401_and_unprivileged_is_403(backend: Backend) {
    let app = spawn(backend).await;
    let receiver = Receiver::start();
    let url = format!("{}{SUBSCRIPTIONS}", app.base);
    let resp = app.client.get(&url).send().await.unwrap();
    assert_graph_error(resp, 401, "InvalidAuthenticationToken").await;
    let resp = app
        .client
        .post(&url)
        .json(&body(SETTINGS_RESOURCE, &receiver.url("/a")))
        .send()
        .await
        .unwrap();
    assert_graph_error(resp, 401, "InvalidAuthenticationToken").await;
    let token = app.token_for(app.tenant, &["User.Read"]);
    let resp = app
        .client
        .post(&url)
        .bearer_auth(&token)
        .json(&body(SETTINGS_RESOURCE, &receiver.url("/a")))
        .send()
        .await
        .unwrap();
    assert_graph_error(resp, 403, "Forbidden").await;
    // The read permission of the resource suffices (Graph's rule).
    let read = app.token_for(app.tenant, &[READ]);
    let resp = app
        .client
        .post(&url)
        .bearer_auth(&read)
        .json(&body(SETTINGS_RESOURCE, &receiver.url("/a")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    assert_eq!(receiver.validations(), 1);
}

on_both_backends!(
    create_read_renew_delete,
    a_failed_handshake_is_graphs_400_and_creates_nothing,
    bad_input_is_refused_without_a_handshake,
    https_is_required_unless_configured,
    tenants_see_and_watch_only_their_own,
    unauthenticated_is_401_and_unprivileged_is_403,
);
