//! A real browser engine: headless Chromium loads a page from a second origin (served here),
//! whose script calls the gateway with a token — create, list, a 401 — and reads Graph's
//! exposed headers; a gateway that does not allow the page's origin is refused by the browser.
//! The page reports what it saw back to its own server, which the test waits for.
//!
//! Needs Chromium (`apt-get install -y chromium`; `.ci/run` installs it). Without it the test
//! fails saying so, unless `DEP_GATEWAY_TEST_SKIP_BROWSER=1` asks to skip it (then it says it
//! skipped on stderr).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpResponse, HttpServer, web};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, eventually};
use crate::on_both_backends;

const PATH: &str = "/beta/deviceManagement/depOnboardingSettings";

/// Chromium's binary: `DEP_GATEWAY_TEST_CHROMIUM`, else the usual names on `PATH`.
fn chromium() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("DEP_GATEWAY_TEST_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let dirs = std::env::var("PATH").unwrap_or_default();
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&dirs).map(move |d| d.join(name)))
        .find(|p| p.is_file())
}

/// The browser process, killed when the test ends however it ends.
struct Browser(Child);

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The page's script: what it does and what it reports (`cfg` is filled in by the test).
const PAGE: &str = r"<!doctype html><title>admin</title><script>
const cfg = CONFIG;
(async () => {
  const out = {};
  try {
    const auth = { Authorization: 'Bearer ' + cfg.token };
    const created = await fetch(cfg.gateway + cfg.path, { method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json', 'client-request-id': cfg.crid },
      body: '{}' });
    out.createStatus = created.status;
    out.location = created.headers.get('Location');
    out.clientRequestId = created.headers.get('client-request-id');
    const listed = await fetch(cfg.gateway + cfg.path, { headers: auth });
    out.listStatus = listed.status;
    out.requestId = listed.headers.get('request-id');
    out.ids = (await listed.json()).value.map(v => v.id);
    const denied = await fetch(cfg.gateway + cfg.path, { headers: { Authorization: 'Bearer x' } });
    out.deniedStatus = denied.status;
    out.deniedCode = (await denied.json()).error.code;
  } catch (e) { out.error = String(e); }
  try {
    await fetch(cfg.refusing + cfg.path, { headers: { Authorization: 'Bearer ' + cfg.token } });
    out.refused = 'not refused';
  } catch (e) { out.refused = String(e); }
  await fetch('/result', { method: 'POST', body: JSON.stringify(out) });
})();
</script>";

/// Serves `page` (as it is when asked) at `/` and keeps what is posted to `/result`; returns
/// the page's origin.
fn serve_page(page: Arc<Mutex<String>>, result: Arc<Mutex<Option<Value>>>) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("page port");
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let server = HttpServer::new(move || {
        let (page, result) = (Arc::clone(&page), Arc::clone(&result));
        App::new()
            .route(
                "/",
                web::get().to(move || {
                    let page = page.lock().unwrap().clone();
                    async move { HttpResponse::Ok().content_type("text/html").body(page) }
                }),
            )
            .route(
                "/result",
                web::post().to(move |body: web::Bytes| {
                    let result = Arc::clone(&result);
                    async move {
                        *result.lock().unwrap() = serde_json::from_slice(&body).ok();
                        HttpResponse::NoContent().finish()
                    }
                }),
            )
    })
    .workers(1)
    .listen(listener)
    .expect("page server")
    .run();
    tokio::spawn(server);
    origin
}

async fn a_real_browser_calls_the_gateway_from_another_origin(backend: Backend) {
    let Some(chromium) = chromium() else {
        if std::env::var_os("DEP_GATEWAY_TEST_SKIP_BROWSER").is_some() {
            eprintln!("SKIPPED: Chromium is not installed (DEP_GATEWAY_TEST_SKIP_BROWSER is set)");
            return;
        }
        panic!(
            "Chromium is not installed: `apt-get install -y chromium` (or point \
             DEP_GATEWAY_TEST_CHROMIUM at it; DEP_GATEWAY_TEST_SKIP_BROWSER=1 skips this test)"
        );
    };
    let result = Arc::new(Mutex::new(None));
    // The gateway needs the page's origin and the page the gateway's URL: bind, then fill in.
    let page_slot = Arc::new(Mutex::new(String::new()));
    let origin = serve_page(Arc::clone(&page_slot), Arc::clone(&result));
    let allowed = origin.clone();
    let app = TestApp::spawn_with(backend, move |s| s.cors_allowed_origins = vec![allowed]).await;
    let refusing = TestApp::spawn_with(backend, |s| {
        s.cors_allowed_origins = vec!["https://admin.example.com".into()];
    })
    .await;
    let config = json!({
        "gateway": app.base, "refusing": refusing.base, "path": PATH,
        "token": app.token(), "crid": "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
    });
    *page_slot.lock().unwrap() = PAGE.replace("CONFIG", &config.to_string());

    let profile =
        std::env::temp_dir().join(format!("dep-gateway-chromium-{}", uuid::Uuid::new_v4()));
    let _browser = Browser(
        Command::new(&chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--disable-extensions",
                "--disable-background-networking",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg(format!("{origin}/"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromium.display())),
    );
    let seen = eventually("the page's report", Duration::from_secs(60), || {
        let got = result.lock().unwrap().clone();
        async move { got }
    })
    .await;
    let _ = std::fs::remove_dir_all(&profile);

    assert!(seen.get("error").is_none(), "{seen}");
    assert_eq!(seen["createStatus"], 201, "{seen}");
    let location = seen["location"].as_str().expect("Location is exposed");
    let id = location.rsplit('/').next().unwrap();
    assert!(location.starts_with(&app.base), "{location}");
    assert_eq!(seen["clientRequestId"], config["crid"], "{seen}");
    assert_eq!(seen["listStatus"], 200, "{seen}");
    assert!(
        seen["requestId"].as_str().is_some_and(|r| !r.is_empty()),
        "{seen}"
    );
    assert!(
        seen["ids"].as_array().unwrap().iter().any(|v| v == id),
        "{seen}"
    );
    assert_eq!(seen["deniedStatus"], 401, "{seen}");
    assert_eq!(seen["deniedCode"], "InvalidAuthenticationToken", "{seen}");
    // The browser itself refused the response of a gateway that does not allow the origin.
    assert!(
        seen["refused"].as_str().unwrap().contains("TypeError"),
        "{seen}"
    );
}

on_both_backends!(a_real_browser_calls_the_gateway_from_another_origin);
