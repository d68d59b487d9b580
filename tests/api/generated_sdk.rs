//! A Python client generated from the committed `OpenAPI` document (openapi-python-client, from
//! `tests/setup-clients.sh`) makes a Graph user's calls against a real gateway:
//! `tests/generated_sdk/run.py`, on each backend.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use uuid::Uuid;

use crate::helpers::{Backend, TestApp, with_mdm};
use crate::on_both_backends;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A tool of the test venv; its absence fails the test with the way to install it.
fn venv_tool(name: &str) -> PathBuf {
    let tool = repo().join(".venv-tests/bin").join(name);
    assert!(
        tool.exists(),
        "{} is missing: run `bash tests/setup-clients.sh` first (it creates .venv-tests/ with \
         the pinned client tools)",
        tool.display()
    );
    tool
}

fn check(what: &str, out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    stdout
}

/// Generates the client package `graph_client` into a fresh directory and returns it.
fn generate_client() -> PathBuf {
    let generator = venv_tool("openapi-python-client");
    let dir = std::env::temp_dir().join(format!("dep-gateway-sdk-{}", Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("config.yml");
    std::fs::write(
        &config,
        "post_hooks: []\nproject_name_override: graph_client\npackage_name_override: graph_client\n",
    )
    .unwrap();
    let out = Command::new(generator)
        .current_dir(repo())
        .args([
            "generate",
            "--meta",
            "none",
            "--path",
            "openapi/openapi.json",
        ])
        .arg("--output-path")
        .arg(dir.join("graph_client"))
        .arg("--config")
        .arg(&config)
        .output()
        .expect("openapi-python-client runs");
    let log = check("openapi-python-client generate", &out);
    assert!(
        !log.contains("Warning") && !String::from_utf8_lossy(&out.stderr).contains("Warning"),
        "the generator warned: {log}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

async fn generated_python_client_makes_graph_calls(backend: Backend) {
    let python = venv_tool("python");
    let app = TestApp::spawn_with(backend, with_mdm).await;
    let (base, token) = (app.base.clone(), app.token());
    let out = tokio::task::spawn_blocking(move || {
        let sdk = generate_client();
        let out = Command::new(python)
            .arg(repo().join("tests/generated_sdk/run.py"))
            .env("GATEWAY_URL", base)
            .env("GATEWAY_TOKEN", token)
            .env("SDK_DIR", &sdk)
            .output()
            .expect("python runs");
        let _ = std::fs::remove_dir_all(sdk);
        out
    })
    .await
    .unwrap();
    let stdout = check("tests/generated_sdk/run.py", &out);
    println!("{stdout}");
    let summary = stdout.lines().last().unwrap_or_default();
    assert!(
        summary.ends_with(" passed, 0 failed") && !summary.starts_with("0 "),
        "{stdout}"
    );
}

on_both_backends!(generated_python_client_makes_graph_calls);
