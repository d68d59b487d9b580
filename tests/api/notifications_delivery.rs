//! Delivery of change notifications (issue 14) to real receivers: a simulator sync of 1,000
//! devices notifies each device once per subscription; a receiver that is down gets everything
//! afterwards, in order; the signature header; expiry removes a subscription and
//! `reauthorizationRequired` comes before it.

use std::collections::HashSet;
use std::time::Duration;

use diesel::{Connection, RunQueryDsl};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, eventually};
use crate::notifications::{
    SETTINGS_RESOURCE, SUBSCRIPTIONS, allow_receivers, body, spawn, subscribe,
};
use crate::notifications_receiver::{Mode, Receiver};
use crate::on_both_backends;
use crate::sync::{self, Sim};

const WAIT: Duration = Duration::from_secs(30);

pub(crate) fn devices_resource(setting: &str) -> String {
    format!("{SETTINGS_RESOURCE}/{setting}/importedAppleDeviceIdentities")
}

/// Waits until the receiver holds `n` change notifications of `subscription`; returns them.
pub(crate) async fn received(receiver: &Receiver, subscription: &str, n: usize) -> Vec<Value> {
    eventually("notifications", WAIT, || async {
        let mine: Vec<Value> = receiver
            .notifications()
            .into_iter()
            .filter(|v| v["subscriptionId"] == subscription && v["changeType"].is_string())
            .collect();
        (mine.len() >= n).then_some(mine)
    })
    .await
}

/// Uploads a simulated server's token with `devices` devices to `setting`.
pub(crate) async fn upload_token(
    app: &TestApp,
    sim: &Sim,
    setting: &str,
    server: &str,
    devices: u32,
) {
    let settings = sync::SETTINGS;
    let key: Value = app
        .get(&format!("{settings}/{setting}/getEncryptionPublicKey()"))
        .await
        .json()
        .await
        .unwrap();
    let p7m = dep_gateway::apple_sim::make_dep_token(
        &sim.url(),
        server,
        devices,
        key["value"].as_str().unwrap(),
    )
    .await
    .unwrap();
    let resp = app
        .post_json(
            &format!("{settings}/{setting}/uploadDepToken"),
            &json!({"appleId": "mdm-admin@example.com", "depToken": p7m}),
        )
        .await;
    assert_eq!(resp.status(), 204);
}

