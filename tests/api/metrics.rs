//! `GET /metrics` and `/readyz`: scrapes after known work move by exactly that work (requests
//! by operation, Apple calls, devices, sync runs, throttling, pool checkouts, per-token gauges);
//! `metrics_token` and `metrics_bind`; readiness per check.

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_graph_error, eventually};
use crate::on_both_backends;
use crate::sync::{SETTINGS, Sim, setting_with_token, spawn, sync_ok};

const LIST: &str = "deviceManagement_ListDepOnboardingSetting";

/// One scrape: `name{labels}` → value (the integer ones: counts, gauges, bucket counts).
struct Scrape {
    text: String,
    values: BTreeMap<String, i64>,
}

impl Scrape {
    fn get(&self, series: &str) -> i64 {
        self.values.get(series).copied().unwrap_or(0)
    }

    fn has(&self, series: &str) -> bool {
        self.values.contains_key(series)
    }
}

async fn scrape_at(client: &reqwest::Client, base: &str) -> Scrape {
    let resp = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .expect("scrape");
    assert_eq!(resp.status(), 200);
    let content_type = resp.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = resp.text().await.unwrap();
    let values = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            Some((series.to_owned(), value.parse().ok()?))
        })
        .collect();
    Scrape { text, values }
}

async fn scrape(app: &TestApp) -> Scrape {
    scrape_at(&app.client, &app.base).await
}

fn requests(operation: &str, class: &str) -> String {
    format!("dep_gateway_http_requests_total{{operation=\"{operation}\",status_class=\"{class}\"}}")
}

fn apple(endpoint: &str, outcome: &str) -> String {
    format!("dep_gateway_apple_requests_total{{endpoint=\"{endpoint}\",outcome=\"{outcome}\"}}")
}

