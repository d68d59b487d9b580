//! Traces: every request's span (Graph's request ids, operation, status, tenant) exported over
//! OTLP/HTTP to an in-test receiver, W3C `traceparent` honoured, each Apple call a client span
//! whose `traceparent` reaches the Apple simulator, and a sync run its own trace.

use dep_gateway::apple_sim::{self, SimConfig, SimHandle};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;
use crate::traces_receiver::{HeaderTap, OtlpReceiver, ReceivedSpan};

const SETTINGS: &str = "/beta/deviceManagement/depOnboardingSettings";
const LIST: &str = "deviceManagement_ListDepOnboardingSetting";
const UPLOAD: &str = "deviceManagement.depOnboardingSetting_uploadDepToken";
/// OTLP's `SPAN_KIND_INTERNAL`.
const INTERNAL: i32 = 1;
/// OTLP's `SPAN_KIND_SERVER`.
const SERVER: i32 = 2;
/// OTLP's `SPAN_KIND_CLIENT`.
const CLIENT: i32 = 3;

fn traceparent(trace_id: &str, span_id: &str) -> String {
    format!("00-{trace_id}-{span_id}-01")
}

fn random_hex(bytes: usize) -> String {
    Uuid::new_v4().simple().to_string()[..bytes * 2].to_owned()
}

fn span_with_request_id<'a>(spans: &'a [ReceivedSpan], request_id: &str) -> &'a ReceivedSpan {
    spans
        .iter()
        .find(|s| s.attributes.get("request_id").map(String::as_str) == Some(request_id))
        .unwrap_or_else(|| panic!("no span with request_id {request_id} in {spans:#?}"))
}

fn header(resp: &reqwest::Response, name: &str) -> String {
    resp.headers()[name].to_str().unwrap().to_owned()
}

async fn request_spans_are_exported_with_the_callers_trace(backend: Backend) {
    let receiver = OtlpReceiver::start();
    let endpoint = receiver.endpoint.clone();
    let app = TestApp::spawn_with(backend, move |s| s.otlp_endpoint = Some(endpoint)).await;
    let (trace_id, parent_id) = (random_hex(16), random_hex(8));
    let client_id = Uuid::new_v4().to_string();

    let listed = app
        .request(Method::GET, SETTINGS)
        .header("traceparent", traceparent(&trace_id, &parent_id))
        .header("tracestate", "vendor=abc")
        .header("client-request-id", &client_id)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200);
    let listed_id = header(&listed, "request-id");
    let anonymous = app
        .client
        .get(format!("{}{SETTINGS}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let anonymous_id = header(&anonymous, "request-id");
    let malformed = app
        .request(Method::GET, SETTINGS)
        .header("traceparent", "00-not-a-trace-01")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 200, "a bad traceparent is ignored");
    let malformed_id = header(&malformed, "request-id");
    assert!(
        receiver.spans().is_empty(),
        "spans are batched, not sent one by one"
    );

    // Shutdown flushes the exporter: the spans are there when it returns.
    app.shutdown.shutdown().await;
    let spans = receiver.spans();
    assert!(receiver.paths().iter().all(|p| p == "/v1/traces"));

    let span = span_with_request_id(&spans, &listed_id);
    assert_eq!(span.name, format!("GET {LIST}"));
    assert_eq!(span.kind, SERVER);
    assert_eq!(span.trace_id, trace_id, "the caller's trace");
    assert_eq!(
        span.parent_span_id, parent_id,
        "a child of the caller's span"
    );
    assert_ne!(span.span_id, parent_id);
    assert_eq!(span.attributes["client_request_id"], client_id);
    assert_eq!(span.attributes["operation_id"], LIST);
    assert_eq!(span.attributes["http.response.status_code"], "200");
    assert_eq!(span.attributes["http.request.method"], "GET");
    assert_eq!(span.attributes["url.path"], SETTINGS);
    assert_eq!(span.attributes["tenant_id"], app.tenant.to_string());
    assert_eq!(span.service_name.as_deref(), Some("dep-gateway"));

    let span = span_with_request_id(&spans, &anonymous_id);
    assert_eq!(span.name, "GET none");
    assert_eq!(span.attributes["http.response.status_code"], "401");
    assert!(!span.attributes.contains_key("tenant_id"), "{span:?}");
    assert_ne!(span.trace_id, trace_id, "a new trace without traceparent");
    assert!(span.parent_span_id.is_empty(), "a root span: {span:?}");

    let span = span_with_request_id(&spans, &malformed_id);
    assert!(span.parent_span_id.is_empty(), "a root span: {span:?}");
    assert_eq!(span.trace_id.len(), 32);
}

