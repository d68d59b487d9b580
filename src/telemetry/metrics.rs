//! The gateway's Prometheus metrics: one [`Metrics`] per [`crate::Application`], holding its own
//! registry. Events (requests, Apple calls, sync runs, throttling) are counted as they happen;
//! what lives in the database or in other components (pool state, the assignment queue, the
//! per-token gauges, background restarts) is read once per scrape and handed to
//! [`Metrics::render`] as a [`Snapshot`].
//!
//! Why the `prometheus` crate (without default features) and not `metrics` +
//! `metrics-exporter-prometheus`: it adds no crate to the lock file besides itself (its few
//! dependencies are already built for actix), and its registries are values, not a process-wide
//! recorder, so every application (and every API test, many of which run in one process) counts
//! only its own work.
//!
//! Labels never carry tenant data beyond ids: Graph operation ids, Apple endpoint names,
//! outcome words, and for the per-token gauges the tenant id and the token (setting) id.

use std::sync::Mutex;
use std::time::Duration;

pub use super::snapshot::{PoolStats, Snapshot, TokenGauges};

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

/// Latency buckets in seconds: a Graph request served from the database takes milliseconds,
/// a call to Apple up to a minute (the client's timeout).
const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// How one Apple call ended, as a label value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallOutcome {
    /// Apple answered with success.
    Ok,
    /// Apple refused or failed (an HTTP error answer).
    Error,
    /// Apple throttled the call.
    Throttled,
    /// No answer (connection, TLS, timeout).
    Transport,
}

impl CallOutcome {
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Error => "error",
            Self::Throttled => "throttled",
            Self::Transport => "transport",
        }
    }
}

/// The instance's metrics.
pub struct Metrics {
    registry: Registry,
    http_requests: IntCounterVec,
    http_duration: HistogramVec,
    throttled: IntCounterVec,
    apple_calls: IntCounterVec,
    apple_duration: HistogramVec,
    devices_fetched: IntCounterVec,
    serial_outcomes: IntCounterVec,
    sync_runs: IntCounterVec,
    sync_duration: HistogramVec,
    token_warnings: IntCounterVec,
    /// Set from a [`Snapshot`] at each scrape; the lock serialises scrapes (the per-token
    /// gauges are reset and refilled on each).
    scraped: Mutex<Scraped>,
}

