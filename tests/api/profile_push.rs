//! Profile assignment at Apple through HTTP against the bundled simulator: the profile is
//! defined once per token and again only after it changed, assignments go out in batches of at
//! most 1,000, throttled and failed serials are retried later (not hammered), `NOT_ACCESSIBLE`
//! is final, newly synced devices get their requested or their platform's default profile, and
//! a token without a server token records the assignment until one is uploaded.

use std::collections::HashMap;
use std::time::Duration;

use dep_gateway::domain::ids::{SettingId, TenantId};
use dep_gateway::storage::Db;
use dep_gateway::storage::profile_push::{self, Assignment};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Backend, READ, TestApp, assert_graph_error, eventually, with_mdm};
use crate::on_both_backends;
use crate::sync::{SETTINGS, Sim, by_serial, setting_with_token, sync_ok};

/// A gateway on `sim` without periodic sync, retrying failed pushes after 1 s (doubling).
pub(crate) async fn spawn(backend: Backend, sim: &Sim) -> TestApp {
    let url = sim.url();
    TestApp::spawn_with(backend, move |s| {
        s.apple_base_url = url;
        s.sync_interval_secs = 0;
        s.assign_retry_secs = 1;
        with_mdm(s);
    })
    .await
}

pub(crate) fn profiles_path(setting: &str) -> String {
    format!("{SETTINGS}/{setting}/enrollmentProfiles")
}