async fn scrapes_move_by_the_work_done(backend: Backend) {
    let sim = Sim::start().await;
    let app = spawn(backend, &sim, 3600).await;
    let before = scrape(&app).await;
    assert_eq!(
        before.get("dep_gateway_db_pool_connections{state=\"max\"}"),
        4
    );

    for _ in 0..3 {
        assert_eq!(app.get(SETTINGS).await.status(), 200);
    }
    let anonymous = app
        .client
        .get(format!("{}{SETTINGS}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let id = setting_with_token(&app, &sim, "server-metrics", 25).await;
    sync_ok(&app, &id).await;

    let after = scrape(&app).await;
    let moved = |series: &str| after.get(series) - before.get(series);
    assert_eq!(moved(&requests(LIST, "2xx")), 3, "{}", after.text);
    assert_eq!(
        moved(&format!(
            "dep_gateway_http_request_duration_seconds_count{{operation=\"{LIST}\"}}"
        )),
        3
    );
    assert_eq!(
        moved(&requests("none", "4xx")),
        1,
        "the unauthenticated GET"
    );
    assert_eq!(
        moved(&requests(
            "deviceManagement.depOnboardingSetting_uploadDepToken",
            "2xx"
        )),
        1
    );
    // 25 devices in pages of 10: three fetch pages, then one empty sync page.
    assert_eq!(moved(&apple("fetch_devices", "ok")), 3, "{}", after.text);
    assert_eq!(moved(&apple("sync_devices", "ok")), 1);
    assert_eq!(
        moved("dep_gateway_sync_devices_fetched_total{endpoint=\"fetch_devices\"}"),
        25
    );
    assert_eq!(moved("dep_gateway_sync_runs_total{outcome=\"ok\"}"), 1);
    assert_eq!(
        moved("dep_gateway_sync_run_duration_seconds_count{outcome=\"ok\"}"),
        1
    );
    assert!(moved("dep_gateway_db_pool_checkouts_total") > 0);

    // One series per token, labelled by tenant and token id only.
    let labels = format!("{{tenant=\"{}\",token=\"{id}\"}}", app.tenant);
    let expiry = after.get(&format!("dep_gateway_dep_token_expiry_seconds{labels}"));
    assert!(expiry > 300 * 86_400 && expiry < 367 * 86_400, "{expiry}");
    assert!(after.has(&format!(
        "dep_gateway_dep_token_last_sync_error_code{labels}"
    )));
    assert_eq!(
        after.get(&format!(
            "dep_gateway_dep_token_last_sync_error_code{labels}"
        )),
        0
    );
    let since = after.get(&format!(
        "dep_gateway_dep_token_seconds_since_last_sync{labels}"
    ));
    assert!((0..3_600).contains(&since), "{since}");
    for private in ["server-metrics", "mdm-admin@example.com"] {
        assert!(
            !after.text.contains(private),
            "{private} leaked into the metrics"
        );
    }

    // A deleted token's series disappear.
    assert_eq!(app.delete(&format!("{SETTINGS}/{id}")).await.status(), 204);
    let gone = scrape(&app).await;
    assert!(!gone.text.contains(&id), "{}", gone.text);
}

async fn a_failed_sync_is_counted_with_its_error_code(backend: Backend) {
    let sim = Sim::start().await;
    let app = spawn(backend, &sim, 3600).await;
    let id = setting_with_token(&app, &sim, "server-terms", 5).await;
    let before = scrape(&app).await;
    sim.send(
        Method::POST,
        "/admin/servers/server-terms/terms",
        &json!({"signed": false}),
    )
    .await;
    crate::sync::trigger(&app, &id).await;
    let labels = format!("{{tenant=\"{}\",token=\"{id}\"}}", app.tenant);
    // The run is counted as it ends, its error code is stored just after: wait for both.
    let code = format!("dep_gateway_dep_token_last_sync_error_code{labels}");
    let after = eventually("the failed run", Duration::from_secs(20), || async {
        let s = scrape(&app).await;
        (s.get("dep_gateway_sync_runs_total{outcome=\"apple_error\"}") >= 1 && s.get(&code) == 403)
            .then_some(s)
    })
    .await;
    assert_eq!(
        after.get("dep_gateway_sync_runs_total{outcome=\"apple_error\"}"),
        1
    );
    assert_eq!(after.get("dep_gateway_sync_runs_total{outcome=\"ok\"}"), 0);
    assert_eq!(
        after.get(&apple("fetch_devices", "error")) - before.get(&apple("fetch_devices", "error")),
        1,
        "{}",
        after.text
    );
    assert_eq!(
        after.get(&format!(
            "dep_gateway_dep_token_last_sync_error_code{labels}"
        )),
        403
    );
    assert!(!after.has(&format!(
        "dep_gateway_dep_token_seconds_since_last_sync{labels}"
    )));
}

async fn throttled_requests_are_counted(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| s.throttling.tenant_requests = 2).await;
    let mut refused = 0;
    for _ in 0..4 {
        if app.get(SETTINGS).await.status() == 429 {
            refused += 1;
        }
    }
    assert_eq!(refused, 2);
    let s = scrape(&app).await;
    assert_eq!(
        s.get("dep_gateway_throttled_requests_total{scope=\"tenant\"}"),
        2
    );
    assert_eq!(
        s.get(&requests("none", "4xx")),
        2,
        "throttled before routing"
    );
    assert_eq!(s.get(&requests(LIST, "2xx")), 2);
}

async fn batch_items_count_as_their_operations(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let body = json!({"requests": [
        {"id": "1", "method": "GET", "url": "/deviceManagement/depOnboardingSettings"},
        {"id": "2", "method": "GET", "url": "/deviceManagement/depOnboardingSettings"},
    ]});
    assert_eq!(app.post_json("/beta/$batch", &body).await.status(), 200);
    let s = scrape(&app).await;
    assert_eq!(s.get(&requests("$batch", "2xx")), 1, "{}", s.text);
    assert_eq!(s.get(&requests(LIST, "2xx")), 2);
}

async fn a_metrics_token_is_required_when_configured(backend: Backend) {
    let app =
        TestApp::spawn_with(backend, |s| s.metrics_token = Some("scrape-secret".into())).await;
    let url = format!("{}/metrics", app.base);
    let graph_token = app.token();
    for bearer in [
        None,
        Some("wrong"),
        Some("scrape-secre"),
        Some(graph_token.as_str()),
    ] {
        let mut req = app.client.get(&url);
        if let Some(b) = bearer {
            req = req.bearer_auth(b);
        }
        let resp = req.send().await.unwrap();
        assert_graph_error(resp, 401, "InvalidAuthenticationToken").await;
    }
    let ok = app
        .client
        .get(&url)
        .bearer_auth("scrape-secret")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert!(
        ok.text()
            .await
            .unwrap()
            .contains("dep_gateway_db_pool_connections{state=\"max\"} 4")
    );
}

async fn metrics_bind_moves_the_endpoint_to_its_own_listener(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| s.metrics_bind = Some("127.0.1:0".into())).await;
    let metrics_base = app.metrics_base.clone().expect("a metrics listener");
    assert_ne!(metrics_base, app.base);
    let main = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap();
    assert_ne!(main.status(), 200, "not on the main listener any more");
    assert_eq!(app.get(SETTINGS).await.status(), 200);
    let s = scrape_at(&app.client, &metrics_base).await;
    assert_eq!(s.get(&requests(LIST, "2xx")), 1, "{}", s.text);
}

async fn readyz_reports_each_check(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let resp = app
        .client
        .get(format!("{}/readyz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body,
        json!({"status": "ready", "checks": {"database": {"status": "ok"}, "migrations": {"status": "ok"}}})
    );

    // With the Apple check on: the simulator answers, a closed port does not.
    let sim = Sim::start().await;
    let url = sim.url();
    let app = TestApp::spawn_with(backend, move |s| {
        s.readyz_apple = true;
        s.apple_base_url = url;
    })
    .await;
    let body: Value = app
        .client
        .get(format!("{}/readyz", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["status"], "ready", "{body}");
    assert_eq!(body["checks"]["apple"]["status"], "ok", "{body}");

    let closed = std::net::TcpListener::bind("127.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let app = TestApp::spawn_with(backend, move |s| {
        s.readyz_apple = true;
        s.apple_base_url = url;
    })
    .await;
    let resp = app
        .client
        .get(format!("{}/readyz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 503);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "unavailable", "{body}");
    assert_eq!(body["checks"]["database"]["status"], "ok", "{body}");
    assert_eq!(body["checks"]["apple"]["status"], "unavailable", "{body}");
    let health = app
        .client
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200, "liveness does not depend on Apple");
}

on_both_backends!(
    scrapes_move_by_the_work_done,
    a_failed_sync_is_counted_with_its_error_code,
    throttled_requests_are_counted,
    batch_items_count_as_their_operations,
    a_metrics_token_is_required_when_configured,
    metrics_bind_moves_the_endpoint_to_its_own_listener,
    readyz_reports_each_check,
);
