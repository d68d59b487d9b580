//! JSON batching at `/beta/$batch`: sub-requests through the same path as direct calls,
//! `dependsOn` with 424, whole-batch 400s, authorisation per sub-request.

use reqwest::{Method, Response};
use serde_json::{Value, json};

use crate::helpers::{Backend, READ, TestApp, assert_graph_error};
use crate::on_both_backends;

const BATCH: &str = "/beta/$batch";
const SETTINGS: &str = "/beta/deviceManagement/depOnboardingSettings";

async fn batch(app: &TestApp, body: &Value) -> Response {
    app.post_json(BATCH, body).await
}

/// Posts a batch that must succeed; returns its responses by id.
async fn responses(app: &TestApp, body: &Value) -> Vec<Value> {
    let resp = batch(app, body).await;
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let body: Value = resp.json().await.unwrap();
    body["responses"].as_array().expect("responses").clone()
}

fn by_id<'a>(responses: &'a [Value], id: &str) -> &'a Value {
    responses
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("no response {id} in {responses:?}"))
}

async fn setting_count(app: &TestApp) -> u64 {
    let body: Value = app.get(SETTINGS).await.json().await.unwrap();
    body["value"].as_array().unwrap().len() as u64
}

async fn runs_sub_requests_like_direct_calls(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let existing = app.create_setting(&json!({"tokenName": "Existing"})).await;
    let id = existing["id"].as_str().unwrap();
    let rs = responses(
        &app,
        &json!({"requests": [
            // IntuneCD sends integer ids; responses carry them as strings.
            {"id": 1, "method": "GET", "url": format!("deviceManagement/depOnboardingSettings/{id}?$select=id,tokenName")},
            {"id": "two", "method": "POST", "url": "/deviceManagement/depOnboardingSettings",
             "headers": {"Content-Type": "application/json", "client-request-id": "sub-2"},
             "body": {"tokenName": "Batched"}},
            // The JS client sends `/beta/...`.
            {"id": "3", "method": "get", "url": "/beta/deviceManagement/depOnboardingSettings/$count"},
            // After request 1, which reads the name it changes (items without dependsOn run concurrently).
            {"id": "4", "method": "PATCH", "url": format!("deviceManagement/depOnboardingSettings('{id}')"),
             "dependsOn": ["1"], "headers": {"content-type": "application/json"}, "body": {"tokenName": "Renamed"}},
        ]}),
    )
    .await;
    assert_eq!(rs.len(), 4);

    let one = by_id(&rs, "1");
    assert_eq!(one["status"], 200);
    assert_eq!(one["body"]["tokenName"], "Existing");
    assert_eq!(one["body"]["id"], id);
    assert!(one["body"].get("tokenType").is_none(), "$select applied");
    assert_eq!(one["headers"]["OData-Version"], "4.0");
    assert!(
        one["headers"]["Content-Type"]
            .as_str()
            .unwrap()
            .starts_with("application/json")
    );

    let two = by_id(&rs, "two");
    assert_eq!(two["status"], 201);
    assert_eq!(two["body"]["tokenName"], "Batched");
    assert_eq!(two["headers"]["client-request-id"], "sub-2");
    let created = two["body"]["id"].as_str().unwrap();
    assert_eq!(
        two["headers"]["Location"],
        format!("{}{SETTINGS}/{created}", app.base)
    );

    let three = by_id(&rs, "3");
    assert_eq!(three["status"], 200);
    assert_eq!(three["headers"]["Content-Type"], "text/plain");
    assert!(three["body"] == "1" || three["body"] == "2", "{three}");

    assert_eq!(by_id(&rs, "4")["status"], 204);
    assert!(by_id(&rs, "4").get("body").is_none());

    // The writes really happened.
    let fetched: Value = app
        .get(&format!("{SETTINGS}/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(fetched["tokenName"], "Renamed");
    assert_eq!(
        app.get(&format!("{SETTINGS}/{created}")).await.status(),
        200
    );
}

async fn depends_on_orders_requests_and_fails_dependents(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rs = responses(
        &app,
        &json!({"requests": [
            // Listed before its dependency: the order comes from dependsOn, not the array.
            {"id": "list", "method": "GET", "url": "deviceManagement/depOnboardingSettings", "dependsOn": ["Create"]},
            {"id": "create", "method": "POST", "url": "deviceManagement/depOnboardingSettings",
             "headers": {"Content-Type": "application/json"}, "body": {"tokenName": "First"}},
            {"id": "bad", "method": "POST", "url": "deviceManagement/depOnboardingSettings",
             "headers": {"Content-Type": "application/json"}, "body": {"tokenName": 42}},
            {"id": "after-bad", "method": "GET", "url": "deviceManagement/depOnboardingSettings", "dependsOn": ["bad"]},
            {"id": 7, "method": "GET", "url": "deviceManagement", "dependsOn": ["after-bad"]},
            {"id": "independent", "method": "GET", "url": "deviceManagement"},
        ]}),
    )
    .await;
    let list = by_id(&rs, "list");
    assert_eq!(list["status"], 200);
    let names: Vec<&str> = list["body"]["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["tokenName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["First"], "the list ran after the create");
    assert_eq!(by_id(&rs, "create")["status"], 201);

    let failed = by_id(&rs, "bad");
    assert_eq!(failed["status"], 400);
    assert_eq!(failed["body"]["error"]["code"], "BadRequest");
    assert!(failed["body"]["error"]["innerError"]["request-id"].is_string());
    for dependent in ["after-bad", "7"] {
        let r = by_id(&rs, dependent);
        assert_eq!(r["status"], 424, "{r}");
        assert_eq!(r["body"]["error"]["code"], "FailedDependency");
    }
    assert_eq!(by_id(&rs, "independent")["status"], 200);
    assert_eq!(setting_count(&app).await, 1);
}

async fn sub_request_errors_are_graph_shaped(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let unknown_id = uuid::Uuid::new_v4();
    // The setting belongs to the app's tenant; the batch runs as another tenant.
    let mine = app.create_setting(&json!({"tokenName": "Mine"})).await;
    let mine_id = mine["id"].as_str().unwrap();
    let stranger = dep_gateway::domain::ids::TenantId::new(uuid::Uuid::new_v4());
    let stranger_token = app.token_for(stranger, &[crate::helpers::READ_WRITE]);
    let resp = app
        .client
        .post(format!("{}{BATCH}", app.base))
        .bearer_auth(&stranger_token)
        .json(&json!({"requests": [
            {"id": "1", "method": "GET", "url": format!("deviceManagement/depOnboardingSettings/{mine_id}")},
            {"id": "2", "method": "PATCH", "url": format!("deviceManagement/depOnboardingSettings/{mine_id}"),
             "headers": {"Content-Type": "application/json"}, "body": {"tokenName": "Hijacked"}},
            {"id": "3", "method": "GET", "url": format!("deviceManagement/depOnboardingSettings/{unknown_id}")},
            {"id": "4", "method": "POST", "url": "$batch", "headers": {"Content-Type": "application/json"},
             "body": {"requests": []}},
            {"id": "5", "method": "GET", "url": "deviceManagement/nothingHere"},
            {"id": "6", "method": "GET", "url": "https://graph.microsoft.com/beta/deviceManagement"},
            {"id": "7", "method": "POST", "url": "deviceManagement/depOnboardingSettings",
             "headers": {"Content-Type": "application/json"}, "body": "bm90IGpzb24="},
            {"id": "8", "method": "DELETE", "url": "deviceManagement"},
        ]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    let rs = body["responses"].as_array().unwrap();
    for (id, status, code) in [
        ("1", 404, "ResourceNotFound"),
        ("2", 404, "ResourceNotFound"),
        ("3", 404, "ResourceNotFound"),
        ("4", 400, "BadRequest"),
        ("5", 400, "BadRequest"),
        ("6", 400, "BadRequest"),
        ("7", 400, "BadRequest"),
        ("8", 405, "Request_BadRequest"),
    ] {
        let r = by_id(rs, id);
        assert_eq!(r["status"], status, "{r}");
        assert_eq!(r["body"]["error"]["code"], code, "{r}");
        assert!(
            r["headers"]["Content-Type"]
                .as_str()
                .unwrap()
                .starts_with("application/json")
        );
    }
    // Nothing of the other tenant changed.
    let fetched: Value = app
        .get(&format!("{SETTINGS}/{mine_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(fetched["tokenName"], "Mine");
}

async fn malformed_batches_are_rejected_whole(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let create = json!({"id": "c", "method": "POST", "url": "deviceManagement/depOnboardingSettings",
        "headers": {"Content-Type": "application/json"}, "body": {"tokenName": "Never"}});
    let get = |id: Value| json!({"id": id, "method": "GET", "url": "deviceManagement"});
    let too_many: Vec<Value> = std::iter::once(create.clone())
        .chain((0..20).map(|i| get(json!(i))))
        .collect();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("malformed JSON", b"{\"requests\": [".to_vec()),
        ("empty body", Vec::new()),
        ("not an object", b"[1]".to_vec()),
        ("no requests", br#"{"value": []}"#.to_vec()),
        ("requests not an array", br#"{"requests": {"id": "1"}}"#.to_vec()),
        ("empty requests", br#"{"requests": []}"#.to_vec()),
        ("21 requests", serde_json::to_vec(&json!({"requests": too_many})).unwrap()),
        (
            "duplicate ids differing in case",
            serde_json::to_vec(&json!({"requests": [create, get(json!("C"))]})).unwrap(),
        ),
        (
            "duplicate integer and string id",
            serde_json::to_vec(&json!({"requests": [create, get(json!(1)), get(json!("1"))]})).unwrap(),
        ),
        ("id of the wrong type", serde_json::to_vec(&json!({"requests": [create, get(json!(true))]})).unwrap()),
        ("fractional id", serde_json::to_vec(&json!({"requests": [create, get(json!(1.5))]})).unwrap()),
        ("missing id", serde_json::to_vec(&json!({"requests": [create, {"method": "GET", "url": "x"}]})).unwrap()),
        ("missing url", serde_json::to_vec(&json!({"requests": [create, {"id": "2", "method": "GET"}]})).unwrap()),
        ("url not a string", serde_json::to_vec(&json!({"requests": [create, {"id": "2", "method": "GET", "url": 5}]})).unwrap()),
        ("unknown method", serde_json::to_vec(&json!({"requests": [create, {"id": "2", "method": "TRACE", "url": "x"}]})).unwrap()),
        ("headers not an object", serde_json::to_vec(&json!({"requests": [create, {"id": "2", "method": "GET", "url": "x", "headers": []}]})).unwrap()),
        ("header not a string", serde_json::to_vec(&json!({"requests": [create, {"id": "2", "method": "GET", "url": "x", "headers": {"client-request-id": 5}}]})).unwrap()),
        (
            "body without Content-Type",
            serde_json::to_vec(&json!({"requests": [create, {"id": "2", "method": "POST",
                "url": "deviceManagement/depOnboardingSettings", "body": {"tokenName": "x"}}]})).unwrap(),
        ),
        (
            "string body that is not base64",
            serde_json::to_vec(&json!({"requests": [create, {"id": "2", "method": "POST",
                "url": "deviceManagement/depOnboardingSettings", "headers": {"Content-Type": "application/json"},
                "body": "not base64!"}]})).unwrap(),
        ),
        (
            "dependsOn an unknown id",
            serde_json::to_vec(&json!({"requests": [create, {"id": "2", "method": "GET", "url": "x", "dependsOn": ["nope"]}]})).unwrap(),
        ),
        (
            "dependsOn not an array",
            serde_json::to_vec(&json!({"requests": [create, {"id": "2", "method": "GET", "url": "x", "dependsOn": "c"}]})).unwrap(),
        ),
        (
            "dependsOn cycle",
            serde_json::to_vec(&json!({"requests": [create,
                {"id": "a", "method": "GET", "url": "x", "dependsOn": ["b"]},
                {"id": "b", "method": "GET", "url": "x", "dependsOn": ["a"]}]})).unwrap(),
        ),
    ];
    for (case, body) in cases {
        let resp = app
            .request(Method::POST, BATCH)
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let message = assert_graph_error(resp, 400, "BadRequest").await;
        assert!(!message.is_empty(), "{case}");
    }
    // None of the rejected batches ran its valid create.
    assert_eq!(setting_count(&app).await, 0);
}

async fn batch_auth_limits_and_methods(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| s.max_body_bytes = 2048).await;
    let body = json!({"requests": [{"id": "1", "method": "GET", "url": "deviceManagement"}]});

    // 401 without a token, for the batch as a whole.
    let resp = app
        .client
        .post(format!("{}{BATCH}", app.base))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_graph_error(resp, 401, "InvalidAuthenticationToken").await;

    // Permissions are checked per sub-request: a read-only token reads but cannot write.
    let read_only = app.token_for(app.tenant, &[READ]);
    let resp = app
        .client
        .post(format!("{}{BATCH}", app.base))
        .bearer_auth(&read_only)
        .json(&json!({"requests": [
            {"id": "1", "method": "GET", "url": "deviceManagement/depOnboardingSettings"},
            {"id": "2", "method": "POST", "url": "deviceManagement/depOnboardingSettings",
             "headers": {"Content-Type": "application/json"}, "body": {"tokenName": "x"}},
        ]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let rs: Value = resp.json().await.unwrap();
    let rs = rs["responses"].as_array().unwrap();
    assert_eq!(by_id(rs, "1")["status"], 200);
    let denied = by_id(rs, "2");
    assert_eq!(denied["status"], 403);
    assert_eq!(denied["body"]["error"]["code"], "Forbidden");
    assert!(
        denied["body"]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Application is not authorized to perform this operation")
    );
    // A token without any permission: the batch answers, every request is 403.
    let none = app.token_for(app.tenant, &["User.Read"]);
    let resp = app
        .client
        .post(format!("{}{BATCH}", app.base))
        .bearer_auth(&none)
        .json(&body)
        .send()
        .await
        .unwrap();
    let rs: Value = resp.json().await.unwrap();
    assert_eq!(rs["responses"][0]["status"], 403);
    assert_eq!(setting_count(&app).await, 0);

    // Oversized batch → 413 for the whole batch.
    let big = "x".repeat(4096);
    let resp = batch(
        &app,
        &json!({"requests": [{"id": "1", "method": "POST", "url": "deviceManagement/depOnboardingSettings",
            "headers": {"Content-Type": "application/json"}, "body": {"tokenName": big}}]}),
    )
    .await;
    assert_graph_error(resp, 413, "RequestEntityTooLarge").await;
    assert_eq!(setting_count(&app).await, 0);

    // Only POST; any case and `%24` spelling of the segment.
    assert_graph_error(app.get(BATCH).await, 405, "Request_BadRequest").await;
    let resp = app.post_json("/BETA/%24Batch", &body).await;
    assert_eq!(resp.status(), 200);
}

on_both_backends!(
    runs_sub_requests_like_direct_calls,
    depends_on_orders_requests_and_fails_dependents,
    sub_request_errors_are_graph_shaped,
    malformed_batches_are_rejected_whole,
    batch_auth_limits_and_methods,
);
