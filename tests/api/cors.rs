//! CORS (`cors_allowed_origins`): the exact preflights a browser sends are answered without a
//! token, actual responses (errors and 401s included) name the allowed origin and expose
//! Graph's headers, a disallowed origin gets no CORS header at all, and — in
//! `a_real_browser_calls_the_gateway_from_another_origin` — headless Chromium fetches the API
//! with a token from a page of another origin, and is refused by a gateway that does not allow it.

use reqwest::{Method, Response};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_graph_error};
use crate::on_both_backends;

mod browser;

const SETTINGS: &str = "/beta/deviceManagement/depOnboardingSettings";
const ADMIN: &str = "https://admin.example.com";
const EXPOSED: &str = "request-id, client-request-id, Location, Retry-After";

async fn spawn(backend: Backend, origins: &[&str]) -> TestApp {
    let origins: Vec<String> = origins.iter().map(|&o| o.to_owned()).collect();
    TestApp::spawn_with(backend, move |s| s.cors_allowed_origins = origins).await
}

fn header<'a>(resp: &'a Response, name: &str) -> Option<&'a str> {
    resp.headers().get(name).map(|v| v.to_str().unwrap())
}

/// No `Access-Control-*` header at all.
fn no_cors(resp: &Response) {
    let cors: Vec<_> = resp
        .headers()
        .keys()
        .filter(|k| k.as_str().starts_with("access-control-"))
        .collect();
    assert!(cors.is_empty(), "unexpected CORS headers {cors:?}");
}

/// The preflight Chromium sends before a `fetch` with these request headers (it lower-cases and
/// sorts the names, and sends no token).
async fn preflight(
    app: &TestApp,
    path: &str,
    origin: &str,
    method: &str,
    headers: &str,
) -> Response {
    app.client
        .request(Method::OPTIONS, format!("{}{path}", app.base))
        .header("Origin", origin)
        .header("Access-Control-Request-Method", method)
        .header("Access-Control-Request-Headers", headers)
        .header("Sec-Fetch-Mode", "cors")
        .header("Sec-Fetch-Site", "cross-site")
        .header("Sec-Fetch-Dest", "empty")
        .send()
        .await
        .unwrap()
}

async fn preflights_are_answered_without_a_token(backend: Backend) {
    let app = spawn(backend, &[ADMIN, "http://localhost:3000"]).await;
    // The Graph SDKs' GET: Authorization plus their telemetry headers.
    let resp = preflight(
        &app,
        SETTINGS,
        ADMIN,
        "GET",
        "authorization,client-request-id,sdkversion",
    )
    .await;
    assert_eq!(resp.status(), 204);
    assert_eq!(header(&resp, "access-control-allow-origin"), Some(ADMIN));
    let methods = header(&resp, "access-control-allow-methods").unwrap();
    for m in ["GET", "POST", "PATCH", "DELETE"] {
        assert!(methods.contains(m), "{methods}");
    }
    assert_eq!(
        header(&resp, "access-control-allow-headers"),
        Some("authorization,client-request-id,sdkversion")
    );
    assert!(header(&resp, "access-control-max-age").is_some());
    assert!(header(&resp, "vary").unwrap().contains("Origin"));
    assert!(header(&resp, "access-control-allow-credentials").is_none());
    // A PATCH with a JSON body, on an entity path that does not exist: still a preflight, 204.
    let resp = preflight(
        &app,
        &format!("{SETTINGS}/00000000-0000-0000-0000-000000000000"),
        "http://localhost:3000",
        "PATCH",
        "authorization,content-type",
    )
    .await;
    assert_eq!(resp.status(), 204);
    assert_eq!(
        header(&resp, "access-control-allow-origin"),
        Some("http://localhost:3000")
    );
    // A disallowed origin (another port is another origin): no CORS headers, the usual 401.
    for origin in ["https://evil.example.com", "http://localhost:3001", "null"] {
        let resp = preflight(&app, SETTINGS, origin, "GET", "authorization").await;
        no_cors(&resp);
        assert_graph_error(resp, 401, "InvalidAuthenticationToken").await;
    }
    // A header value a browser never sends is not echoed back.
    let resp = preflight(&app, SETTINGS, ADMIN, "GET", "bad header").await;
    assert_eq!(resp.status(), 204);
    assert!(
        header(&resp, "access-control-allow-headers")
            .unwrap()
            .contains("Authorization")
    );
}

