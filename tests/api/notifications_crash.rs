//! A crash between a change's commit and its delivery loses nothing (issue 14): the changes of a
//! sync commit with their outbox rows; a `dep-gateway serve` process posts the first batch to a
//! receiver that holds it unanswered and is killed with SIGKILL (no shutdown, no delete of what
//! it sent, its delivery lease left behind); a second process on the same database delivers
//! everything once that lease has run out. Delivery is at least once: the held batch arrives
//! again with the same notification ids, and deduplicated by id the receiver holds every change.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use dep_gateway::storage::{Db, StorageError, outbox};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, eventually};
use crate::lease_takeover::Instance;
use crate::notifications::{allow_receivers, body, subscribe};
use crate::notifications_delivery::{devices_resource, upload_token};
use crate::notifications_receiver::{Mode, Receiver};
use crate::on_both_backends;
use crate::sync::{self, Sim};

const DEVICES: u32 = 250;
const WAIT: Duration = Duration::from_secs(90);

/// The child processes deliver to loopback receivers over HTTP, looking every 100 ms, and wait
/// long for an answer (the held POST is in flight when the process dies).
const NOTIFY: &str = "[notifications]\nallow_http = true\nallow_loopback = true\npoll_millis = 100\n\
    retry_first_secs = 1\nretry_max_secs = 1\ndelivery_timeout_secs = 60\n";

/// Change notifications waiting in the outbox for the subscription.
async fn pending(app: &TestApp, subscription: &str) -> i64 {
    let db = Db::connect(&app.database_url(), 1).expect("database");
    let (tenant, id) = (app.tenant, subscription.to_owned());
    db.run(move |c| Ok::<_, StorageError>(outbox::pending_count(c, tenant, &id)?))
        .await
        .expect("pending")
}

async fn a_kill_9_between_commit_and_delivery_loses_nothing(backend: Backend) {
    let sim = Sim::start().await;
    let sim_url = sim.url();
    // The in-process instance answers the API and runs the sync; its deliverer looks at the
    // outbox only once an hour, so that only the child processes deliver.
    let app = TestApp::spawn_with(backend, move |s| {
        allow_receivers(s);
        s.notifications.poll_millis = 3_600_000;
        s.apple_base_url = sim_url;
        s.sync_interval_secs = 0;
    })
    .await;
    let setting = app.create_setting(&json!({})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let receiver = Receiver::start();
    let sub = subscribe(
        &app,
        &body(&devices_resource(&setting), &receiver.url("/hook")),
    )
    .await;
    let sub_id = sub["id"].as_str().unwrap().to_owned();
    receiver.set_mode(Mode::Hold);
    upload_token(&app, &sim, &setting, "server-crash", DEVICES).await;
    sync::sync_ok(&app, &setting).await;
    let ids: HashSet<String> = sync::identities(&app, &setting)
        .await
        .iter()
        .map(|d| sync::text(d, "id"))
        .collect();
    assert_eq!(ids.len(), DEVICES as usize);
    // Committed with the sync, nothing delivered yet.
    assert_eq!(pending(&app, &sub_id).await, i64::from(DEVICES));

    let mut first = Instance::start_with(&app, &sim, "first", NOTIFY);
    eventually("the first batch posted and held", WAIT, || async {
        (!receiver.deliveries().is_empty()).then_some(())
    })
    .await;
    first.child.kill().expect("SIGKILL");
    first.child.wait().expect("wait");
    // Sent but never acknowledged: every change is still in the outbox.
    assert_eq!(
        pending(&app, &sub_id).await,
        i64::from(DEVICES),
        "{}",
        first.log()
    );
    let held: Vec<Value> = receiver.notifications();
    assert!(!held.is_empty());

    receiver.set_mode(Mode::Accept);
    let second = Instance::start_with(&app, &sim, "second", NOTIFY);
    let by_id = eventually("every change delivered", WAIT, || async {
        let mut by_id: HashMap<String, String> = HashMap::new();
        for n in receiver.notifications() {
            if n["subscriptionId"] == sub_id.as_str() && n["changeType"] == "created" {
                let device = sync::text(&n["resourceData"], "id");
                let previous = by_id.insert(sync::text(&n, "id"), device.clone());
                // A notification id names one change, however often it is sent.
                assert!(previous.is_none_or(|p| p == device), "{n}");
            }
        }
        let covered: HashSet<&String> = by_id.values().collect();
        (covered.len() == ids.len()).then_some(by_id)
    })
    .await;
    let covered: HashSet<String> = by_id.into_values().collect();
    assert_eq!(covered, ids, "{}", second.log());
    // The held batch came again, with the same ids: at least once, deduplicated by id.
    let all = receiver.notifications();
    for n in &held {
        let again = all.iter().filter(|m| m["id"] == n["id"]).count();
        assert!(again >= 2, "{n} was delivered once");
    }
    eventually("the outbox emptied", WAIT, || async {
        (pending(&app, &sub_id).await == 0).then_some(())
    })
    .await;
}

on_both_backends!(a_kill_9_between_commit_and_delivery_loses_nothing);
