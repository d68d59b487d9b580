//! Storage: the connection pool over SQLite or PostgreSQL, migrations, and one repository file
//! per aggregate. Repository functions are synchronous, take the tenant first, and run on the
//! blocking pool through [`Db::run`] / [`Db::write`].

pub mod apple_tokens;
pub mod audit;
pub mod cache_listener;
pub mod connection;
pub mod devices;
pub mod dyn_sql;
pub mod legacy_defaults;
pub mod onboarding_settings;
pub mod outbox;
pub mod pool_events;
pub mod profile_push;
pub mod profiles;
pub mod read_cache;
pub mod schema;
pub mod secrets;
pub mod subscriptions;
pub mod sync_state;
pub mod tenants;
pub mod token_health;
pub mod vpp_tokens;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use diesel::Connection;
use diesel::connection::SimpleConnection;
use diesel::r2d2::{Pool, PooledConnection, R2D2Connection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub use connection::{ConnectionManager, DbConnection, Target};
pub use read_cache::ReadCache;

use crate::domain::ids::TenantId;
use crate::odata::SqlCondition;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// A page request compiled from OData options, for any entity set.
#[derive(Debug, Clone)]
pub struct PageQuery {
    /// `$filter`, compiled.
    pub filter: Option<SqlCondition>,
    /// Keyset condition: rows after the previous page's last row.
    pub after: Option<SqlCondition>,
    /// `ORDER BY` text built from allow-listed columns.
    pub order_by: String,
    /// Rows to return.
    pub limit: i64,
    /// Rows to skip (`$skip`, first page only).
    pub offset: i64,
}

/// A failure below the service layer.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// No connection could be had from the pool.
    #[error("database unavailable: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
    /// A query failed.
    #[error("database query failed: {0}")]
    Query(#[from] diesel::result::Error),
    /// The blocking task panicked or was cancelled.
    #[error("database task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// The database did not answer within the bound (frozen, or unreachable mid-query).
    #[error("the database did not answer within {0:?}")]
    TimedOut(Duration),
    /// The database could not be reached or answered that it cannot serve.
    #[error("database unreachable: {0}")]
    Unreachable(String),
}

impl StorageError {
    /// Whether the failure is the database's availability (a retry later may succeed: 503),
    /// not a fault of the request or of this service (500).
    pub fn is_unavailable(&self) -> bool {
        use diesel::result::{DatabaseErrorKind, Error};
        match self {
            Self::Pool(_)
            | Self::TimedOut(_)
            | Self::Unreachable(_)
            | Self::Query(Error::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                _,
            )) => true,
            // PostgreSQL's statement_timeout (SQLSTATE 57014, which diesel does not expose).
            Self::Query(Error::DatabaseError(_, info)) => {
                info.message().contains("statement timeout")
            }
            Self::Query(_) | Self::Task(_) => false,
        }
    }
}

/// How long the database may take: to open a connection, to wait for a free one, and to run a
/// statement. A database call waits at most `checkout + statement` before answering
/// [`StorageError::TimedOut`].
#[derive(Debug, Clone, Copy)]
pub struct DbTimeouts {
    /// PostgreSQL `connect_timeout`.
    pub connect: Duration,
    /// Longest wait for a pooled connection.
    pub checkout: Duration,
    /// PostgreSQL `statement_timeout`, and the client-side wait for one database call.
    pub statement: Duration,
}

impl DbTimeouts {
    /// The configured timeouts (zeros are raised to one second: no wait is not a timeout).
    pub fn from_settings(settings: &crate::config::Settings) -> Self {
        let secs = |s: u64| Duration::from_secs(s.max(1));
        Self {
            connect: secs(settings.db_connect_timeout_secs),
            checkout: secs(settings.db_checkout_timeout_secs),
            statement: secs(settings.db_statement_timeout_secs),
        }
    }
}

impl Default for DbTimeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(5),
            checkout: Duration::from_secs(5),
            statement: Duration::from_secs(10),
        }
    }
}

/// The database handle shared by the whole service.
#[derive(Clone)]
pub struct Db {
    pool: Pool<ConnectionManager>,
    cache: Arc<ReadCache>,
    timeouts: DbTimeouts,
    /// Checkout totals for the metrics endpoint.
    pool_counters: Arc<pool_events::PoolCounters>,
}

impl Db {
    /// Opens a pool for `url` (creating the SQLite file's directory if needed) with the default
    /// [`DbTimeouts`].
    pub fn connect(url: &str, pool_size: u32) -> anyhow::Result<Self> {
        Self::connect_with(url, pool_size, DbTimeouts::default())
    }

    /// Opens a pool for `url` with `timeouts`.
    pub fn connect_with(url: &str, pool_size: u32, timeouts: DbTimeouts) -> anyhow::Result<Self> {
        let target = Target::parse(url)?;
        // The embedded SQLite database is written by this process alone; on PostgreSQL the
        // cache serves once a listener hears every instance's writes (read_cache.rs).
        let cache = Arc::new(if matches!(target, Target::Sqlite(_)) {
            ReadCache::storing()
        } else {
            ReadCache::listening()
        });
        if matches!(target, Target::Postgres(_)) {
            let manager =
                ConnectionManager::new(target.clone(), timeouts.connect, timeouts.statement);
            cache_listener::spawn(manager, Arc::downgrade(&cache))
                .context("starting the read cache listener")?;
        }
        if let Target::Sqlite(path) = &target
            && let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let events = pool_events::PoolEvents::default();
        let pool_counters = Arc::clone(&events.0);
        let pool = Pool::builder()
            .event_handler(Box::new(events))
            .max_size(pool_size.max(1))
            .connection_timeout(timeouts.checkout)
            // A broken connection fails its query and is replaced (has_broken); a ping per
            // checkout would double the queries of every request.
            .test_on_check_out(false)
            .build(ConnectionManager::new(
                target,
                timeouts.connect,
                timeouts.statement,
            ))
            .context("opening the database")?;
        Ok(Self {
            pool,
            cache,
            timeouts,
            pool_counters,
        })
    }

