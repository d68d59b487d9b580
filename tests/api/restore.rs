//! Restore and copy flows of config-as-code tools (issue 13): the GET body of a setting, of a
//! profile of each of the six types and of an identity, with `id` removed, POSTs to another token
//! and to another tenant and comes back equal, server-owned values aside — through the
//! multi-token API and through the retired single-token one. Graph's documented create bodies
//! are accepted; derived values are type-checked and ignored (README "Write bodies").
//!
//! Two body forms: copies to another token send the whole GET body (annotations included, as
//! `IntuneManagement` and Terraform-style tools do); copies to another tenant send it as `IntuneCD`
//! stores it: its `remove_keys` drops `id`, `@odata.context`, `isDefault`, `createdDateTime` and
//! `lastModifiedDateTime` and keeps `@odata.type` (almenscorner/IntuneCD,
//! `intunecdlib/remove_keys.py`).

use dep_gateway::domain::ids::TenantId;
use reqwest::{Method, Response};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::helpers::{Backend, READ_WRITE, TestApp, assert_graph_error, with_mdm};
use crate::on_both_backends;
use crate::sync::{Sim, identities, setting_with_token, spawn, sync_ok};

const SETTINGS: &str = "/beta/deviceManagement/depOnboardingSettings";
const OLD_PROFILES: &str = "/beta/deviceManagement/enrollmentProfiles";
const OLD_DEVICES: &str = "/beta/deviceManagement/importedAppleDeviceIdentities";
const DEFAULT_TOKEN: &str = "/beta/deviceManagement/depGateway.legacyDefaultToken";

/// What a restored setting cannot carry over: the token, Apple's syncs and the server's clock
/// decide these (README "Write bodies").
const SETTING_SERVER_OWNED: &[&str] = &[
    "id",
    "@odata.context",
    "tokenType",
    "tokenExpirationDateTime",
    "lastModifiedDateTime",
    "lastSuccessfulSyncDateTime",
    "lastSyncTriggeredDateTime",
    "lastSyncErrorCode",
    "syncedDeviceCount",
];
/// A profile's: its id, its generated URL, and whether it is its token's default.
const PROFILE_SERVER_OWNED: &[&str] = &[
    "id",
    "@odata.context",
    "configurationEndpointUrl",
    "isDefault",
];
/// An identity's: Apple's and the MDM's state, and the server's clock.
const DEVICE_SERVER_OWNED: &[&str] = &[
    "id",
    "@odata.context",
    "createdDateTime",
    "discoverySource",
    "enrollmentState",
    "lastContactedDateTime",
    "isDeleted",
    "requestedEnrollmentProfileAssignmentDateTime",
];

/// Requests as one tenant (a read-write delegated token).
struct Caller<'a> {
    app: &'a TestApp,
    token: String,
}

impl<'a> Caller<'a> {
    fn of(app: &'a TestApp, tenant: TenantId) -> Self {
        Self {
            app,
            token: app.token_for(tenant, &[READ_WRITE]),
        }
    }

    async fn send(&self, method: Method, path: &str, body: Option<&Value>) -> Response {
        let req = self
            .app
            .client
            .request(method, format!("{}{path}", self.app.base))
            .bearer_auth(&self.token);
        let req = match body {
            Some(b) => req.json(b),
            None => req,
        };
        req.send().await.expect("request")
    }

    async fn get(&self, path: &str) -> Value {
        let resp = self.send(Method::GET, path, None).await;
        assert_eq!(resp.status(), 200, "GET {path}");
        resp.json().await.expect("json")
    }

    /// POSTs `body`, expecting 201; the created entity.
    async fn create(&self, path: &str, body: &Value) -> Value {
        let resp = self.send(Method::POST, path, Some(body)).await;
        let status = resp.status();
        let got: Value = resp.json().await.expect("json");
        assert_eq!(status, 201, "POST {path} {body}: {got}");
        got
    }

