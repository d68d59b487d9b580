//! The small Graph-fidelity points of issue 13 item 6, each as Graph answers it: `/v1.0`, the
//! singleton's `id`, a cast entity's `@odata.context`, `$count` in any case, `HEAD`, the service
//! document, unknown action parameters, and importing a serial Apple already synced.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_graph_error};
use crate::on_both_backends;
use crate::sync::{Sim, by_serial, setting_with_token, spawn, sync_ok};

const SETTINGS: &str = "/beta/deviceManagement/depOnboardingSettings";

async fn body(resp: reqwest::Response) -> Value {
    let status = resp.status();
    let text = resp.text().await.unwrap();
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).unwrap()
}

async fn v1_0_answers_as_graph_does_for_beta_only_segments(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_setting(&json!({"tokenName": "v1"})).await;
    for (path, segment) in [
        (
            "/v1.0/deviceManagement/depOnboardingSettings",
            "depOnboardingSettings",
        ),
        (
            "/v1.0/deviceManagement/depOnboardingSettings/x/enrollmentProfiles",
            "depOnboardingSettings",
        ),
        (
            "/V1.0/deviceManagement/depOnboardingSettings('x')",
            "depOnboardingSettings",
        ),
        ("/v1.0/deviceAppManagement/vppTokens", "vppTokens"),
    ] {
        let message = assert_graph_error(app.get(path).await, 400, "BadRequest").await;
        assert_eq!(
            message,
            format!("Resource not found for the segment '{segment}'."),
            "{path}"
        );
    }
    // What Graph v1.0 has but the gateway does not serve is not claimed missing.
    let message = assert_graph_error(
        app.get("/v1.0/deviceManagement").await,
        501,
        "NotImplemented",
    )
    .await;
    assert!(message.contains("/beta"), "{message}");
    // v1.0 still wants a token; an unknown version is still Graph's 404.
    let resp = app
        .client
        .get(format!(
            "{}/v1.0/deviceManagement/depOnboardingSettings",
            app.base
        ))
        .send()
        .await
        .unwrap();
    assert_graph_error(resp, 401, "InvalidAuthenticationToken").await;
    let message = assert_graph_error(
        app.get("/v2.0/deviceManagement").await,
        404,
        "ResourceNotFound",
    )
    .await;
    assert!(message.contains("Invalid version"), "{message}");
    // Nothing was created or changed through v1.0.
    assert_eq!(
        app.get(&format!("{SETTINGS}/$count"))
            .await
            .text()
            .await
            .unwrap(),
        "1"
    );
}

async fn device_management_has_a_stable_id(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let first = body(app.get("/beta/deviceManagement").await).await;
    assert_eq!(first["id"], app.tenant.to_string(), "{first}");
    let again = body(app.get("/beta/deviceManagement").await).await;
    assert_eq!(again["id"], first["id"]);
    let selected = body(app.get("/beta/deviceManagement?$select=id").await).await;
    assert_eq!(selected["id"], first["id"], "{selected}");
    assert!(selected.get("maximumDepTokens").is_none(), "{selected}");
    // Another tenant's singleton has its own id.
    let other = dep_gateway::domain::ids::TenantId::new(uuid::Uuid::new_v4());
    let resp = app
        .client
        .get(format!("{}/beta/deviceManagement", app.base))
        .bearer_auth(app.token_for(other, &[crate::helpers::READ]))
        .send()
        .await
        .unwrap();
    assert_eq!(body(resp).await["id"], other.to_string());
}

