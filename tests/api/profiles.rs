//! Enrollment profiles of a token end to end: every type, type casts, rules, defaults,
//! mobileconfig export and device assignment.

use std::collections::HashSet;

use base64::Engine;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Backend, READ_WRITE, TestApp, assert_graph_error, with_mdm};
use crate::on_both_backends;

pub const SETTINGS: &str = "/beta/deviceManagement/depOnboardingSettings";

/// A new token and the path of its profiles.
pub async fn token(app: &TestApp) -> (String, String) {
    let id = app.create_setting(&json!({"tokenName": "profiles"})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("{SETTINGS}/{id}/enrollmentProfiles");
    (id, path)
}

pub async fn create(app: &TestApp, path: &str, body: &Value) -> Value {
    let resp = app.post_json(path, body).await;
    let status = resp.status();
    let json: Value = resp.json().await.unwrap();
    assert_eq!(status, 201, "{json}");
    json
}

fn ios(name: &str) -> Value {
    json!({"@odata.type": "#microsoft.graph.depIOSEnrollmentProfile", "displayName": name})
}

async fn every_type_round_trips_with_all_its_properties(backend: Backend) {
    let app = TestApp::spawn_with(backend, with_mdm).await;
    let (setting, path) = token(&app).await;
    let cases = [
        (
            "depIOSEnrollmentProfile",
            vec![
                "iTunesPairingMode",
                "passcodeLockGracePeriodInSeconds",
                "enabledSkipKeys",
                "isDefault",
            ],
        ),
        (
            "depMacOSEnrollmentProfile",
            vec![
                "registrationDisabled",
                "fileVaultDisabled",
                "depProfileAdminAccountPasswordRotationSetting",
            ],
        ),
        (
            "depEnrollmentProfile",
            vec![
                "macOSRegistrationDisabled",
                "macOSFileVaultDisabled",
                "iTunesPairingMode",
            ],
        ),
        (
            "depTvOSEnrollmentProfile",
            vec!["displayName", "requiresUserAuthentication"],
        ),
        (
            "depVisionOSEnrollmentProfile",
            vec!["configurationEndpointUrl"],
        ),
        (
            "enrollmentProfile",
            vec![
                "enableAuthenticationViaCompanyPortal",
                "requireCompanyPortalOnSetupAssistantEnrolledDevices",
            ],
        ),
    ];
    for (ty, props) in cases {
        // `@odata.type` is accepted with or without `#`.
        let odata_type = if ty.starts_with("depT") {
            format!("microsoft.graph.{ty}")
        } else {
            format!("#microsoft.graph.{ty}")
        };
        let created = create(
            &app,
            &path,
            &json!({"@odata.type": odata_type, "displayName": ty, "description": "d"}),
        )
        .await;
        assert_eq!(created["@odata.type"], format!("#microsoft.graph.{ty}"));
        let id = created["id"].as_str().unwrap();
        let (prefix, guid) = id.split_once('_').unwrap();
        assert_eq!(prefix, setting);
        assert!(Uuid::parse_str(guid).is_ok(), "{id}");
        for prop in props {
            assert!(created.get(prop).is_some(), "{ty} lacks {prop}: {created}");
        }
        assert!(!created["isDefault"].as_bool().unwrap_or(false));
        assert_eq!(
            created["@odata.context"],
            format!(
                "{}/beta/$metadata#deviceManagement/depOnboardingSettings('{setting}')/enrollmentProfiles/$entity",
                app.base
            )
        );
        let fetched: Value = app.get(&format!("{path}/{id}")).await.json().await.unwrap();
        assert_eq!(fetched, created, "{ty}");
        let mut settings = entity_snapshot(&[]);
        settings.add_redaction(".configurationEndpointUrl", "[url]");
        settings.bind(|| insta::assert_json_snapshot!(ty, created));
    }
    let list: Value = app
        .get(&format!("{path}?$count=true"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["@odata.count"], 6);
    let types: HashSet<&str> = list["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["@odata.type"].as_str().unwrap())
        .collect();
    assert_eq!(types.len(), 6, "every item carries its own @odata.type");
}

async fn create_rejects_bad_types_and_bodies(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, path) = token(&app).await;
    for (body, needle) in [
        // Without `@odata.type` the body is an `enrollmentProfile`, which has no `siriDisabled`.
        (
            json!({"displayName": "x", "siriDisabled": true}),
            "'siriDisabled'",
        ),
        (
            json!({"@odata.type": "#microsoft.graph.depEnrollmentBaseProfile"}),
            "abstract",
        ),
        (json!({"@odata.type": "#microsoft.graph.user"}), "user"),
        (
            json!({"@odata.type": "#microsoft.graph.depIOSEnrollmentProfile", "frobnicate": true}),
            "'frobnicate'",
        ),
        (
            json!({"@odata.type": "#microsoft.graph.depIOSEnrollmentProfile", "isMandatory": "yes"}),
            "Edm.Boolean",
        ),
        (
            json!({"@odata.type": "#microsoft.graph.depIOSEnrollmentProfile", "iTunesPairingMode": "sometimes"}),
            "iTunesPairingMode",
        ),
        (
            json!({"@odata.type": "#microsoft.graph.depTvOSEnrollmentProfile", "iTunesPairingMode": "allow"}),
            "iTunesPairingMode",
        ),
        (
            json!({"@odata.type": "#microsoft.graph.depIOSEnrollmentProfile", "isDefault": "yes"}),
            "isDefault",
        ),
    ] {
        let msg = assert_graph_error(app.post_json(&path, &body).await, 400, "BadRequest").await;
        assert!(msg.contains(needle), "{body}: {msg}");
    }
    let resp = app
        .request(Method::POST, &path)
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_graph_error(resp, 400, "BadRequest").await;
    let count = app
        .get(&format!("{path}/$count"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(count, "0");
    let unknown = format!("{SETTINGS}/{}/enrollmentProfiles", Uuid::new_v4());
    assert_graph_error(
        app.post_json(&unknown, &ios("x")).await,
        404,
        "ResourceNotFound",
    )
    .await;
    assert_graph_error(app.get(&unknown).await, 404, "ResourceNotFound").await;
}

async fn type_casts_filter_the_set_and_the_entity(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, path) = token(&app).await;
    let a = create(&app, &path, &ios("a")).await;
    create(
        &app,
        &path,
        &json!({"@odata.type": "#microsoft.graph.depMacOSEnrollmentProfile", "displayName": "m"}),
    )
    .await;
    let cast: Value = app
        .get(&format!("{path}/microsoft.graph.depIOSEnrollmentProfile"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(cast["value"].as_array().unwrap().len(), 1);
    assert!(
        cast["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("/enrollmentProfiles/microsoft.graph.depIOSEnrollmentProfile")
    );
    let count = app
        .get(&format!("{path}/graph.depMacOSEnrollmentProfile/$count"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(count, "1");
    let base: Value = app
        .get(&format!("{path}/microsoft.graph.enrollmentProfile"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        base["value"].as_array().unwrap().len(),
        2,
        "a cast to the base type keeps derived types"
    );
    let id = a["id"].as_str().unwrap();
    assert_eq!(
        app.get(&format!(
            "{path}/{id}/microsoft.graph.depIOSEnrollmentProfile"
        ))
        .await
        .status(),
        200
    );
    let wrong = app
        .get(&format!(
            "{path}/{id}/microsoft.graph.depMacOSEnrollmentProfile"
        ))
        .await;
    assert_graph_error(wrong, 404, "ResourceNotFound").await;
}

async fn patch_validates_and_answers_204(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, path) = token(&app).await;
    let created = create(&app, &path, &ios("before")).await;
    let item = format!("{path}/{}", created["id"].as_str().unwrap());
    let resp = app
        .patch_json(&item, &json!({"@odata.type": "#microsoft.graph.depIOSEnrollmentProfile", "description": "patched",
            "enabledSkipKeys": ["Location"], "managementCertificates": [{"@odata.type": "microsoft.graph.managementCertificateWithThumbprint", "certificate": "MIIB", "thumbprint": "AB"}]}))
        .await;
    assert_eq!(resp.status(), 204);
    let after: Value = app.get(&item).await.json().await.unwrap();
    assert_eq!(after["description"], "patched");
    assert_eq!(after["displayName"], "before");
    assert_eq!(after["enabledSkipKeys"], json!(["Location"]));
    assert_eq!(after["managementCertificates"][0]["thumbprint"], "AB");

    // The GET body round-trips unchanged.
    let mut round_trip = after.clone();
    round_trip.as_object_mut().unwrap().remove("@odata.context");
    assert_eq!(app.patch_json(&item, &round_trip).await.status(), 204);

    for (body, needle) in [
        (
            json!({"@odata.type": "#microsoft.graph.depMacOSEnrollmentProfile", "description": "x"}),
            "type",
        ),
        (json!({"isDefault": 1}), "isDefault"),
        (
            json!({"description": "never", "registrationDisabled": true}),
            "'registrationDisabled'",
        ),
        (json!({"sharedIPadMaximumUserCount": "3"}), "Edm.Int32"),
    ] {
        let msg = assert_graph_error(app.patch_json(&item, &body).await, 400, "BadRequest").await;
        assert!(msg.contains(needle), "{body}: {msg}");
    }
    let unchanged: Value = app.get(&item).await.json().await.unwrap();
    assert_eq!(unchanged["description"], "patched");
    assert_graph_error(
        app.patch_json(&format!("{path}/nope"), &json!({})).await,
        404,
        "ResourceNotFound",
    )
    .await;
}

async fn company_portal_and_platform_sso_rules(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, path) = token(&app).await;
    let affinity = create(&app, &path, &json!({"@odata.type": "#microsoft.graph.depIOSEnrollmentProfile", "requiresUserAuthentication": true})).await;
    assert_eq!(
        affinity["enableAuthenticationViaCompanyPortal"], true,
        "user affinity defaults to Company Portal"
    );
    let explicit = create(
        &app,
        &path,
        &json!({"@odata.type": "#microsoft.graph.depIOSEnrollmentProfile",
        "requiresUserAuthentication": true, "enableAuthenticationViaCompanyPortal": false}),
    )
    .await;
    assert_eq!(explicit["enableAuthenticationViaCompanyPortal"], false);
    for (body, needle) in [
        (
            json!({"@odata.type": "#microsoft.graph.depIOSEnrollmentProfile", "companyPortalVppTokenId": "vpp-1"}),
            "companyPortalVppTokenId",
        ),
        (
            json!({"@odata.type": "#microsoft.graph.depIOSEnrollmentProfile", "enableSingleAppEnrollmentMode": true}),
            "enableSingleAppEnrollmentMode",
        ),
        (
            json!({"@odata.type": "#microsoft.graph.depMacOSEnrollmentProfile", "usePlatformSSODuringSetupAssistant": true, "configurationWebUrl": true}),
            "usePlatformSSODuringSetupAssistant",
        ),
    ] {
        let msg = assert_graph_error(app.post_json(&path, &body).await, 400, "BadRequest").await;
        assert!(msg.contains(needle), "{body}: {msg}");
    }
    // companyPortalVppTokenId must name an existing, unexpired VPP token of the tenant.
    let cp = |vpp: &str| {
        json!({"@odata.type": "#microsoft.graph.depIOSEnrollmentProfile",
        "enableAuthenticationViaCompanyPortal": true, "companyPortalVppTokenId": vpp})
    };
    let msg = assert_graph_error(
        app.post_json(&path, &cp("no-such-token")).await,
        400,
        "BadRequest",
    )
    .await;
    assert!(msg.contains("no-such-token"), "{msg}");
    let vpp: Value = app
        .post_json(
            "/beta/deviceAppManagement/vppTokens",
            &json!({"token": crate::vpp_tokens::vpptoken("Contoso", "2099-01-01T00:00:00Z")}),
        )
        .await
        .json()
        .await
        .unwrap();
    let with_vpp = create(&app, &path, &cp(vpp["id"].as_str().unwrap())).await;
    assert_eq!(with_vpp["companyPortalVppTokenId"], vpp["id"]);
    let item = format!("{path}/{}", with_vpp["id"].as_str().unwrap());
    let msg = assert_graph_error(
        app.patch_json(&item, &json!({"companyPortalVppTokenId": "gone"}))
            .await,
        400,
        "BadRequest",
    )
    .await;
    assert!(
        msg.contains("'gone'"),
        "the VPP rule holds on PATCH too: {msg}"
    );

    // The rule also holds on PATCH.
    let item = format!("{path}/{}", explicit["id"].as_str().unwrap());
    let msg = assert_graph_error(
        app.patch_json(&item, &json!({"enableSingleAppEnrollmentMode": true}))
            .await,
        400,
        "BadRequest",
    )
    .await;
    assert!(msg.contains("enableSingleAppEnrollmentMode"), "{msg}");
}

async fn exactly_one_default_per_platform(backend: Backend) {
    let app = TestApp::spawn_with(backend, with_mdm).await;
    let (setting, path) = token(&app).await;
    let mut ids = Vec::new();
    for i in 0..6 {
        ids.push(
            create(&app, &path, &ios(&format!("p{i}"))).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let mac = create(
        &app,
        &path,
        &json!({"@odata.type": "#microsoft.graph.depMacOSEnrollmentProfile"}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let nav = format!("{SETTINGS}/{setting}/defaultIosEnrollmentProfile");
    assert_eq!(app.get(&nav).await.status(), 204, "no default yet");

    let calls = ids.iter().map(|id| {
        app.request(Method::POST, &format!("{path}/{id}/setDefaultProfile"))
            .send()
    });
    for resp in futures_util::future::join_all(calls).await {
        assert_eq!(resp.unwrap().status(), 204);
    }
    let list: Value = app
        .get(&format!("{path}?$filter=isDefault eq true"))
        .await
        .json()
        .await
        .unwrap();
    let defaults = list["value"].as_array().unwrap();
    assert_eq!(defaults.len(), 1, "{list}");
    let default: Value = app.get(&nav).await.json().await.unwrap();
    assert_eq!(default["id"], defaults[0]["id"]);
    assert_eq!(default["isDefault"], true);

    // macOS has its own default; setting it leaves the iOS one alone.
    let resp = app
        .request(
            Method::POST,
            &format!("{path}('{mac}')/microsoft.graph.setDefaultProfile"),
        )
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let mac_default: Value = app
        .get(&format!(
            "{SETTINGS}/{setting}/defaultMacOsEnrollmentProfile"
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mac_default["id"], mac.as_str());
    assert_eq!(
        app.get(&nav).await.json::<Value>().await.unwrap()["id"],
        default["id"]
    );

    // Deleting the default clears it.
    let default_id = default["id"].as_str().unwrap();
    assert_eq!(
        app.delete(&format!("{path}/{default_id}")).await.status(),
        204
    );
    assert_eq!(app.get(&nav).await.status(), 204);

    // Apple Configurator profiles are never defaults.
    let configurator = create(
        &app,
        &path,
        &json!({"@odata.type": "#microsoft.graph.enrollmentProfile"}),
    )
    .await;
    let resp = app
        .request(
            Method::POST,
            &format!(
                "{path}/{}/setDefaultProfile",
                configurator["id"].as_str().unwrap()
            ),
        )
        .send()
        .await
        .unwrap();
    assert_graph_error(resp, 400, "BadRequest").await;
}

async fn export_mobile_config_returns_a_real_plist(backend: Backend) {
    let app = TestApp::spawn_with(backend, with_mdm).await;
    let (_, path) = token(&app).await;
    let configurator = create(
        &app,
        &path,
        &json!({"@odata.type": "#microsoft.graph.enrollmentProfile",
        "displayName": "Lab & <Carts>", "requiresUserAuthentication": false}),
    )
    .await;
    let id = configurator["id"].as_str().unwrap();
    for op in [
        "exportMobileConfig()",
        "microsoft.graph.exportMobileConfig()",
        "exportMobileConfig",
    ] {
        let resp = app.get(&format!("{path}/{id}/{op}")).await;
        assert_eq!(resp.status(), 200, "{op}");
        let body: Value = resp.json().await.unwrap();
        let plist = base64::engine::general_purpose::STANDARD
            .decode(body["value"].as_str().unwrap())
            .unwrap();
        let root = plist::Value::from_reader_xml(plist.as_slice())
            .unwrap()
            .into_dictionary()
            .unwrap();
        let string = |v: &plist::Value| v.as_string().map(str::to_owned);
        assert_eq!(
            string(&root["PayloadDisplayName"]).as_deref(),
            Some("Lab & <Carts>")
        );
        assert_eq!(
            string(&root["PayloadType"]).as_deref(),
            Some("Profile Service")
        );
        let content = root["PayloadContent"].as_dictionary().unwrap();
        assert_eq!(
            string(&content["URL"]).as_deref(),
            configurator["configurationEndpointUrl"].as_str()
        );
    }
    let dep = create(&app, &path, &ios("dep")).await;
    let resp = app
        .get(&format!(
            "{path}/{}/exportMobileConfig()",
            dep["id"].as_str().unwrap()
        ))
        .await;
    let msg = assert_graph_error(resp, 400, "BadRequest").await;
    assert!(msg.contains("Apple Configurator"), "{msg}");
    let resp = app
        .request(Method::POST, &format!("{path}/{id}/exportMobileConfig"))
        .send()
        .await
        .unwrap();
    assert_graph_error(resp, 405, "Request_BadRequest").await;
}

async fn update_device_profile_assignment_records_the_request(backend: Backend) {
    let app = TestApp::spawn_with(backend, with_mdm).await;
    let (setting, path) = token(&app).await;
    let profile = create(&app, &path, &ios("assign")).await;
    let pid = profile["id"].as_str().unwrap();
    let guid = pid.split_once('_').unwrap().1;
    let devices = format!("{SETTINGS}/{setting}/importedAppleDeviceIdentities");
    let import = json!({"importedAppleDeviceIdentities": [{"serialNumber": "C02TEST00001"}, {"serialNumber": "C02TEST00002"}],
        "overwriteImportedDeviceIdentities": false});
    assert_eq!(
        app.post_json(&format!("{devices}/importAppleDeviceIdentityList"), &import)
            .await
            .status(),
        200
    );

    // Unknown serials are reported and nothing changes.
    let resp = app
        .post_json(
            &format!("{path}('{pid}')/updateDeviceProfileAssignment"),
            &json!({"deviceIds": ["C02TEST00001", "NOPE00000001"]}),
        )
        .await;
    let msg = assert_graph_error(resp, 400, "BadRequest").await;
    assert!(
        msg.contains("NOPE00000001") && !msg.contains("C02TEST00001,"),
        "{msg}"
    );
    let msg = assert_graph_error(
        app.post_json(
            &format!("{path}/{pid}/updateDeviceProfileAssignment"),
            &json!({"deviceIds": "C02TEST00001"}),
        )
        .await,
        400,
        "BadRequest",
    )
    .await;
    assert!(msg.contains("deviceIds"), "{msg}");
    let untouched: Value = app
        .get(&format!(
            "{devices}?$filter=requestedEnrollmentProfileId ne null"
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(untouched["value"], json!([]));

    let resp = app
        .post_json(
            &format!("{path}('{pid}')/updateDeviceProfileAssignment"),
            &json!({"deviceIds": ["c02test00001"]}),
        )
        .await;
    assert_eq!(resp.status(), 204);
    let assigned: Value = app
        .get(&format!(
            "{devices}?$filter=requestedEnrollmentProfileId eq '{guid}'"
        ))
        .await
        .json()
        .await
        .unwrap();
    let assigned = assigned["value"].as_array().unwrap();
    assert_eq!(assigned.len(), 1);
    assert_eq!(assigned[0]["serialNumber"], "C02TEST00001");
    assert!(
        assigned[0]["requestedEnrollmentProfileAssignmentDateTime"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    let resp = app
        .post_json(
            &format!(
                "{path}/{}_{}/updateDeviceProfileAssignment",
                setting,
                Uuid::new_v4()
            ),
            &json!({"deviceIds": ["C02TEST00001"]}),
        )
        .await;
    assert_graph_error(resp, 404, "ResourceNotFound").await;
}

async fn list_options_and_paging(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, path) = token(&app).await;
    for i in 0..5 {
        create(&app, &path, &json!({"@odata.type": "#microsoft.graph.depIOSEnrollmentProfile", "displayName": format!("Profile {i}"),
            "isMandatory": i % 2 == 0})).await;
    }
    let mut names = Vec::new();
    let mut url = format!(
        "{}{path}?$orderby=displayName%20desc&$top=2&$select=displayName",
        app.base
    );
    loop {
        let body: Value = app
            .client
            .get(&url)
            .bearer_auth(app.token())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for item in body["value"].as_array().unwrap() {
            assert_eq!(
                item.as_object().unwrap().len(),
                2,
                "@odata.type and displayName only: {item}"
            );
            names.push(item["displayName"].as_str().unwrap().to_owned());
        }
        match body["@odata.nextLink"].as_str() {
            Some(next) => next.clone_into(&mut url),
            None => break,
        }
    }
    assert_eq!(
        names,
        [
            "Profile 4",
            "Profile 3",
            "Profile 2",
            "Profile 1",
            "Profile 0"
        ]
    );
    let mandatory: Value = app
        .get(&format!(
            "{path}?$filter=isMandatory%20eq%20true&$count=true"
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mandatory["@odata.count"], 3);
    let searched: Value = app
        .get(&format!("{path}?$search=%22profile%203%22"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(searched["value"].as_array().unwrap().len(), 1);
    let msg = assert_graph_error(
        app.get(&format!("{path}?$filter=nope eq 1")).await,
        400,
        "BadRequest",
    )
    .await;
    assert!(msg.contains("'nope'"), "{msg}");
}

async fn other_tenants_and_tokens_see_404(backend: Backend) {
    let app = TestApp::spawn_with(backend, with_mdm).await;
    let (setting, path) = token(&app).await;
    let (_, other_path) = token(&app).await;
    let profile = create(&app, &path, &ios("mine")).await;
    let pid = profile["id"].as_str().unwrap();
    // Another token of the same tenant does not hold it.
    assert_graph_error(
        app.get(&format!("{other_path}/{pid}")).await,
        404,
        "ResourceNotFound",
    )
    .await;
    // Another tenant sees neither the token nor the profile.
    let stranger = app.token_for(
        dep_gateway::domain::ids::TenantId::new(Uuid::new_v4()),
        &[READ_WRITE],
    );
    for (method, url) in [
        (Method::GET, format!("{path}/{pid}")),
        (Method::GET, path.clone()),
        (Method::PATCH, format!("{path}/{pid}")),
        (Method::DELETE, format!("{path}/{pid}")),
        (Method::POST, format!("{path}/{pid}/setDefaultProfile")),
        (
            Method::GET,
            format!("{SETTINGS}/{setting}/defaultIosEnrollmentProfile"),
        ),
    ] {
        let resp = app
            .client
            .request(method.clone(), format!("{}{url}", app.base))
            .bearer_auth(&stranger)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_graph_error(resp, 404, "ResourceNotFound").await;
    }
    assert_eq!(app.get(&format!("{path}/{pid}")).await.status(), 200);
}

/// Ids not of the `{token}_{guid}` form are turned away where the path is parsed: each is the
/// profile's 404 naming the id, on the per-token and the legacy paths, and the profile that
/// exists is untouched.
async fn malformed_profile_ids_are_the_profiles_404(backend: Backend) {
    let app = TestApp::spawn_with(backend, with_mdm).await;
    let (_, path) = token(&app).await;
    let pid = create(&app, &path, &ios("kept")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let legacy = "/beta/deviceManagement/enrollmentProfiles";
    for bad in ["nounderscore", "_x", "x_"] {
        for (method, url) in [
            (Method::GET, format!("{path}/{bad}")),
            (Method::PATCH, format!("{path}/{bad}")),
            (Method::DELETE, format!("{path}/{bad}")),
            (Method::POST, format!("{path}/{bad}/setDefaultProfile")),
            (Method::GET, format!("{path}/{bad}/exportMobileConfig()")),
            (Method::GET, format!("{legacy}/{bad}")),
            (Method::PATCH, format!("{legacy}/{bad}")),
            (Method::DELETE, format!("{legacy}/{bad}")),
            (Method::POST, format!("{legacy}/{bad}/setDefaultProfile")),
        ] {
            let body = if method == Method::PATCH {
                json!({"displayName": "changed"})
            } else {
                json!({})
            };
            let resp = app
                .request(method.clone(), &url)
                .json(&body)
                .send()
                .await
                .unwrap();
            let message = assert_graph_error(resp, 404, "ResourceNotFound").await;
            assert!(
                message.contains(&format!("'{bad}'")),
                "{method} {url}: {message}"
            );
        }
    }
    let kept: Value = app
        .get(&format!("{path}/{pid}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(kept["displayName"], "kept");
}

async fn deleting_a_token_removes_what_it_owns(backend: Backend) {
    let app = TestApp::spawn_with(backend, with_mdm).await;
    let (setting, path) = token(&app).await;
    let pid = create(&app, &path, &ios("owned")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.request(Method::POST, &format!("{path}/{pid}/setDefaultProfile"))
        .send()
        .await
        .unwrap();
    let devices = format!("{SETTINGS}/{setting}/importedAppleDeviceIdentities");
    assert_eq!(
        app.post_json(&devices, &json!({"serialNumber": "C02OWNED0001"}))
            .await
            .status(),
        201
    );
    assert_eq!(
        app.delete(&format!("{SETTINGS}/{setting}")).await.status(),
        204
    );
    assert_graph_error(
        app.get(&format!("{path}/{pid}")).await,
        404,
        "ResourceNotFound",
    )
    .await;
    // The serial is free again for another token of the tenant.
    let (other, _) = token(&app).await;
    let resp = app
        .post_json(
            &format!("{SETTINGS}/{other}/importedAppleDeviceIdentities"),
            &json!({"serialNumber": "C02OWNED0001"}),
        )
        .await;
    assert_eq!(resp.status(), 201);
}

async fn expand_follows_the_settings_navigations(backend: Backend) {
    let app = TestApp::spawn_with(backend, with_mdm).await;
    let (setting, path) = token(&app).await;
    let pid = create(&app, &path, &ios("expanded")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.request(Method::POST, &format!("{path}/{pid}/setDefaultProfile"))
        .send()
        .await
        .unwrap();
    let devices = format!("{SETTINGS}/{setting}/importedAppleDeviceIdentities");
    assert_eq!(
        app.post_json(&devices, &json!({"serialNumber": "C02EXPAND001"}))
            .await
            .status(),
        201
    );

    let url = format!(
        "{SETTINGS}/{setting}?$expand=defaultiosenrollmentprofile,defaultMacOsEnrollmentProfile,enrollmentProfiles,importedAppleDeviceIdentities"
    );
    let body: Value = app.get(&url).await.json().await.unwrap();
    assert_eq!(
        body["@odata.context"],
        format!(
            "{}/beta/$metadata#deviceManagement/depOnboardingSettings(defaultIosEnrollmentProfile(),defaultMacOsEnrollmentProfile(),enrollmentProfiles(),importedAppleDeviceIdentities())/$entity",
            app.base
        )
    );
    assert_eq!(body["defaultIosEnrollmentProfile"]["id"], pid.as_str());
    assert!(body["defaultMacOsEnrollmentProfile"].is_null());
    assert_eq!(body["enrollmentProfiles"].as_array().unwrap().len(), 1);
    assert_eq!(
        body["importedAppleDeviceIdentities"][0]["serialNumber"],
        "C02EXPAND001"
    );
    assert_eq!(body["tokenName"], "profiles");

    let all: Value = app
        .get(&format!("{SETTINGS}/{setting}?$expand=*&$select=id"))
        .await
        .json()
        .await
        .unwrap();
    assert!(all.get("tokenName").is_none());
    assert!(all.get("defaultVisionOSEnrollmentProfile").is_some());
    for (query, needle) in [
        ("$expand=nope", "'nope'"),
        ("$expand=enrollmentProfiles($expand=x)", "Nested"),
    ] {
        let msg = assert_graph_error(
            app.get(&format!("{SETTINGS}/{setting}?{query}")).await,
            400,
            "BadRequest",
        )
        .await;
        assert!(msg.contains(needle), "{query}: {msg}");
    }
}

/// Whether `v` is a Graph `DateTimeOffset` as the gateway writes it: seven fractional digits
/// and `Z`, or the `0001-01-01T00:00:00Z` of "never".
pub fn is_graph_datetime(v: Option<&str>) -> bool {
    let s = v.unwrap_or_default();
    s == "0001-01-01T00:00:00Z" || (s.len() == 28 && s.ends_with('Z') && s.as_bytes()[19] == b'.')
}

/// Snapshot settings for one Graph entity body: `id`, `@odata.context` (it holds the test
/// server's port) and the top-level properties in `times` are redacted, a redacted time after
/// checking that it is a Graph datetime. Snapshots are named after the entity shape and shared
/// by the SQLite and PostgreSQL variants of a test, so both backends must render alike.
pub fn entity_snapshot(times: &[&str]) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.add_redaction(".id", "[id]");
    settings.add_redaction(r#"["@odata.context"]"#, "[context]");
    for name in times {
        settings.add_redaction(
            &format!(".{name}"),
            insta::dynamic_redaction(|value, path| {
                assert!(is_graph_datetime(value.as_str()), "{path}: {value:?}");
                "[datetime]"
            }),
        );
    }
    settings
}

async fn ios_profile_body_is_exact(backend: Backend) {
    let app = TestApp::spawn_with(backend, with_mdm).await;
    let (_, path) = token(&app).await;
    let created = create(
        &app,
        &path,
        &json!({"@odata.type": "#microsoft.graph.depIOSEnrollmentProfile", "displayName": "Exact",
        "supportDepartment": "IT", "iTunesPairingMode": "ALLOW", "enabledSkipKeys": ["Location"],
        "enrollmentTimeAzureAdGroupIds": ["5F1C0F8E-0000-4000-8000-000000000001"]}),
    )
    .await;
    // The normalised values (`allow`, the lower-case group GUID) and Graph's property order
    // are in the snapshot.
    let mut settings = entity_snapshot(&[]);
    settings.add_redaction(".configurationEndpointUrl", "[url]");
    settings.bind(|| insta::assert_json_snapshot!("depIOSEnrollmentProfile_exact", created));
}

async fn the_macos_admin_password_is_write_only(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, path) = token(&app).await;
    let created = create(
        &app,
        &path,
        &json!({"@odata.type": "#microsoft.graph.depMacOSEnrollmentProfile",
        "adminAccountUserName": "admin", "adminAccountPassword": "s3cret!"}),
    )
    .await;
    assert!(created["adminAccountPassword"].is_null());
    assert_eq!(created["adminAccountUserName"], "admin");
    let item = format!("{path}/{}", created["id"].as_str().unwrap());
    let mut round_trip = created.clone();
    round_trip.as_object_mut().unwrap().remove("@odata.context");
    assert_eq!(app.patch_json(&item, &round_trip).await.status(), 204);
    let text = app.get(&item).await.text().await.unwrap();
    assert!(!text.contains("s3cret!"), "{text}");
    if backend == Backend::Sqlite {
        let stored = crate::apple_onboarding::stored(
            &app,
            "SELECT properties AS value FROM enrollment_profiles",
        );
        assert!(
            stored.iter().all(|p| !p.contains("s3cret!")),
            "the password is sealed at rest"
        );
        assert!(
            stored
                .iter()
                .any(|p| p.contains("\"adminAccountPassword\":\"v1:")),
            "{stored:?}"
        );
    }
}

on_both_backends!(
    ios_profile_body_is_exact,
    the_macos_admin_password_is_write_only,
    expand_follows_the_settings_navigations,
    every_type_round_trips_with_all_its_properties,
    create_rejects_bad_types_and_bodies,
    type_casts_filter_the_set_and_the_entity,
    patch_validates_and_answers_204,
    company_portal_and_platform_sso_rules,
    exactly_one_default_per_platform,
    export_mobile_config_returns_a_real_plist,
    update_device_profile_assignment_records_the_request,
    list_options_and_paging,
    other_tenants_and_tokens_see_404,
    malformed_profile_ids_are_the_profiles_404,
    deleting_a_token_removes_what_it_owns,
);
