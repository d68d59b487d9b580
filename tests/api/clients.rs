//! Real Graph clients against a fresh gateway on each database: the Python Graph beta SDK
//! (`tests/clients/python_sdk.py`) and the JavaScript Graph client with its default middleware
//! over HTTPS (`tests/clients/js/graph_client.js`). Each runs as a child process with the
//! gateway's URL and tokens in its environment, its output is streamed into the test's output,
//! and the test asserts a clean `N passed, 0 failed`. The clients come from
//! `tests/setup-clients.sh`; without them these tests fail and say so.
//!
//! Also: the tests for gateway incompatibilities the clients found.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use dep_gateway::apple_sim::{self, SimConfig, SimHandle};
use serde_json::{Value, json};

use crate::helpers::{Backend, READ, TestApp, assert_graph_error, with_mdm};
use crate::on_both_backends;

/// The gateway's page size in client runs: small, so that paging takes several requests.
const PAGE_SIZE: u32 = 3;
/// The longest a client run may take.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(300);
const SETUP: &str = "tests/setup-clients.sh";

pub fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// `rel` must exist: the clients are installed by the setup script, never skipped silently.
pub fn installed(rel: &str) -> PathBuf {
    let path = repo(rel);
    assert!(
        path.exists(),
        "{} is missing: run `{SETUP}` first (it installs the pinned Graph clients)",
        path.display()
    );
    path
}