async fn with_simulator(backend: Backend, otlp: Option<String>) -> (TestApp, SimHandle, HeaderTap) {
    let sim = apple_sim::start(SimConfig {
        bind: "127.0.0.1:0".into(),
        state_file: None,
    })
    .await
    .expect("simulator");
    let sim_addr = url::Url::parse(&sim.base_url())
        .unwrap()
        .socket_addrs(|| None)
        .unwrap()[0];
    let tap = HeaderTap::start(sim_addr);
    let url = format!("http://{}", tap.addr);
    let app = TestApp::spawn_with(backend, move |s| {
        s.apple_base_url = url;
        s.otlp_endpoint = otlp;
    })
    .await;
    (app, sim, tap)
}

/// Uploads a simulator-made server token (the gateway checks it with Apple) under `headers`.
async fn upload_token(
    app: &TestApp,
    sim: &SimHandle,
    traceparent: Option<&str>,
) -> reqwest::Response {
    let created: Value = app
        .post_json(SETTINGS, &json!({}))
        .await
        .json()
        .await
        .unwrap();
    let setting = created["id"].as_str().unwrap().to_owned();
    let key: Value = app
        .get(&format!("{SETTINGS}/{setting}/getEncryptionPublicKey()"))
        .await
        .json()
        .await
        .unwrap();
    let dep_token = apple_sim::make_dep_token(
        &sim.base_url(),
        &format!("server-{setting}"),
        2,
        key["value"].as_str().unwrap(),
    )
    .await
    .unwrap();
    let mut req = app
        .request(
            Method::POST,
            &format!("{SETTINGS}/{setting}/uploadDepToken"),
        )
        .json(&json!({"appleId": "mdm-admin@example.com", "depToken": dep_token}));
    if let Some(tp) = traceparent {
        req = req.header("traceparent", tp);
    }
    req.send().await.unwrap()
}

async fn apple_calls_carry_the_request_trace(backend: Backend) {
    let receiver = OtlpReceiver::start();
    let (app, sim, tap) = with_simulator(backend, Some(receiver.endpoint.clone())).await;
    let (trace_id, parent_id) = (random_hex(16), random_hex(8));
    let resp = upload_token(&app, &sim, Some(&traceparent(&trace_id, &parent_id))).await;
    assert_eq!(resp.status(), 204, "{:?}", resp.text().await);
    let request_id = header(&resp, "request-id");
    app.shutdown.shutdown().await;

    let spans = receiver.spans();
    let span = span_with_request_id(&spans, &request_id).clone();
    assert_eq!(span.attributes["operation_id"], UPLOAD);
    assert_eq!(span.trace_id, trace_id);
    let sent = tap.traceparents();
    assert!(
        !sent.is_empty(),
        "the upload called Apple with a traceparent"
    );
    for tp in &sent {
        // Each Apple call is a client span, child of the gateway's request span in the caller's
        // trace, and its traceparent names that client span.
        let call_id = tp.split('-').nth(2).unwrap();
        let call = spans
            .iter()
            .find(|s| s.span_id == call_id)
            .unwrap_or_else(|| panic!("no span {call_id} in {spans:#?}"));
        assert_eq!(tp, &traceparent(&trace_id, call_id));
        assert_eq!(call.name, "apple account");
        assert_eq!(call.kind, CLIENT);
        assert_eq!(call.parent_span_id, span.span_id);
        assert_eq!(call.attributes["apple.endpoint"], "account");
        assert_eq!(call.attributes["outcome"], "ok");
        assert_eq!(call.attributes["http.response.status_code"], "200");
    }
    assert!(
        tap.sent_lowercase().contains("get /session"),
        "the tap saw the session call"
    );
}

async fn without_an_exporter_the_callers_trace_passes_through(backend: Backend) {
    let (app, sim, tap) = with_simulator(backend, None).await;
    let resp = upload_token(&app, &sim, None).await;
    assert_eq!(resp.status(), 204);
    assert!(
        tap.sent_lowercase().contains("get /session"),
        "the upload called Apple"
    );
    assert!(
        tap.traceparents().is_empty(),
        "no trace, no traceparent: {:?}",
        tap.traceparents()
    );

    let (trace_id, parent_id) = (random_hex(16), random_hex(8));
    let resp = upload_token(&app, &sim, Some(&traceparent(&trace_id, &parent_id))).await;
    assert_eq!(resp.status(), 204);
    let sent = tap.traceparents();
    assert!(!sent.is_empty(), "the second upload called Apple");
    for tp in &sent {
        // No span of ours is recorded: Apple's calls hang off the caller's span.
        assert_eq!(tp, &traceparent(&trace_id, &parent_id));
    }
}

