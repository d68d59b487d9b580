//! What the legacy layer refuses: the switch, bad bodies, unknown ids, other tenants, missing
//! permissions; and the CLI that designates the legacy default token.

use dep_gateway::domain::ids::TenantId;
use uuid::Uuid;

use reqwest::Method;
use serde_json::{Value, json};

use super::{
    DEFAULT_TOKEN, DEVICES, PROFILES, SETTINGS, doc18_profile, get_json, json_of, new_setting,
};
use crate::helpers::{Backend, READ, READ_WRITE, TestApp, assert_graph_error, with_mdm};
use crate::on_both_backends;

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

#[expect(clippy::too_many_lines, reason = "one table of refused bodies")]
async fn negative_cases_are_graph_errors_and_change_nothing(backend: Backend) {
    let app = TestApp::spawn_with(backend, with_mdm).await;
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
        // Without `@odata.type` the old collection's declared type (`enrollmentProfile`) is
        // meant, as on the new path; a non-string annotation is a type error.
        (json!({"@odata.type": 7, "displayName": "x"}), "@odata.type"),
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
    let app = TestApp::spawn_with(backend, with_mdm).await;
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
