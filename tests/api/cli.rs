//! The binary's subcommands and configuration layering (file, then environment).

use std::process::Command;

use base64::Engine;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::Backend;
use crate::on_both_backends;
use crate::sync::{Sim, setting_with_token, sync_ok, trigger, wait_for};

fn gateway() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dep-gateway"));
    // The test suite's own DEP_GATEWAY_TEST_* variables must not disturb the gateway.
    cmd.env_remove("DEP_GATEWAY_CONFIG")
        .env("DEP_GATEWAY_TEST_POSTGRES_URL", "postgres://unused");
    cmd
}

#[test]
fn migrate_uses_the_config_file_and_the_environment_wins() {
    let dir = std::env::temp_dir().join(format!("dep-gateway-cli-{}", Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let from_file = dir.join("from-file.db");
    let from_env = dir.join("from-env.db");
    let config = dir.join("gateway.toml");
    std::fs::write(
        &config,
        format!("database_url = \"sqlite://{}\"\n", from_file.display()),
    )
    .unwrap();

    let out = gateway()
        .arg("--config")
        .arg(&config)
        .arg("migrate")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("applied ") && !stdout.starts_with("applied 0"),
        "{stdout}"
    );
    assert!(from_file.exists());

    let out = gateway()
        .arg("--config")
        .arg(&config)
        .arg("migrate")
        .env(
            "DEP_GATEWAY_DATABASE_URL",
            format!("sqlite://{}", from_env.display()),
        )
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(from_env.exists(), "the environment overrides the file");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_configuration_is_refused_with_a_message() {
    let dir = std::env::temp_dir().join(format!("dep-gateway-cli-{}", Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("typo.toml");
    std::fs::write(&config, "databse_url = \"x\"\n").unwrap();
    let out = gateway()
        .arg("--config")
        .arg(&config)
        .arg("migrate")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("databse_url"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = gateway()
        .arg("migrate")
        .env("DEP_GATEWAY_DATABASE_URL", "mysql://root@localhost/x")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unsupported database URL scheme"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn token_prints_a_jwt_for_the_tenant() {
    let dir = std::env::temp_dir().join(format!("dep-gateway-cli-{}", Uuid::new_v4()));
    let tenant = Uuid::new_v4();
    let out = gateway()
        .args([
            "token",
            "--tenant",
            &tenant.to_string(),
            "--role",
            "DeviceManagementServiceConfig.Read.All",
        ])
        .env("DEP_GATEWAY_DATA_DIR", &dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap();
    let payload = token.trim().split('.').nth(1).unwrap();
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["tid"], tenant.to_string());
    assert_eq!(
        claims["roles"],
        serde_json::json!(["DeviceManagementServiceConfig.Read.All"])
    );
    assert!(dir.join("dev-authority-key.pem").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs `dep-gateway tokens ARGS` on `database_url`; (exit code, stdout).
async fn tokens(database_url: &str, args: &[&str]) -> (i32, String) {
    let mut cmd = gateway();
    cmd.arg("tokens")
        .args(args)
        .env("DEP_GATEWAY_DATABASE_URL", database_url)
        .env("DEP_GATEWAY_LOG", "warn");
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let code = out
        .status
        .code()
        .unwrap_or_else(|| panic!("killed: {}", String::from_utf8_lossy(&out.stderr)));
    (code, stdout)
}

async fn tokens_lists_the_tokens_and_exits_2_when_one_fails(backend: Backend) {
    let sim = Sim::start().await;
    let app = crate::sync::spawn(backend, &sim, 3600).await;
    let id = setting_with_token(&app, &sim, "server-cli", 7).await;
    sync_ok(&app, &id).await;
    let db = app.database_url();
    let tenant = app.tenant.to_string();

    let (code, out) = tokens(&db, &["--json"]).await;
    assert_eq!(code, 0, "{out}");
    let lines: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(lines.as_array().unwrap().len(), 1, "{out}");
    let line = &lines[0];
    assert_eq!(
        (&line["kind"], &line["tenantId"], &line["id"]),
        (&json!("dep"), &json!(tenant), &json!(id))
    );
    assert_eq!(line["deviceCount"], 7);
    assert_eq!(line["lastError"], "0");
    assert_eq!(line["status"], "ok");
    assert!(line["daysToExpiry"].as_i64().unwrap() > 300, "{line}");
    assert!(line["lastSyncDateTime"].is_string(), "{line}");

    let (code, out) = tokens(&db, &["--tenant", &tenant]).await;
    assert_eq!(code, 0, "{out}");
    let row = out.lines().nth(1).unwrap_or_default();
    assert!(out.starts_with("KIND"), "{out}");
    assert!(row.contains(&id) && row.ends_with("ok"), "{out}");
    let (code, out) = tokens(&db, &["--tenant", &Uuid::new_v4().to_string()]).await;
    assert_eq!(
        (code, out.lines().nth(1)),
        (0, Some("(no tokens)")),
        "{out}"
    );

    // Apple refuses the next sync (terms not signed): the token is failing, exit code 2.
    sim.send(
        Method::POST,
        "/admin/servers/server-cli/terms",
        &json!({"signed": false}),
    )
    .await;
    trigger(&app, &id).await;
    wait_for(&app, &id, |s| s["lastSyncErrorCode"] == 403).await;
    let (code, out) = tokens(&db, &["--json", "--tenant", &tenant]).await;
    assert_eq!(code, 2, "{out}");
    let lines: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(lines[0]["status"], "failing");
    assert_eq!(lines[0]["lastError"], "403");
    assert_eq!(lines[0]["consecutiveFailedSyncs"], 1);
}

on_both_backends!(tokens_lists_the_tokens_and_exits_2_when_one_fails);
