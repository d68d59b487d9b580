//! Old and new calls on one tenant see the same state in their own shapes; tenant-wide reads
//! aggregate over several tokens and tenant-wide writes never guess.

use reqwest::Method;
use serde_json::{Value, json};

use super::{
    DEFAULT_TOKEN, DEVICES, PROFILES, SETTINGS, all_pages, doc18_profile, get_json, import,
    json_of, new_setting, serials,
};
use crate::helpers::{Backend, TestApp, assert_graph_error};
use crate::on_both_backends;

#[expect(
    clippy::too_many_lines,
    reason = "one scripted sequence of old and new profile calls"
)]
async fn one_token_old_and_new_calls_see_the_same_state(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let setting = new_setting(&app).await;
    let token_path = format!("{SETTINGS}/{setting}");

    // The documented old create, with a trailing slash: stored as the legacy type it is.
    let created = json_of(
        app.post_json(&format!("{PROFILES}/"), &doc18_profile())
            .await,
        201,
    )
    .await;
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with(&format!("{setting}_")), "{id}");
    assert_eq!(
        created["@odata.type"],
        "#microsoft.graph.depEnrollmentProfile"
    );
    assert_eq!(created["macOSFileVaultDisabled"], true);
    assert!(created.get("isDefault").is_none(), "old shape: {created}");
    assert_ne!(
        created["configurationEndpointUrl"],
        "https://example.com/configurationEndpointUrl/"
    );
    let new = get_json(&app, &format!("{token_path}/enrollmentProfiles/{id}")).await;
    assert_eq!(new["@odata.type"], "#microsoft.graph.depEnrollmentProfile");
    assert_eq!(new["macOSRegistrationDisabled"], true);
    assert_eq!(new["isDefault"], false);

    // A profile made through the new API is listed by the old one, in the old shape.
    let ios = json_of(
        app.post_json(
            &format!("{token_path}/enrollmentProfiles"),
            &json!({"@odata.type": "#microsoft.graph.depIOSEnrollmentProfile", "displayName": "New iOS",
                "iTunesPairingMode": "requiresCertificate", "deviceNameTemplate": "{{SERIAL}}"}),
        )
        .await,
        201,
    )
    .await;
    let ios_id = ios["id"].as_str().unwrap().to_owned();
    let mac = json_of(
        app.post_json(
            &format!("{token_path}/enrollmentProfiles"),
            &json!({"@odata.type": "#microsoft.graph.depMacOSEnrollmentProfile", "displayName": "New Mac",
                "fileVaultDisabled": true}),
        )
        .await,
        201,
    )
    .await;
    let tv = json_of(
        app.post_json(
            &format!("{token_path}/enrollmentProfiles"),
            &json!({"@odata.type": "#microsoft.graph.depTvOSEnrollmentProfile", "displayName": "TV"}),
        )
        .await,
        201,
    )
    .await;
    // GRAPH-COMPAT: GET with a Content-Type header, as old scripts sent it.
    let resp = app
        .request(Method::GET, &format!("{PROFILES}?$orderby=displayName"))
        .header("Content-Type", "application/json")
        .send()
        .await
        .unwrap();
    let list = json_of(resp, 200).await;
    let names: Vec<&str> = list["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["displayName"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["Display Name value", "New Mac", "New iOS"],
        "ordinal order; tvOS has no old shape"
    );
    let old_mac = get_json(&app, &format!("{PROFILES}/{}", mac["id"].as_str().unwrap())).await;
    assert_eq!(
        old_mac["@odata.type"],
        "#microsoft.graph.depEnrollmentProfile"
    );
    assert_eq!(old_mac["macOSFileVaultDisabled"], true);
    assert_graph_error(
        app.get(&format!("{PROFILES}/{}", tv["id"].as_str().unwrap()))
            .await,
        404,
        "ResourceNotFound",
    )
    .await;
    let filtered = get_json(
        &app,
        &format!("{PROFILES}?$filter=macOSFileVaultDisabled eq true&$count=true"),
    )
    .await;
    assert_eq!(filtered["@odata.count"], 2);
    let count = app
        .get(&format!(
            "{PROFILES}/$count?$filter=startswith(displayName,'New')"
        ))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(count, "2");

    // An old PATCH of the GET body, changed in one old property, lands on the iOS type.
    let mut body = get_json(&app, &format!("{PROFILES}('{ios_id}')")).await;
    body.as_object_mut().unwrap().remove("@odata.context");
    body["supportDepartment"] = json!("Desk 2");
    assert_eq!(
        app.patch_json(&format!("{PROFILES}/{ios_id}"), &body)
            .await
            .status(),
        204
    );
    let new = get_json(&app, &format!("{token_path}/enrollmentProfiles/{ios_id}")).await;
    assert_eq!(new["supportDepartment"], "Desk 2");
    assert_eq!(
        new["deviceNameTemplate"], "{{SERIAL}}",
        "new-only values survive"
    );
    assert_eq!(
        new["@odata.type"],
        "#microsoft.graph.depIOSEnrollmentProfile"
    );
    // An old property the iOS type has no home for: refused, nothing changed.
    let msg = assert_graph_error(
        app.patch_json(
            &format!("{PROFILES}/{ios_id}"),
            &json!({"supportDepartment": "X", "macOSFileVaultDisabled": true}),
        )
        .await,
        400,
        "BadRequest",
    )
    .await;
    assert!(msg.contains("macOSFileVaultDisabled"), "{msg}");
    assert_eq!(
        get_json(&app, &format!("{token_path}/enrollmentProfiles/{ios_id}")).await["supportDepartment"],
        "Desk 2"
    );
    // macOS names are mapped.
    let mac_id = mac["id"].as_str().unwrap();
    assert_eq!(
        app.patch_json(
            &format!("{PROFILES}/{mac_id}"),
            &json!({"macOSRegistrationDisabled": true})
        )
        .await
        .status(),
        204
    );
    assert_eq!(
        get_json(&app, &format!("{token_path}/enrollmentProfiles/{mac_id}")).await["registrationDisabled"],
        true
    );

    // Old profile delete; the new API no longer has it.
    assert_eq!(app.delete(&format!("{PROFILES}/{id}")).await.status(), 204);
    assert_graph_error(
        app.get(&format!("{token_path}/enrollmentProfiles/{id}"))
            .await,
        404,
        "ResourceNotFound",
    )
    .await;
}

