//! The retired single-token API, replayed against tenants with zero, one and several tokens:
//! the documented old requests, the old PowerShell sample calls, an old script's whole sequence
//! against the simulator, what the old calls did seen through the new API (and back), the
//! ambiguous cases, the switch, and the usual negative cases.

use std::collections::HashSet;
use std::time::Duration;

use dep_gateway::apple_sim::{self, SimConfig, SimHandle};
use dep_gateway::domain::ids::TenantId;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Backend, READ, READ_WRITE, TestApp, assert_graph_error};
use crate::on_both_backends;

const SETTINGS: &str = "/beta/deviceManagement/depOnboardingSettings";
const PROFILES: &str = "/beta/deviceManagement/enrollmentProfiles";
const DEVICES: &str = "/beta/deviceManagement/importedAppleDeviceIdentities";
const DEFAULT_TOKEN: &str = "/beta/deviceManagement/depGateway.legacyDefaultToken";
const UNSET: &str = "0001-01-01T00:00:00Z";

async fn simulator() -> SimHandle {
    apple_sim::start(SimConfig {
        bind: "127.0.0.1:0".into(),
        state_file: None,
    })
    .await
    .expect("simulator")
}

async fn json_of(resp: reqwest::Response, status: u16) -> Value {
    assert_eq!(resp.status().as_u16(), status, "unexpected status");
    resp.json().await.expect("json body")
}

async fn get_json(app: &TestApp, path: &str) -> Value {
    json_of(app.get(path).await, 200).await
}

async fn new_setting(app: &TestApp) -> String {
    app.create_setting(&json!({})).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Every item of a collection, following `@odata.nextLink`; also returns the number of pages.
async fn all_pages(app: &TestApp, path: &str) -> (Vec<Value>, usize) {
    let (mut items, mut pages) = (Vec::new(), 0);
    let mut url = format!("{}{path}", app.base);
    loop {
        let page: Value = json_of(
            app.client
                .get(&url)
                .bearer_auth(app.token())
                .send()
                .await
                .unwrap(),
            200,
        )
        .await;
        pages += 1;
        items.extend(page["value"].as_array().unwrap().iter().cloned());
        match page["@odata.nextLink"].as_str() {
            Some(next) => next.clone_into(&mut url),
            None => return (items, pages),
        }
    }
}

fn serials(items: &[Value]) -> HashSet<String> {
    items
        .iter()
        .map(|d| d["serialNumber"].as_str().unwrap().to_owned())
        .collect()
}

async fn import(app: &TestApp, path: &str, serials: &[&str]) -> Value {
    let items: Vec<Value> = serials
        .iter()
        .map(|s| json!({"serialNumber": s, "platform": "ios"}))
        .collect();
    json_of(
        app.post_json(
            &format!("{path}/importAppleDeviceIdentityList"),
            &json!({"importedAppleDeviceIdentities": items, "overwriteImportedDeviceIdentities": false}),
        )
        .await,
        200,
    )
    .await
}

/// The documented 2018 create body of a depEnrollmentProfile (DOC18).
fn doc18_profile() -> Value {
    json!({"@odata.type": "#microsoft.graph.depEnrollmentProfile", "displayName": "Display Name value",
        "description": "Description value", "requiresUserAuthentication": true,
        "configurationEndpointUrl": "https://example.com/configurationEndpointUrl/",
        "enableAuthenticationViaCompanyPortal": true, "supervisedModeEnabled": true,
        "supportDepartment": "Support Department value", "passCodeDisabled": true, "isMandatory": true,
        "locationDisabled": true, "supportPhoneNumber": "Support Phone Number value",
        "iTunesPairingMode": "allow", "profileRemovalDisabled": true,
        "managementCertificates": [{"@odata.type": "microsoft.graph.managementCertificateWithThumbprint",
            "thumbprint": "Thumbprint value", "certificate": "Certificate value"}],
        "restoreBlocked": true, "restoreFromAndroidDisabled": true, "appleIdDisabled": true,
        "termsAndConditionsDisabled": true, "touchIdDisabled": true, "applePayDisabled": true,
        "zoomDisabled": true, "siriDisabled": true, "diagnosticsDisabled": true,
        "macOSRegistrationDisabled": true, "macOSFileVaultDisabled": true,
        "awaitDeviceConfiguredConfirmation": true, "sharedIPadMaximumUserCount": 10, "enableSharedIPad": true})
}

async fn switched_off_old_paths_answer_resource_not_found(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| s.legacy_api = false).await;
    let setting = new_setting(&app).await;
    let cases = [
        (Method::GET, PROFILES.to_owned(), "enrollmentProfiles"),
        (
            Method::GET,
            format!("{DEVICES}?$filter=discoverySource eq 'deviceEnrollmentProgram'"),
            "importedAppleDeviceIdentities",
        ),
        (
            Method::POST,
            format!("{SETTINGS}/uploadDepToken"),
            "uploadDepToken",
        ),
        (
            Method::GET,
            format!("{SETTINGS}/getEncryptionPublicKey"),
            "getEncryptionPublicKey",
        ),
        (
            Method::POST,
            format!(
                "/beta/organization/{}/syncWithAppleDeviceEnrollmentProgram",
                app.tenant
            ),
            "organization",
        ),
        (
            Method::GET,
            format!("/beta/organization/{}/depOnboardingSettings/", app.tenant),
            "organization",
        ),
        (
            Method::GET,
            DEFAULT_TOKEN.to_owned(),
            "depGateway.legacyDefaultToken",
        ),
    ];
    for (method, path, segment) in cases {
        let resp = app
            .request(method, &path)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        let msg = assert_graph_error(resp, 400, "BadRequest").await;
        assert_eq!(
            msg,
            format!("Resource not found for the segment '{segment}'."),
            "{path}"
        );
    }
    // The multi-token API is unaffected, and nothing was created by the refused calls.
    let list = get_json(&app, SETTINGS).await;
    assert_eq!(list["value"].as_array().unwrap().len(), 1);
    assert_eq!(list["value"][0]["id"], setting.as_str());
}

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

