//! Settings of the token-lifecycle warnings and of trace export.

use serde::{Deserialize, Serialize};

/// When DEP and VPP tokens are warned about: before expiry at each of `expiry_days`, at expiry,
/// when Apple's terms and conditions are not signed, and after `failed_syncs` failed sync runs in
/// a row. Each warning is logged (and counted) once per crossing.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TokenWarningSettings {
    /// Days before expiry to warn at (a warning also comes at expiry).
    pub expiry_days: Vec<u32>,
    /// Failed sync runs in a row before a warning; 0 turns that warning off.
    pub failed_syncs: u32,
    /// Seconds between two checks; 0 turns the periodic check off (the `tokens` CLI still
    /// reports).
    pub check_interval_secs: u64,
}

impl Default for TokenWarningSettings {
    fn default() -> Self {
        Self {
            expiry_days: vec![30, 14, 7, 1],
            failed_syncs: 3,
            check_interval_secs: 3600,
        }
    }
}

impl super::Settings {
    /// Where traces go: `otlp_endpoint`, else the standard `OTEL_EXPORTER_OTLP_ENDPOINT`
    /// (blank counts as unset); `None` turns tracing off.
    pub fn traces_endpoint(&self) -> Option<String> {
        self.otlp_endpoint
            .clone()
            .or_else(|| std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT").ok())
            .filter(|e| !e.trim().is_empty())
    }
}
