//! One connection type over SQLite and PostgreSQL, and the r2d2 manager that picks the backend
//! from the URL scheme (never by trial: SQLite would accept any string as a file name).

use std::cell::Cell;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use diesel::ConnectionError;
use diesel::connection::SimpleConnection;
use diesel::r2d2::{self, R2D2Connection};
use diesel::{Connection, PgConnection, SqliteConnection};

use crate::config::{redact_url, scrub_url_secrets};

/// A pooled database connection of either backend.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    /// PostgreSQL, for scale-out.
    Pg(PgConnection),
    /// SQLite, the embedded default.
    Sqlite(SqliteConnection),
}

/// Which database a URL names. Its `Debug` (and so the pool's) hides the PostgreSQL password.
#[derive(Clone, PartialEq, Eq)]
pub enum Target {
    /// `postgres://` or `postgresql://`.
    Postgres(String),
    /// A SQLite file.
    Sqlite(PathBuf),
}

impl Target {
    /// Parses `sqlite://path`, `sqlite:path`, a bare path, or `postgres(ql)://…`.
    pub fn parse(url: &str) -> anyhow::Result<Self> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_owned()));
        }
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            anyhow::ensure!(!path.is_empty(), "the SQLite URL {url:?} names no file");
            return Ok(Self::Sqlite(PathBuf::from(path)));
        }
        match url.split_once("://") {
            Some((scheme, _)) => anyhow::bail!(
                "unsupported database URL scheme {scheme:?}: use sqlite://PATH or postgres://…"
            ),
            None => Ok(Self::Sqlite(PathBuf::from(url))),
        }
    }
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Postgres(url) => f.debug_tuple("Postgres").field(&redact_url(url)).finish(),
            Self::Sqlite(path) => f.debug_tuple("Sqlite").field(path).finish(),
        }
    }
}

/// Opens connections for the pool.
#[derive(Debug)]
pub struct ConnectionManager {
    target: Target,
    connect_timeout: Duration,
    statement_timeout: Duration,
}

impl ConnectionManager {
    /// A manager for `target` with PostgreSQL's connect and statement timeouts (SQLite keeps
    /// its busy timeout: a local file has no network to wait on).
    pub fn new(target: Target, connect_timeout: Duration, statement_timeout: Duration) -> Self {
        Self {
            target,
            connect_timeout,
            statement_timeout,
        }
    }
}

/// The `SET` that gives a PostgreSQL session a statement timeout (0 turns it off).
pub fn statement_timeout_sql(timeout: Duration) -> String {
    format!("SET statement_timeout = {}", timeout.as_millis())
}

thread_local! {
    /// Set by [`mark_broken`] on the blocking thread that holds a connection whose server went
    /// away; read when r2d2 takes the connection back on that same thread (`has_broken`).
    static BROKEN: Cell<bool> = const { Cell::new(false) };
}

/// Marks the connection held by this thread as broken, so the pool drops it when it is returned
/// instead of handing a dead session to the next request. diesel reports a PostgreSQL session
/// whose server closed it as broken only inside a failed transaction.
pub fn mark_broken() {
    BROKEN.with(|b| b.set(true));
}