/// The metrics whose values are read at scrape time.
struct Scraped {
    pool_gauges: IntGaugeVec,
    pool_checkouts: IntCounter,
    pool_wait_micros: IntCounter,
    pool_timeouts: IntCounter,
    queue_depth: IntGauge,
    restarts: IntCounter,
    token_expiry: IntGaugeVec,
    token_error: IntGaugeVec,
    token_since_sync: IntGaugeVec,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

fn counter(r: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let c = IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric");
    r.register(Box::new(c.clone())).expect("unique metric");
    c
}

fn histogram(r: &Registry, name: &str, help: &str, labels: &[&str]) -> HistogramVec {
    let opts = HistogramOpts::new(name, help).buckets(BUCKETS.to_vec());
    let h = HistogramVec::new(opts, labels).expect("valid metric");
    r.register(Box::new(h.clone())).expect("unique metric");
    h
}

fn gauge(r: &Registry, name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
    let g = IntGaugeVec::new(Opts::new(name, help), labels).expect("valid metric");
    r.register(Box::new(g.clone())).expect("unique metric");
    g
}

fn single(r: &Registry, name: &str, help: &str) -> IntCounter {
    let c = IntCounter::new(name, help).expect("valid metric");
    r.register(Box::new(c.clone())).expect("unique metric");
    c
}

impl Scraped {
    fn new(r: &Registry) -> Self {
        let queue_depth = IntGauge::new(
            "assignment_queue_depth",
            "Profile assignments waiting to be pushed to Apple (due or waiting for a retry).",
        )
        .expect("valid metric");
        r.register(Box::new(queue_depth.clone()))
            .expect("unique metric");
        Self {
            pool_gauges: gauge(
                r,
                "db_pool_connections",
                "Database pool connections by state (max, open, in_use).",
                &["state"],
            ),
            pool_checkouts: single(
                r,
                "db_pool_checkouts_total",
                "Connections checked out of the database pool.",
            ),
            pool_wait_micros: single(
                r,
                "db_pool_checkout_wait_microseconds_total",
                "Time spent waiting for database pool checkouts, in microseconds.",
            ),
            pool_timeouts: single(
                r,
                "db_pool_checkout_timeouts_total",
                "Database pool checkouts that gave up waiting (answered 503).",
            ),
            restarts: single(
                r,
                "background_restarts_total",
                "Background workers restarted after a panic.",
            ),
            token_expiry: gauge(
                r,
                "dep_token_expiry_seconds",
                "Seconds until the DEP token's tokenExpirationDateTime (negative once expired); one series per token.",
                &["tenant", "token"],
            ),
            token_error: gauge(
                r,
                "dep_token_last_sync_error_code",
                "The DEP token's lastSyncErrorCode (0: the last sync succeeded); one series per token.",
                &["tenant", "token"],
            ),
            token_since_sync: gauge(
                r,
                "dep_token_seconds_since_last_sync",
                "Seconds since the DEP token's last successful sync (absent when it never synced); one series per token.",
                &["tenant", "token"],
            ),
            queue_depth,
        }
    }
}

impl Metrics {
    /// A fresh registry with every metric at zero.
    ///
    /// # Panics
    /// Never at run time: names and labels are constants, so a mistake fails every test at once.
    pub fn new() -> Self {
        let r = Registry::new_custom(Some("dep_gateway".to_owned()), None).expect("valid prefix");
        Self {
            scraped: Mutex::new(Scraped::new(&r)),
            http_requests: counter(
                &r,
                "http_requests_total",
                "Graph requests by operation id (the row's Graph operation id; \"$batch\", or \"none\" when no row matched) and status class.",
                &["operation", "status_class"],
            ),
            http_duration: histogram(
                &r,
                "http_request_duration_seconds",
                "Graph request latency by operation id, from arrival to response.",
                &["operation"],
            ),
            throttled: counter(
                &r,
                "throttled_requests_total",
                "Graph requests refused with 429 by the gateway's own limits, by scope (tenant or app).",
                &["scope"],
            ),
            apple_calls: counter(
                &r,
                "apple_requests_total",
                "Calls to Apple's DEP web service by endpoint and outcome (ok, error, throttled, transport).",
                &["endpoint", "outcome"],
            ),
            apple_duration: histogram(
                &r,
                "apple_request_duration_seconds",
                "Latency of calls to Apple's DEP web service by endpoint (retries and session renewal included).",
                &["endpoint"],
            ),
            devices_fetched: counter(
                &r,
                "sync_devices_fetched_total",
                "Device records received from Apple by endpoint (fetch: full fetch, sync: changes).",
                &["endpoint"],
            ),
            serial_outcomes: counter(
                &r,
                "assignment_serial_outcomes_total",
                "Per-serial results Apple gave to profile assignments (SUCCESS, NOT_ACCESSIBLE, FAILED, THROTTLED, …).",
                &["outcome"],
            ),
            sync_runs: counter(
                &r,
                "sync_runs_total",
                "DEP sync runs by outcome (ok, apple_error, failed, lease_lost, no_token, stopped).",
                &["outcome"],
            ),
            sync_duration: histogram(
                &r,
                "sync_run_duration_seconds",
                "Duration of DEP sync runs by outcome.",
                &["outcome"],
            ),
            token_warnings: counter(
                &r,
                "token_warnings_total",
                "Token lifecycle warnings issued by this instance, by token kind (dep, vpp) and warning (expires_30d, …, expired, terms_not_signed, sync_failing).",
                &["kind", "warning"],
            ),
            registry: r,
        }
    }

