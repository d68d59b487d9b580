//! Throttling per tenant and per app: 429 with `Retry-After` and Graph's error body, refused
//! requests change nothing, `$batch` sub-requests count one by one.

use dep_gateway::config::ThrottleSettings;
use dep_gateway::domain::ids::TenantId;
use reqwest::Response;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{AUDIENCE, Backend, READ_WRITE, TestApp, assert_graph_error};
use crate::on_both_backends;

const SETTINGS: &str = "/beta/deviceManagement/depOnboardingSettings";

fn limits(
    tenant_writes: u32,
    tenant_requests: u32,
    app_writes: u32,
    app_requests: u32,
) -> ThrottleSettings {
    ThrottleSettings {
        enabled: true,
        window_secs: 20,
        tenant_writes,
        tenant_requests,
        app_writes,
        app_requests,
    }
}

/// A read-write delegated token of `tenant` issued to the client application `app_id`.
fn token_for_app(app: &TestApp, tenant: TenantId, app_id: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let oid = Uuid::new_v4().to_string();
    app.authority
        .sign_claims(&json!({
            "aud": AUDIENCE, "iss": app.authority.issuer_for(&tenant), "tid": tenant.to_string(),
            "oid": oid, "sub": oid, "appid": app_id, "azp": app_id, "ver": "2.0",
            "scp": READ_WRITE, "iat": now, "nbf": now, "exp": now + 600,
        }))
        .unwrap()
}

async fn create_as(app: &TestApp, token: &str, name: &str) -> Response {
    app.client
        .post(format!("{}{SETTINGS}", app.base))
        .bearer_auth(token)
        .json(&json!({"tokenName": name}))
        .send()
        .await
        .unwrap()
}

async fn get_as(app: &TestApp, token: &str, path: &str) -> Response {
    app.client
        .get(format!("{}{path}", app.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

fn retry_after(resp: &Response) -> u64 {
    resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

async fn count(app: &TestApp, token: &str) -> usize {
    let body: Value = get_as(app, token, SETTINGS).await.json().await.unwrap();
    body["value"].as_array().unwrap().len()
}

async fn tenant_write_limit_answers_429(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| s.throttling = limits(3, 0, 0, 0)).await;
    let token = app.token();
    for i in 0..3 {
        assert_eq!(
            create_as(&app, &token, &format!("t{i}")).await.status(),
            201
        );
    }
    let refused = create_as(&app, &token, "one too many").await;
    // 3 per 20 s: a slot frees 6.67 s after the first write.
    let wait = retry_after(&refused);
    assert!((1..=7).contains(&wait), "Retry-After {wait}");
    let message = assert_graph_error(refused, 429, "TooManyRequests").await;
    assert!(message.contains(&app.tenant.to_string()), "{message}");
    // The refused write changed nothing; reads are not limited.
    assert_eq!(count(&app, &token).await, 3);
    // PATCH and DELETE are writes too.
    let body: Value = get_as(&app, &token, SETTINGS).await.json().await.unwrap();
    let id = body["value"][0]["id"].as_str().unwrap().to_owned();
    let resp = app.delete(&format!("{SETTINGS}/{id}")).await;
    assert_eq!(resp.status(), 429);
    assert_eq!(count(&app, &token).await, 3);

    // Another tenant on the same gateway is unaffected.
    let other = app.token_for(TenantId::new(Uuid::new_v4()), &[READ_WRITE]);
    assert_eq!(create_as(&app, &other, "other").await.status(), 201);
}

async fn app_limit_is_per_app_within_a_tenant(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| s.throttling = limits(0, 0, 0, 2)).await;
    let first = token_for_app(&app, app.tenant, "11111111-1111-1111-1111-111111111111");
    let second = token_for_app(&app, app.tenant, "22222222-2222-2222-2222-222222222222");
    for _ in 0..2 {
        assert_eq!(get_as(&app, &first, SETTINGS).await.status(), 200);
    }
    let refused = get_as(&app, &first, SETTINGS).await;
    assert!(retry_after(&refused) >= 1);
    let message = assert_graph_error(refused, 429, "TooManyRequests").await;
    assert!(
        message.contains("+11111111-1111-1111-1111-111111111111"),
        "{message}"
    );
    // The same tenant's other app still has its own budget.
    assert_eq!(get_as(&app, &second, SETTINGS).await.status(), 200);
    // Unauthenticated requests are refused before they count (and are never 429).
    let resp = app
        .client
        .get(format!("{}{SETTINGS}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
}

async fn batch_sub_requests_are_throttled_one_by_one(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| s.throttling = limits(2, 5, 0, 0)).await;
    let create = |id: &str| {
        json!({"id": id, "method": "POST", "url": "deviceManagement/depOnboardingSettings",
            "headers": {"Content-Type": "application/json"}, "body": {"tokenName": id}})
    };
    let resp = app
        .post_json(
            "/beta/$batch",
            &json!({"requests": [create("a"), create("b"), create("c"), create("d"),
                {"id": "read", "method": "GET", "url": "deviceManagement"}]}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    let rs = body["responses"].as_array().unwrap();
    let statuses: Vec<u64> = ["a", "b", "c", "d"]
        .iter()
        .map(|id| {
            rs.iter().find(|r| r["id"] == *id).unwrap()["status"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 2, "{rs:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 2, "{rs:?}");
    for r in rs.iter().filter(|r| r["status"] == 429) {
        assert_eq!(r["body"]["error"]["code"], "TooManyRequests");
        let wait: u64 = r["headers"]["Retry-After"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=10).contains(&wait), "{r}");
    }
    let read = rs.iter().find(|r| r["id"] == "read").unwrap();
    assert_eq!(read["status"], 200);
    // 5 requests of any method per window: the batch used 3 (two creates and the read; the
    // refused ones and the envelope do not count), so two direct calls pass, the third is refused.
    for _ in 0..2 {
        assert_eq!(app.get(SETTINGS).await.status(), 200);
    }
    let resp = app.get(SETTINGS).await;
    assert_graph_error(resp, 429, "TooManyRequests").await;
}

async fn throttling_can_be_disabled(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| {
        s.throttling = limits(1, 1, 1, 1);
        s.throttling.enabled = false;
    })
    .await;
    let token = app.token();
    for i in 0..4 {
        assert_eq!(
            create_as(&app, &token, &format!("t{i}")).await.status(),
            201
        );
    }
    assert_eq!(count(&app, &token).await, 4);
}

on_both_backends!(
    tenant_write_limit_answers_429,
    app_limit_is_per_app_within_a_tenant,
    batch_sub_requests_are_throttled_one_by_one,
    throttling_can_be_disabled,
);
