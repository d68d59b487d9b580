//! The audit trail of the write families beyond settings, profiles and imports, through the API:
//! key generation, token upload and renewal, School Data Sync sharing, sync triggers, release,
//! assignment, set default, a failed sync (the gateway as actor), VPP tokens, the legacy default
//! designation and the single-token API's writes. Each accepted write records exactly one event
//! with the caller and what changed (never a secret); each refused write records nothing.

use std::collections::HashSet;

use dep_gateway::apple_sim;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::audit::{UPN, events, send, token};
use crate::helpers::{Backend, READ_WRITE, TestApp, with_mdm};
use crate::on_both_backends;
use crate::sync::{Sim, by_serial, wait_for};

const SETTINGS: &str = "/beta/deviceManagement/depOnboardingSettings";
const VPP: &str = "/beta/deviceAppManagement/vppTokens";
const DEFAULT_TOKEN: &str = "/beta/deviceManagement/depGateway.legacyDefaultToken";
const OLD_PROFILES: &str = "/beta/deviceManagement/enrollmentProfiles";
const OLD_DEVICES: &str = "/beta/deviceManagement/importedAppleDeviceIdentities";
const UNSET: &str = "0001-01-01T00:00:00Z";
/// Names of secret properties: none may appear in `modifiedProperties`.
const SECRET_NAMES: &[&str] = &[
    "DepToken",
    "Token",
    "PrivateKey",
    "ConsumerKey",
    "ConsumerSecret",
    "AccessToken",
    "AccessSecret",
    "AdminAccountPassword",
];

/// The events the test has not looked at yet. Token warnings (`Warn …`, the token-health
/// checker's own events, asserted in its tests) are left out: a failing sync may raise one at
/// any time.
struct Trail<'a> {
    app: &'a TestApp,
    seen: HashSet<String>,
}

impl<'a> Trail<'a> {
    async fn new(app: &'a TestApp) -> Self {
        let mut trail = Self {
            app,
            seen: HashSet::new(),
        };
        trail.fresh().await;
        trail
    }

    async fn fresh(&mut self) -> Vec<Value> {
        let all = events(self.app, self.app.tenant).await;
        let mut out = Vec::new();
        for e in all {
            let id = e["id"].as_str().unwrap().to_owned();
            if self.seen.insert(id) && e["activityOperationType"] != "Warn" {
                out.push(e);
            }
        }
        out
    }

    /// Exactly one new event, of `activity_type`, by the test's user, on `resource_id`, with
    /// no secret among its properties; returns it.
    async fn one(&mut self, activity_type: &str, resource_id: &str) -> Value {
        let mut new = self.fresh().await;
        assert_eq!(new.len(), 1, "one event expected: {new:#?}");
        let e = new.pop().unwrap();
        assert_eq!(e["activityType"], activity_type, "{e:#}");
        assert_eq!(e["activityResult"], "Success", "{e:#}");
        assert_eq!(e["componentName"], "Enrollment");
        assert_eq!(e["category"], "Enrollment");
        assert_eq!(e["actor"]["auditActorType"], "ItPro", "{e:#}");
        assert_eq!(e["actor"]["userPrincipalName"], UPN);
        assert!(Uuid::parse_str(e["correlationId"].as_str().unwrap()).is_ok());
        assert!(
            e["resources"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["resourceId"] == resource_id),
            "{e:#}"
        );
        no_secrets(&e);
        e
    }

    /// Nothing new since the last look.
    async fn none(&mut self, after: &str) {
        let new = self.fresh().await;
        assert!(new.is_empty(), "{after} recorded {new:#?}");
    }
}

fn no_secrets(e: &Value) {
    for r in e["resources"].as_array().unwrap() {
        assert!(!r["auditResourceType"].as_str().unwrap().is_empty());
        for p in r["modifiedProperties"].as_array().unwrap() {
            let name = p["displayName"].as_str().unwrap();
            assert!(
                !SECRET_NAMES.iter().any(|s| s.eq_ignore_ascii_case(name)),
                "secret property {name} in {e:#}"
            );
        }
    }
    let text = e.to_string();
    for needle in ["PRIVATE KEY", "SECRET-", "consumer_secret", "access_secret"] {
        assert!(!text.contains(needle), "{needle} in {e:#}");
    }
}