    /// Counts one Graph request (direct, or one item of a `$batch`).
    pub fn http_request(&self, operation: &str, status: u16, elapsed: Duration) {
        let class = match status {
            100..=199 => "1xx",
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        };
        self.http_requests
            .with_label_values(&[operation, class])
            .inc();
        self.http_duration
            .with_label_values(&[operation])
            .observe(elapsed.as_secs_f64());
    }

    /// Counts a request the gateway throttled (`scope`: `tenant` or `app`).
    pub fn throttled(&self, scope: &str) {
        self.throttled.with_label_values(&[scope]).inc();
    }

    /// Counts one call to Apple.
    pub fn apple_call(&self, endpoint: &str, outcome: CallOutcome, elapsed: Duration) {
        self.apple_calls
            .with_label_values(&[endpoint, outcome.label()])
            .inc();
        self.apple_duration
            .with_label_values(&[endpoint])
            .observe(elapsed.as_secs_f64());
    }

    /// Counts device records Apple sent.
    pub fn devices_fetched(&self, endpoint: &str, count: usize) {
        self.devices_fetched
            .with_label_values(&[endpoint])
            .inc_by(u64::try_from(count).unwrap_or(u64::MAX));
    }

    /// Counts one per-serial assignment result.
    pub fn serial_outcome(&self, outcome: &str) {
        self.serial_outcomes.with_label_values(&[outcome]).inc();
    }

    /// Counts one sync run.
    pub fn sync_run(&self, outcome: &str, elapsed: Duration) {
        self.sync_runs.with_label_values(&[outcome]).inc();
        self.sync_duration
            .with_label_values(&[outcome])
            .observe(elapsed.as_secs_f64());
    }

    /// Counts one token lifecycle warning.
    pub fn token_warning(&self, kind: &str, warning: &str) {
        self.token_warnings
            .with_label_values(&[kind, warning])
            .inc();
    }

    /// The Prometheus text exposition of everything, with `snapshot`'s values.
    pub fn render(&self, snapshot: &Snapshot) -> String {
        let m = self
            .scraped
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let pool = &snapshot.pool;
        for (state, value) in [
            ("max", pool.max_size),
            ("open", pool.connections),
            ("in_use", pool.in_use),
        ] {
            m.pool_gauges
                .with_label_values(&[state])
                .set(i64::from(value));
        }
        catch_up(&m.pool_checkouts, pool.checkouts);
        catch_up(
            &m.pool_wait_micros,
            u64::try_from(pool.checkout_wait.as_micros()).unwrap_or(u64::MAX),
        );
        catch_up(&m.pool_timeouts, pool.timeouts);
        catch_up(&m.restarts, snapshot.background_restarts);
        m.queue_depth.set(snapshot.assignment_queue_depth);
        // Deleted tokens must disappear: the per-token series are rebuilt on every scrape.
        m.token_expiry.reset();
        m.token_error.reset();
        m.token_since_sync.reset();
        for t in &snapshot.dep_tokens {
            let labels = [t.tenant.as_str(), t.token.as_str()];
            m.token_expiry
                .with_label_values(&labels)
                .set(t.seconds_to_expiry);
            m.token_error
                .with_label_values(&labels)
                .set(t.last_sync_error_code);
            if let Some(since) = t.seconds_since_sync {
                m.token_since_sync.with_label_values(&labels).set(since);
            }
        }
        let mut out = Vec::new();
        // Encoding into a Vec fails only on invalid UTF-8 label values, which ids never are.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}

/// Moves a counter up to `total`, a monotonic count kept elsewhere (never down).
fn catch_up(counter: &IntCounter, total: u64) {
    let now = counter.get();
    if total > now {
        counter.inc_by(total - now);
    }
}

#[cfg(test)]
mod tests;