/// Polls the setting through the new API (15 s at most) until a sync succeeded.
async fn wait_synced(app: &TestApp, setting: &str) -> Value {
    for _ in 0..300 {
        let s = get_json(app, &format!("{SETTINGS}/{setting}")).await;
        if s["lastSuccessfulSyncDateTime"] != UNSET || s["lastSyncErrorCode"] != 0 {
            assert_eq!(s["lastSyncErrorCode"], 0, "{s}");
            return s;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("sync did not finish");
}

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

#[expect(
    clippy::too_many_lines,
    reason = "an old script replayed call for call"
)]
async fn an_old_script_runs_unchanged_on_a_multi_token_tenant(backend: Backend) {
    let sim = simulator().await;
    let url = sim.base_url();
    let app = TestApp::spawn_with(backend, move |s| {
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
}

#[expect(clippy::too_many_lines, reason = "one table of refused bodies")]
async fn negative_cases_are_graph_errors_and_change_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let setting = new_setting(&app).await;
    let profile = json_of(app.post_json(PROFILES, &doc18_profile()).await, 201).await;
    let pid = profile["id"].as_str().unwrap().to_owned();
    let device = json_of(
        app.post_json(DEVICES, &json!({"serialNumber": "C02NEG000001"}))
            .await,
        201,
    )
    .await;
    let did = device["id"].as_str().unwrap().to_owned();

    // Malformed JSON, wrong types, unknown or new-only properties and types.
    let resp = app
        .request(Method::POST, PROFILES)
        .header("Content-Type", "application/json")
        .body("{\"displayName\":")
        .send()
        .await
        .unwrap();
    assert_graph_error(resp, 400, "BadRequest").await;
    let bad_profiles = [
        (
            json!({"@odata.type": "#microsoft.graph.depEnrollmentProfile", "isMandatory": "yes"}),
            "Edm.Boolean",
        ),
        (
            json!({"@odata.type": "#microsoft.graph.depEnrollmentProfile", "isDefault": true}),
            "'isDefault'",
        ),
        (
            json!({"@odata.type": "#microsoft.graph.depIOSEnrollmentProfile", "displayName": "x"}),
            "single-token",
        ),
        (json!({"displayName": "no type"}), "@odata.type"),
    ];
    for (body, expected) in bad_profiles {
        let msg = assert_graph_error(app.post_json(PROFILES, &body).await, 400, "BadRequest").await;
        assert!(msg.contains(expected), "{body}: {msg}");
    }
    let msg = assert_graph_error(
        app.patch_json(
            &format!("{PROFILES}/{pid}"),
            &json!({"iTunesPairingMode": "sometimes"}),
        )
        .await,
        400,
        "BadRequest",
    )
    .await;
    assert!(msg.contains("iTunesPairingMode"), "{msg}");
    let msg = assert_graph_error(
        app.post_json(
            DEVICES,
            &json!({"serialNumber": "C02NEG000002", "isDeleted": true}),
        )
        .await,
        400,
        "BadRequest",
    )
    .await;
    assert!(msg.contains("isDeleted"), "{msg}");
    assert_graph_error(
        app.post_json(DEVICES, &json!({"serialNumber": 42})).await,
        400,
        "BadRequest",
    )
    .await;
    let msg = assert_graph_error(
        app.post_json(
            &format!("{PROFILES}/{pid}/updateDeviceProfileAssignment"),
            &json!({"deviceIds": "C02NEG000001"}),
        )
        .await,
        400,
        "BadRequest",
    )
    .await;
    assert!(msg.contains("deviceIds"), "{msg}");
    assert_graph_error(
        app.request(Method::PUT, DEFAULT_TOKEN)
            .json(&json!({"depOnboardingSettingId": 7}))
            .send()
            .await
            .unwrap(),
        400,
        "BadRequest",
    )
    .await;
    assert_graph_error(
        app.request(Method::PUT, DEFAULT_TOKEN)
            .json(&json!({"other": "x"}))
            .send()
            .await
            .unwrap(),
        400,
        "BadRequest",
    )
    .await;
    assert_graph_error(
        app.post_json(
            &format!("{SETTINGS}/uploadDepToken"),
            &json!({"appleId": "a@b.c"}),
        )
        .await,
        400,
        "BadRequest",
    )
    .await;
    let msg = assert_graph_error(
        app.post_json(
            &format!("/beta/organization/{}/depOnboardingSettings", app.tenant),
            &json!({"tokenName": "new-only"}),
        )
        .await,
        400,
        "BadRequest",
    )
    .await;
    assert!(msg.contains("tokenName"), "{msg}");
    // Oversized: more identities than one import may carry.
    let many: Vec<Value> = (0..20_001)
        .map(|i| json!({"serialNumber": format!("C02BIG{i:06}")}))
        .collect();
    let msg = assert_graph_error(
        app.post_json(&format!("{DEVICES}/importAppleDeviceIdentityList"), &json!({"importedAppleDeviceIdentities": many, "overwriteImportedDeviceIdentities": false})).await,
        400,
        "BadRequest",
    )
    .await;
    assert!(msg.contains("20000"), "{msg}");
    // Nothing changed.
    let now = get_json(
        &app,
        &format!("{SETTINGS}/{setting}/enrollmentProfiles/{pid}"),
    )
    .await;
    assert_eq!(now["isMandatory"], true);
    assert_eq!(now["iTunesPairingMode"], "allow");
    let only = get_json(
        &app,
        &format!("{SETTINGS}/{setting}/importedAppleDeviceIdentities"),
    )
    .await;
    assert_eq!(only["value"].as_array().unwrap().len(), 1);
    assert_eq!(only["value"][0]["id"], did.as_str());
    assert_eq!(get_json(&app, &format!("{PROFILES}/$count")).await, 1);
    assert_eq!(
        get_json(&app, SETTINGS).await["value"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[expect(clippy::too_many_lines, reason = "one table of refused requests")]
async fn unknown_ids_other_tenants_and_missing_permissions_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let setting = new_setting(&app).await;
    let profile = json_of(app.post_json(PROFILES, &doc18_profile()).await, 201).await;
    let pid = profile["id"].as_str().unwrap().to_owned();
    let device = json_of(
        app.post_json(DEVICES, &json!({"serialNumber": "C02NEG000001"}))
            .await,
        201,
    )
    .await;
    let did = device["id"].as_str().unwrap().to_owned();
    // Unknown ids.
    for path in [
        format!("{PROFILES}/{setting}_{}", Uuid::new_v4()),
        format!("{PROFILES}/{}_{}", Uuid::new_v4(), Uuid::new_v4()),
        format!("{PROFILES}/plain-id"),
        format!("{DEVICES}/{}", Uuid::new_v4()),
        format!(
            "/beta/organization/{}/depOnboardingSettings/{}",
            app.tenant,
            Uuid::new_v4()
        ),
    ] {
        assert_graph_error(app.get(&path).await, 404, "ResourceNotFound").await;
    }
    assert_graph_error(
        app.request(Method::PUT, DEFAULT_TOKEN)
            .json(&json!({"depOnboardingSettingId": Uuid::new_v4()}))
            .send()
            .await
            .unwrap(),
        404,
        "ResourceNotFound",
    )
    .await;

    // Another tenant sees none of it, and cannot change or use it.
    let other = app.token_for(TenantId::new(Uuid::new_v4()), &[READ_WRITE]);
    let as_other = |method: Method, path: String| {
        app.client
            .request(method, format!("{}{path}", app.base))
            .bearer_auth(&other)
    };
    for (method, path) in [
        (Method::GET, format!("{PROFILES}/{pid}")),
        (Method::PATCH, format!("{PROFILES}/{pid}")),
        (Method::DELETE, format!("{DEVICES}/{did}")),
        (
            Method::GET,
            format!("/beta/organization/{}/depOnboardingSettings", app.tenant),
        ),
        (Method::PUT, DEFAULT_TOKEN.to_owned()),
    ] {
        let body = if path == DEFAULT_TOKEN {
            json!({"depOnboardingSettingId": setting})
        } else {
            json!({"description": "x"})
        };
        assert_graph_error(
            as_other(method, path.clone())
                .json(&body)
                .send()
                .await
                .unwrap(),
            404,
            "ResourceNotFound",
        )
        .await;
    }
    let list: Value = as_other(Method::GET, PROFILES.to_owned())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["value"], json!([]));
    let msg = assert_graph_error(
        as_other(Method::POST, format!("{PROFILES}/{pid}/setDefaultProfile"))
            .send()
            .await
            .unwrap(),
        404,
        "ResourceNotFound",
    )
    .await;
    assert!(msg.contains("enrollmentProfile"), "{msg}");

    // 401 without a token, 403 with read-only permission.
    let resp = app
        .client
        .get(format!("{}{PROFILES}", app.base))
        .send()
        .await
        .unwrap();
    assert_graph_error(resp, 401, "InvalidAuthenticationToken").await;
    let reader = app.token_for(app.tenant, &[READ]);
    assert_eq!(
        app.client
            .get(format!("{}{PROFILES}", app.base))
            .bearer_auth(&reader)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    for (method, path) in [
        (Method::POST, PROFILES.to_owned()),
        (Method::PATCH, format!("{DEVICES}/{did}")),
        (Method::POST, format!("{SETTINGS}/uploadDepToken")),
        (Method::PUT, DEFAULT_TOKEN.to_owned()),
    ] {
        let resp = app
            .client
            .request(method, format!("{}{path}", app.base))
            .bearer_auth(&reader)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_graph_error(resp, 403, "Forbidden").await;
    }
    // Nothing changed.
    let now = get_json(
        &app,
        &format!("{SETTINGS}/{setting}/enrollmentProfiles/{pid}"),
    )
    .await;
    assert_eq!(now["displayName"], "Display Name value");
    assert_eq!(get_json(&app, &format!("{DEVICES}/$count")).await, 1);
    assert_eq!(get_json(&app, &format!("{PROFILES}/$count")).await, 1);
}

on_both_backends!(
    switched_off_old_paths_answer_resource_not_found,
    a_tenant_without_tokens_starts_with_the_old_key_then_upload_flow,
    one_token_old_and_new_calls_see_the_same_state,
    one_token_old_identity_calls_are_seen_by_the_new_api,
    several_tokens_aggregate_reads_and_refuse_to_guess_writes,
    an_old_script_runs_unchanged_on_a_multi_token_tenant,
    negative_cases_are_graph_errors_and_change_nothing,
    unknown_ids_other_tenants_and_missing_permissions_are_refused,
);

/// `dep-gateway legacy-default` designates and clears on the gateway's database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_designates_the_legacy_default_token() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (a, _b) = (new_setting(&app).await, new_setting(&app).await);
    let db = format!("sqlite://{}", app.data_dir.join("gateway.db").display());
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_dep-gateway"))
            .env_remove("DEP_GATEWAY_CONFIG")
            .env("DEP_GATEWAY_DATABASE_URL", &db)
            .env("DEP_GATEWAY_DATA_DIR", &app.data_dir)
            .args(args)
            .output()
            .unwrap()
    };
    let tenant = app.tenant.to_string();
    let out = run(&["legacy-default", "--tenant", &tenant, "--setting", &a]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(&a));
    assert_eq!(
        get_json(&app, DEFAULT_TOKEN).await["designatedDepOnboardingSettingId"],
        a.as_str()
    );
    let out = run(&["legacy-default", "--tenant", &tenant, "--setting", "nope"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope"));
    let out = run(&["legacy-default", "--tenant", &tenant, "--clear"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        get_json(&app, DEFAULT_TOKEN).await["designatedDepOnboardingSettingId"],
        Value::Null
    );
}