/// The change of property `name` on the first resource: (old, new).
fn change(e: &Value, name: &str) -> (Value, Value) {
    let p = e["resources"][0]["modifiedProperties"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["displayName"] == name)
        .unwrap_or_else(|| panic!("no {name} in {e:#}"));
    (p["oldValue"].clone(), p["newValue"].clone())
}

async fn post(app: &TestApp, rw: &str, path: &str, body: &Value) -> (u16, Value) {
    send(app, rw, Method::POST, path, Some(body)).await
}

/// Key, upload, refused uploads, renewal, SDS sharing, a sync trigger and a successful sync
/// (routine: no event), a failed sync (the gateway's event), release, assignment, set default.
async fn token_lifecycle_writes_record_one_event_each(backend: Backend) {
    let sim = Sim::start().await;
    let url = sim.url();
    let app = TestApp::spawn_with(backend, move |s| {
        s.apple_base_url = url;
        s.sync_interval_secs = 0;
        with_mdm(s);
    })
    .await;
    let rw = token(&app, app.tenant, &[READ_WRITE]);
    let (s, created) = post(&app, &rw, SETTINGS, &json!({})).await;
    assert_eq!(s, 201);
    let id = created["id"].as_str().unwrap().to_owned();
    let one = format!("{SETTINGS}/{id}");
    let mut trail = Trail::new(&app).await;

    // Key generation: the certificate is public, the private key never appears.
    let (s, key) = post(
        &app,
        &rw,
        &format!("{one}/generateEncryptionPublicKey"),
        &json!({}),
    )
    .await;
    assert_eq!(s, 200, "{key}");
    let cert = key["value"].as_str().unwrap().to_owned();
    trail.one("Action DepOnboardingSetting", &id).await;
    let (s, _) = post(
        &app,
        &rw,
        &format!("{SETTINGS}/{}/generateEncryptionPublicKey", Uuid::new_v4()),
        &json!({}),
    )
    .await;
    assert_eq!(s, 404);
    trail.none("a key for an unknown setting").await;

    // Upload: the Apple ID and expiry, never the token or Apple's OAuth credentials.
    let upload = format!("{one}/uploadDepToken");
    let p7m = apple_sim::make_dep_token(&sim.url(), "audited", 3, &cert)
        .await
        .unwrap();
    let body = json!({"appleId": "mdm-admin@example.com", "depToken": p7m});
    let (s, answer) = post(&app, &rw, &upload, &body).await;
    assert_eq!(s, 204, "{answer}");
    let e = trail.one("Action DepOnboardingSetting", &id).await;
    assert_eq!(
        e["activity"],
        "deviceManagement.depOnboardingSetting_uploadDepToken"
    );
    assert_eq!(
        change(&e, "AppleIdentifier"),
        (Value::Null, json!("mdm-admin@example.com"))
    );
    assert_eq!(change(&e, "TokenName"), (Value::Null, json!("audited")));
    let token_line = p7m.lines().nth(2).unwrap_or(&p7m).to_owned();
    assert!(!e.to_string().contains(&token_line), "{e:#}");
    let garbage = json!({"appleId": "a@example.com", "depToken": "not a token"});
    assert_eq!(post(&app, &rw, &upload, &garbage).await.0, 400);
    let other = apple_sim::make_dep_token(&sim.url(), "another-server", 1, &cert)
        .await
        .unwrap();
    let (s, _) = post(
        &app,
        &rw,
        &upload,
        &json!({"appleId": "a@example.com", "depToken": other}),
    )
    .await;
    assert!((400..500).contains(&s), "{s}");
    trail.none("refused uploads").await;

    // Renewal: the same server's new token, one event.
    let renewed = apple_sim::make_dep_token(&sim.url(), "audited", 3, &cert)
        .await
        .unwrap();
    let body = json!({"appleId": "renewer@example.com", "depToken": renewed});
    assert_eq!(post(&app, &rw, &upload, &body).await.0, 204);
    let e = trail.one("Action DepOnboardingSetting", &id).await;
    assert_eq!(
        change(&e, "AppleIdentifier"),
        (json!("mdm-admin@example.com"), json!("renewer@example.com"))
    );

    share_and_sync(&app, &rw, &id, &mut trail).await;
    failed_sync_is_the_gateways_event(&app, &sim, &rw, &id, &mut trail).await;
    release_assign_and_default(&app, &rw, &id, &mut trail).await;
}