/// A sync run (triggered by a request, run in the background) is the root of its own trace;
/// each Apple call of the run is its client child; Apple's refusal shows in the call's span.
async fn a_sync_run_is_its_own_trace_with_apple_child_spans(backend: Backend) {
    let receiver = OtlpReceiver::start();
    let sim = crate::sync::Sim::start().await;
    let (url, endpoint) = (sim.url(), receiver.endpoint.clone());
    let app = TestApp::spawn_with(backend, move |s| {
        s.apple_base_url = url;
        s.sync_interval_secs = 0;
        s.otlp_endpoint = Some(endpoint);
    })
    .await;
    // 25 devices in pages of at most 10: the full fetch takes three calls or more.
    let id = crate::sync::setting_with_token(&app, &sim, "traced", 25).await;
    let sync = format!("{SETTINGS}/{id}/syncWithAppleDeviceEnrollmentProgram");
    let resp = app.request(Method::POST, &sync).send().await.unwrap();
    assert_eq!(resp.status(), 204);
    let trigger_id = header(&resp, "request-id");
    crate::sync::wait_for(&app, &id, |s| {
        s["lastSuccessfulSyncDateTime"] != "0001-01-01T00:00:00Z"
    })
    .await;
    // A second run that Apple refuses (terms not signed).
    let terms = "/admin/servers/traced/terms";
    sim.send(Method::POST, terms, &json!({"signed": false}))
        .await;
    let resp = app.request(Method::POST, &sync).send().await.unwrap();
    assert_eq!(resp.status(), 204);
    crate::sync::wait_for(&app, &id, |s| s["lastSyncErrorCode"] == 403).await;
    app.shutdown.shutdown().await;

    let spans = receiver.spans();
    let trigger = span_with_request_id(&spans, &trigger_id);
    let runs: Vec<&ReceivedSpan> = spans
        .iter()
        .filter(|s| s.name == "dep sync" && s.attributes.get("setting_id") == Some(&id))
        .collect();
    assert_eq!(runs.len(), 2, "{spans:#?}");
    for run in &runs {
        assert_eq!(run.kind, INTERNAL);
        assert!(run.parent_span_id.is_empty(), "a root span: {run:?}");
        assert_ne!(run.trace_id, trigger.trace_id, "a trace of its own");
        assert_eq!(run.attributes["tenant_id"], app.tenant.to_string());
    }
    let children = |run: &ReceivedSpan| -> Vec<ReceivedSpan> {
        spans
            .iter()
            .filter(|s| s.parent_span_id == run.span_id)
            .cloned()
            .collect()
    };
    // The first run: every call a successful client span of the run's trace.
    let (first, second) = if children(runs[0])
        .iter()
        .all(|c| c.attributes["outcome"] == "ok")
    {
        (runs[0], runs[1])
    } else {
        (runs[1], runs[0])
    };
    let calls = children(first);
    let fetches = calls
        .iter()
        .filter(|c| c.name == "apple fetch_devices")
        .count();
    assert!(fetches >= 3, "{calls:#?}");
    for call in &calls {
        assert_eq!(call.kind, CLIENT);
        assert_eq!(call.trace_id, first.trace_id);
        assert_eq!(
            call.name,
            format!("apple {}", call.attributes["apple.endpoint"])
        );
        assert_eq!(call.attributes["outcome"], "ok");
        assert_eq!(call.attributes["http.response.status_code"], "200");
    }
    // The refused run: its call carries Apple's 403.
    let refused = children(second);
    assert!(!refused.is_empty(), "{spans:#?}");
    assert!(
        refused.iter().any(|c| c.attributes["outcome"] == "error"
            && c.attributes["http.response.status_code"] == "403"),
        "{refused:#?}"
    );
}

on_both_backends!(
    request_spans_are_exported_with_the_callers_trace,
    apple_calls_carry_the_request_trace,
    without_an_exporter_the_callers_trace_passes_through,
    a_sync_run_is_its_own_trace_with_apple_child_spans,
);
