//! Keeps a PostgreSQL instance's read cache coherent with the writes of every instance.
//!
//! Each write transaction to a table that a cached read shows notifies [`CHANNEL`] when it
//! commits (statement triggers, migration `2026-12-04-000001_read_cache_notify`; PostgreSQL
//! folds a transaction's identical notifications into one). A thread per [`super::Db`] holds
//! its own connection that `LISTEN`s, polls for notifications every [`POLL`], and invalidates
//! the cache on each. The cache is online only while that connection listens: it goes offline
//! (storing and serving nothing) when the connection fails a poll or the periodic ping, and
//! comes back, emptied, after a new connection listens again. The thread ends when its `Db`
//! (the last holder of the cache) is dropped.

use std::sync::Weak;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::ManageConnection;

use super::connection::{ConnectionManager, DbConnection};
use super::read_cache::ReadCache;

/// The channel write transactions notify.
pub const CHANNEL: &str = "dep_gateway_writes";

/// The pause between two looks for notifications: the longest a write of another instance can
/// stay unseen here after it arrived.
const POLL: Duration = Duration::from_millis(1);
/// How often an idle listening connection is checked with a query (a frozen or vanished
/// server does not fail a poll).
const PING: Duration = Duration::from_secs(1);
/// The longest wait between two connection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Starts the listener thread for `cache`, connecting through `manager`.
pub fn spawn(manager: ConnectionManager, cache: Weak<ReadCache>) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("read-cache-listener".into())
        .spawn(move || run(&manager, &cache))
        .map(drop)
}

fn run(manager: &ConnectionManager, cache: &Weak<ReadCache>) {
    let mut backoff = Duration::from_millis(50);
    while cache.strong_count() > 0 {
        match listen(manager) {
            Ok(mut conn) => {
                backoff = Duration::from_millis(50);
                watch(&mut conn, cache);
            }
            Err(e) => {
                tracing::warn!(error = %e, "read cache listener cannot connect; cache offline");
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// A connection listening on [`CHANNEL`].
fn listen(manager: &ConnectionManager) -> anyhow::Result<PgConnection> {
    match manager.connect()? {
        DbConnection::Pg(mut conn) => {
            conn.batch_execute(&format!("LISTEN {CHANNEL}"))?;
            Ok(conn)
        }
        DbConnection::Sqlite(_) => anyhow::bail!("the read cache listener needs PostgreSQL"),
    }
}

/// Invalidates `cache` on every notification until the connection fails or the cache is gone.
fn watch(conn: &mut PgConnection, cache: &Weak<ReadCache>) {
    match cache.upgrade() {
        Some(cache) => cache.set_online(true),
        None => return,
    }
    let mut pinged = Instant::now();
    loop {
        let Some(cache) = cache.upgrade() else {
            return;
        };
        let mut notified = false;
        let mut failed = false;
        for notification in conn.notifications_iter() {
            match notification {
                Ok(_) => notified = true,
                Err(e) => {
                    tracing::warn!(error = %e, "read cache listener lost its connection");
                    failed = true;
                    break;
                }
            }
        }
        if !failed && pinged.elapsed() >= PING {
            pinged = Instant::now();
            if let Err(e) = conn.batch_execute("SELECT 1") {
                tracing::warn!(error = %e, "read cache listener's connection failed");
                failed = true;
            }
        }
        if failed {
            cache.set_online(false);
            return;
        }
        if notified {
            cache.invalidate();
        }
        drop(cache);
        std::thread::sleep(POLL);
    }
}