    /// The pool's size, connections in use and checkout history (for the metrics endpoint).
    pub fn pool_state(&self) -> pool_events::PoolState {
        let state = self.pool.state();
        self.pool_counters.state(
            self.pool.max_size(),
            state.connections,
            state.idle_connections,
        )
    }

    /// Applies pending migrations of the connection's backend; returns how many ran.
    pub fn migrate(&self) -> anyhow::Result<usize> {
        let mut conn = self.pool.get().context("connecting to the database")?;
        let applied = match &mut *conn {
            DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|a| a.len()),
            DbConnection::Pg(c) => {
                // A migration may rewrite a large table: no statement timeout while it runs.
                c.batch_execute(&connection::statement_timeout_sql(Duration::ZERO))?;
                let applied = c
                    .run_pending_migrations(POSTGRES_MIGRATIONS)
                    .map(|a| a.len());
                c.batch_execute(&connection::statement_timeout_sql(self.timeouts.statement))?;
                applied
            }
        }
        .map_err(|e| anyhow::anyhow!("applying migrations: {e}"))?;
        Ok(applied)
    }

    /// Whether the database answers and every migration is applied.
    pub async fn ready(&self) -> Result<bool, StorageError> {
        self.on_blocking_pool(|conn| {
            let pending = match conn {
                DbConnection::Sqlite(c) => c.has_pending_migration(SQLITE_MIGRATIONS),
                DbConnection::Pg(c) => c.has_pending_migration(POSTGRES_MIGRATIONS),
            };
            // A failed check is an unreachable database, not pending migrations.
            pending
                .map(|pending| !pending)
                .map_err(|e| StorageError::Unreachable(e.to_string()))
        })
        .await
    }

    /// Runs `f` with a pooled connection on the blocking pool. `f` may write: the read cache
    /// is invalidated once it has finished.
    pub async fn run<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StorageError> + Send + 'static,
    {
        let cache = self.cache.clone();
        self.on_blocking_pool(move |conn| {
            let result = f(conn);
            cache.invalidate();
            result
        })
        .await
    }

    /// A point read through the read cache: `f` must only read, and its `Some` result is kept
    /// under (`tenant`, `kind`, `key`) until the next write.
    pub async fn read_cached<T, E, F>(
        &self,
        tenant: TenantId,
        kind: &'static str,
        key: &str,
        f: F,
    ) -> Result<Option<T>, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<Option<T>, E> + Send + 'static,
        T: Clone + Send + Sync + 'static,
        E: From<StorageError> + Send + 'static,
    {
        if !self.cache.enabled() {
            return self.on_blocking_pool(f).await;
        }
        let cache_key = (tenant, kind, key.to_owned());
        if let Some(hit) = self.cache.get::<T>(&cache_key) {
            return Ok(Some(hit));
        }
        let generation = self.cache.generation();
        let found = self.on_blocking_pool(f).await?;
        if let Some(value) = &found {
            self.cache.put(cache_key, generation, value.clone());
        }
        Ok(found)
    }

    async fn on_blocking_pool<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StorageError> + Send + 'static,
    {
        let pool = self.pool.clone();
        let span = tracing::Span::current();
        let task = tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            let mut conn: PooledConnection<ConnectionManager> =
                pool.get().map_err(StorageError::from)?;
            let result = f(&mut conn);
            // A failure may mean the server went away; then the session must not go back into
            // the pool, or every later checkout would fail on it until a restart. One ping on
            // failures only keeps the successful path free of it.
            if result.is_err() && conn.ping().is_err() {
                connection::mark_broken();
            }
            result
        });
        // A frozen server never answers and its statement_timeout cannot fire: the caller stops
        // waiting after the bound, the blocking thread (and its connection) stays until the
        // server answers or the connection breaks. A write that times out may still commit.
        let bound = self.timeouts.checkout + self.timeouts.statement;
        match tokio::time::timeout(bound, task).await {
            Ok(joined) => joined.map_err(StorageError::from)?,
            Err(_) => Err(StorageError::TimedOut(bound).into()),
        }
    }

    /// Runs `f` in a transaction that first locks the tenant's row, so that per-tenant rules
    /// (limits, uniqueness) hold under concurrent writers on either backend. `now` (from the
    /// caller's clock) dates the tenant's row when this is its first write.
    pub async fn write<T, E, F>(&self, tenant: TenantId, now: i64, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StorageError> + From<diesel::result::Error> + Send + 'static,
    {
        self.run(move |conn| {
            conn.transaction(|conn| {
                tenants::lock(conn, tenant, now)?;
                f(conn)
            })
        })
        .await
    }
}
