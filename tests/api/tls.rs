//! HTTPS with a `dev-cert` certificate: HTTP/1.1 and HTTP/2 (ALPN), https public URLs, and
//! clear start-up errors for missing or unusable certificate files.

use std::process::Command;

use dep_gateway::Application;
use dep_gateway::config::Settings;
use reqwest::Version;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;

const SETTINGS: &str = "/beta/deviceManagement/depOnboardingSettings";

async fn https_serves_http1_and_http2(backend: Backend) {
    let app = TestApp::spawn_tls(backend).await;
    assert!(app.base.starts_with("https://127.0.0.1:"), "{}", app.base);

    let h1 = app.client_with(reqwest::ClientBuilder::http1_only);
    let resp = h1
        .post(format!("{}{SETTINGS}", app.base))
        .bearer_auth(app.token())
        .json(&json!({"tokenName": "over TLS"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.version(), Version::HTTP_11);
    assert_eq!(resp.status(), 201);
    // Links point back at the https origin.
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(&format!("{}{SETTINGS}/", app.base)));
    let created: Value = resp.json().await.unwrap();
    assert!(
        created["@odata.context"]
            .as_str()
            .unwrap()
            .starts_with("https://")
    );

    // ALPN offers h2: a client that speaks it gets HTTP/2.
    let h2 = app.client_with(|b| b);
    let resp = h2
        .get(format!("{}{SETTINGS}?$top=1&$count=true", app.base))
        .bearer_auth(app.token())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.version(), Version::HTTP_2);
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().contains_key("request-id"));
    let list: Value = resp.json().await.unwrap();
    assert_eq!(list["value"][0]["tokenName"], "over TLS");

    // Errors keep Graph's shape over h2, and $batch works there too.
    let resp = h2
        .post(format!("{}/beta/$batch", app.base))
        .bearer_auth(app.token())
        .json(&json!({"requests": [{"id": 1, "method": "GET", "url": "deviceManagement"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.version(), Version::HTTP_2);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["responses"][0]["status"], 200);
    let resp = h2
        .get(format!("{}{SETTINGS}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);

    // A client that does not trust the certificate is refused at the handshake.
    let untrusting = reqwest::Client::new();
    assert!(
        untrusting
            .get(format!("{}/healthz", app.base))
            .send()
            .await
            .is_err()
    );
    // Plain HTTP on the TLS port gets no HTTP answer.
    let plain = app.base.replacen("https://", "http://", 1);
    let plain_resp = reqwest::Client::new()
        .get(format!("{plain}/healthz"))
        .send()
        .await;
    assert!(
        plain_resp.is_err() || !plain_resp.unwrap().status().is_success(),
        "plain http must not be served on the TLS port"
    );
}

on_both_backends!(https_serves_http1_and_http2);

fn temp_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("dep-gateway-tls-{}", Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn settings(dir: &std::path::Path) -> Settings {
    Settings {
        bind: "127.0.0.1:0".into(),
        data_dir: dir.to_path_buf(),
        workers: Some(1),
        ..Settings::default()
    }
}

async fn start_error(settings: Settings) -> String {
    match Application::build(settings).await {
        Ok(_) => panic!("the gateway started with an unusable certificate"),
        Err(e) => format!("{e:#}"),
    }
}

#[tokio::test]
async fn unusable_certificates_are_startup_errors() {
    let dir = temp_dir();
    let (cert, key) = dep_gateway::tls::write_dev_cert(&dir.join("good")).unwrap();
    let garbage = dir.join("garbage.pem");
    std::fs::write(&garbage, "this is not a certificate\n").unwrap();
    let missing = dir.join("missing.pem");

    let mut s = settings(&dir);
    s.tls_cert = Some(missing.clone());
    s.tls_key = Some(key.clone());
    let err = start_error(s).await;
    assert!(err.contains(&missing.display().to_string()), "{err}");

    let mut s = settings(&dir);
    s.tls_cert = Some(garbage.clone());
    s.tls_key = Some(key.clone());
    let err = start_error(s).await;
    assert!(
        err.contains("no PEM certificate") && err.contains("garbage.pem"),
        "{err}"
    );

    let mut s = settings(&dir);
    s.tls_cert = Some(cert.clone());
    s.tls_key = Some(garbage.clone());
    let err = start_error(s).await;
    assert!(
        err.contains("no PEM private key") && err.contains("garbage.pem"),
        "{err}"
    );

    // The key of another certificate.
    let (_, other_key) = dep_gateway::tls::write_dev_cert(&dir.join("other")).unwrap();
    let mut s = settings(&dir);
    s.tls_cert = Some(cert.clone());
    s.tls_key = Some(other_key);
    let err = start_error(s).await;
    assert!(err.contains("does not fit"), "{err}");

    let mut s = settings(&dir);
    s.tls_cert = Some(cert);
    let err = start_error(s).await;
    assert!(err.contains("needs both tls_cert and tls_key"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

fn gateway() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dep-gateway"));
    cmd.env_remove("DEP_GATEWAY_CONFIG")
        .env("DEP_GATEWAY_TEST_POSTGRES_URL", "postgres://unused");
    cmd
}

#[test]
fn dev_cert_prints_its_paths_and_serve_refuses_a_bad_one() {
    let dir = temp_dir();
    let out = gateway()
        .args(["dev-cert", "--out-dir"])
        .arg(dir.join("certs"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let cert = dir.join("certs").join("dev-cert.pem");
    let key = dir.join("certs").join("dev-key.pem");
    assert!(stdout.contains(&cert.display().to_string()), "{stdout}");
    assert!(stdout.contains(&key.display().to_string()), "{stdout}");
    let pem = std::fs::read_to_string(&cert).unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the key is private: {mode:o}");
    }

    let missing = dir.join("nope.pem");
    let out = gateway()
        .arg("serve")
        .arg("--tls-cert")
        .arg(&missing)
        .arg("--tls-key")
        .arg(&key)
        .env("DEP_GATEWAY_DATA_DIR", &dir)
        .env("DEP_GATEWAY_BIND", "127.0.0.1:0")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("nope.pem"), "{stderr}");

    // --tls-cert without --tls-key is a usage error.
    let out = gateway()
        .arg("serve")
        .arg("--tls-cert")
        .arg(&cert)
        .env("DEP_GATEWAY_DATA_DIR", &dir)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let _ = std::fs::remove_dir_all(&dir);
}
