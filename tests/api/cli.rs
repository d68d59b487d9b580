//! The binary's subcommands and configuration layering (file, then environment).

use std::process::Command;

use base64::Engine;

use uuid::Uuid;

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
