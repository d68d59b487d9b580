//! Hardening at the edges: text no database can store (NUL) refused alike on both backends,
//! a lost or frozen database answered with 503 within a bound, and errors of the HTTP layer in
//! Graph's envelope.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_graph_error};
use crate::on_both_backends;

const SETTINGS: &str = "/beta/deviceManagement/depOnboardingSettings";

/// Asserts a Graph 400 whose message names `place` and the NUL.
async fn assert_nul_refused(resp: reqwest::Response, case: &str, place: &str) {
    let message = assert_graph_error(resp, 400, "BadRequest").await;
    assert!(message.contains("U+0000"), "{case}: {message}");
    assert!(
        message.contains(place),
        "{case}: {message} does not name {place}"
    );
}

async fn nul_is_refused_everywhere_with_a_graph_400(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let setting = app.create_setting(&json!({"tokenName": "nul"})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let identities = format!("{SETTINGS}/{setting}/importedAppleDeviceIdentities");
    let gets = [
        (
            format!("{SETTINGS}?$filter=tokenName eq '%00'"),
            "'$filter'",
        ),
        (
            format!("{SETTINGS}?%24filter=tokenName%20eq%20'a%00b'"),
            "'$filter'",
        ),
        (format!("{identities}?$search=%00"), "'$search'"),
        (format!("{SETTINGS}?$orderby=tokenName%00"), "'$orderby'"),
        (format!("{SETTINGS}?$skiptoken=%00"), "'$skiptoken'"),
        (format!("{SETTINGS}/%00"), "path"),
        (format!("{SETTINGS}('%00')"), "path"),
        ("/beta/deviceAppManagement/vppTokens/%00".to_owned(), "path"),
        (format!("{identities}/%00"), "path"),
    ];
    for (path, place) in &gets {
        assert_nul_refused(app.get(path).await, path, place).await;
    }
    let writes = [
        (
            Method::POST,
            SETTINGS.to_owned(),
            json!({"tokenName": "a\u{0}b"}),
            "'tokenName'",
        ),
        (
            Method::PATCH,
            format!("{SETTINGS}/{setting}"),
            json!({"tokenName": "a\u{0}b"}),
            "'tokenName'",
        ),
        (
            Method::POST,
            identities.clone(),
            json!({"serialNumber": "C02NUL000001", "platform": "ios", "description": "x\u{0}"}),
            "'description'",
        ),
        (
            Method::POST,
            format!("{identities}/importAppleDeviceIdentityList"),
            json!({"importedAppleDeviceIdentities": [
                {"serialNumber": "C02NUL000002", "platform": "ios"},
                {"serialNumber": "C02NUL000003", "platform": "ios", "description": "\u{0}"}],
                "overwriteImportedDeviceIdentities": false}),
            "'importedAppleDeviceIdentities[1].description'",
        ),
        (
            Method::PUT,
            "/beta/deviceManagement/depGateway.legacyDefaultToken".to_owned(),
            json!({"depOnboardingSettingId": "\u{0}"}),
            "'depOnboardingSettingId'",
        ),
        (
            Method::POST,
            SETTINGS.to_owned(),
            json!({"a\u{0}": 1}),
            "'a\\u0000'",
        ),
    ];
    for (method, path, body, place) in &writes {
        let resp = app
            .request(method.clone(), path)
            .json(body)
            .send()
            .await
            .unwrap();
        assert_nul_refused(resp, &format!("{method} {path}"), place).await;
    }
    // Nothing was stored: the setting keeps its name and holds no identity.
    let stored: Value = app
        .get(&format!("{SETTINGS}/{setting}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stored["tokenName"], "nul");
    let listed: Value = app.get(&identities).await.json().await.unwrap();
    assert_eq!(listed["value"], json!([]), "{listed}");

    // `$batch`: each item is refused on its own with a Graph 400; its neighbours still run.
    let batch = json!({"requests": [
        {"id": "1", "method": "GET", "url": "/deviceManagement/depOnboardingSettings/%00"},
        {"id": "2", "method": "GET", "url": "/deviceManagement/depOnboardingSettings?$filter=tokenName eq '%00'"},
        {"id": "3", "method": "POST", "url": "/deviceManagement/depOnboardingSettings",
         "headers": {"Content-Type": "application/json"}, "body": {"tokenName": "a\u{0}"}},
        {"id": "4", "method": "PATCH", "url": format!("/deviceManagement/depOnboardingSettings/{setting}"),
         "headers": {"Content-Type": "application/json"},
         // base64 of {"tokenName":"\u0000"}: the decoded body is checked too.
         "body": base64_json(&json!({"tokenName": "\u{0}"}))},
        {"id": "5", "method": "GET", "url": "/deviceManagement/depOnboardingSettings"},
    ]});
    let resp = app.post_json("/beta/$batch", &batch).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    let responses = body["responses"].as_array().unwrap();
    for (id, place) in [
        ("1", "path"),
        ("2", "'$filter'"),
        ("3", "'tokenName'"),
        ("4", "'tokenName'"),
    ] {
        let item = responses.iter().find(|r| r["id"] == id).unwrap();
        assert_eq!(item["status"], 400, "{item}");
        assert_eq!(item["body"]["error"]["code"], "BadRequest", "{item}");
        let message = item["body"]["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("U+0000") && message.contains(place),
            "{item}"
        );
    }
    let fine = responses.iter().find(|r| r["id"] == "5").unwrap();
    assert_eq!(fine["status"], 200, "{fine}");
    // An escaped backslash is text like any other, not a NUL.
    let resp = app
        .post_json(SETTINGS, &json!({"tokenName": "back\\u0000slash"}))
        .await;
    assert_eq!(resp.status(), 201);
}

fn base64_json(value: &Value) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(value.to_string())
}

on_both_backends!(nul_is_refused_everywhere_with_a_graph_400);
