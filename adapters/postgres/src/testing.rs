//! A fresh, migrated database per test, created on the server named by
//! `TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`) and dropped
//! when the value is dropped. Tests that use it run in parallel without sharing data.

use std::time::Duration;

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::{MigrateError, PgStore, PoolSettings, migrate};

const DEFAULT_SERVER: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A database that exists for one test.
#[derive(Debug)]
pub struct TestDatabase {
    server: String,
    name: String,
    url: String,
}

/// Why a test database could not be had.
#[derive(Debug, thiserror::Error)]
pub enum TestDatabaseError {
    /// The server does not answer.
    #[error("no PostgreSQL server at {0}: {1}")]
    Unreachable(String, String),
    /// Creating or migrating the database failed.
    #[error("preparing the test database failed: {0}")]
    Setup(String),
}

/// The server URL tests use.
#[must_use]
pub fn server_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_SERVER.to_owned())
}

/// Whether a missing server must fail the test rather than skip it (`CI` is set).
#[must_use]
pub fn required() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false" && v != "0")
}

fn with_database(server: &str, name: &str) -> String {
    let (base, query) = match server.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (server, String::new()),
    };
    // Replace the path (the database name) after the authority.
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[after_scheme..]
        .find('/')
        .map_or(base.len(), |i| after_scheme + i);
    format!("{}/{name}{query}", &base[..path_start])
}

async fn admin(server: &str) -> Result<AsyncPgConnection, TestDatabaseError> {
    tokio::time::timeout(CONNECT_TIMEOUT, AsyncPgConnection::establish(server))
        .await
        .map_err(|_| TestDatabaseError::Unreachable(crate::redact(server), "timed out".into()))?
        .map_err(|e| TestDatabaseError::Unreachable(crate::redact(server), e.to_string()))
}

impl TestDatabase {
    /// Creates an empty database (no migrations applied).
    ///
    /// # Errors
    /// [`TestDatabaseError`] if the server is unreachable or refuses.
    pub async fn create_empty() -> Result<Self, TestDatabaseError> {
        let server = server_url();
        let name = format!("tessera_test_{}", Uuid::new_v4().simple());
        let mut conn = admin(&server).await?;
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .map_err(|e| TestDatabaseError::Setup(e.to_string()))?;
        let url = with_database(&server, &name);
        Ok(Self { server, name, url })
    }

    /// Creates a database with every migration applied.
    ///
    /// # Errors
    /// [`TestDatabaseError`] if the server is unreachable or a migration fails.
    pub async fn create() -> Result<Self, TestDatabaseError> {
        let db = Self::create_empty().await?;
        migrate(&db.url, CONNECT_TIMEOUT)
            .await
            .map_err(|e: MigrateError| TestDatabaseError::Setup(e.to_string()))?;
        Ok(db)
    }

    /// A migrated database, or `None` (with a note on stderr) when no server answers and
    /// `CI` is not set. Under `CI` a missing server is a failure.
    ///
    /// # Panics
    /// When the database cannot be prepared and `CI` is set, or the server answers but
    /// refuses to create it.
    pub async fn create_or_skip() -> Option<Self> {
        match Self::create().await {
            Ok(db) => Some(db),
            Err(TestDatabaseError::Unreachable(url, reason)) if !required() => {
                eprintln!(
                    "skipped: no PostgreSQL server at {url} ({reason}); set CI to require one"
                );
                None
            }
            Err(e) => panic!("{e}"),
        }
    }

    /// The database's URL.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A store on this database with a small pool.
    ///
    /// # Panics
    /// If the pool cannot be built.
    #[must_use]
    pub fn store(&self) -> PgStore {
        small_store(&self.url, 8, Duration::from_secs(5))
    }
}

/// Takes a connection out of `store`'s pool and holds it until the guard is dropped, so
/// tests can exhaust a pool.
///
/// # Errors
/// The pool's error if no connection can be had.
pub async fn hold_connection(
    store: &PgStore,
) -> Result<impl Drop, tessera_application::ports::RepoError> {
    store.conn().await
}

/// A store on `url` with a pool of `max_size` and a short wait, for exhaustion tests.
///
/// # Panics
/// If the pool cannot be built.
#[must_use]
pub fn small_store(url: &str, max_size: usize, wait: Duration) -> PgStore {
    match PgStore::new(
        url,
        PoolSettings {
            max_size,
            auth_max_size: max_size,
            wait_timeout: wait,
            connect_timeout: CONNECT_TIMEOUT,
            statement_timeout: Duration::from_secs(5),
            lock_timeout: Duration::from_secs(2),
            // One pool for the whole test, whichever runtime threads it runs on.
            threads: usize::MAX,
        },
    ) {
        Ok(store) => store,
        Err(e) => panic!("test pool: {e}"),
    }
}

/// A table locked `IN ACCESS EXCLUSIVE MODE` by an open transaction of another
/// connection, as a long migration or a stuck job would hold it, until dropped.
#[derive(Debug)]
pub struct TableLock {
    _release: tokio::sync::oneshot::Sender<()>,
}

/// Locks `table` of the database at `url` until the returned guard is dropped.
///
/// # Errors
/// [`TestDatabaseError`] if the database cannot be reached or the lock taken.
pub async fn lock_table(url: &str, table: &str) -> Result<TableLock, TestDatabaseError> {
    use diesel_async::SimpleAsyncConnection;
    let mut conn = admin(url).await?;
    conn.batch_execute(&format!(
        "BEGIN; LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"
    ))
    .await
    .map_err(|e| TestDatabaseError::Setup(e.to_string()))?;
    let (release, released) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = released.await;
        let _ = conn.batch_execute("ROLLBACK").await;
    });
    Ok(TableLock { _release: release })
}

/// How many statements on the database at `url` are waiting for a lock right now.
///
/// # Errors
/// [`TestDatabaseError`] if the database cannot be reached.
pub async fn statements_waiting_on_locks(url: &str) -> Result<i64, TestDatabaseError> {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        waiting: i64,
    }
    let mut conn = admin(url).await?;
    let count: Count = diesel::sql_query(
        "SELECT count(*) AS waiting FROM pg_stat_activity \
         WHERE datname = current_database() AND wait_event_type = 'Lock'",
    )
    .get_result(&mut conn)
    .await
    .map_err(|e| TestDatabaseError::Setup(e.to_string()))?;
    Ok(count.waiting)
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let server = self.server.clone();
        let statement = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        // Drop runs outside async context rules: use a thread with a runtime of its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let mut conn = admin(&server).await.ok()?;
                diesel::sql_query(statement).execute(&mut conn).await.ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(_))) {
            eprintln!("note: test database {} was not dropped", self.name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_database_name_replaces_the_path_and_keeps_the_query() {
        assert_eq!(
            with_database("postgres://u:p@h:5432/postgres?sslmode=disable", "x"),
            "postgres://u:p@h:5432/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
    }
}
