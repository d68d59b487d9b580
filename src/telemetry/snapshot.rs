//! The values the metrics endpoint reads at scrape time (from the database, the pool and the
//! background supervisor), handed to [`super::Metrics::render`].

use std::time::Duration;

/// The values read at scrape time.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// The database pool.
    pub pool: PoolStats,
    /// Assignments waiting to be pushed to Apple (due now or waiting for their retry).
    pub assignment_queue_depth: i64,
    /// Background worker restarts after a panic since start.
    pub background_restarts: u64,
    /// One entry per DEP token (onboarding setting holding a server token).
    pub dep_tokens: Vec<TokenGauges>,
}

/// The database pool's state and its checkout history since start.
#[derive(Debug, Clone, Copy, Default)]
pub struct PoolStats {
    /// The pool's maximum size.
    pub max_size: u32,
    /// Connections open (idle or checked out).
    pub connections: u32,
    /// Connections checked out.
    pub in_use: u32,
    /// Checkouts that succeeded.
    pub checkouts: u64,
    /// Time spent waiting for those checkouts.
    pub checkout_wait: Duration,
    /// Checkouts that gave up (`db_checkout_timeout_secs`).
    pub timeouts: u64,
}

/// The gauges of one DEP token.
#[derive(Debug, Clone)]
pub struct TokenGauges {
    /// The tenant id.
    pub tenant: String,
    /// The onboarding setting (token) id.
    pub token: String,
    /// Seconds until `tokenExpirationDateTime` (negative once expired).
    pub seconds_to_expiry: i64,
    /// `lastSyncErrorCode` (0 = the last sync succeeded).
    pub last_sync_error_code: i64,
    /// Seconds since `lastSuccessfulSyncDateTime`; `None` when it never synced.
    pub seconds_since_sync: Option<i64>,
}
