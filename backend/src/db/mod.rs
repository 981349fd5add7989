//! The database: one query code path over SQLite and PostgreSQL, a pool, and migrations.
//!
//! Queries are written once against [`AnyConnection`] (diesel's `MultiConnection`). Diesel is
//! blocking, so handlers run database work through [`Database::run`], which moves it off the
//! async executor.

pub mod schema;

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use stratus_shared::api::health::DatabaseBackend;

use crate::config::DatabaseUrl;
pub use crate::error::DatabaseError;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// A connection to either database engine; queries are written once against it.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Postgresql(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

/// Opens connections by the URL's scheme, never by trial: diesel's derived `establish` tries
/// each engine in turn, and would let SQLite create a file named after an unreachable
/// PostgreSQL URL.
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: DatabaseUrl,
}

impl ManageConnection for ConnectionManager {
    type Connection = AnyConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<AnyConnection, r2d2::Error> {
        let connection = match &self.url {
            DatabaseUrl::Postgres(url) => establish_postgres(url).map(AnyConnection::Postgresql),
            DatabaseUrl::Sqlite(path) => {
                diesel::SqliteConnection::establish(&path.to_string_lossy())
                    .map(AnyConnection::Sqlite)
            }
        };
        let mut connection = connection.map_err(r2d2::Error::ConnectionError)?;
        if let AnyConnection::Sqlite(sqlite) = &mut connection {
            // busy_timeout first: the WAL switch itself needs the lock that parallel pool
            // start-up contends for.
            sqlite
                .batch_execute(
                    "PRAGMA busy_timeout = 5000;
                     PRAGMA journal_mode = WAL;
                     PRAGMA synchronous = NORMAL;
                     PRAGMA foreign_keys = ON;",
                )
                .map_err(r2d2::Error::QueryError)?;
        }
        Ok(connection)
    }

    fn is_valid(&self, connection: &mut AnyConnection) -> Result<(), r2d2::Error> {
        ping(connection).map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, connection: &mut AnyConnection) -> bool {
        // A PostgreSQL connection the server dropped must leave the pool, or the pool would
        // keep failing after the server is back.
        r2d2::R2D2Connection::is_broken(connection)
    }
}

/// Opens a PostgreSQL connection, with OpenSSL set up first so it never cleans up at exit.
///
/// libpq uses OpenSSL for TLS (`sslmode=prefer` by default) and, when it is the first to start
/// OpenSSL, OpenSSL registers an `atexit` clean-up that frees its tables while pool and runtime
/// threads may still be using them: the process then aborts after `main` returns ("double
/// free or corruption"). `openssl::init` starts OpenSSL with `OPENSSL_INIT_NO_ATEXIT`; it runs
/// once per process and must come before libpq's first connection, so every PostgreSQL
/// connection, the tests' administrative ones included, opens through here.
pub fn establish_postgres(url: &str) -> ConnectionResult<diesel::PgConnection> {
    openssl::init();
    diesel::PgConnection::establish(url)
}

fn ping(connection: &mut AnyConnection) -> QueryResult<()> {
    diesel::sql_query("SELECT 1")
        .execute(connection)
        .map(|_| ())
}

/// The connection pool, cheap to clone and share between workers.
#[derive(Clone)]
pub struct Database {
    pool: r2d2::Pool<ConnectionManager>,
    backend: DatabaseBackend,
    /// How many times work went to the database (`run` calls), for tests that count trips.
    #[cfg(test)]
    trips: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Database {
    /// Connects, checks the URL works (with the engine's own error message when not) and
    /// brings the schema up to date.
    pub fn connect(url: &DatabaseUrl, pool_size: u32) -> anyhow::Result<Self> {
        use anyhow::Context;
        let backend = match url {
            DatabaseUrl::Postgres(_) => DatabaseBackend::Postgres,
            DatabaseUrl::Sqlite(path) => {
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent)
                        .with_context(|| format!("cannot create {}", parent.display()))?;
                }
                DatabaseBackend::Sqlite
            }
        };
        let manager = ConnectionManager { url: url.clone() };
        // One connection first: a wrong URL fails here with libpq's or SQLite's own words.
        let mut first = manager
            .connect()
            .map_err(|error| anyhow::anyhow!("cannot open the {backend:?} database: {error}"))?;
        run_migrations(&mut first)?;
        drop(first);