async fn a_cast_entity_names_the_cast_in_its_context(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let setting = app.create_setting(&json!({"tokenName": "cast"})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let profiles = format!("{SETTINGS}/{setting}/enrollmentProfiles");
    let created = app
        .post_json(
            &profiles,
            &json!({"@odata.type": "#microsoft.graph.depIOSEnrollmentProfile", "displayName": "i"}),
        )
        .await;
    assert_eq!(created.status(), 201);
    let pid = created.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let cast = "microsoft.graph.depIOSEnrollmentProfile";
    let got = body(app.get(&format!("{profiles}/{pid}/{cast}")).await).await;
    let context = got["@odata.context"].as_str().unwrap();
    assert!(
        context.ends_with(&format!(
            "/beta/$metadata#deviceManagement/depOnboardingSettings('{setting}')/enrollmentProfiles/{cast}/$entity"
        )),
        "{context}"
    );
    let selected = body(
        app.get(&format!("{profiles}/{pid}/{cast}?$select=displayName"))
            .await,
    )
    .await;
    let context = selected["@odata.context"].as_str().unwrap();
    assert!(
        context.ends_with(&format!("/enrollmentProfiles/{cast}(displayName)/$entity")),
        "{context}"
    );
    // Uncast, the context stays the set's.
    let plain = body(app.get(&format!("{profiles}/{pid}")).await).await;
    assert!(
        plain["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("/enrollmentProfiles/$entity")
    );
    // A cast to another type is still a 404.
    let resp = app
        .get(&format!(
            "{profiles}/{pid}/microsoft.graph.depMacOSEnrollmentProfile"
        ))
        .await;
    assert_graph_error(resp, 404, "ResourceNotFound").await;
}

async fn count_segments_and_options_are_case_insensitive(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_setting(&json!({"tokenName": "a"})).await;
    app.create_setting(&json!({"tokenName": "b"})).await;
    for spelling in ["$count", "$COUNT", "$Count", "%24COUNT"] {
        let resp = app.get(&format!("{SETTINGS}/{spelling}")).await;
        assert_eq!(resp.status(), 200, "{spelling}");
        assert_eq!(resp.text().await.unwrap(), "2", "{spelling}");
    }
    let filtered = app
        .get(&format!("{SETTINGS}/$COUNT?$FILTER=tokenName eq 'a'"))
        .await;
    assert_eq!(filtered.text().await.unwrap(), "1");
    let listed = body(app.get(&format!("{SETTINGS}?$COUNT=true&$TOP=1")).await).await;
    assert_eq!(listed["@odata.count"], 2, "{listed}");
    // `$counts` is still no segment.
    let resp = app.get(&format!("{SETTINGS}/$counts")).await;
    assert_eq!(resp.status(), 400);
}

/// A raw `HEAD` exchange: the status line, the headers and whatever follows them.
fn raw_head(app: &TestApp, path: &str) -> (String, String) {
    let addr = app.base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "HEAD {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
        app.token()
    )
    .unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    let (head, rest) = raw.split_once("\r\n\r\n").unwrap();
    (head.to_owned(), rest.to_owned())
}

async fn head_is_a_get_without_a_body(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let setting = app.create_setting(&json!({"tokenName": "head"})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for path in [
        SETTINGS.to_owned(),
        format!("{SETTINGS}/{setting}"),
        format!("{SETTINGS}/{setting}/enrollmentProfiles"),
        "/beta/deviceManagement".to_owned(),
    ] {
        let (head, rest) = raw_head(&app, &path);
        assert!(head.starts_with("HTTP/1.1 200"), "{path}: {head}");
        assert!(
            head.to_ascii_lowercase()
                .contains("content-type: application/json"),
            "{head}"
        );
        assert!(head.to_ascii_lowercase().contains("request-id:"), "{head}");
        assert_eq!(rest, "", "{path}: a HEAD answer carries no body");
    }
    let (head, rest) = raw_head(
        &app,
        &format!("{SETTINGS}/00000000-0000-0000-0000-000000000000"),
    );
    assert!(head.starts_with("HTTP/1.1 404"), "{head}");
    assert_eq!(rest, "");
    // HEAD is GET's twin only: an action answers 405 as before.
    let (head, _) = raw_head(
        &app,
        &format!("{SETTINGS}/{setting}/shareForSchoolDataSyncService"),
    );
    assert!(head.starts_with("HTTP/1.1 405"), "{head}");
    // Through an HTTP client too.
    let answer = app.request(Method::HEAD, SETTINGS).send().await.unwrap();
    assert_eq!(answer.status(), 200);
}

async fn the_service_root_serves_the_service_document(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for path in ["/beta/", "/beta", "/BETA/"] {
        // Anonymous, like $metadata.
        let resp = app
            .client
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        let doc = body(resp).await;
        assert_eq!(
            doc["@odata.context"],
            format!("{}/beta/$metadata", app.base),
            "{doc}"
        );
        let members = doc["value"].as_array().unwrap();
        for name in ["deviceManagement", "deviceAppManagement"] {
            assert!(
                members.contains(&json!({"name": name, "kind": "Singleton", "url": name})),
                "{doc}"
            );
        }
    }
    let resp = app.post_json("/beta/", &json!({})).await;
    assert_graph_error(resp, 405, "Request_BadRequest").await;
}

async fn unknown_action_parameters_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let setting = app.create_setting(&json!({"tokenName": "params"})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for action in [
        "syncWithAppleDeviceEnrollmentProgram",
        "shareForSchoolDataSyncService",
        "generateEncryptionPublicKey",
        "microsoft.graph.shareForSchoolDataSyncService",
    ] {
        let resp = app
            .post_json(&format!("{SETTINGS}/{setting}/{action}"), &json!({"x": 1}))
            .await;
        let message = assert_graph_error(resp, 400, "BadRequest").await;
        assert!(message.contains("'x'"), "{action}: {message}");
    }
    // The collection-bound legacy action too.
    let resp = app
        .post_json(
            &format!("{SETTINGS}/syncWithAppleDeviceEnrollmentProgram"),
            &json!({"x": 1}),
        )
        .await;
    assert!(
        assert_graph_error(resp, 400, "BadRequest")
            .await
            .contains("'x'")
    );
    // Nothing changed; annotations, `{}`, `null` and no body still go through.
    let s = body(app.get(&format!("{SETTINGS}/{setting}")).await).await;
    assert_eq!(s["shareTokenWithSchoolDataSyncService"], false, "{s}");
    let share = format!("{SETTINGS}/{setting}/shareForSchoolDataSyncService");
    assert_eq!(app.post_json(&share, &json!({})).await.status(), 204);
    assert_eq!(
        app.post_json(&share, &json!({"@odata.type": "x"}))
            .await
            .status(),
        204
    );
    assert_eq!(
        app.request(Method::POST, &share)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    // Malformed JSON stays malformed.
    let resp = app
        .request(Method::POST, &share)
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_graph_error(resp, 400, "BadRequest").await;
}

async fn importing_a_synced_serial_returns_the_synced_record(backend: Backend) {
    let sim = Sim::start().await;
    let app = spawn(backend, &sim, 0).await;
    let setting = setting_with_token(&app, &sim, "import-synced", 6).await;
    sync_ok(&app, &setting).await;
    let synced = by_serial(&app, &setting).await;
    let (serial, record) = synced
        .iter()
        .find(|(_, d)| d["platform"] != "unknown")
        .expect("a synced device with a platform");
    let import =
        format!("{SETTINGS}/{setting}/importedAppleDeviceIdentities/importAppleDeviceIdentityList");
    let results = body(
        app.post_json(
            &import,
            &json!({"importedAppleDeviceIdentities": [{"serialNumber": serial.to_lowercase()},
                {"serialNumber": "C02NEW000001"}],
                "overwriteImportedDeviceIdentities": false}),
        )
        .await,
    )
    .await;
    let kept = &results["value"][0];
    assert_eq!(kept["status"], false, "{results}");
    assert_eq!(kept["id"], record["id"], "{results}");
    assert_eq!(kept["platform"], record["platform"], "{results}");
    assert_eq!(kept["serialNumber"], *serial);
    assert_eq!(results["value"][1]["status"], true);
    // Overwriting keeps the id and the platform Apple reported (the import gave none).
    let results = body(
        app.post_json(
            &import,
            &json!({"importedAppleDeviceIdentities": [{"serialNumber": serial, "description": "re"}],
                "overwriteImportedDeviceIdentities": true}),
        )
        .await,
    )
    .await;
    let replaced = &results["value"][0];
    assert_eq!(replaced["status"], true, "{results}");
    assert_eq!(replaced["id"], record["id"]);
    assert_eq!(replaced["platform"], record["platform"]);
    let now = by_serial(&app, &setting).await;
    assert_eq!(now[serial.as_str()]["platform"], record["platform"]);
    assert_eq!(now[serial.as_str()]["description"], "re");
    assert_eq!(now.len(), synced.len() + 1);
}

on_both_backends!(
    v1_0_answers_as_graph_does_for_beta_only_segments,
    device_management_has_a_stable_id,
    a_cast_entity_names_the_cast_in_its_context,
    count_segments_and_options_are_case_insensitive,
    head_is_a_get_without_a_body,
    the_service_root_serves_the_service_document,
    unknown_action_parameters_are_refused,
    importing_a_synced_serial_returns_the_synced_record,
);
