//! Counts of the connection pool's checkouts for the metrics endpoint: r2d2 reports each
//! checkout (with how long it waited) and each timeout to [`PoolEvents`], which keeps running
//! totals in atomics. The pool's size and idle count come from r2d2's own state at scrape time.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use diesel::r2d2::HandleEvent;
use diesel::r2d2::event::{CheckoutEvent, TimeoutEvent};

/// Running totals since the pool opened.
#[derive(Debug, Default)]
pub struct PoolCounters {
    checkouts: AtomicU64,
    wait_nanos: AtomicU64,
    timeouts: AtomicU64,
}

/// The pool's event handler, sharing its [`PoolCounters`] with the [`super::Db`].
#[derive(Debug, Clone, Default)]
pub struct PoolEvents(pub Arc<PoolCounters>);

impl HandleEvent for PoolEvents {
    fn handle_checkout(&self, event: CheckoutEvent) {
        let nanos = u64::try_from(event.duration().as_nanos()).unwrap_or(u64::MAX);
        self.0.checkouts.fetch_add(1, Ordering::Relaxed);
        self.0.wait_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    fn handle_timeout(&self, _event: TimeoutEvent) {
        self.0.timeouts.fetch_add(1, Ordering::Relaxed);
    }
}

/// The pool's state and history at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolState {
    /// The pool's maximum size.
    pub max_size: u32,
    /// Connections open.
    pub connections: u32,
    /// Connections checked out.
    pub in_use: u32,
    /// Successful checkouts since start.
    pub checkouts: u64,
    /// Time those checkouts waited in total.
    pub checkout_wait: Duration,
    /// Checkouts that timed out.
    pub timeouts: u64,
}

impl PoolCounters {
    /// The totals, with the pool's current sizes.
    pub fn state(&self, max_size: u32, connections: u32, idle: u32) -> PoolState {
        PoolState {
            max_size,
            connections,
            in_use: connections.saturating_sub(idle),
            checkouts: self.checkouts.load(Ordering::Relaxed),
            checkout_wait: Duration::from_nanos(self.wait_nanos.load(Ordering::Relaxed)),
            timeouts: self.timeouts.load(Ordering::Relaxed),
        }
    }
}
