//! Graph HTTP conventions: ids and headers, URL forms, errors, bodies and query names.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_graph_error};
use crate::on_both_backends;

const SETTINGS: &str = "/beta/deviceManagement/depOnboardingSettings";

async fn health_endpoints_need_no_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for path in ["/healthz", "/readyz"] {
        let resp = app
            .client
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{path}");
    }
}

async fn responses_carry_graph_headers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let resp = app
        .request(Method::GET, SETTINGS)
        .header("client-request-id", "my-call-1")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let h = resp.headers();
    let request_id = h["request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(request_id).is_ok(), "{request_id}");
    assert_eq!(h["client-request-id"], "my-call-1");
    assert_eq!(h["odata-version"], "4.0");
    let diag: Value = serde_json::from_str(h["x-ms-ags-diagnostic"].to_str().unwrap()).unwrap();
    assert!(diag["ServerInfo"].is_object());
    assert!(
        h["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json;odata.metadata=minimal")
    );

    // Without a client-request-id, Graph repeats the request-id.
    let resp = app.get(SETTINGS).await;
    assert_eq!(
        resp.headers()["client-request-id"],
        resp.headers()["request-id"]
    );
}

async fn path_forms_address_the_same_entity(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app.create_setting(&json!({"tokenName": "forms"})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for path in [
        format!("/beta/deviceManagement/depOnboardingSettings/{id}"),
        format!("/beta/deviceManagement/depOnboardingSettings('{id}')"),
        format!("/beta/devicemanagement/DEPONBOARDINGSETTINGS/{id}/"),
        format!("/BETA/deviceManagement//depOnboardingSettings('{id}')/"),
    ] {
        let resp = app.get(&path).await;
        assert_eq!(resp.status(), 200, "{path}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["tokenName"], "forms", "{path}");
    }
    // Ids are case-sensitive.
    let resp = app.get(&format!("{SETTINGS}/{}", id.to_uppercase())).await;
    assert_graph_error(resp, 404, "ResourceNotFound").await;
}

async fn unknown_segments_versions_and_methods_are_graph_errors(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let msg = assert_graph_error(
        app.get("/beta/deviceManagement/deviceUpdateStates").await,
        400,
        "BadRequest",
    )
    .await;
    assert_eq!(
        msg,
        "Resource not found for the segment 'deviceUpdateStates'."
    );
    // v1.0 is a real version (tests/api/fidelity_small.rs); an unknown one is not.
    let msg = assert_graph_error(
        app.get("/v2.0/deviceManagement").await,
        404,
        "ResourceNotFound",
    )
    .await;
    assert_eq!(msg, "Invalid version: v2.0");
    let resp = app
        .request(Method::PUT, SETTINGS)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let msg = assert_graph_error(resp, 405, "Request_BadRequest").await;
    assert_eq!(
        msg,
        "Specified HTTP method is not allowed for the request target."
    );
    let resp = app
        .request(Method::POST, &format!("{SETTINGS}/$count"))
        .send()
        .await
        .unwrap();
    assert_graph_error(resp, 405, "Request_BadRequest").await;
}

async fn operations_not_built_yet_say_so(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // Known Graph resources the gateway does not serve (the single-token paths are served:
    // tests/api/legacy.rs).
    for path in ["/beta/organization", "/beta/deviceAppManagement"] {
        let msg = assert_graph_error(app.get(path).await, 501, "NotImplemented").await;
        assert!(msg.contains("not implemented"), "{path}: {msg}");
    }
    let resp = app
        .request(
            Method::POST,
            "/beta/deviceAppManagement/vppTokens/x/syncLicenses",
        )
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_graph_error(resp, 501, "NotImplemented").await;
}

async fn malformed_and_oversized_bodies_are_rejected(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| s.max_body_bytes = 2048).await;
    let send = |body: &'static str| {
        app.request(Method::POST, SETTINGS)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let msg = assert_graph_error(send("{\"tokenName\": ").await.unwrap(), 400, "BadRequest").await;
    assert!(
        msg.starts_with("Unable to read JSON request payload"),
        "{msg}"
    );
    assert_graph_error(send("[1,2]").await.unwrap(), 400, "BadRequest").await;
    assert_graph_error(send("").await.unwrap(), 400, "BadRequest").await;
    let big = json!({"tokenName": "x".repeat(4096)});
    let resp = app.post_json(SETTINGS, &big).await;
    assert_graph_error(resp, 413, "RequestEntityTooLarge").await;
    // Nothing was created by any of them.
    let list: Value = app.get(SETTINGS).await.json().await.unwrap();
    assert_eq!(list["@odata.count"], 0);
}

async fn query_option_names_follow_graph_rules(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for name in ["a", "b", "c"] {
        app.create_setting(&json!({"tokenName": name})).await;
    }
    for query in ["?$top=1", "?top=1", "?%24top=1", "?$TOP=1"] {
        let body: Value = app
            .get(&format!("{SETTINGS}{query}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(body["value"].as_array().unwrap().len(), 1, "{query}");
    }
    let msg = assert_graph_error(
        app.get(&format!("{SETTINGS}?$top=1&top=2")).await,
        400,
        "BadRequest",
    )
    .await;
    assert!(msg.contains("$top"), "{msg}");
    let msg = assert_graph_error(
        app.get(&format!("{SETTINGS}?$frobnicate=1")).await,
        400,
        "BadRequest",
    )
    .await;
    assert!(msg.contains("$frobnicate"), "{msg}");
    // `$expand` is served on the collection now (tests/api/query_options.rs); a misspelt
    // navigation is still a 400.
    let msg = assert_graph_error(
        app.get(&format!("{SETTINGS}?$expand=enrollmentProfile"))
            .await,
        400,
        "BadRequest",
    )
    .await;
    assert!(msg.contains("'enrollmentProfile'"), "{msg}");
    let msg = assert_graph_error(
        app.get(&format!("{SETTINGS}?$top=-1")).await,
        400,
        "BadRequest",
    )
    .await;
    assert!(msg.contains("$top"), "{msg}");
}

on_both_backends!(
    health_endpoints_need_no_token,
    responses_carry_graph_headers,
    path_forms_address_the_same_entity,
    unknown_segments_versions_and_methods_are_graph_errors,
    operations_not_built_yet_say_so,
    malformed_and_oversized_bodies_are_rejected,
    query_option_names_follow_graph_rules,
);