async fn one_token_old_identity_calls_are_seen_by_the_new_api(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let setting = new_setting(&app).await;
    let token_path = format!("{SETTINGS}/{setting}");
    // Identities: old create, old get, new view, old patch, old delete.
    let device = json_of(
        app.post_json(
            &format!("{DEVICES}/"),
            &json!({"serialNumber": "C02OLD000001", "platform": "macOS", "description": "old"}),
        )
        .await,
        201,
    )
    .await;
    let did = device["id"].as_str().unwrap().to_owned();
    assert!(device.get("isDeleted").is_none(), "old shape: {device}");
    let new = get_json(
        &app,
        &format!("{token_path}/importedAppleDeviceIdentities/{did}"),
    )
    .await;
    assert_eq!(new["serialNumber"], "C02OLD000001");
    assert_eq!(new["isDeleted"], false);
    assert_eq!(
        app.patch_json(
            &format!("{DEVICES}('{did}')"),
            &json!({"description": "patched"})
        )
        .await
        .status(),
        204
    );
    assert_eq!(
        get_json(
            &app,
            &format!("{token_path}/importedAppleDeviceIdentities/{did}")
        )
        .await["description"],
        "patched"
    );
    let results = import(&app, DEVICES, &["C02OLD000002", "C02OLD000001"]).await;
    assert_eq!(results["value"][0]["status"], true);
    assert_eq!(results["value"][1]["status"], false, "already held");
    assert_eq!(
        results["value"][0]["@odata.type"],
        "#microsoft.graph.importedAppleDeviceIdentityResult"
    );
    assert!(results["value"][0].get("isDeleted").is_none());
    let new_list = get_json(
        &app,
        &format!("{token_path}/importedAppleDeviceIdentities?$count=true"),
    )
    .await;
    assert_eq!(new_list["@odata.count"], 2);
    assert_eq!(app.delete(&format!("{DEVICES}/{did}")).await.status(), 204);
    assert_graph_error(
        app.get(&format!("{token_path}/importedAppleDeviceIdentities/{did}"))
            .await,
        404,
        "ResourceNotFound",
    )
    .await;
}