/// A child process that is killed when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs a client to completion (off the async runtime that serves the gateway), streams its
/// output into the test's output, and asserts exit 0 and a final `N passed, 0 failed`.
pub async fn run_client(label: &'static str, mut command: Command) {
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = Running(
        command
            .spawn()
            .unwrap_or_else(|e| panic!("{label}: cannot start {command:?}: {e} (run `{SETUP}`?)")),
    );
    let stderr = child.0.stderr.take().expect("stderr");
    let stderr_lines = std::thread::spawn(move || {
        BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
            .inspect(|line| println!("[{label} stderr] {line}"))
            .collect::<Vec<_>>()
    });
    let stdout = child.0.stdout.take().expect("stdout");
    let lines = tokio::time::timeout(
        CLIENT_TIMEOUT,
        tokio::task::spawn_blocking(move || {
            BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .inspect(|line| println!("[{label}] {line}"))
                .collect::<Vec<_>>()
        }),
    )
    .await
    .unwrap_or_else(|_| panic!("{label}: still running after {CLIENT_TIMEOUT:?}"))
    .expect("reader");
    let status = tokio::task::spawn_blocking(move || {
        let status = child.0.wait();
        drop(child);
        status
    })
    .await
    .expect("wait")
    .expect("exit status");
    let stderr = stderr_lines.join().unwrap_or_default();
    println!(
        "[{label}] finished in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    let summary = lines.last().cloned().unwrap_or_default();
    assert!(
        status.success(),
        "{label} failed ({status}): {summary}\n{}",
        stderr.join("\n")
    );
    let (passed, failed) = parse_summary(&summary)
        .unwrap_or_else(|| panic!("{label}: no `N passed, N failed` line: {summary}"));
    assert!(passed > 0 && failed == 0, "{label}: {summary}");
}

/// `… N passed, M failed` → (N, M).
fn parse_summary(line: &str) -> Option<(u32, u32)> {
    let (_, counts) = line.rsplit_once(": ")?;
    let (passed, failed) = counts.split_once(" passed, ")?;
    let failed = failed.strip_suffix(" failed")?;
    Some((passed.parse().ok()?, failed.parse().ok()?))
}

async fn simulator() -> SimHandle {
    apple_sim::start(SimConfig {
        bind: "127.0.0.1:0".into(),
        state_file: None,
    })
    .await
    .expect("simulator")
}

/// The Python Graph beta SDK (msgraph-beta-sdk) through every served operation.
async fn python_graph_beta_sdk(backend: Backend) {
    let python = installed(".venv-tests/bin/python");
    let sim = simulator().await;
    let sim_url = sim.base_url();
    let app = TestApp::spawn_with(backend, move |s| {
        with_mdm(s);
        s.max_page_size = PAGE_SIZE;
        s.apple_base_url = sim_url;
    })
    .await;
    let mut command = Command::new(python);
    command
        .arg(repo("tests/clients/python_sdk.py"))
        .env("GATEWAY_URL", &app.base)
        .env("GATEWAY_TOKEN", app.token())
        .env("GATEWAY_READ_TOKEN", app.token_for(app.tenant, &[READ]))
        .env("GATEWAY_PAGE_SIZE", PAGE_SIZE.to_string())
        .env("APPLE_SIM_URL", sim.base_url())
        .env("PYTHONDONTWRITEBYTECODE", "1");
    run_client("python msgraph-beta-sdk", command).await;
}

/// The JavaScript Graph client (`@microsoft/microsoft-graph-client`) with its default middleware
/// over HTTPS: CRUD, `nextLink` paging with `PageIterator`, actions, functions, errors, `$batch`.
///
/// The gateway serves HTTPS itself with a `dev-cert` certificate that node trusts through
/// `NODE_EXTRA_CA_CERTS`: the client sends its token to https URLs only.
async fn js_graph_client_over_https(backend: Backend) {
    let node_modules = installed("tests/clients/js/node_modules/@microsoft/microsoft-graph-client");
    drop(node_modules);
    let sim = simulator().await;
    let sim_url = sim.base_url();
    let app = TestApp::spawn_tls_with(backend, move |s| {
        with_mdm(s);
        s.max_page_size = PAGE_SIZE;
        s.apple_base_url = sim_url;
    })
    .await;
    let cert_file = app.tls_cert.clone().expect("a TLS gateway");

    let mut command = Command::new("node");
    command
        .arg(repo("tests/clients/js/graph_client.js"))
        .current_dir(repo("tests/clients/js"))
        .env("GATEWAY_URL", &app.base)
        .env("GATEWAY_TOKEN", app.token())
        .env("GATEWAY_PAGE_SIZE", PAGE_SIZE.to_string())
        .env("APPLE_SIM_URL", sim.base_url())
        .env("NODE_EXTRA_CA_CERTS", &cert_file);
    run_client("js microsoft-graph-client", command).await;
}

on_both_backends!(python_graph_beta_sdk, js_graph_client_over_https);

// ---------------------------------------------------------------------------------------------
// Incompatibilities found with the real clients, pinned down without them.

const SETTINGS: &str = "/beta/deviceManagement/depOnboardingSettings";

/// msgraph-beta-sdk serialises the base type `EnrollmentProfile` without `@odata.type`; OData
/// reads that as the collection's declared type, so it creates an Apple Configurator profile.
async fn profile_without_odata_type_is_an_enrollment_profile(backend: Backend) {
    let app = TestApp::spawn_with(backend, with_mdm).await;
    let setting = app.create_setting(&json!({"tokenName": "compat"})).await;
    let path = format!(
        "{SETTINGS}/{}/enrollmentProfiles",
        setting["id"].as_str().unwrap()
    );
    let resp = app
        .post_json(
            &path,
            &json!({"displayName": "Carts", "requiresUserAuthentication": false}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let created: Value = resp.json().await.unwrap();
    assert_eq!(created["@odata.type"], "#microsoft.graph.enrollmentProfile");
    assert!(created["configurationEndpointUrl"].is_string(), "{created}");
    let id = created["id"].as_str().unwrap();
    let got: Value = app.get(&format!("{path}/{id}")).await.json().await.unwrap();
    assert_eq!(got["@odata.type"], "#microsoft.graph.enrollmentProfile");
    assert_eq!(got["displayName"], "Carts");
}

/// `2026-11-27T07:06:17.3547551Z` with the fraction cut to `digits` digits, in Python's
/// `isoformat` shape (`+00:00`).
fn truncated(stamp: &str, digits: usize) -> String {
    let (whole, fraction) = stamp.trim_end_matches('Z').split_once('.').unwrap();
    format!("{whole}.{}+00:00", &fraction[..digits])
}

/// `msgraph-beta-sdk` keeps timestamps as Python `datetime`s (microseconds), so a GET body it sends
/// back in a PATCH carries server-set timestamps cut to 6 digits; JavaScript `Date`s keep 3. Both
/// are accepted; so is any other valid time, which is ignored (README "Write bodies"): the
/// stored value stands.
async fn patched_back_timestamps_at_client_precision_repeat_the_stored_value(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let setting = app.create_setting(&json!({"tokenName": "precision"})).await;
    let item = format!("{SETTINGS}/{}", setting["id"].as_str().unwrap());
    let mut stored = setting["lastModifiedDateTime"].as_str().unwrap().to_owned();
    for digits in [6, 3] {
        let resp = app
            .patch_json(
                &item,
                &json!({"tokenName": format!("p{digits}"), "lastModifiedDateTime": truncated(&stored, digits)}),
            )
            .await;
        assert_eq!(resp.status(), 204, "{digits} digits");
        let got: Value = app.get(&item).await.json().await.unwrap();
        assert_eq!(got["tokenName"], format!("p{digits}"));
        let stored_now = got["lastModifiedDateTime"].as_str().unwrap().to_owned();
        // Another microsecond is another time: accepted, and the server's time stands.
        let (whole, fraction) = stored_now.trim_end_matches('Z').split_once('.').unwrap();
        let micros: u32 = fraction[..6].parse().unwrap();
        let other = format!("{whole}.{:06}Z", (micros + 1) % 1_000_000);
        let resp = app
            .patch_json(
                &item,
                &json!({"tokenName": format!("q{digits}"), "lastModifiedDateTime": other}),
            )
            .await;
        assert_eq!(resp.status(), 204, "{digits} digits, another time");
        let got: Value = app.get(&item).await.json().await.unwrap();
        assert_eq!(got["tokenName"], format!("q{digits}"));
        assert_ne!(got["lastModifiedDateTime"], Value::String(other));
        // A time that is not one is still a 400 that changes nothing.
        let resp = app
            .patch_json(
                &item,
                &json!({"tokenName": "no", "lastModifiedDateTime": "yesterday"}),
            )
            .await;
        let msg = assert_graph_error(resp, 400, "BadRequest").await;
        assert!(msg.contains("lastModifiedDateTime"), "{msg}");
        let got: Value = app.get(&item).await.json().await.unwrap();
        assert_eq!(got["tokenName"], format!("q{digits}"));
        got["lastModifiedDateTime"]
            .as_str()
            .unwrap()
            .clone_into(&mut stored);
    }

    let devices = format!("{item}/importedAppleDeviceIdentities");
    let resp = app
        .post_json(&devices, &json!({"serialNumber": "C02PREC00001"}))
        .await;
    assert_eq!(resp.status(), 201);
    let device: Value = resp.json().await.unwrap();
    let created = device["createdDateTime"].as_str().unwrap();
    let resp = app
        .patch_json(
            &format!("{devices}/{}", device["id"].as_str().unwrap()),
            &json!({"description": "round trip", "createdDateTime": truncated(created, 6)}),
        )
        .await;
    assert_eq!(resp.status(), 204);
}

on_both_backends!(
    profile_without_odata_type_is_an_enrollment_profile,
    patched_back_timestamps_at_client_precision_repeat_the_stored_value,
);

#[test]
fn summaries_are_parsed() {
    assert_eq!(
        parse_summary("python x: 25 passed, 0 failed"),
        Some((25, 0))
    );
    assert_eq!(parse_summary("js y: 7 passed, 1 failed"), Some((7, 1)));
    assert_eq!(parse_summary("7 passed"), None);
}