/// `url` with libpq's `connect_timeout` (whole seconds, at least 2 as libpq requires) unless the
/// URL sets one itself.
fn with_connect_timeout(url: &str, timeout: Duration) -> String {
    if url.contains("connect_timeout=") {
        return url.to_owned();
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    format!(
        "{url}{separator}connect_timeout={}",
        timeout.as_secs().max(2)
    )
}

// Per-connection SQLite settings: WAL for concurrent readers, foreign keys on, and a busy
// timeout so that writers queue instead of failing. `synchronous = NORMAL`: a power loss may
// lose the last commits, never corrupt the file (a sync refetches lost pages: the cursor commits
// with its page). `temp_store = MEMORY`: the statement journal of a multi-row INSERT (kept for
// its triggers and constraints) stays in memory; in a temporary file it made over half of a
// sync's CPU time kernel writes (perf, 100,000-device sync).
// busy_timeout comes first: switching to WAL takes a lock that other new connections may hold.
const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
                              PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
                              PRAGMA temp_store = MEMORY;";

impl r2d2::ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        match &self.target {
            Target::Postgres(url) => {
                let url = with_connect_timeout(url, self.connect_timeout);
                let mut conn = PgConnection::establish(&url)
                    .map_err(|e| r2d2::Error::ConnectionError(without_password(e, &url)))?;
                // Plan each execution of a cached statement with its values: a generic plan made
                // while a table was small (a fresh token's first sync pages) would keep
                // sequential scans as it grows (measured: a 100,000-device first sync took 50 s, 7.8 s now).
                conn.batch_execute("SET plan_cache_mode = force_custom_plan")
                    .map_err(r2d2::Error::QueryError)?;
                // A statement the server cannot finish in time fails instead of holding its
                // connection (and its request) indefinitely.
                conn.batch_execute(&statement_timeout_sql(self.statement_timeout))
                    .map_err(r2d2::Error::QueryError)?;
                Ok(DbConnection::Pg(conn))
            }
            Target::Sqlite(path) => {
                let mut conn = SqliteConnection::establish(&path.to_string_lossy())
                    .map_err(r2d2::Error::ConnectionError)?;
                conn.batch_execute(SQLITE_PRAGMAS)
                    .map_err(r2d2::Error::QueryError)?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        conn.ping().map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        BROKEN.with(|b| b.replace(false)) || conn.is_broken()
    }
}

/// libpq quotes a malformed URI, or the offending part of it, in its error; r2d2 logs and
/// returns that text, so the password is masked before the error leaves the manager.
fn without_password(error: ConnectionError, url: &str) -> ConnectionError {
    match error {
        ConnectionError::BadConnection(m) => {
            ConnectionError::BadConnection(scrub_url_secrets(&m, url))
        }
        ConnectionError::InvalidConnectionUrl(m) => {
            ConnectionError::InvalidConnectionUrl(scrub_url_secrets(&m, url))
        }
        // `NulError`'s `Debug` carries the whole URL.
        ConnectionError::InvalidCString(e) => ConnectionError::InvalidConnectionUrl(format!(
            "the database URL has a NUL byte at position {}",
            e.nul_position()
        )),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::r2d2::ManageConnection;

    #[test]
    fn adds_a_connect_timeout_unless_the_url_sets_one() {
        let five = Duration::from_secs(5);
        assert_eq!(
            with_connect_timeout("postgres://u@h/db", five),
            "postgres://u@h/db?connect_timeout=5"
        );
        assert_eq!(
            with_connect_timeout("postgres://u@h/db?sslmode=disable", Duration::from_secs(1)),
            "postgres://u@h/db?sslmode=disable&connect_timeout=2"
        );
        assert_eq!(
            with_connect_timeout("postgres://u@h/db?connect_timeout=30", five),
            "postgres://u@h/db?connect_timeout=30"
        );
    }

    #[test]
    fn picks_the_backend_by_scheme() {
        assert_eq!(
            Target::parse("postgres://u@h/db").unwrap(),
            Target::Postgres("postgres://u@h/db".into())
        );
        assert_eq!(
            Target::parse("sqlite://data/x.db").unwrap(),
            Target::Sqlite("data/x.db".into())
        );
        assert_eq!(
            Target::parse("sqlite:///abs/x.db").unwrap(),
            Target::Sqlite("/abs/x.db".into())
        );
        assert_eq!(
            Target::parse("x.db").unwrap(),
            Target::Sqlite("x.db".into())
        );
        assert!(Target::parse("mysql://u@h/db").is_err());
        assert!(Target::parse("sqlite://").is_err());
    }

    #[test]
    fn debug_hides_the_password() {
        let target = Target::parse("postgres://dep:hunter2@db/dep").unwrap();
        let debug = format!(
            "{:?}",
            ConnectionManager::new(target, Duration::from_secs(5), Duration::from_secs(10))
        );
        assert_eq!(
            debug,
            "ConnectionManager { target: Postgres(\"postgres://dep:***@db/dep\"), connect_timeout: 5s, statement_timeout: 10s }"
        );
    }

    #[test]
    fn connection_errors_do_not_echo_the_password() {
        // Each makes libpq fail before talking to a server, quoting the URI or a part of it.
        let raw = PgConnection::establish("postgres://dep:hunter2@[::1/dep").err();
        assert!(
            raw.is_some_and(|e| e.to_string().contains("hunter2")),
            "libpq itself echoes the password"
        );
        for url in [
            "postgres://dep:hunter2@[::1/dep",
            "postgres://dep:hunter2%zz@127.0.0.1/dep",
            "postgres://dep@127.0.0.1/dep?password=hunter2&port=x",
            "postgres://dep:hunter2@127.0.0.1/dep?bogus=hunter2",
            "postgres://dep:hunter2\0@127.0.0.1/dep",
        ] {
            let manager = ConnectionManager::new(
                Target::parse(url).unwrap(),
                Duration::from_secs(5),
                Duration::from_secs(10),
            );
            let Err(err) = manager.connect() else {
                panic!("{url} connected");
            };
            let (shown, debug) = (err.to_string(), format!("{err:?}"));
            assert!(!shown.is_empty(), "{url}");
            for text in [&shown, &debug] {
                assert!(!text.contains("hunter2"), "{url}: {text}");
            }
        }
    }
}