#[expect(
    clippy::too_many_lines,
    reason = "one scripted sequence: aggregate, refuse, designate, clear"
)]
async fn several_tokens_aggregate_reads_and_refuse_to_guess_writes(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| s.max_page_size = 3).await;
    let (a, b) = (new_setting(&app).await, new_setting(&app).await);
    import(
        &app,
        &format!("{SETTINGS}/{a}/importedAppleDeviceIdentities"),
        &["AAAA00000001", "AAAA00000002", "BBBB00000003"],
    )
    .await;
    import(
        &app,
        &format!("{SETTINGS}/{b}/importedAppleDeviceIdentities"),
        &["AAAA00000004", "BBBB00000005"],
    )
    .await;
    for (setting, name) in [(&a, "Profile A"), (&b, "Profile B")] {
        json_of(
            app.post_json(
                &format!("{SETTINGS}/{setting}/enrollmentProfiles"),
                &json!({"@odata.type": "#microsoft.graph.depIOSEnrollmentProfile", "displayName": name}),
            )
            .await,
            201,
        )
        .await;
    }
    // Reads aggregate across both tokens, paged by nextLink, with $filter and $count.
    let (items, pages) = all_pages(&app, DEVICES).await;
    assert_eq!((items.len(), pages), (5, 2));
    let (items, pages) = all_pages(
        &app,
        &format!("{DEVICES}?$filter=startswith(serialNumber,'AAAA')&$top=2&$count=true"),
    )
    .await;
    assert_eq!(
        serials(&items),
        ["AAAA00000001", "AAAA00000002", "AAAA00000004"]
            .map(String::from)
            .into()
    );
    assert_eq!(pages, 2);
    let first = get_json(
        &app,
        &format!("{DEVICES}?$filter=discoverySource eq 'adminImport'&$count=true&$top=1"),
    )
    .await;
    assert_eq!(first["@odata.count"], 5);
    assert!(
        first["@odata.nextLink"]
            .as_str()
            .unwrap()
            .starts_with(&app.base)
    );
    assert_eq!(
        app.get(&format!(
            "{DEVICES}/$count?$filter=startswith(serialNumber,'BBBB')"
        ))
        .await
        .text()
        .await
        .unwrap(),
        "2"
    );
    let (profiles, _) = all_pages(&app, &format!("{PROFILES}?$top=1")).await;
    assert_eq!(profiles.len(), 2);

    // Writes without a token id: 409 naming the per-token path, and nothing changes.
    let ambiguous = [
        (
            Method::POST,
            PROFILES.to_owned(),
            doc18_profile(),
            "/depOnboardingSettings/{id}/enrollmentProfiles",
        ),
        (
            Method::POST,
            DEVICES.to_owned(),
            json!({"serialNumber": "CCCC00000001"}),
            "/depOnboardingSettings/{id}/importedAppleDeviceIdentities",
        ),
        (
            Method::POST,
            format!("{DEVICES}/importAppleDeviceIdentityList"),
            json!({"importedAppleDeviceIdentities": [{"serialNumber": "CCCC00000002"}], "overwriteImportedDeviceIdentities": false}),
            "importAppleDeviceIdentityList",
        ),
        (
            Method::POST,
            format!("{SETTINGS}/syncWithAppleDeviceEnrollmentProgram"),
            json!({}),
            "/depOnboardingSettings/{id}/syncWithAppleDeviceEnrollmentProgram",
        ),
        (
            Method::GET,
            format!("{SETTINGS}/getEncryptionPublicKey()"),
            json!({}),
            "/depOnboardingSettings/{id}/getEncryptionPublicKey()",
        ),
    ];
    for (method, path, body, named) in &ambiguous {
        let resp = app
            .request(method.clone(), path)
            .json(body)
            .send()
            .await
            .unwrap();
        let msg = assert_graph_error(resp, 409, "Conflict").await;
        assert!(
            msg.contains(named) && msg.contains("2 DEP tokens"),
            "{path}: {msg}"
        );
    }
    assert_eq!(get_json(&app, &format!("{DEVICES}/$count")).await, 5);
    assert_eq!(
        get_json(&app, SETTINGS).await["value"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let state = get_json(&app, DEFAULT_TOKEN).await;
    assert_eq!(state["designatedDepOnboardingSettingId"], Value::Null);
    assert_eq!(state["effectiveDepOnboardingSettingId"], Value::Null);

    // Designated: tenant-wide writes go to it.
    assert_eq!(
        app.request(Method::PUT, DEFAULT_TOKEN)
            .json(&json!({"depOnboardingSettingId": b}))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(
        get_json(&app, DEFAULT_TOKEN).await["effectiveDepOnboardingSettingId"],
        b.as_str()
    );
    let created = json_of(app.post_json(PROFILES, &doc18_profile()).await, 201).await;
    assert!(
        created["id"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{b}_"))
    );
    json_of(
        app.post_json(DEVICES, &json!({"serialNumber": "CCCC00000001"}))
            .await,
        201,
    )
    .await;
    assert_eq!(
        get_json(
            &app,
            &format!("{SETTINGS}/{b}/importedAppleDeviceIdentities/$count")
        )
        .await,
        3
    );

    // Deleting the designated setting clears the designation: ambiguous again (one token is
    // left, so it is the default now; a second new one makes it ambiguous).
    assert_eq!(app.delete(&format!("{SETTINGS}/{b}")).await.status(), 204);
    let state = get_json(&app, DEFAULT_TOKEN).await;
    assert_eq!(state["designatedDepOnboardingSettingId"], Value::Null);
    assert_eq!(state["effectiveDepOnboardingSettingId"], a.as_str());
    new_setting(&app).await;
    assert_graph_error(
        app.post_json(PROFILES, &doc18_profile()).await,
        409,
        "Conflict",
    )
    .await;
}

on_both_backends!(
    one_token_old_and_new_calls_see_the_same_state,
    one_token_old_identity_calls_are_seen_by_the_new_api,
    several_tokens_aggregate_reads_and_refuse_to_guess_writes,
);