        let pool = r2d2::Pool::builder()
            .max_size(pool_size.max(1))
            // Grow on demand: many servers (or test instances) share one PostgreSQL.
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(5))
            .test_on_check_out(false)
            .build(manager)
            .context("cannot build the database pool")?;
        Ok(Self {
            pool,
            backend,
            #[cfg(test)]
            trips: Default::default(),
        })
    }

    /// The engine behind this pool.
    pub fn backend(&self) -> DatabaseBackend {
        self.backend
    }

    /// Runs blocking database work on the blocking thread pool.
    pub async fn run<T, F>(&self, work: F) -> Result<T, DatabaseError>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, DatabaseError> + Send + 'static,
        T: Send + 'static,
    {
        #[cfg(test)]
        self.trips
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let pool = self.pool.clone();
        actix_web::web::block(move || {
            let mut connection = pool
                .get()
                .map_err(|error| DatabaseError::Unavailable(error.to_string()))?;
            work(&mut connection)
        })
        .await
        .map_err(|error| DatabaseError::Unavailable(format!("blocking pool: {error}")))?
    }

    /// Like [`Database::run`], for work that can also fail with an [`AppError`] (not found,
    /// forbidden, …); diesel errors convert with `?`.
    pub async fn run_app<T, F>(&self, work: F) -> Result<T, crate::error::AppError>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, crate::error::AppError> + Send + 'static,
        T: Send + 'static,
    {
        self.run(move |connection| Ok(work(connection))).await?
    }

    /// Like [`Database::run_app`], in one transaction that takes the write lock first
    /// ([`begin_write`]): for a handler that reads, checks and then writes.
    pub async fn run_write<T, F>(&self, work: F) -> Result<T, crate::error::AppError>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, crate::error::AppError> + Send + 'static,
        T: Send + 'static,
    {
        self.run_app(move |connection| {
            connection.transaction(|connection| {
                begin_write(connection)?;
                work(connection)
            })
        })
        .await
    }

    /// How many trips to the database this pool has made (every `run*` call is one).
    #[cfg(test)]
    pub fn trips(&self) -> usize {
        self.trips.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Whether a trivial query succeeds now.
    pub async fn is_reachable(&self) -> bool {
        match self.run(|connection| Ok(ping(connection)?)).await {
            Ok(()) => true,
            Err(error) => {
                tracing::warn!(%error, "database health check failed");
                false
            }
        }
    }
}

/// The PostgreSQL advisory lock taken while migrating ("stratus" in ASCII).
const MIGRATION_LOCK: i64 = 0x73_74_72_61_74_75_73;

fn run_migrations(connection: &mut AnyConnection) -> anyhow::Result<()> {
    let applied = match connection {
        AnyConnection::Postgresql(pg) => {
            // Backends of a cluster may start together: one migrates at a time (the lock is
            // the session's, released by the unlock or when the connection ends), the others
            // then find nothing pending.
            diesel::sql_query("SELECT pg_advisory_lock($1)")
                .bind::<diesel::sql_types::BigInt, _>(MIGRATION_LOCK)
                .execute(pg)?;
            let applied = pg
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|versions| versions.iter().map(ToString::to_string).collect::<Vec<_>>());
            diesel::sql_query("SELECT pg_advisory_unlock($1)")
                .bind::<diesel::sql_types::BigInt, _>(MIGRATION_LOCK)
                .execute(pg)?;
            applied
        }
        AnyConnection::Sqlite(sqlite) => sqlite
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map(|versions| versions.iter().map(ToString::to_string).collect()),
    }
    .map_err(|error| anyhow::anyhow!("database migration failed: {error}"))?;
    for migration in applied {
        tracing::info!(%migration, "applied database migration");
    }
    Ok(())
}

/// The time now, to the microsecond: PostgreSQL keeps no more, so what an answer shows equals
/// what a later read of the database returns, on either engine.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(6)
}

/// Call first inside a transaction that reads before it writes. SQLite starts such a
/// transaction as a reader and refuses its later upgrade to a writer at once ("database is
/// locked", no busy wait) when another connection writes meanwhile; a write as the first
/// statement takes the write lock up front, waiting on `busy_timeout` like any write.
/// PostgreSQL needs nothing.
pub fn begin_write(connection: &mut AnyConnection) -> QueryResult<()> {
    if let AnyConnection::Sqlite(_) = connection {
        diesel::sql_query("UPDATE systems SET id = id WHERE 1 = 0").execute(connection)?;
    }
    Ok(())
}