    async fn new_setting(&self, body: &Value) -> String {
        self.create(SETTINGS, body).await["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

/// Keys `IntuneCD` removes from a stored object (those of them these entities have).
const INTUNECD_REMOVES: &[&str] = &[
    "id",
    "@odata.context",
    "isDefault",
    "createdDateTime",
    "lastModifiedDateTime",
];

/// A GET body as a restore sends it: without `id`, and as `IntuneCD` stores it when `strip`.
fn restore_body(got: &Value, strip: bool) -> Value {
    let mut body = got.as_object().unwrap().clone();
    body.remove("id");
    if strip {
        body.retain(|k, _| !INTUNECD_REMOVES.contains(&k.as_str()));
    }
    Value::Object(body)
}

/// `v` without the `owned` keys.
fn aside(v: &Value, owned: &[&str]) -> Map<String, Value> {
    let mut m = v.as_object().unwrap().clone();
    m.retain(|k, _| !owned.contains(&k.as_str()));
    m
}

/// The copy equals the original, server-owned values aside, and a GET of it returns the same.
async fn assert_copy(
    caller: &Caller<'_>,
    item: &str,
    original: &Value,
    copy: &Value,
    owned: &[&str],
) {
    assert_eq!(aside(copy, owned), aside(original, owned), "copy at {item}");
    let fetched = caller.get(item).await;
    assert_eq!(
        aside(&fetched, &["@odata.context"]),
        aside(copy, &["@odata.context"])
    );
}

/// One create body per type of the hierarchy, each with non-default values.
fn six_profiles() -> Vec<Value> {
    vec![
        json!({"@odata.type": "#microsoft.graph.depIOSEnrollmentProfile", "displayName": "iOS",
            "description": "restored", "requiresUserAuthentication": true, "isMandatory": true,
            "supervisedModeEnabled": true, "enabledSkipKeys": ["Location", "Restore"],
            "supportDepartment": "IT", "supportPhoneNumber": "555-0100", "iTunesPairingMode": "allow",
            "passcodeLockGracePeriodInSeconds": 60, "deviceNameTemplate": "{{SERIAL}}",
            "enrollmentTimeAzureAdGroupIds": ["0b1c7a3e-5f1a-4a0e-9a59-0d6b5d0c6a11"],
            "managementCertificates": [{"certificate": "MIIB", "thumbprint": "AB"}],
            "enableSharedIPad": true, "sharedIPadMaximumUserCount": 3, "zoomDisabled": true}),
        json!({"@odata.type": "#microsoft.graph.depMacOSEnrollmentProfile", "displayName": "Mac",
            "adminAccountUserName": "admin", "adminAccountFullName": "Local Admin",
            "hideAdminAccount": true, "fileVaultDisabled": true, "registrationDisabled": true,
            "primaryAccountFullName": "Someone", "depProfileAdminAccountPasswordRotationSetting": {
                "autoRotationPeriodInDays": 30, "depProfileDelayAutoRotationSetting": {
                    "onRetrievalAutoRotatePasswordEnabled": true,
                    "onRetrievalDelayAutoRotatePasswordInHours": 2}}}),
        json!({"@odata.type": "#microsoft.graph.enrollmentProfile", "displayName": "Configurator",
            "description": "Apple Configurator", "requireCompanyPortalOnSetupAssistantEnrolledDevices": true}),
        json!({"@odata.type": "#microsoft.graph.depEnrollmentProfile", "displayName": "Old type",
            "macOSRegistrationDisabled": true, "iTunesPairingMode": "requiresCertificate",
            "enableSharedIPad": true, "sharedIPadMaximumUserCount": 10, "siriDisabled": true}),
        json!({"@odata.type": "#microsoft.graph.depTvOSEnrollmentProfile", "displayName": "TV",
            "description": "lobby", "requiresUserAuthentication": false}),
        json!({"@odata.type": "#microsoft.graph.depVisionOSEnrollmentProfile", "displayName": "Vision",
            "description": "lab", "enableAuthenticationViaCompanyPortal": true}),
    ]
}

fn profiles_of(setting: &str) -> String {
    format!("{SETTINGS}/{setting}/enrollmentProfiles")
}

/// The six profiles, created on `setting`; iOS, macOS, tvOS and visionOS made their platform's
/// default (so their GET bodies say `isDefault: true`). Their GET bodies.
async fn source_profiles(a: &Caller<'_>, setting: &str) -> Vec<Value> {
    let path = profiles_of(setting);
    let mut out = Vec::new();
    for body in six_profiles() {
        let id = a.create(&path, &body).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let ty = body["@odata.type"].as_str().unwrap();
        if !ty.ends_with(".enrollmentProfile") && !ty.ends_with(".depEnrollmentProfile") {
            let resp = a
                .send(
                    Method::POST,
                    &format!("{path}/{id}/setDefaultProfile"),
                    None,
                )
                .await;
            assert!(resp.status().is_success(), "{ty}: {}", resp.status());
        }
        out.push(a.get(&format!("{path}/{id}")).await);
    }
    out
}

async fn profiles_of_all_six_types_restore_to_another_token_and_tenant(backend: Backend) {
    let app = TestApp::spawn_with(backend, with_mdm).await;
    let other = TenantId::new(Uuid::new_v4());
    let (a, b) = (Caller::of(&app, app.tenant), Caller::of(&app, other));
    let source = a.new_setting(&json!({"tokenName": "source"})).await;
    let (a2, b1) = (
        a.new_setting(&json!({"tokenName": "target"})).await,
        b.new_setting(&json!({"tokenName": "other tenant"})).await,
    );
    let originals = source_profiles(&a, &source).await;
    for original in &originals {
        let ty = original["@odata.type"].as_str().unwrap();
        let made_default =
            !ty.ends_with(".enrollmentProfile") && !ty.ends_with(".depEnrollmentProfile");
        // tvOS and visionOS profiles declare no `isDefault` (their default shows through the
        // setting's navigation only).
        let has_flag = original.get("isDefault").is_some();
        if has_flag {
            assert_eq!(original["isDefault"], made_default, "{original}");
        }
        for (caller, target, strip) in [(&a, &a2, false), (&b, &b1, true)] {
            let copy = caller
                .create(&profiles_of(target), &restore_body(original, strip))
                .await;
            let id = copy["id"].as_str().unwrap();
            assert!(id.starts_with(&format!("{target}_")), "{id}");
            // GRAPH-COMPAT: `isDefault: true` in a create body is ignored: a token's default
            // changes only through setDefaultProfile (README "Write bodies").
            if has_flag {
                assert_eq!(copy["isDefault"], false, "{ty}");
            }
            assert!(
                copy["configurationEndpointUrl"]
                    .as_str()
                    .unwrap()
                    .ends_with(id),
                "{copy}"
            );
            assert_copy(
                caller,
                &format!("{}/{id}", profiles_of(target)),
                original,
                &copy,
                PROFILE_SERVER_OWNED,
            )
            .await;
        }
        // The source's own GET body, PATCHed back with other server-owned values, changes nothing.
        let item = format!(
            "{}/{}",
            profiles_of(&source),
            original["id"].as_str().unwrap()
        );
        let mut patch = restore_body(original, false);
        if has_flag {
            patch["isDefault"] = json!(!made_default);
        }
        patch["configurationEndpointUrl"] = Value::Null;
        assert_eq!(
            a.send(Method::PATCH, &item, Some(&patch)).await.status(),
            204
        );
        assert_eq!(a.get(&item).await, *original);
    }
    // Nothing leaks across tenants: the other tenant sees only its own copies.
    let theirs = b.get(&profiles_of(&b1)).await;
    assert_eq!(theirs["value"].as_array().unwrap().len(), originals.len());
    assert_graph_error(
        b.send(Method::GET, &profiles_of(&source), None).await,
        404,
        "ResourceNotFound",
    )
    .await;
}

async fn a_synced_setting_and_its_identities_restore_to_another_token_and_tenant(backend: Backend) {
    let sim = Sim::start().await;
    let app = spawn(backend, &sim, 3600).await;
    let other = TenantId::new(Uuid::new_v4());
    let (a, b) = (Caller::of(&app, app.tenant), Caller::of(&app, other));
    let source = setting_with_token(&app, &sim, "restore-org", 3).await;
    let patch = json!({"tokenName": "Reseller A", "roleScopeTagIds": ["0", "7"],
        "dataSharingConsentGranted": true});
    let item = format!("{SETTINGS}/{source}");
    assert_eq!(
        a.send(Method::PATCH, &item, Some(&patch)).await.status(),
        204
    );
    sync_ok(&app, &source).await;
    let original = a.get(&item).await;
    assert_eq!(
        (&original["tokenType"], &original["syncedDeviceCount"]),
        (&json!("dep"), &json!(3))
    );
    assert_eq!(original["appleIdentifier"], "mdm-admin@example.com");

    // The setting: a copy in the same tenant (another token) and one in another tenant.
    let mut copies = Vec::new();
    for (caller, strip) in [(&a, false), (&b, true)] {
        let copy = caller
            .create(SETTINGS, &restore_body(&original, strip))
            .await;
        let id = copy["id"].as_str().unwrap().to_owned();
        assert_ne!(id, source);
        assert_copy(
            caller,
            &format!("{SETTINGS}/{id}"),
            &original,
            &copy,
            SETTING_SERVER_OWNED,
        )
        .await;
        // No token was uploaded to the copy: it says so, whatever the body claimed.
        assert_eq!(copy["tokenType"], "none");
        assert_eq!(
            (&copy["syncedDeviceCount"], &copy["lastSyncErrorCode"]),
            (&json!(0), &json!(0))
        );
        assert_eq!(copy["lastSuccessfulSyncDateTime"], "0001-01-01T00:00:00Z");
        copies.push(id);
    }

    // The identities Apple synced, copied to the other tenant's token.
    let synced = identities(&app, &source).await;
    assert_eq!(synced.len(), 3);
    let theirs = format!("{SETTINGS}/{}/importedAppleDeviceIdentities", copies[1]);
    for original in &synced {
        assert_eq!(original["discoverySource"], "deviceEnrollmentProgram");
        let copy = b.create(&theirs, &restore_body(original, true)).await;
        assert_eq!(copy["discoverySource"], "adminImport");
        let id = copy["id"].as_str().unwrap();
        assert_copy(
            &b,
            &format!("{theirs}/{id}"),
            original,
            &copy,
            DEVICE_SERVER_OWNED,
        )
        .await;
    }
    // Within one tenant a serial belongs to one token: the copy to another token is a 409 while
    // the original exists, and a restore once it is gone.
    let mine = format!("{SETTINGS}/{}/importedAppleDeviceIdentities", copies[0]);
    let first = &synced[0];
    let resp = a
        .send(Method::POST, &mine, Some(&restore_body(first, false)))
        .await;
    assert_graph_error(resp, 409, "Conflict").await;
    let gone = format!(
        "{SETTINGS}/{source}/importedAppleDeviceIdentities/{}",
        first["id"].as_str().unwrap()
    );
    assert_eq!(a.send(Method::DELETE, &gone, None).await.status(), 204);
    let copy = a.create(&mine, &restore_body(first, false)).await;
    let id = copy["id"].as_str().unwrap();
    assert_copy(
        &a,
        &format!("{mine}/{id}"),
        first,
        &copy,
        DEVICE_SERVER_OWNED,
    )
    .await;
}

async fn the_single_token_api_restores_settings_profiles_and_identities(backend: Backend) {
    let app = TestApp::spawn_with(backend, with_mdm).await;
    let other = TenantId::new(Uuid::new_v4());
    let (a, b) = (Caller::of(&app, app.tenant), Caller::of(&app, other));
    let source = a
        .new_setting(
            &json!({"appleIdentifier": "admin@example.com", "tokenName": "source",
            "shareTokenWithSchoolDataSyncService": true}),
        )
        .await;
    let b1 = b.new_setting(&json!({})).await;
    source_profiles(&a, &source).await;
    let devices = format!("{SETTINGS}/{source}/importedAppleDeviceIdentities");
    for (serial, platform) in [("C02REST00001", "ios"), ("C02REST00002", "macOS")] {
        a.create(
            &devices,
            &json!({"serialNumber": serial, "platform": platform,
            "description": "restore me", "isSupervised": true}),
        )
        .await;
    }

    // Profiles, old shapes: the four types the old API shows, to another tenant's only token
    // and to another token of the same tenant (designated the legacy default).
    let listed = a.get(OLD_PROFILES).await["value"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(
        listed.len(),
        4,
        "tvOS and visionOS profiles have no old shape: {listed:?}"
    );
    let a2 = a.new_setting(&json!({"tokenName": "second"})).await;
    let designate = json!({"depOnboardingSettingId": a2});
    assert_eq!(
        a.send(Method::PUT, DEFAULT_TOKEN, Some(&designate))
            .await
            .status(),
        204
    );
    for original in &listed {
        for (caller, target, strip) in [(&b, &b1, true), (&a, &a2, false)] {
            let copy = caller
                .create(OLD_PROFILES, &restore_body(original, strip))
                .await;
            let id = copy["id"].as_str().unwrap();
            assert!(id.starts_with(&format!("{target}_")), "{id}");
            assert_copy(
                caller,
                &format!("{OLD_PROFILES}/{id}"),
                original,
                &copy,
                PROFILE_SERVER_OWNED,
            )
            .await;
        }
    }

    // Identities, old shape: to another tenant.
    for original in a.get(OLD_DEVICES).await["value"].as_array().unwrap() {
        let copy = b.create(OLD_DEVICES, &restore_body(original, true)).await;
        let id = copy["id"].as_str().unwrap();
        assert_ne!(copy["id"], original["id"]);
        assert_copy(
            &b,
            &format!("{OLD_DEVICES}/{id}"),
            original,
            &copy,
            DEVICE_SERVER_OWNED,
        )
        .await;
    }
    assert_eq!(
        b.get(OLD_DEVICES).await["value"].as_array().unwrap().len(),
        2
    );

    // Settings, old shape: to another tenant and as another token (last: a second token there makes the old
    // tenant-wide creates above ambiguous).
    let old_settings = |t: TenantId| format!("/beta/organization/{t}/depOnboardingSettings");
    let original = a
        .get(&format!("{}/{source}", old_settings(app.tenant)))
        .await;
    assert_eq!(original["appleIdentifier"], "admin@example.com");
    for (caller, tenant, strip) in [(&b, other, true), (&a, app.tenant, false)] {
        let copy = caller
            .create(&old_settings(tenant), &restore_body(&original, strip))
            .await;
        let id = copy["id"].as_str().unwrap();
        assert_copy(
            caller,
            &format!("{}/{id}", old_settings(tenant)),
            &original,
            &copy,
            SETTING_SERVER_OWNED,
        )
        .await;
    }
}

/// Graph's documented bodies (graph-dep-api.md §5.2, D21 placeholders): accepted, derived values
/// ignored; wrong types in them are still 400s that change nothing.
async fn documented_create_bodies_are_accepted(backend: Backend) {
    let app = TestApp::spawn_with(backend, with_mdm).await;
    let a = Caller::of(&app, app.tenant);
    let documented = json!({"@odata.type": "#microsoft.graph.depOnboardingSetting",
        "appleIdentifier": "Apple Identifier value",
        "tokenExpirationDateTime": "2016-12-31T23:59:54.0503068-08:00",
        "lastSuccessfulSyncDateTime": "2017-01-01T00:02:49.3205976-08:00",
        "lastSyncTriggeredDateTime": "2017-01-01T00:02:43.5775915-08:00",
        "shareTokenWithSchoolDataSyncService": true, "lastSyncErrorCode": 0, "tokenType": "dep",
        "tokenName": "Token Name value", "syncedDeviceCount": 0, "dataSharingConsentGranted": true,
        "roleScopeTagIds": ["Role Scope Tag Ids value"]});
    let created = a.create(SETTINGS, &documented).await;
    assert_eq!(created["appleIdentifier"], "Apple Identifier value");
    assert_eq!(created["tokenName"], "Token Name value");
    assert_eq!(
        created["roleScopeTagIds"],
        json!(["Role Scope Tag Ids value"])
    );
    assert_eq!(created["tokenType"], "none");
    assert_eq!(created["tokenExpirationDateTime"], "0001-01-01T00:00:00Z");
    let setting = created["id"].as_str().unwrap();
    let item = format!("{SETTINGS}/{setting}");
    assert_eq!(
        a.send(
            Method::PATCH,
            &item,
            Some(&json!({"tokenName": "x", "tokenType": "dep"}))
        )
        .await
        .status(),
        204
    );
    assert_eq!(a.get(&item).await["tokenType"], "none");

    // The iOS profile a config-as-code tool read elsewhere: generated URL (even null) and default.
    let path = profiles_of(setting);
    let copied = json!({"@odata.type": "#microsoft.graph.depIOSEnrollmentProfile",
        "displayName": "copied", "configurationEndpointUrl": null, "isDefault": true});
    let profile = a.create(&path, &copied).await;
    assert_eq!(profile["isDefault"], false);
    assert!(profile["configurationEndpointUrl"].is_string(), "{profile}");

    let identity = json!({"@odata.type": "#microsoft.graph.importedAppleDeviceIdentity",
        "serialNumber": "C02DOC000001", "requestedEnrollmentProfileId": null,
        "requestedEnrollmentProfileAssignmentDateTime": "2016-12-31T23:58:44.2908994-08:00",
        "isSupervised": true, "discoverySource": "deviceEnrollmentProgram",
        "createdDateTime": "2017-01-01T00:02:44.2908994-08:00",
        "lastContactedDateTime": "2016-12-31T23:58:44.2908994-08:00", "description": "Description value",
        "enrollmentState": "enrolled", "platform": "ios", "isDeleted": true});
    let devices = format!("{item}/importedAppleDeviceIdentities");
    let device = a.create(&devices, &identity).await;
    assert_eq!(
        (
            &device["discoverySource"],
            &device["enrollmentState"],
            &device["isDeleted"]
        ),
        (&json!("adminImport"), &json!("notContacted"), &json!(false))
    );
    assert_eq!(
        device["requestedEnrollmentProfileAssignmentDateTime"],
        Value::Null
    );

    assert_eq!(
        device["requestedEnrollmentProfileAssignmentDateTime"],
        Value::Null
    );
}

/// Wrong types in documented properties stay 400s and create nothing.
async fn documented_properties_of_the_wrong_type_are_400s(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = Caller::of(&app, app.tenant);
    let setting = a.new_setting(&json!({})).await;
    let path = profiles_of(&setting);
    let devices = format!("{SETTINGS}/{setting}/importedAppleDeviceIdentities");
    for (path, body, needle) in [
        (
            SETTINGS.to_owned(),
            json!({"syncedDeviceCount": "0"}),
            "Edm.Int32",
        ),
        (
            SETTINGS.to_owned(),
            json!({"tokenType": "vpp"}),
            "depTokenType",
        ),
        (
            path.clone(),
            json!({"@odata.type": "#microsoft.graph.depTvOSEnrollmentProfile", "configurationEndpointUrl": 5}),
            "Edm.String",
        ),
        (
            path.clone(),
            json!({"@odata.type": "#microsoft.graph.depMacOSEnrollmentProfile", "isDefault": null}),
            "cannot be null",
        ),
        (
            devices.clone(),
            json!({"serialNumber": "C02DOC000002", "enrollmentState": "lost"}),
            "enrollmentState",
        ),
        (
            devices.clone(),
            json!({"serialNumber": "C02DOC000002", "createdDateTime": 5}),
            "Edm.DateTimeOffset",
        ),
    ] {
        let msg = assert_graph_error(
            a.send(Method::POST, &path, Some(&body)).await,
            400,
            "BadRequest",
        )
        .await;
        assert!(msg.contains(needle), "{body}: {msg}");
    }
    assert_eq!(a.get(SETTINGS).await["value"].as_array().unwrap().len(), 1);
    assert_eq!(a.get(&path).await["value"].as_array().unwrap().len(), 0);
    assert_eq!(a.get(&devices).await["value"].as_array().unwrap().len(), 0);

    // And on PATCH, where nothing of the body is applied.
    let item = format!("{SETTINGS}/{setting}");
    let bad = json!({"tokenName": "changed", "lastSyncTriggeredDateTime": null});
    let resp = a.send(Method::PATCH, &item, Some(&bad)).await;
    let msg = assert_graph_error(resp, 400, "BadRequest").await;
    assert!(msg.contains("lastSyncTriggeredDateTime"), "{msg}");
    assert_eq!(a.get(&item).await["tokenName"], Value::Null);
}

on_both_backends!(
    profiles_of_all_six_types_restore_to_another_token_and_tenant,
    a_synced_setting_and_its_identities_restore_to_another_token_and_tenant,
    the_single_token_api_restores_settings_profiles_and_identities,
    documented_create_bodies_are_accepted,
    documented_properties_of_the_wrong_type_are_400s,
);