/// School Data Sync sharing, then a sync: the trigger is the caller's write; the run that
/// succeeds is routine and records nothing.
async fn share_and_sync(app: &TestApp, rw: &str, id: &str, trail: &mut Trail<'_>) {
    let one = format!("{SETTINGS}/{id}");
    // School Data Sync.
    let share = format!("{one}/shareForSchoolDataSyncService");
    assert_eq!(post(app, rw, &share, &json!({})).await.0, 204);
    let e = trail.one("Action DepOnboardingSetting", id).await;
    assert_eq!(
        change(&e, "ShareTokenWithSchoolDataSyncService"),
        (json!("false"), json!("true"))
    );
    let missing = format!(
        "{SETTINGS}/{}/shareForSchoolDataSyncService",
        Uuid::new_v4()
    );
    assert_eq!(post(app, rw, &missing, &json!({})).await.0, 404);
    trail.none("sharing an unknown setting").await;

    // A trigger is the caller's write; the run that succeeds is routine and records nothing.
    let sync = format!("{one}/syncWithAppleDeviceEnrollmentProgram");
    assert_eq!(post(app, rw, &sync, &json!({})).await.0, 204);
    wait_for(app, id, |s| {
        s["lastSuccessfulSyncDateTime"] != UNSET && s["lastSyncErrorCode"] == 0
    })
    .await;
    let e = trail.one("Action DepOnboardingSetting", id).await;
    assert!(change(&e, "LastSyncTriggeredDateTime").1.is_string());
}

/// Apple refusing a sync (terms not signed): the trigger is the caller's event, the failure the
/// gateway's.
async fn failed_sync_is_the_gateways_event(
    app: &TestApp,
    sim: &Sim,
    rw: &str,
    id: &str,
    trail: &mut Trail<'_>,
) {
    let terms = "/admin/servers/audited/terms";
    sim.send(Method::POST, terms, &json!({"signed": false}))
        .await;
    let sync = format!("{SETTINGS}/{id}/syncWithAppleDeviceEnrollmentProgram");
    assert_eq!(post(app, rw, &sync, &json!({})).await.0, 204);
    wait_for(app, id, |s| s["lastSyncErrorCode"] == 403).await;
    let new = trail.fresh().await;
    assert_eq!(new.len(), 2, "{new:#?}");
    let (trigger, failure): (Vec<&Value>, Vec<&Value>) = new
        .iter()
        .partition(|e| e["actor"]["auditActorType"] == "ItPro");
    assert_eq!(trigger[0]["activityType"], "Action DepOnboardingSetting");
    let e = failure[0];
    assert_eq!(e["activityType"], "Sync DepOnboardingSetting", "{e:#}");
    assert_eq!(e["activityResult"], "Failure");
    assert_eq!(e["componentName"], "Enrollment");
    assert_eq!(e["actor"]["auditActorType"], "Service");
    assert_eq!(e["actor"]["applicationDisplayName"], "dep-gateway");
    assert_eq!(e["actor"]["userPrincipalName"], Value::Null);
    assert_eq!(e["resources"][0]["resourceId"], id);
    assert_eq!(
        e["resources"][0]["auditResourceType"],
        "DepOnboardingSetting"
    );
    assert_eq!(change(e, "LastSyncErrorCode"), (json!("0"), json!("403")));
    assert!(Uuid::parse_str(e["correlationId"].as_str().unwrap()).is_ok());
    no_secrets(e);
    sim.send(Method::POST, terms, &json!({"signed": true}))
        .await;
}