async fn responses_name_the_origin_and_expose_graphs_headers(backend: Backend) {
    let app = spawn(backend, &[ADMIN]).await;
    let token = app.token();
    let send = |method: Method, path: String, origin: Option<&'static str>, body: Option<Value>| {
        let mut req = app
            .client
            .request(method, format!("{}{path}", app.base))
            .bearer_auth(&token);
        if let Some(origin) = origin {
            req = req.header("Origin", origin);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        req.send()
    };
    let allowed = |resp: &Response| {
        assert_eq!(header(resp, "access-control-allow-origin"), Some(ADMIN));
        assert_eq!(header(resp, "access-control-expose-headers"), Some(EXPOSED));
        assert!(
            resp.headers()
                .get_all("vary")
                .iter()
                .any(|v| v.to_str().unwrap().contains("Origin")),
            "{:?}",
            resp.headers()
        );
    };
    let resp = send(Method::POST, SETTINGS.into(), Some(ADMIN), Some(json!({})))
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    allowed(&resp);
    assert!(header(&resp, "location").is_some());
    let resp = send(Method::GET, SETTINGS.into(), Some(ADMIN), None)
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    allowed(&resp);
    // Errors carry them too: the browser script must be able to read Graph's error.
    let resp = send(Method::GET, format!("{SETTINGS}/nope"), Some(ADMIN), None)
        .await
        .unwrap();
    allowed(&resp);
    assert!(resp.status().is_client_error());
    let resp = send(
        Method::POST,
        SETTINGS.into(),
        Some(ADMIN),
        Some(json!({"tokenName": 42})),
    )
    .await
    .unwrap();
    allowed(&resp);
    assert_graph_error(resp, 400, "BadRequest").await;
    let resp = app
        .client
        .get(format!("{}{SETTINGS}", app.base))
        .header("Origin", ADMIN)
        .send()
        .await
        .unwrap();
    allowed(&resp);
    assert_graph_error(resp, 401, "InvalidAuthenticationToken").await;
    // Another origin, or none: no CORS headers (Vary still says the answer depends on it).
    let resp = send(
        Method::GET,
        SETTINGS.into(),
        Some("https://evil.example.com"),
        None,
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), 200);
    no_cors(&resp);
    assert!(header(&resp, "vary").unwrap().contains("Origin"));
    let resp = send(Method::GET, SETTINGS.into(), None, None)
        .await
        .unwrap();
    no_cors(&resp);
}

async fn without_origins_nothing_changes_and_star_allows_any(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let resp = preflight(&app, SETTINGS, ADMIN, "GET", "authorization").await;
    no_cors(&resp);
    assert!(header(&resp, "vary").is_none());
    assert_graph_error(resp, 401, "InvalidAuthenticationToken").await;
    let resp = app.get(SETTINGS).await;
    no_cors(&resp);

    let app = spawn(backend, &["*"]).await;
    let origin = "https://any.example.org";
    let resp = preflight(&app, SETTINGS, origin, "DELETE", "authorization").await;
    assert_eq!(resp.status(), 204);
    assert_eq!(header(&resp, "access-control-allow-origin"), Some(origin));
    let resp = app
        .request(Method::GET, SETTINGS)
        .header("Origin", origin)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "access-control-allow-origin"), Some(origin));
}

on_both_backends!(
    preflights_are_answered_without_a_token,
    responses_name_the_origin_and_expose_graphs_headers,
    without_origins_nothing_changes_and_star_allows_any,
);

/// An entry that is not an origin stops the gateway at start, naming the setting.
#[tokio::test]
async fn a_bad_origin_is_a_start_up_error() {
    let settings = dep_gateway::config::Settings {
        bind: "127.0.0.1:0".into(),
        data_dir: std::env::temp_dir().join(format!("dep-gateway-test-{}", uuid::Uuid::new_v4())),
        cors_allowed_origins: vec!["https://admin.example.com/app".into()],
        ..dep_gateway::config::Settings::default()
    };
    let Err(err) = dep_gateway::Application::build(settings).await else {
        panic!("a path was accepted as an origin");
    };
    assert!(
        err.to_string().starts_with("cors_allowed_origins:"),
        "{err}"
    );
}
