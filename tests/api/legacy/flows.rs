//! Old scripts' flows against the simulator: from an empty tenant (key, upload, renewal, a
//! second server, sync) and an old script's whole sequence on a multi-token tenant.

use dep_gateway::apple_sim;
use reqwest::Method;
use serde_json::json;

use super::{
    DEFAULT_TOKEN, DEVICES, PROFILES, SETTINGS, all_pages, doc18_profile, get_json, json_of,
    new_setting, simulator, wait_synced,
};
use crate::helpers::{Backend, TestApp, assert_graph_error, with_mdm};
use crate::on_both_backends;

#[expect(clippy::too_many_lines, reason = "one scripted sequence of old calls")]
async fn a_tenant_without_tokens_starts_with_the_old_key_then_upload_flow(backend: Backend) {
    let sim = simulator().await;
    let url = sim.base_url();
    let app = TestApp::spawn_with(backend, move |s| {
        s.apple_base_url = url;
        s.max_dep_tokens = 2;
    })
    .await;
    let org = format!("/beta/organization/{}", app.tenant);
    // Reads of an empty tenant are empty; writes that need a token say how to get one.
    assert_eq!(get_json(&app, PROFILES).await["value"], json!([]));
    assert_eq!(
        get_json(&app, &format!("{DEVICES}?$count=true")).await["@odata.count"],
        0
    );
    assert_eq!(
        get_json(&app, &format!("{org}/depOnboardingSettings/")).await["value"],
        json!([])
    );
    let msg = assert_graph_error(
        app.post_json(PROFILES, &doc18_profile()).await,
        400,
        "BadRequest",
    )
    .await;
    assert!(msg.contains("no DEP token"), "{msg}");
    let msg = assert_graph_error(
        app.post_json(
            &format!("{org}/uploadDepToken"),
            &json!({"appleId": "a@b.c", "depToken": "x"}),
        )
        .await,
        400,
        "BadRequest",
    )
    .await;
    assert!(msg.contains("getEncryptionPublicKey"), "{msg}");
    assert_graph_error(
        app.post_json(
            &format!("{SETTINGS}/syncWithAppleDeviceEnrollmentProgram"),
            &json!({}),
        )
        .await,
        400,
        "BadRequest",
    )
    .await;
    assert_eq!(
        get_json(&app, SETTINGS).await["value"],
        json!([]),
        "nothing was created"
    );

    // 2016 flow: download the key from the organization, upload the token there.
    let key = get_json(&app, &format!("{org}/getEncryptionPublicKey")).await;
    let pem = key["value"].as_str().unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
    let settings = get_json(&app, SETTINGS).await;
    let setting = settings["value"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        settings["value"].as_array().unwrap().len(),
        1,
        "the key made one setting"
    );
    assert_eq!(
        get_json(&app, DEFAULT_TOKEN).await["designatedDepOnboardingSettingId"],
        setting.as_str(),
        "a setting the legacy layer made is its default"
    );
    let p7m = apple_sim::make_dep_token(&sim.base_url(), "server-org", 12, pem)
        .await
        .unwrap();
    let resp = app
        .post_json(
            &format!("{org}/uploadDepToken"),
            &json!({"appleId": "admin@contoso.com", "depToken": p7m}),
        )
        .await;
    assert_eq!(resp.status(), 204);
    // The old organization view: the old property set only.
    let old = get_json(&app, &format!("{org}/depOnboardingSettings/{setting}")).await;
    assert_eq!(old["appleIdentifier"], "admin@contoso.com");
    assert_eq!(old["@odata.type"], "#microsoft.graph.depOnboardingSetting");
    for absent in [
        "tokenName",
        "tokenType",
        "syncedDeviceCount",
        "dataSharingConsentGranted",
        "roleScopeTagIds",
    ] {
        assert!(old.get(absent).is_none(), "{absent} in {old}");
    }
    // …and the new view of the same setting.
    let new = get_json(&app, &format!("{SETTINGS}/{setting}")).await;
    assert_eq!(new["tokenName"], "server-org");
    assert_eq!(new["tokenType"], "dep");
    // The same token uploaded again through the 2018 path is a renewal, not a second setting.
    let again = apple_sim::make_dep_token(&sim.base_url(), "server-org", 12, pem)
        .await
        .unwrap();
    let resp = app
        .post_json(
            &format!("{SETTINGS}/uploadDepToken"),
            &json!({"appleId": "admin2@contoso.com", "depToken": again}),
        )
        .await;
    assert_eq!(resp.status(), 204);
    assert_eq!(
        get_json(&app, SETTINGS).await["value"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        get_json(&app, &format!("{SETTINGS}/{setting}")).await["appleIdentifier"],
        "admin2@contoso.com"
    );

    // The same certificate registered with a second Apple MDM server: a new setting for it
    // (renewed there afterwards), within maximumDepTokens (2 here).
    let upload = |server: &'static str| {
        let (app, sim, pem) = (&app, &sim, pem.to_owned());
        async move {
            let p7m = apple_sim::make_dep_token(&sim.base_url(), server, 3, &pem)
                .await
                .unwrap();
            app.post_json(
                &format!("{SETTINGS}/uploadDepToken"),
                &json!({"appleId": "second@contoso.com", "depToken": p7m}),
            )
            .await
        }
    };
    assert_eq!(upload("server-second").await.status(), 204);
    assert_eq!(upload("server-second").await.status(), 204, "a renewal");
    let all = get_json(&app, &format!("{SETTINGS}?$orderby=tokenName")).await;
    let names: Vec<&str> = all["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["tokenName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["server-org", "server-second"]);
    let msg = assert_graph_error(upload("server-third").await, 400, "BadRequest").await;
    assert!(msg.contains("maximum"), "{msg}");
    assert_eq!(
        get_json(&app, SETTINGS).await["value"]
            .as_array()
            .unwrap()
            .len(),
        2,
        "a refused upload leaves no setting behind"
    );

    let resp = app
        .post_json(
            &format!("{org}/syncWithAppleDeviceEnrollmentProgram"),
            &json!({}),
        )
        .await;
    assert_eq!(resp.status(), 204);
    let synced = wait_synced(&app, &setting).await;
    assert_eq!(synced["syncedDeviceCount"], 12);
    let (items, _) = all_pages(
        &app,
        &format!("{DEVICES}?$filter=discoverySource eq 'deviceEnrollmentProgram'"),
    )
    .await;
    assert_eq!(items.len(), 12);
}