async fn a_synced_thousand_devices_are_notified_once_per_subscription(backend: Backend) {
    let sim = Sim::start_with_limit(1000).await;
    let url = sim.url();
    let app = TestApp::spawn_with(backend, move |s| {
        allow_receivers(s);
        s.apple_base_url = url;
        s.sync_interval_secs = 0;
    })
    .await;
    // Subscribed before the token arrives: its upload starts the first sync.
    let setting = app.create_setting(&json!({})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (first, second) = (Receiver::start(), Receiver::start());
    let resource = devices_resource(&setting);
    let a = subscribe(&app, &body(&resource, &first.url("/a"))).await;
    let mut other = body(&resource, &second.url("/b"));
    other["changeType"] = json!("created");
    other["clientState"] = json!("second");
    let b = subscribe(&app, &other).await;
    upload_token(&app, &sim, &setting, "server-notify", 1000).await;
    sync::sync_ok(&app, &setting).await;
    let ids: HashSet<String> = sync::identities(&app, &setting)
        .await
        .iter()
        .map(|d| sync::text(d, "id"))
        .collect();
    assert_eq!(ids.len(), 1000);
    for (receiver, sub, state) in [(&first, &a, "secretClientValue"), (&second, &b, "second")] {
        let id = sub["id"].as_str().unwrap();
        let got = received(receiver, id, 1000).await;
        // One more round of the worker: nothing else arrives.
        app.after_worker_rounds(3).await;
        let got_after = received(receiver, id, 1000).await;
        assert_eq!(got_after.len(), 1000, "each device exactly once");
        let seen: HashSet<String> = got
            .iter()
            .map(|n| sync::text(&n["resourceData"], "id"))
            .collect();
        assert_eq!(seen, ids);
        let n = &got[0];
        assert_eq!(n["changeType"], "created");
        assert_eq!(n["clientState"], state);
        assert_eq!(n["tenantId"], app.tenant.to_string());
        assert_eq!(
            n["subscriptionExpirationDateTime"],
            sub["expirationDateTime"]
        );
        let device = sync::text(&n["resourceData"], "id");
        assert_eq!(n["resource"], format!("{resource}/{device}"));
        assert_eq!(
            n["resourceData"]["@odata.type"],
            "#microsoft.graph.importedAppleDeviceIdentity"
        );
        assert_eq!(n["resourceData"]["@odata.id"], n["resource"]);
        let distinct: HashSet<&str> = got.iter().map(|n| n["id"].as_str().unwrap()).collect();
        assert_eq!(distinct.len(), 1000, "notification ids are unique");
        // Batched: 100 notifications per POST by default.
        assert_eq!(receiver.deliveries().len(), 10);
    }
    // Apple removes one device: the next sync marks it deleted, a `deleted` change for the
    // subscription that asked for deletions.
    let gone = sync::identities(&app, &setting).await[0].clone();
    sim.send(
        reqwest::Method::POST,
        "/admin/servers/server-notify/devices/delete",
        &json!({"serials": [sync::text(&gone, "serialNumber")]}),
    )
    .await;
    sync::sync_ok(&app, &setting).await;
    let id = a["id"].as_str().unwrap();
    let got = received(&first, id, 1001).await;
    let deleted: Vec<&Value> = got
        .iter()
        .filter(|n| n["changeType"] == "deleted")
        .collect();
    assert_eq!(deleted.len(), 1, "one deleted change: {deleted:?}");
    assert_eq!(deleted[0]["resourceData"]["id"], gone["id"]);
}

async fn a_receiver_down_for_a_while_gets_everything_in_order(backend: Backend) {
    let app = spawn(backend).await;
    let receiver = Receiver::start();
    let setting = app.create_setting(&json!({})).await;
    let sid = setting["id"].as_str().unwrap();
    let sub = subscribe(&app, &body(&devices_resource(sid), &receiver.url("/hook"))).await;
    let sub_id = sub["id"].as_str().unwrap();
    receiver.set_mode(Mode::Down);
    let path = format!("/beta/{}", devices_resource(sid));
    let mut created = Vec::new();
    for i in 0..5 {
        let resp = app
            .post_json(
                &path,
                &json!({"serialNumber": format!("C02NTF{i:06}"), "platform": "ios"}),
            )
            .await;
        assert_eq!(resp.status(), 201);
        let d: Value = resp.json().await.unwrap();
        created.push(sync::text(&d, "id"));
    }
    let first = created[0].clone();
    let resp = app
        .patch_json(
            &format!("{path}/{first}"),
            &json!({"description": "changed"}),
        )
        .await;
    assert_eq!(resp.status(), 204);
    assert_eq!(app.delete(&format!("{path}/{first}")).await.status(), 204);
    eventually("two refused tries", WAIT, || async {
        (receiver.refused() >= 2).then_some(())
    })
    .await;
    assert!(receiver.deliveries().is_empty());
    receiver.set_mode(Mode::Accept);
    let got = received(&receiver, sub_id, 7).await;
    let order: Vec<(String, String)> = got
        .iter()
        .map(|n| {
            (
                sync::text(n, "changeType"),
                sync::text(&n["resourceData"], "id"),
            )
        })
        .collect();
    let mut want: Vec<(String, String)> = created
        .iter()
        .map(|id| ("created".to_owned(), id.clone()))
        .collect();
    want.push(("updated".into(), first.clone()));
    want.push(("deleted".into(), first.clone()));
    assert_eq!(order, want);
    let resp: Value = app
        .get(&format!("{SUBSCRIPTIONS}/{sub_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(resp["id"], sub_id);
}

async fn deliveries_are_signed_when_a_secret_is_set(backend: Backend) {
    let app = spawn(backend).await;
    let receiver = Receiver::start();
    let secret = "0123456789abcdef-signing";
    let mut b = body(SETTINGS_RESOURCE, &receiver.url("/signed"));
    b["signingSecret"] = json!(secret);
    let sub = subscribe(&app, &b).await;
    assert!(sub.get("signingSecret").is_none(), "never returned");
    let setting = app.create_setting(&json!({})).await;
    let got = received(&receiver, sub["id"].as_str().unwrap(), 1).await;
    assert_eq!(got[0]["resourceData"]["id"], setting["id"]);
    assert_eq!(
        got[0]["resourceData"]["@odata.type"],
        "#microsoft.graph.depOnboardingSetting"
    );
    let delivery = &receiver.deliveries()[0];
    let expected =
        dep_gateway::service::notify::receiver::signature(secret.as_bytes(), &delivery.raw);
    assert_eq!(delivery.signature.as_deref(), Some(expected.as_str()));
}

/// Moves a subscription's expiry (ticks from now) in the database: lifetimes are at least 45
/// minutes through the API.
fn set_expiry(app: &TestApp, id: &str, secs_from_now: i64) {
    let ticks = (chrono::Utc::now().timestamp() + secs_from_now) * 10_000_000;
    let sql = format!("UPDATE subscriptions SET expiration_ticks = {ticks} WHERE id = '{id}'");
    let url = app.database_url();
    if url.starts_with("postgres") {
        let mut c = diesel::PgConnection::establish(&url).unwrap();
        diesel::sql_query(sql).execute(&mut c).unwrap();
    } else {
        let mut c =
            diesel::SqliteConnection::establish(url.trim_start_matches("sqlite://")).unwrap();
        diesel::sql_query(sql).execute(&mut c).unwrap();
    }
}

async fn reauthorization_comes_before_expiry_and_expiry_removes(backend: Backend) {
    let app = spawn(backend).await;
    let receiver = Receiver::start();
    let mut b = body(SETTINGS_RESOURCE, &receiver.url("/changes"));
    b["lifecycleNotificationUrl"] = json!(receiver.url("/lifecycle"));
    let sub = subscribe(&app, &b).await;
    let id = sub["id"].as_str().unwrap().to_owned();
    set_expiry(&app, &id, 600);
    let event = eventually("reauthorizationRequired", WAIT, || async {
        receiver
            .deliveries()
            .into_iter()
            .find(|d| d.target.starts_with("/lifecycle"))
    })
    .await;
    let n = &event.body["value"][0];
    assert_eq!(n["lifecycleEvent"], "reauthorizationRequired");
    assert_eq!(n["subscriptionId"], id.as_str());
    assert_eq!(n["clientState"], "secretClientValue");
    assert!(n.get("changeType").is_none() && n.get("resource").is_none());
    // Expiry: the gateway removes the subscription and says so with Graph's
    // `subscriptionRemoved` to the lifecycle URL; the subscription is gone from the API at once
    // and from the database once that notification is out.
    set_expiry(&app, &id, -1);
    let removed = eventually("subscriptionRemoved", WAIT, || async {
        receiver
            .deliveries()
            .into_iter()
            .find(|d| d.body["value"][0]["lifecycleEvent"] == "subscriptionRemoved")
    })
    .await;
    assert_eq!(removed.target, "/lifecycle");
    let n = &removed.body["value"][0];
    assert_eq!(n["subscriptionId"], id.as_str());
    assert_eq!(n["clientState"], "secretClientValue");
    assert_eq!(n["tenantId"], app.tenant.to_string());
    assert!(n["subscriptionExpirationDateTime"].is_string());
    assert!(n.get("changeType").is_none() && n.get("resource").is_none());
    assert_eq!(
        app.get(&format!("{SUBSCRIPTIONS}/{id}")).await.status(),
        404
    );
    eventually("the removed subscription forgotten", WAIT, || async {
        (subscription_rows(&app, &id) == 0).then_some(())
    })
    .await;
    // A change after expiry notifies nobody; nothing else reached the lifecycle URL.
    app.create_setting(&json!({})).await;
    app.after_worker_rounds(3).await;
    let events: Vec<Value> = receiver
        .deliveries()
        .iter()
        .filter(|d| d.target == "/lifecycle")
        .map(|d| d.body["value"][0]["lifecycleEvent"].clone())
        .collect();
    assert_eq!(
        events,
        [
            json!("reauthorizationRequired"),
            json!("subscriptionRemoved")
        ]
    );
    assert!(
        receiver
            .deliveries()
            .iter()
            .all(|d| d.target == "/lifecycle"),
        "no change notification after expiry"
    );
}

/// Rows of the subscription in the database (a removed one stays until its last notification).
fn subscription_rows(app: &TestApp, id: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let sql = format!("SELECT COUNT(*) AS n FROM subscriptions WHERE id = '{id}'");
    let url = app.database_url();
    let rows: Vec<Count> = if url.starts_with("postgres") {
        let mut c = diesel::PgConnection::establish(&url).unwrap();
        diesel::sql_query(sql).load(&mut c).unwrap()
    } else {
        let mut c =
            diesel::SqliteConnection::establish(url.trim_start_matches("sqlite://")).unwrap();
        diesel::sql_query(sql).load(&mut c).unwrap()
    };
    rows[0].n
}

/// Assigning a profile to devices and making a profile the default change what a read of them
/// returns (`requestedEnrollmentProfileId`, `isDefault`): both record `updated` changes.
async fn profile_assignment_and_default_notify_updates(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| {
        allow_receivers(s);
        crate::helpers::with_mdm(s);
    })
    .await;
    let setting = app.create_setting(&json!({})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let base = format!("/beta/{SETTINGS_RESOURCE}/{setting}");
    let mut ids = Vec::new();
    for serial in ["C02ASSIGN001", "C02ASSIGN002", "C02ASSIGN003"] {
        let resp = app
            .post_json(
                &format!("{base}/importedAppleDeviceIdentities"),
                &json!({"serialNumber": serial, "platform": "ios"}),
            )
            .await;
        assert_eq!(resp.status(), 201);
        ids.push(sync::text(&resp.json::<Value>().await.unwrap(), "id"));
    }
    let profile = |name: &str| json!({"@odata.type": "#microsoft.graph.depIOSEnrollmentProfile", "displayName": name});
    let mut profiles = Vec::new();
    for name in ["first", "second"] {
        let resp = app
            .post_json(&format!("{base}/enrollmentProfiles"), &profile(name))
            .await;
        assert_eq!(resp.status(), 201);
        profiles.push(sync::text(&resp.json::<Value>().await.unwrap(), "id"));
    }
    let receiver = Receiver::start();
    let devices = subscribe(
        &app,
        &body(&devices_resource(&setting), &receiver.url("/d")),
    )
    .await;
    let profiles_resource = format!("{SETTINGS_RESOURCE}/{setting}/enrollmentProfiles");
    let watched = subscribe(&app, &body(&profiles_resource, &receiver.url("/p"))).await;

    let resp = app
        .post_json(
            &format!(
                "{base}/enrollmentProfiles/{}/updateDeviceProfileAssignment",
                profiles[0]
            ),
            &json!({"deviceIds": ["C02ASSIGN001", "C02ASSIGN002"]}),
        )
        .await;
    assert_eq!(resp.status(), 204, "{:?}", resp.text().await);
    let got = received(&receiver, devices["id"].as_str().unwrap(), 2).await;
    let updated: HashSet<String> = got
        .iter()
        .inspect(|n| assert_eq!(n["changeType"], "updated", "{n}"))
        .map(|n| sync::text(&n["resourceData"], "id"))
        .collect();
    assert_eq!(updated, HashSet::from([ids[0].clone(), ids[1].clone()]));

    // The first default flips one profile; replacing it flips both.
    for p in &profiles {
        let path = format!("{base}/enrollmentProfiles/{p}/setDefaultProfile");
        let resp = app.request(Method::POST, &path).send().await.unwrap();
        assert_eq!(resp.status(), 204, "{:?}", resp.text().await);
    }
    let sub = watched["id"].as_str().unwrap();
    let got = received(&receiver, sub, 3).await;
    app.after_worker_rounds(3).await;
    let got_after = received(&receiver, sub, 3).await;
    assert_eq!(got_after.len(), 3, "{got_after:?}");
    let order: Vec<(String, String)> = got
        .iter()
        .map(|n| {
            (
                sync::text(n, "changeType"),
                sync::text(&n["resourceData"], "id"),
            )
        })
        .collect();
    let updated = |p: &String| ("updated".to_owned(), p.clone());
    let mut tail = vec![updated(&profiles[0]), updated(&profiles[1])];
    tail.sort();
    let mut later = order[1..].to_vec();
    later.sort();
    assert_eq!(order[0], updated(&profiles[0]));
    assert_eq!(later, tail);
    assert_eq!(
        got[0]["resourceData"]["@odata.type"],
        "#microsoft.graph.depIOSEnrollmentProfile"
    );
}

on_both_backends!(
    a_synced_thousand_devices_are_notified_once_per_subscription,
    a_receiver_down_for_a_while_gets_everything_in_order,
    deliveries_are_signed_when_a_secret_is_set,
    reauthorization_comes_before_expiry_and_expiry_removes,
    profile_assignment_and_default_notify_updates,
);