async fn release_assign_and_default(app: &TestApp, rw: &str, id: &str, trail: &mut Trail<'_>) {
    let one = format!("{SETTINGS}/{id}");
    let serials: Vec<String> = by_serial(app, id).await.into_keys().collect();
    let devices = by_serial(app, id).await;
    let release = format!("{one}/releaseAppleDevices");
    let unknown = json!({"depToken": "x", "deviceSerialNumbers": ["NOTMINE00001"]});
    assert_eq!(post(app, rw, &release, &unknown).await.0, 400);
    trail.none("a refused release").await;
    let body = json!({"depToken": "x", "deviceSerialNumbers": [serials[0].clone()]});
    assert_eq!(post(app, rw, &release, &body).await.0, 204);
    let device_id = devices[&serials[0]]["id"].as_str().unwrap();
    let e = trail
        .one("Action ImportedAppleDeviceIdentity", device_id)
        .await;
    assert_eq!(e["resources"][0]["displayName"], serials[0].as_str());
    assert_eq!(change(&e, "IsDeleted"), (json!("false"), json!("true")));
    assert_eq!(
        e["activity"],
        "deviceManagement.depOnboardingSetting_releaseAppleDevices"
    );

    let profile = json!({"@odata.type": "#microsoft.graph.depIOSEnrollmentProfile",
        "displayName": "Phones"});
    let (s, created) = post(app, rw, &format!("{one}/enrollmentProfiles"), &profile).await;
    assert_eq!(s, 201, "{created}");
    let pid = created["id"].as_str().unwrap().to_owned();
    trail.one("Create EnrollmentProfile", &pid).await;
    let profile_path = format!("{one}/enrollmentProfiles/{pid}");

    let assign = format!("{profile_path}/updateDeviceProfileAssignment");
    let bad = json!({"deviceIds": ["NOTMINE00001"]});
    assert_eq!(post(app, rw, &assign, &bad).await.0, 400);
    trail.none("a refused assignment").await;
    let body = json!({"deviceIds": [serials[1].clone()]});
    assert_eq!(post(app, rw, &assign, &body).await.0, 204);
    let device_id = devices[&serials[1]]["id"].as_str().unwrap();
    let e = trail
        .one("Action ImportedAppleDeviceIdentity", device_id)
        .await;
    assert_eq!(e["resources"][0]["displayName"], serials[1].as_str());
    let (before, requested) = change(&e, "RequestedEnrollmentProfileId");
    assert_eq!(before, Value::Null);
    assert!(pid.ends_with(requested.as_str().unwrap()), "{e:#}");

    let default = format!("{profile_path}/setDefaultProfile");
    assert_eq!(post(app, rw, &default, &json!({})).await.0, 204);
    let e = trail.one("Action EnrollmentProfile", &pid).await;
    assert_eq!(change(&e, "IsDefault"), (json!("false"), json!("true")));
    let missing = format!(
        "{one}/enrollmentProfiles/{}/setDefaultProfile",
        Uuid::new_v4()
    );
    assert_eq!(post(app, rw, &missing, &json!({})).await.0, 404);
    trail.none("a default for an unknown profile").await;
}

/// The content of a `.vpptoken` file whose inner token is marked `SECRET-`.
fn vpptoken(org: &str) -> String {
    use base64::Engine;
    let inner = format!("SECRET-{}", Uuid::new_v4().simple());
    base64::engine::general_purpose::STANDARD.encode(
        json!({"token": inner, "expDate": "2031-05-06T10:15:30-0700", "orgName": org}).to_string(),
    )
}

