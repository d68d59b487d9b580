//! `bench-walk` (hidden): the baseline of `benches/sync.py`. Walks a simulated MDM server's full
//! device list with the gateway's own Apple client — the same HTTP client settings, page size,
//! request bodies and parsing of every device as a sync — and stores nothing.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;

use crate::apple::client::{ClientOptions, DepClient};
use crate::clock::SystemClock;

/// Devices per page asked of the simulator: the sync's page size.
const PAGE_LIMIT: u32 = 1000;

/// What one walk did, printed as one JSON line.
#[derive(Debug, serde::Serialize)]
struct Walk {
    pages: u64,
    devices: u64,
    seconds: f64,
}

/// Walks the full device list of `server` (created with `devices` devices if missing) on the
/// simulator at `sim_url`, and prints pages, devices and seconds as JSON.
pub async fn run(sim_url: &str, server: &str, devices: u32) -> anyhow::Result<()> {
    let credentials = crate::apple_sim::server_credentials(sim_url, server, devices).await?;
    // As `lib.rs` builds the gateway's client.
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(60))
        .build()?;
    let base = url::Url::parse(sim_url).context("--sim-url is not a URL")?;
    let client = DepClient::new(http, base, credentials, ClientOptions::default())
        .with_clock(Arc::new(SystemClock));
    let start = Instant::now();
    let (mut pages, mut seen, mut cursor) = (0_u64, 0_u64, None::<String>);
    loop {
        let page = client.fetch_devices(cursor.as_deref(), PAGE_LIMIT).await?;
        pages += 1;
        seen += page.devices.len() as u64;
        if !page.more_to_follow || cursor.as_deref() == Some(page.cursor.as_str()) {
            break;
        }
        cursor = Some(page.cursor);
    }
    let walk = Walk {
        pages,
        devices: seen,
        seconds: start.elapsed().as_secs_f64(),
    };
    println!("{}", serde_json::to_string(&walk)?);
    Ok(())
}
