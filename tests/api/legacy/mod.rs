//! The retired single-token API, replayed against tenants with zero, one and several tokens:
//! the documented old requests, the old PowerShell sample calls, an old script's whole sequence
//! against the simulator, what the old calls did seen through the new API (and back), the
//! ambiguous cases, the switch, and the usual negative cases.

mod flows;
mod refusals;
mod shapes;

use std::collections::HashSet;
use std::time::Duration;

use dep_gateway::apple_sim::{self, SimConfig, SimHandle};
use serde_json::{Value, json};

use crate::helpers::TestApp;

const SETTINGS: &str = "/beta/deviceManagement/depOnboardingSettings";
const PROFILES: &str = "/beta/deviceManagement/enrollmentProfiles";
const DEVICES: &str = "/beta/deviceManagement/importedAppleDeviceIdentities";
const DEFAULT_TOKEN: &str = "/beta/deviceManagement/depGateway.legacyDefaultToken";
const UNSET: &str = "0001-01-01T00:00:00Z";

pub async fn simulator() -> SimHandle {
    apple_sim::start(SimConfig {
        bind: "127.0.0.1:0".into(),
        state_file: None,
    })
    .await
    .expect("simulator")
}

pub async fn json_of(resp: reqwest::Response, status: u16) -> Value {
    assert_eq!(resp.status().as_u16(), status, "unexpected status");
    resp.json().await.expect("json body")
}

pub async fn get_json(app: &TestApp, path: &str) -> Value {
    json_of(app.get(path).await, 200).await
}

pub async fn new_setting(app: &TestApp) -> String {
    app.create_setting(&json!({})).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Every item of a collection, following `@odata.nextLink`; also returns the number of pages.
pub async fn all_pages(app: &TestApp, path: &str) -> (Vec<Value>, usize) {
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

pub fn serials(items: &[Value]) -> HashSet<String> {
    items
        .iter()
        .map(|d| d["serialNumber"].as_str().unwrap().to_owned())
        .collect()
}

pub async fn import(app: &TestApp, path: &str, serials: &[&str]) -> Value {
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
pub fn doc18_profile() -> Value {
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

/// Polls the setting through the new API (15 s at most) until a sync succeeded.
pub async fn wait_synced(app: &TestApp, setting: &str) -> Value {
    let path = format!("{SETTINGS}/{setting}");
    let s = crate::helpers::eventually("the sync to finish", Duration::from_secs(15), || async {
        let s = get_json(app, &path).await;
        (s["lastSuccessfulSyncDateTime"] != UNSET || s["lastSyncErrorCode"] != 0).then_some(s)
    })
    .await;
    assert_eq!(s["lastSyncErrorCode"], 0, "{s}");
    s
}