/// Creates a profile of `odata_type` and returns its id.
pub(crate) async fn create_profile(
    app: &TestApp,
    setting: &str,
    odata_type: &str,
    name: &str,
) -> String {
    let resp = app
        .post_json(
            &profiles_path(setting),
            &json!({"@odata.type": format!("#microsoft.graph.{odata_type}"), "displayName": name,
                "supportDepartment": "IT", "isMandatory": true}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let body: Value = resp.json().await.unwrap();
    body["id"].as_str().unwrap().to_owned()
}

async fn assign(app: &TestApp, setting: &str, profile: &str, serials: &[String]) {
    let resp = app
        .post_json(
            &format!(
                "{}/{profile}/updateDeviceProfileAssignment",
                profiles_path(setting)
            ),
            &json!({ "deviceIds": serials }),
        )
        .await;
    assert_eq!(resp.status(), 204, "{}", resp.text().await.unwrap());
}

/// The token's assignment rows, read from the gateway's database (Graph's entities have no
/// property for Apple's per-device result).
pub(crate) async fn rows(app: &TestApp, setting: &str) -> HashMap<String, Assignment> {
    let db = Db::connect(&app.database_url(), 1).expect("database");
    let (tenant, key): (TenantId, SettingId) = (app.tenant, SettingId::new(setting));
    let rows: Vec<Assignment> = db
        .run(move |c| {
            profile_push::list(c, tenant, &key).map_err(dep_gateway::storage::StorageError::Query)
        })
        .await
        .expect("rows");
    rows.into_iter()
        .map(|r| (r.serial_number.clone(), r))
        .collect()
}

/// Polls the rows (30 s at most) until `done` holds.
pub(crate) async fn wait_rows(
    app: &TestApp,
    setting: &str,
    done: impl Fn(&HashMap<String, Assignment>) -> bool,
) -> HashMap<String, Assignment> {
    let done = &done;
    eventually(
        "the assignments to settle",
        Duration::from_secs(30),
        || async move {
            let r = rows(app, setting).await;
            done(&r).then_some(r)
        },
    )
    .await
}

pub(crate) fn settled(r: &HashMap<String, Assignment>, n: usize) -> bool {
    r.len() == n && r.values().all(|a| a.next_attempt_ticks.is_none())
}

/// Serial → the profile UUID the simulator holds for it.
async fn apple_profiles(sim: &Sim, server: &str) -> HashMap<String, Option<String>> {
    let body = sim.get(&format!("/admin/servers/{server}/devices")).await;
    body["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["serial_number"].as_str().unwrap().to_owned(),
                d["profile_uuid"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

/// A synced token of `devices` devices: (setting, sorted serials).
pub(crate) async fn synced(
    app: &TestApp,
    sim: &Sim,
    server: &str,
    devices: u32,
) -> (String, Vec<String>) {
    let setting = setting_with_token(app, sim, server, devices).await;
    sync_ok(app, &setting).await;
    let mut serials: Vec<String> = by_serial(app, &setting).await.into_keys().collect();
    serials.sort();
    (setting, serials)
}

async fn the_profile_is_defined_once_and_again_after_a_change(backend: Backend) {
    let sim = Sim::start().await;
    let app = spawn(backend, &sim).await;
    let (setting, serials) = synced(&app, &sim, "define-once", 6).await;
    let profile = create_profile(&app, &setting, "depIOSEnrollmentProfile", "Staff").await;

    assign(&app, &setting, &profile, &serials[..2]).await;
    let first = wait_rows(&app, &setting, |r| settled(r, 2)).await;
    let uuid = first[&serials[0]].profile_uuid.clone().expect("assigned");
    assert!(first.values().all(|a| a.status == "SUCCESS"), "{first:?}");
    assign(&app, &setting, &profile, &serials[2..4]).await;
    wait_rows(&app, &setting, |r| settled(r, 4)).await;
    assert_eq!(sim.requests("define-once", "profile_define").await, 1);
    assert_eq!(sim.requests("define-once", "profile_assign").await, 2);
    let at_apple = apple_profiles(&sim, "define-once").await;
    for serial in &serials[..4] {
        assert_eq!(at_apple[serial].as_deref(), Some(uuid.as_str()), "{serial}");
    }
    assert_eq!(at_apple[&serials[4]], None, "not asked for");

    // Changing the profile makes the next push define it again; the old UUID stays on the
    // devices that were not reassigned.
    let resp = app
        .patch_json(
            &format!("{}/{profile}", profiles_path(&setting)),
            &json!({"@odata.type": "#microsoft.graph.depIOSEnrollmentProfile", "supportDepartment": "Facilities"}),
        )
        .await;
    assert_eq!(resp.status(), 204);
    assign(&app, &setting, &profile, &serials[4..]).await;
    let after = wait_rows(&app, &setting, |r| settled(r, 6)).await;
    let second = after[&serials[4]].profile_uuid.clone().expect("assigned");
    assert_ne!(second, uuid);
    assert_eq!(sim.requests("define-once", "profile_define").await, 2);
    assert_eq!(sim.requests("define-once", "profile_assign").await, 3);
    let at_apple = apple_profiles(&sim, "define-once").await;
    assert_eq!(at_apple[&serials[5]].as_deref(), Some(second.as_str()));
    assert_eq!(at_apple[&serials[0]].as_deref(), Some(uuid.as_str()));
    let server = sim.get("/admin/servers/define-once").await;
    assert_eq!(server["profile_count"], 2);
}

async fn assignments_go_out_in_batches_of_at_most_1000(backend: Backend) {
    let sim = Sim::start_with_limit(1000).await;
    let app = spawn(backend, &sim).await;
    let (setting, serials) = synced(&app, &sim, "batches", 2500).await;
    assert_eq!(serials.len(), 2500);
    let profile = create_profile(&app, &setting, "depIOSEnrollmentProfile", "Fleet").await;
    assign(&app, &setting, &profile, &serials).await;
    let done = wait_rows(&app, &setting, |r| settled(r, 2500)).await;
    assert!(done.values().all(|a| a.status == "SUCCESS"));
    // The simulator refuses more than 1,000 serials per call (TOO_MANY_DEVICES), so three
    // successful calls for 2,500 serials means batches of at most 1,000.
    assert_eq!(sim.requests("batches", "profile_assign").await, 3);
    assert_eq!(sim.requests("batches", "profile_define").await, 1);
    let at_apple = apple_profiles(&sim, "batches").await;
    assert!(at_apple.values().all(Option::is_some));
}

async fn throttled_devices_wait_for_apple_and_end_up_assigned(backend: Backend) {
    let sim = Sim::start().await;
    let app = spawn(backend, &sim).await;
    let (setting, serials) = synced(&app, &sim, "throttle", 4).await;
    let cooled = serials[..2].to_vec();
    sim.send(
        Method::POST,
        "/admin/servers/throttle/assign-outcomes",
        &json!({"serials": cooled, "outcome": "THROTTLED", "retry_after_seconds": 3}),
    )
    .await;
    let profile = create_profile(&app, &setting, "depIOSEnrollmentProfile", "Cool").await;
    assign(&app, &setting, &profile, &serials).await;
    let first = wait_rows(&app, &setting, |r| {
        r.len() == 4 && r.values().all(|a| a.status != "pending")
    })
    .await;
    for serial in &cooled {
        assert_eq!(first[serial].status, "THROTTLED");
        assert!(first[serial].next_attempt_ticks.is_some(), "queued again");
    }
    assert_eq!(first[&serials[3]].status, "SUCCESS");
    // That the retry waits exactly Apple's `retry_after_seconds` is a fake-clock unit test
    // (service::profile_push::tests); here the cooldown ends at Apple and the retry succeeds.
    sim.send(
        Method::POST,
        "/admin/servers/throttle/assign-outcomes",
        &json!({"serials": cooled, "outcome": "SUCCESS"}),
    )
    .await;
    let done = wait_rows(&app, &setting, |r| {
        settled(r, 4) && r.values().all(|a| a.status == "SUCCESS")
    })
    .await;
    // One retry of only the throttled serials.
    assert_eq!(sim.requests("throttle", "profile_assign").await, 2);
    assert_eq!(done[&cooled[0]].attempts, 2);
    let at_apple = apple_profiles(&sim, "throttle").await;
    assert!(cooled.iter().all(|s| at_apple[s].is_some()));
}

async fn failed_calls_back_off_and_are_retried(backend: Backend) {
    let sim = Sim::start().await;
    let app = spawn(backend, &sim).await;
    let (setting, serials) = synced(&app, &sim, "flaky", 3).await;
    // Apple fails the first push (the call and the client's one retry), then a per-serial
    // FAILED for the second one.
    sim.send(
        Method::POST,
        "/admin/failures",
        &json!({"endpoint": "profile_assign", "server": "flaky", "count": 2, "status": 503,
            "body": "SERVICE_UNAVAILABLE", "retry_after": 0}),
    )
    .await;
    sim.send(
        Method::POST,
        "/admin/failures",
        &json!({"endpoint": "profile_assign", "server": "flaky", "response": "failed"}),
    )
    .await;
    let profile = create_profile(&app, &setting, "depIOSEnrollmentProfile", "Flaky").await;
    assign(&app, &setting, &profile, &serials).await;
    // The backoff itself (1 s, then 2 s) is a fake-clock unit test; here the retries succeed.
    let done = wait_rows(&app, &setting, |r| {
        settled(r, 3) && r.values().all(|a| a.status == "SUCCESS")
    })
    .await;
    assert!(done.values().all(|a| a.attempts == 3), "{done:?}");
    assert_eq!(sim.requests("flaky", "profile_assign").await, 2 + 1 + 1);
    assert!(
        apple_profiles(&sim, "flaky")
            .await
            .values()
            .all(Option::is_some)
    );
}

async fn not_accessible_is_recorded_and_not_retried(backend: Backend) {
    let sim = Sim::start().await;
    let app = spawn(backend, &sim).await;
    let (setting, serials) = synced(&app, &sim, "gone", 3).await;
    // The device leaves this MDM server at Apple before the gateway syncs again.
    sim.send(
        Method::POST,
        "/admin/servers",
        &json!({"name": "elsewhere"}),
    )
    .await;
    sim.send(
        Method::POST,
        "/admin/devices/move",
        &json!({"serials": [serials[0]], "to": "elsewhere"}),
    )
    .await;
    let profile = create_profile(&app, &setting, "depIOSEnrollmentProfile", "Gone").await;
    assign(&app, &setting, &profile, &serials).await;
    let done = wait_rows(&app, &setting, |r| settled(r, 3)).await;
    assert_eq!(done[&serials[0]].status, "NOT_ACCESSIBLE");
    assert_eq!(done[&serials[0]].profile_uuid, None);
    assert_eq!(done[&serials[1]].status, "SUCCESS");
    app.after_worker_rounds(2).await;
    assert_eq!(sim.requests("gone", "profile_assign").await, 1, "no retry");
    assert_eq!(rows(&app, &setting).await[&serials[0]].attempts, 1);
}

async fn synced_devices_get_their_requested_or_default_profile(backend: Backend) {
    let sim = Sim::start().await;
    let app = spawn(backend, &sim).await;
    let setting = setting_with_token(&app, &sim, "defaults", 0).await;
    let ios = create_profile(&app, &setting, "depIOSEnrollmentProfile", "Phones").await;
    let mac = create_profile(&app, &setting, "depMacOSEnrollmentProfile", "Macs").await;
    for id in [&ios, &mac] {
        let resp = app
            .post_json(
                &format!("{}/{id}/setDefaultProfile", profiles_path(&setting)),
                &json!({}),
            )
            .await;
        assert_eq!(resp.status(), 204);
    }
    // A device imported by hand with a requested profile gets that one when Apple reports it.
    let kiosk = create_profile(&app, &setting, "depIOSEnrollmentProfile", "Kiosk").await;
    let devices = format!("{SETTINGS}/{setting}/importedAppleDeviceIdentities");
    let guid = kiosk.split_once('_').unwrap().1;
    let resp = app
        .post_json(
            &devices,
            &json!({"serialNumber": "C02KEEPMINE1", "platform": "ios", "requestedEnrollmentProfileId": guid}),
        )
        .await;
    assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
    sim.send(
        Method::POST,
        "/admin/servers/defaults/devices",
        &json!({"devices": [
            {"serial_number": "C02PHONE0001", "device_family": "iPhone"},
            {"serial_number": "C02IPAD00001", "device_family": "iPad"},
            {"serial_number": "C02MAC000001", "device_family": "Mac"},
            {"serial_number": "C02TV0000001", "device_family": "AppleTV"},
            {"serial_number": "C02KEEPMINE1", "device_family": "iPhone"},
        ]}),
    )
    .await;
    sync_ok(&app, &setting).await;
    let done = wait_rows(&app, &setting, |r| settled(r, 4)).await;
    let uuid = |serial: &str| done[serial].profile_uuid.clone().expect("assigned");
    assert_eq!(done["C02PHONE0001"].profile_id, ios);
    assert_eq!(done["C02MAC000001"].profile_id, mac);
    assert_eq!(uuid("C02PHONE0001"), uuid("C02IPAD00001"));
    assert_ne!(uuid("C02PHONE0001"), uuid("C02MAC000001"));
    assert!(!done.contains_key("C02TV0000001"), "no tvOS default");
    assert_eq!(
        done["C02KEEPMINE1"].profile_id, kiosk,
        "its requested profile"
    );
    assert_ne!(uuid("C02KEEPMINE1"), uuid("C02PHONE0001"));
    let at_apple = apple_profiles(&sim, "defaults").await;
    assert_eq!(at_apple["C02PHONE0001"], Some(uuid("C02PHONE0001")));
    assert_eq!(at_apple["C02MAC000001"], Some(uuid("C02MAC000001")));
    assert_eq!(at_apple["C02TV0000001"], None);
    assert_eq!(at_apple["C02KEEPMINE1"], Some(uuid("C02KEEPMINE1")));
    // An incremental sync that brings nothing new pushes nothing.
    sync_ok(&app, &setting).await;
    app.after_worker_rounds(2).await;
    assert_eq!(sim.requests("defaults", "profile_assign").await, 3);
    assert_eq!(sim.requests("defaults", "profile_define").await, 3);
}

async fn without_a_server_token_the_assignment_waits_for_one(backend: Backend) {
    let sim = Sim::start().await;
    let app = spawn(backend, &sim).await;
    let setting = app.create_setting(&json!({})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let devices = format!("{SETTINGS}/{setting}/importedAppleDeviceIdentities");
    let serials = vec!["C02WAIT00001".to_owned(), "C02WAIT00002".to_owned()];
    for serial in &serials {
        let resp = app
            .post_json(
                &devices,
                &json!({"serialNumber": serial, "platform": "ios"}),
            )
            .await;
        assert_eq!(resp.status(), 201);
    }
    let profile = create_profile(&app, &setting, "depIOSEnrollmentProfile", "Later").await;
    assign(&app, &setting, &profile, &serials).await;
    let waiting = rows(&app, &setting).await;
    assert_eq!(waiting.len(), 2);
    assert!(
        waiting
            .values()
            .all(|a| a.status == profile_push::NO_SERVER_TOKEN && a.next_attempt_ticks.is_none()),
        "{waiting:?}"
    );
    // The token of the Apple server that holds those devices arrives: the assignment goes out.
    let key: Value = app
        .get(&format!("{SETTINGS}/{setting}/getEncryptionPublicKey()"))
        .await
        .json()
        .await
        .unwrap();
    let p7m = dep_gateway::apple_sim::make_dep_token(
        &sim.url(),
        "late-token",
        0,
        key["value"].as_str().unwrap(),
    )
    .await
    .unwrap();
    sim.send(
        Method::POST,
        "/admin/servers/late-token/devices",
        &json!({"devices": [{"serial_number": serials[0]}, {"serial_number": serials[1]}]}),
    )
    .await;
    let resp = app
        .post_json(
            &format!("{SETTINGS}/{setting}/uploadDepToken"),
            &json!({"appleId": "mdm-admin@example.com", "depToken": p7m}),
        )
        .await;
    assert_eq!(resp.status(), 204);
    let done = wait_rows(&app, &setting, |r| {
        settled(r, 2) && r.values().all(|a| a.status == "SUCCESS")
    })
    .await;
    let at_apple = apple_profiles(&sim, "late-token").await;
    assert_eq!(at_apple[&serials[0]], done[&serials[0]].profile_uuid);
}

async fn other_tenants_and_bad_requests_change_nothing(backend: Backend) {
    let sim = Sim::start().await;
    let app = spawn(backend, &sim).await;
    let (setting, serials) = synced(&app, &sim, "guarded", 2).await;
    let profile = create_profile(&app, &setting, "depIOSEnrollmentProfile", "Mine").await;
    let path = format!(
        "{}/{profile}/updateDeviceProfileAssignment",
        profiles_path(&setting)
    );
    let body = json!({"deviceIds": [serials[0]]});
    // Another tenant sees neither the setting nor the profile.
    let other = app.token_for(TenantId::new(Uuid::new_v4()), &[crate::helpers::READ_WRITE]);
    let resp = app
        .client
        .post(format!("{}{path}", app.base))
        .bearer_auth(&other)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_graph_error(resp, 404, "ResourceNotFound").await;
    // A profile id of another token of the same tenant is not this token's.
    let second = setting_with_token(&app, &sim, "guarded-2", 0).await;
    let foreign = create_profile(&app, &second, "depIOSEnrollmentProfile", "Theirs").await;
    let resp = app
        .post_json(
            &format!(
                "{}/{foreign}/updateDeviceProfileAssignment",
                profiles_path(&setting)
            ),
            &body,
        )
        .await;
    assert_graph_error(resp, 404, "ResourceNotFound").await;
    // Malformed JSON, wrong types, unknown serials, too many serials.
    let resp = app
        .request(Method::POST, &path)
        .header("content-type", "application/json")
        .body("{\"deviceIds\": [")
        .send()
        .await
        .unwrap();
    assert_graph_error(resp, 400, "BadRequest").await;
    for bad in [
        json!({"deviceIds": [42]}),
        json!({"deviceIds": "C02X"}),
        json!({"deviceIds": ["NOTHERE00001"]}),
        json!({"deviceIds": (0..10_001).map(|i| format!("C02{i:08}")).collect::<Vec<_>>()}),
    ] {
        assert_graph_error(app.post_json(&path, &bad).await, 400, "BadRequest").await;
    }
    // 401 without a token, 403 with read-only permission.
    let resp = app
        .client
        .post(format!("{}{path}", app.base))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let resp = app
        .client
        .post(format!("{}{path}", app.base))
        .bearer_auth(app.token_for(app.tenant, &[READ]))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_graph_error(resp, 403, "Forbidden").await;
    app.after_worker_rounds(2).await;
    assert!(rows(&app, &setting).await.is_empty(), "nothing queued");
    assert_eq!(sim.requests("guarded", "profile_define").await, 0);
    assert_eq!(sim.requests("guarded", "profile_assign").await, 0);
}

on_both_backends!(
    the_profile_is_defined_once_and_again_after_a_change,
    assignments_go_out_in_batches_of_at_most_1000,
    throttled_devices_wait_for_apple_and_end_up_assigned,
    failed_calls_back_off_and_are_retried,
    not_accessible_is_recorded_and_not_retried,
    synced_devices_get_their_requested_or_default_profile,
    without_a_server_token_the_assignment_waits_for_one,
    other_tenants_and_bad_requests_change_nothing,
);