#[expect(
    clippy::too_many_lines,
    reason = "an old script replayed call for call"
)]
async fn an_old_script_runs_unchanged_on_a_multi_token_tenant(backend: Backend) {
    let sim = simulator().await;
    let url = sim.base_url();
    let app = TestApp::spawn_with(backend, move |s| {
        with_mdm(s);
        s.apple_base_url = url;
        s.max_page_size = 10;
    })
    .await;
    // The tenant already uses the multi-token API: token A, synced, with a profile.
    let a = new_setting(&app).await;
    let key_a = get_json(&app, &format!("{SETTINGS}/{a}/getEncryptionPublicKey()")).await;
    let p7m = apple_sim::make_dep_token(
        &sim.base_url(),
        "server-a",
        6,
        key_a["value"].as_str().unwrap(),
    )
    .await
    .unwrap();
    let resp = app
        .post_json(
            &format!("{SETTINGS}/{a}/uploadDepToken"),
            &json!({"appleId": "a@contoso.com", "depToken": p7m}),
        )
        .await;
    assert_eq!(resp.status(), 204);
    assert_eq!(
        app.post_json(
            &format!("{SETTINGS}/{a}/syncWithAppleDeviceEnrollmentProgram"),
            &json!({})
        )
        .await
        .status(),
        204
    );
    wait_synced(&app, &a).await;
    // The admin gives the old script its own token and designates it.
    let legacy = new_setting(&app).await;
    assert_eq!(
        app.request(Method::PUT, DEFAULT_TOKEN)
            .json(&json!({"depOnboardingSettingId": legacy}))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );

    // The old script, call for call.
    let key = get_json(&app, &format!("{SETTINGS}/getEncryptionPublicKey")).await;
    let pem = key["value"].as_str().unwrap().to_owned();
    let key_l = get_json(
        &app,
        &format!("{SETTINGS}/{legacy}/getEncryptionPublicKey()"),
    )
    .await;
    assert_eq!(key_l["value"], pem.as_str(), "the designated token's key");
    let p7m = apple_sim::make_dep_token(&sim.base_url(), "server-legacy", 17, &pem)
        .await
        .unwrap();
    let resp = app
        .post_json(
            &format!("{SETTINGS}/uploadDepToken"),
            &json!({"appleId": "old@contoso.com", "depToken": p7m}),
        )
        .await;
    assert_eq!(resp.status(), 204);
    let resp = app
        .request(
            Method::POST,
            &format!("{SETTINGS}/syncWithAppleDeviceEnrollmentProgram"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204, "a bodiless POST");
    wait_synced(&app, &legacy).await;
    // PowerShell sample: the DEP identities, following nextLink (max page size 10).
    let (devices, pages) = all_pages(
        &app,
        &format!("{DEVICES}?$filter=discoverySource eq 'deviceEnrollmentProgram'"),
    )
    .await;
    assert_eq!((devices.len(), pages), (23, 3), "both tokens' devices");
    assert!(
        devices
            .iter()
            .all(|d| d.get("isDeleted").is_none()
                && d["discoverySource"] == "deviceEnrollmentProgram")
    );
    let (legacy_devices, _) = all_pages(
        &app,
        &format!("{SETTINGS}/{legacy}/importedAppleDeviceIdentities"),
    )
    .await;
    assert_eq!(legacy_devices.len(), 17);
    let chosen: Vec<String> = legacy_devices
        .iter()
        .take(3)
        .map(|d| d["serialNumber"].as_str().unwrap().to_owned())
        .collect();

    let profile = json_of(app.post_json(PROFILES, &doc18_profile()).await, 201).await;
    let pid = profile["id"].as_str().unwrap().to_owned();
    let resp = app
        .post_json(
            &format!(
                "/beta/deviceManagement/enrollmentProfiles('{pid}')/updateDeviceProfileAssignment"
            ),
            &json!({"deviceIds": chosen}),
        )
        .await;
    assert_eq!(resp.status(), 204);
    let resp = app
        .post_json(&format!("{PROFILES}/{pid}/setDefaultProfile"), &json!({}))
        .await;
    assert_eq!(resp.status(), 204);
    let configurator = json_of(
        app.post_json(PROFILES, &json!({"@odata.type": "#microsoft.graph.enrollmentProfile", "displayName": "Configurator",
            "requiresUserAuthentication": false})).await,
        201,
    )
    .await;
    let export = get_json(
        &app,
        &format!(
            "{PROFILES}/{}/exportMobileConfig",
            configurator["id"].as_str().unwrap()
        ),
    )
    .await;
    assert!(
        export["value"].as_str().is_some_and(|v| v.len() > 100),
        "{export}"
    );

    // What the script did, seen through the new API: all on the legacy token, none on A.
    let l = get_json(&app, &format!("{SETTINGS}/{legacy}")).await;
    assert_eq!(l["appleIdentifier"], "old@contoso.com");
    assert_eq!(l["tokenName"], "server-legacy");
    for nav in [
        "defaultIosEnrollmentProfile",
        "defaultMacOsEnrollmentProfile",
    ] {
        assert_eq!(
            get_json(&app, &format!("{SETTINGS}/{legacy}/{nav}")).await["id"],
            pid.as_str()
        );
    }
    let guid = pid.split_once('_').unwrap().1;
    let assigned = get_json(&app, &format!("{SETTINGS}/{legacy}/importedAppleDeviceIdentities?$filter=requestedEnrollmentProfileId eq '{guid}'&$count=true")).await;
    assert_eq!(assigned["@odata.count"], 3);
    assert_eq!(
        get_json(&app, &format!("{SETTINGS}/{a}/enrollmentProfiles")).await["value"],
        json!([])
    );
    assert_eq!(
        get_json(&app, &format!("{SETTINGS}/{a}")).await["appleIdentifier"],
        "a@contoso.com"
    );
    assert_eq!(
        app.get(&format!("{SETTINGS}/{a}/defaultIosEnrollmentProfile"))
            .await
            .status(),
        204
    );

    // A renewal of A's server made with A's key, uploaded the old way: the designated token's
    // key does not decrypt it, A's does, so A is renewed (and no setting is added).
    let renewal = apple_sim::make_dep_token(
        &sim.base_url(),
        "server-a",
        6,
        key_a["value"].as_str().unwrap(),
    )
    .await
    .unwrap();
    let resp = app
        .post_json(
            &format!("{SETTINGS}/uploadDepToken"),
            &json!({"appleId": "renewed@contoso.com", "depToken": renewal}),
        )
        .await;
    assert_eq!(resp.status(), 204);
    assert_eq!(
        get_json(&app, &format!("{SETTINGS}/{a}")).await["appleIdentifier"],
        "renewed@contoso.com"
    );
    assert_eq!(
        get_json(&app, &format!("{SETTINGS}/{legacy}")).await["appleIdentifier"],
        "old@contoso.com"
    );
    assert_eq!(
        get_json(&app, SETTINGS).await["value"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

async fn concurrent_first_key_downloads_make_one_setting(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let path = format!("{SETTINGS}/getEncryptionPublicKey");
    let calls = (0..4).map(|_| get_json(&app, &path));
    let keys: Vec<_> = futures_util::future::join_all(calls).await;
    // (Concurrent first downloads of one setting's key may each generate one: the service's
    // staged-key rule, not the legacy layer's; only the setting count matters here.)
    assert!(keys.iter().all(|k| {
        k["value"]
            .as_str()
            .is_some_and(|v| v.contains("CERTIFICATE"))
    }));
    let settings = get_json(&app, SETTINGS).await;
    assert_eq!(settings["value"].as_array().unwrap().len(), 1, "{settings}");
    assert_eq!(
        get_json(&app, DEFAULT_TOKEN).await["designatedDepOnboardingSettingId"],
        settings["value"][0]["id"]
    );
}

on_both_backends!(
    concurrent_first_key_downloads_make_one_setting,
    a_tenant_without_tokens_starts_with_the_old_key_then_upload_flow,
    an_old_script_runs_unchanged_on_a_multi_token_tenant,
);
