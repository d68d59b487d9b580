//! `mdm_enrollment_url`: the profile Apple receives carries the configured MDM server's URL
//! (checked at the simulator, which keeps what it was sent), and without one every request
//! that would lead to a push is a 400 naming the setting, with nothing queued or changed.

use dep_gateway::Application;
use dep_gateway::config::Settings;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Backend, MDM_ENROLLMENT_URL, TestApp, assert_graph_error};
use crate::on_both_backends;
use crate::profile_push::{create_profile, profiles_path, rows, settled, synced, wait_rows};
use crate::sync::{SETTINGS, Sim, by_serial};

/// The profiles the simulated MDM server `server` was sent, as it received them.
async fn at_apple(sim: &Sim, server: &str) -> Vec<Value> {
    sim.get(&format!("/admin/servers/{server}/profiles")).await["profiles"]
        .as_array()
        .expect("profiles")
        .clone()
}

async fn apple_gets_the_configured_enrollment_url(backend: Backend) {
    let sim = Sim::start().await;
    let app = crate::profile_push::spawn(backend, &sim).await;
    let (setting, serials) = synced(&app, &sim, "enroll-url", 2).await;
    let profile = create_profile(&app, &setting, "depIOSEnrollmentProfile", "Staff").await;
    let expected = MDM_ENROLLMENT_URL
        .replace("{tokenId}", &setting)
        .replace("{profileId}", &profile);
    // Graph shows where the device is sent.
    let got: Value = app
        .get(&format!("{}/{profile}", profiles_path(&setting)))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got["configurationEndpointUrl"], expected.as_str());

    let resp = app
        .post_json(
            &format!(
                "{}/{profile}/updateDeviceProfileAssignment",
                profiles_path(&setting)
            ),
            &json!({ "deviceIds": serials }),
        )
        .await;
    assert_eq!(resp.status(), 204);
    let done = wait_rows(&app, &setting, |r| settled(r, 2)).await;
    assert!(done.values().all(|a| a.status == "SUCCESS"), "{done:?}");
    let profiles = at_apple(&sim, "enroll-url").await;
    assert_eq!(profiles.len(), 1, "{profiles:?}");
    assert_eq!(profiles[0]["url"], expected.as_str(), "{profiles:?}");
    assert_eq!(profiles[0]["profile_name"], "Staff");
    assert!(
        !profiles[0]["url"].as_str().unwrap().contains("/enroll/"),
        "no gateway URL reaches Apple"
    );

    // With configurationWebUrl, Setup Assistant opens the same URL in a web view.
    let web = create_profile(&app, &setting, "depIOSEnrollmentProfile", "Web").await;
    let resp = app
        .patch_json(
            &format!("{}/{web}", profiles_path(&setting)),
            &json!({"configurationWebUrl": true}),
        )
        .await;
    assert_eq!(resp.status(), 204);
    let resp = app
        .post_json(
            &format!(
                "{}/{web}/updateDeviceProfileAssignment",
                profiles_path(&setting)
            ),
            &json!({ "deviceIds": [serials[0]] }),
        )
        .await;
    assert_eq!(resp.status(), 204);
    wait_rows(&app, &setting, |r| {
        settled(r, 2) && r[&serials[0]].profile_id.ends_with(&web)
    })
    .await;
    let profiles = at_apple(&sim, "enroll-url").await;
    let web_url = MDM_ENROLLMENT_URL
        .replace("{tokenId}", &setting)
        .replace("{profileId}", &web);
    let sent = profiles
        .iter()
        .find(|p| p["profile_name"] == "Web")
        .expect("the web profile reached Apple");
    assert_eq!(sent["url"], web_url.as_str());
    assert_eq!(sent["configuration_web_url"], web_url.as_str());
}

async fn without_an_enrollment_url_assigning_is_refused_and_changes_nothing(backend: Backend) {
    let sim = Sim::start().await;
    let url = sim.url();
    let app = TestApp::spawn_with(backend, move |s| {
        s.apple_base_url = url;
        s.sync_interval_secs = 0;
    })
    .await;
    let (setting, serials) = synced(&app, &sim, "no-url", 2).await;
    let profile = create_profile(&app, &setting, "depIOSEnrollmentProfile", "Staff").await;
    let got: Value = app
        .get(&format!("{}/{profile}", profiles_path(&setting)))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        got["configurationEndpointUrl"].is_null(),
        "no dead URL is made up: {got}"
    );
    let body = json!({ "deviceIds": serials });
    let refused = [
        (
            format!(
                "{}/{profile}/updateDeviceProfileAssignment",
                profiles_path(&setting)
            ),
            body.clone(),
        ),
        (
            format!("{}/{profile}/setDefaultProfile", profiles_path(&setting)),
            json!({}),
        ),
        // The retired single-token API's forms of both.
        (
            format!(
                "/beta/deviceManagement/enrollmentProfiles/{profile}/updateDeviceProfileAssignment"
            ),
            body.clone(),
        ),
        (
            format!("/beta/deviceManagement/enrollmentProfiles/{profile}/setDefaultProfile"),
            json!({}),
        ),
    ];
    for (path, body) in &refused {
        let message = assert_graph_error(app.post_json(path, body).await, 400, "BadRequest").await;
        assert!(
            message.contains("'mdm_enrollment_url'")
                && message.contains("DEP_GATEWAY_MDM_ENROLLMENT_URL"),
            "{path}: {message}"
        );
    }
    // Nothing queued, recorded or sent.
    assert!(rows(&app, &setting).await.is_empty());
    let devices = by_serial(&app, &setting).await;
    assert!(
        devices
            .values()
            .all(|d| d["requestedEnrollmentProfileId"].is_null()),
        "{devices:?}"
    );
    let default = app
        .get(&format!("{SETTINGS}/{setting}/defaultIosEnrollmentProfile"))
        .await;
    let status = default.status();
    let default: Value = default.json().await.unwrap_or(Value::Null);
    assert!(
        status == 204 || default.get("id").is_none(),
        "no default was set: {status} {default}"
    );
    app.after_worker_rounds(2).await;
    assert_eq!(sim.requests("no-url", "profile_define").await, 0);
    assert_eq!(sim.requests("no-url", "profile_assign").await, 0);
}

on_both_backends!(
    apple_gets_the_configured_enrollment_url,
    without_an_enrollment_url_assigning_is_refused_and_changes_nothing,
);

/// A bad template stops the gateway at start, naming the setting and the fault.
#[tokio::test]
async fn a_bad_enrollment_url_is_a_start_up_error() {
    for (template, fault) in [
        (
            "https://mdm.example.com/enroll/{serial}",
            "unknown placeholder '{serial}'",
        ),
        ("http://mdm.example.com/enroll", "plain http"),
        ("/enroll/{profileId}", "not an absolute URL"),
    ] {
        let settings = Settings {
            bind: "127.0.0.1:0".into(),
            data_dir: std::env::temp_dir().join(format!("dep-gateway-test-{}", Uuid::new_v4())),
            mdm_enrollment_url: Some(template.to_owned()),
            ..Settings::default()
        };
        let Err(err) = Application::build(settings).await else {
            panic!("{template} was accepted");
        };
        let err = format!("{err:#}");
        assert!(
            err.starts_with("mdm_enrollment_url (DEP_GATEWAY_MDM_ENROLLMENT_URL):")
                && err.contains(fault),
            "{template}: {err}"
        );
    }
}