async fn vpp_tokens_record_create_renewal_and_delete(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rw = token(&app, app.tenant, &[READ_WRITE]);
    let mut trail = Trail::new(&app).await;
    let content = vpptoken("Contoso");
    let body = json!({"token": content, "displayName": "Books", "appleId": "vpp@contoso.com"});
    let (s, created) = post(&app, &rw, VPP, &body).await;
    assert_eq!(s, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let e = trail.one("Create VppToken", &id).await;
    assert_eq!(e["resources"][0]["displayName"], "Books");
    assert_eq!(
        change(&e, "OrganizationName"),
        (Value::Null, json!("Contoso"))
    );
    assert!(!e.to_string().contains(&content), "{e:#}");
    // The same token again (409) and a bad one (400) record nothing.
    assert_eq!(post(&app, &rw, VPP, &body).await.0, 409);
    assert_eq!(
        post(&app, &rw, VPP, &json!({"token": "not base64!"}))
            .await
            .0,
        400
    );
    trail.none("refused VPP creates").await;

    let one = format!("{VPP}/{id}");
    let renewal = json!({"token": vpptoken("Contoso"), "displayName": "Books 2"});
    let (s, _) = send(&app, &rw, Method::PATCH, &one, Some(&renewal)).await;
    assert_eq!(s, 204);
    let e = trail.one("Patch VppToken", &id).await;
    assert_eq!(
        change(&e, "DisplayName"),
        (json!("Books"), json!("Books 2"))
    );
    let (s, _) = send(
        &app,
        &rw,
        Method::PATCH,
        &one,
        Some(&json!({"displayName": 7})),
    )
    .await;
    assert_eq!(s, 400);
    trail.none("a refused VPP patch").await;

    let (s, _) = send(&app, &rw, Method::DELETE, &one, None).await;
    assert_eq!(s, 204);
    let e = trail.one("Delete VppToken", &id).await;
    assert_eq!(change(&e, "DisplayName"), (json!("Books 2"), Value::Null));
    let (s, _) = send(&app, &rw, Method::DELETE, &one, None).await;
    assert_eq!(s, 404);
    trail.none("deleting a deleted VPP token").await;
}

async fn legacy_designation_and_single_token_writes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rw = token(&app, app.tenant, &[READ_WRITE]);
    let mut ids = Vec::new();
    for name in ["First", "Second"] {
        let (s, created) = post(&app, &rw, SETTINGS, &json!({"tokenName": name})).await;
        assert_eq!(s, 201);
        ids.push(created["id"].as_str().unwrap().to_owned());
    }
    let mut trail = Trail::new(&app).await;

    // Designation: null → id, refused for an unknown id, id → null, and clearing nothing is no
    // change.
    let designate = |id: Value| json!({"depOnboardingSettingId": id});
    let (s, _) = send(
        &app,
        &rw,
        Method::PUT,
        DEFAULT_TOKEN,
        Some(&designate(json!(ids[1]))),
    )
    .await;
    assert_eq!(s, 204);
    let e = trail.one("Action DepOnboardingSetting", &ids[1]).await;
    assert_eq!(
        change(&e, "LegacyDefaultToken"),
        (Value::Null, json!(ids[1]))
    );
    assert_eq!(e["activity"], "depGateway.legacyDefaultToken_Set");
    let unknown = designate(json!(Uuid::new_v4().to_string()));
    let (s, _) = send(&app, &rw, Method::PUT, DEFAULT_TOKEN, Some(&unknown)).await;
    assert_eq!(s, 404);
    let (s, _) = send(
        &app,
        &rw,
        Method::PATCH,
        DEFAULT_TOKEN,
        Some(&designate(json!(5))),
    )
    .await;
    assert_eq!(s, 400);
    trail.none("refused designations").await;

    // The single-token API's writes land on the designated token, each with its event.
    let old_profile = json!({"@odata.type": "#microsoft.graph.depEnrollmentProfile",
        "displayName": "Old"});
    let (s, created) = post(&app, &rw, OLD_PROFILES, &old_profile).await;
    assert_eq!(s, 201, "{created}");
    let pid = created["id"].as_str().unwrap().to_owned();
    let e = trail.one("Create EnrollmentProfile", &pid).await;
    assert_eq!(
        e["activity"],
        "deviceManagement.legacy_CreateEnrollmentProfiles"
    );
    assert_eq!(e["resources"][0]["displayName"], "Old");
    let bad = json!({"@odata.type": "#microsoft.graph.depEnrollmentProfile", "displayName": 5});
    assert_eq!(post(&app, &rw, OLD_PROFILES, &bad).await.0, 400);
    trail.none("a refused single-token create").await;
    let import = json!({"importedAppleDeviceIdentities": [{"serialNumber": "C02LEGACY001", "platform": "ios"}],
        "overwriteImportedDeviceIdentities": false});
    let path = format!("{OLD_DEVICES}/importAppleDeviceIdentityList");
    let (s, body) = post(&app, &rw, &path, &import).await;
    assert_eq!(s, 200, "{body}");
    let new = trail.fresh().await;
    assert_eq!(new.len(), 1, "{new:#?}");
    assert_eq!(new[0]["activityType"], "Action ImportedAppleDeviceIdentity");
    assert_eq!(new[0]["resources"][0]["displayName"], "C02LEGACY001");
    assert_eq!(new[0]["actor"]["userPrincipalName"], UPN);

    let (s, _) = send(&app, &rw, Method::DELETE, DEFAULT_TOKEN, None).await;
    assert_eq!(s, 204);
    let e = trail.one("Action DepOnboardingSetting", &ids[1]).await;
    assert_eq!(
        change(&e, "LegacyDefaultToken"),
        (json!(ids[1]), Value::Null)
    );
    let (s, _) = send(&app, &rw, Method::DELETE, DEFAULT_TOKEN, None).await;
    assert_eq!(s, 204);
    trail.none("clearing an absent designation").await;
}

on_both_backends!(
    token_lifecycle_writes_record_one_event_each,
    vpp_tokens_record_create_renewal_and_delete,
    legacy_designation_and_single_token_writes,
);
