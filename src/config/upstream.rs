//! Settings of upstream mode: the gateway translates the single-token API onto an upstream
//! Graph service's multi-token API instead of its own store.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `[upstream]`: set `base_url` (`--upstream`, `DEP_GATEWAY_UPSTREAM__BASE_URL`) to turn the
/// mode on.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UpstreamSettings {
    /// Base URL of the upstream Graph service (`https://graph.microsoft.com`), without `/beta`.
    pub base_url: Option<String>,
    /// Seconds one upstream call may take; longer is a 504 to the caller.
    pub timeout_secs: u64,
    /// The legacy default token of each tenant: tenant id → depOnboardingSetting id, used by
    /// old tenant-wide writes when the tenant has several tokens.
    pub default_tokens: BTreeMap<String, String>,
    /// Also validate bearer tokens at the gateway (the `auth` settings). Off by default: the
    /// upstream validates them, and the gateway cannot verify real Graph tokens.
    pub validate_tokens: bool,
    /// Apply the gateway's own `throttling` too. Off by default: the upstream's limits apply
    /// and its 429s come back unchanged.
    pub throttle: bool,
}

impl Default for UpstreamSettings {
    fn default() -> Self {
        Self {
            base_url: None,
            timeout_secs: 30,
            default_tokens: BTreeMap::new(),
            validate_tokens: false,
            throttle: false,
        }
    }
}
