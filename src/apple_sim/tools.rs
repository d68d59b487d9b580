//! What the `apple-sim` and `make-dep-token` subcommands do.

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use super::{SimConfig, start};
use crate::apple::token_file::{self, ServerTokenCredentials, TokenCipher};

/// Runs a simulator until Ctrl-C, then stops it (writing the state file one last time).
/// Prints `Apple DEP simulator listening on <base URL>` on stdout once bound.
pub async fn serve_until_ctrl_c(config: SimConfig) -> anyhow::Result<()> {
    let handle = start(config).await?;
    println!("Apple DEP simulator listening on {}", handle.base_url());
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    handle.stop().await;
    Ok(())
}

#[derive(Serialize)]
struct CreateServer<'a> {
    name: &'a str,
    devices: u32,
}

#[derive(Deserialize)]
struct CreatedServer {
    credentials: ServerTokenCredentials,
}

/// Creates (or reuses) MDM server `server` — with `devices` generated devices when new — on
/// the simulator at `sim_url`, and returns its token as an Apple-style `.p7m` (AES-256-CBC,
/// indefinite-length BER) encrypted to `recipient_pem` (a PEM certificate or public key).
pub async fn make_dep_token(
    sim_url: &str,
    server: &str,
    devices: u32,
    recipient_pem: &str,
) -> anyhow::Result<String> {
    let credentials = server_credentials(sim_url, server, devices).await?;
    token_file::make_server_token_p7m(&credentials, recipient_pem, TokenCipher::Aes256Cbc)
}

/// Creates (or reuses) MDM server `server` — with `devices` generated devices when new — on
/// the simulator at `sim_url`, and returns its OAuth credentials.
pub async fn server_credentials(
    sim_url: &str,
    server: &str,
    devices: u32,
) -> anyhow::Result<ServerTokenCredentials> {
    let url = format!("{}/admin/servers", sim_url.trim_end_matches('/'));
    let resp = reqwest::Client::new()
        .post(&url)
        .json(&CreateServer {
            name: server,
            devices,
        })
        .send()
        .await
        .with_context(|| format!("calling {url}"))?;
    let status = resp.status();
    if !status.is_success() {
        let body = resp.text().await.unwrap_or_default();
        bail!("{url} answered {status}: {body}");
    }
    let created: CreatedServer = resp
        .json()
        .await
        .context("reading the simulator's answer")?;
    Ok(created.credentials)
}
