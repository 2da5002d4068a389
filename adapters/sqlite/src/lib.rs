//! SQLite storage for Tessera: every port on one file, with diesel's SQLite backend (the
//! bundled library: no system package needed) and embedded migrations.
//!
//! One connection per process, in WAL mode, used by one blocking thread at a time: every
//! operation runs whole on tokio's blocking pool (so a request that goes away cannot
//! leave a transaction half done), and every write transaction starts with
//! `BEGIN IMMEDIATE` (so it takes the file's write lock before reading, and waits for
//! another process's writer up to the busy timeout instead of failing halfway). A write
//! that still finds the file locked after the timeout is `Unavailable` (a 503), never a
//! 500. See ADR 0009.

mod convert;
mod mail;
mod migrate;
mod repositories;
mod schema;
#[cfg(feature = "test-support")]
pub mod testing;
mod throttle;

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::result::{DatabaseErrorKind, Error as DieselError, QueryResult};
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, RunQueryDsl};
use tessera_application::ports::RepoError;

pub use migrate::migrate;

/// How the store opens its file.
#[derive(Debug, Clone)]
pub struct SqliteSettings {
    /// How long a statement waits for another process's lock before giving up (SQLite's
    /// `busy_timeout`): `DB_LOCK_TIMEOUT_MS`.
    pub busy_timeout: Duration,
}

/// The store: one SQLite file.
#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<SqliteConnection>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

/// The file path of a `sqlite://path` URL (also accepted: `sqlite:path` and a bare path).
#[must_use]
pub fn path_of(url: &str) -> &str {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url)
}

/// Runs `attempt` until it succeeds or fails otherwise than "database is locked", for at
/// most the busy timeout (and at least a few tries). Switching a new file to WAL and the
/// migrations' first lock can find another process's lock at once, without SQLite's busy
/// handler waiting: two processes starting together on one file then both get through.
pub(crate) fn retrying_while_locked<T>(
    settings: &SqliteSettings,
    mut attempt: impl FnMut() -> Result<T, RepoError>,
) -> Result<T, RepoError> {
    let deadline = std::time::Instant::now() + settings.busy_timeout.max(Duration::from_secs(1));
    let mut pause = Duration::from_millis(5);
    loop {
        match attempt() {
            Err(RepoError::Unavailable(_)) if std::time::Instant::now() < deadline => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(100));
            }
            other => return other,
        }
    }
}

/// Opens a connection with the settings every Tessera connection has.
pub(crate) fn open(path: &str, settings: &SqliteSettings) -> Result<SqliteConnection, RepoError> {
    retrying_while_locked(settings, || open_once(path, settings))
}

fn open_once(path: &str, settings: &SqliteSettings) -> Result<SqliteConnection, RepoError> {
    let mut conn =
        SqliteConnection::establish(path).map_err(|e| RepoError::Unavailable(Some(Box::new(e))))?;
    let busy = settings.busy_timeout.as_millis().min(u128::from(u32::MAX));
    conn.batch_execute(&format!(
        "PRAGMA busy_timeout = {busy};
         PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;
         PRAGMA foreign_keys = ON;"
    ))
    .map_err(query_error)?;
    Ok(conn)
}

impl SqliteStore {
    /// Opens (creating if needed) the file at `url` (`sqlite://path/tessera.db`).
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] if the file cannot be opened or configured.
    pub fn open(url: &str, settings: &SqliteSettings) -> Result<Self, RepoError> {
        let conn = open(path_of(url), settings)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `work` on the connection, on the blocking pool, to its end.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut SqliteConnection) -> QueryResult<T> + Send + 'static,
    ) -> Result<T, RepoError> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
            work(&mut conn)
        })
        .await
        .map_err(|e| RepoError::Other(Box::new(e)))?
        .map_err(query_error)
    }

    /// Runs `work` in one write transaction (`BEGIN IMMEDIATE`): all or nothing.
    pub(crate) async fn write<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut SqliteConnection) -> QueryResult<T> + Send + 'static,
    ) -> Result<T, RepoError> {
        self.run(move |conn| conn.immediate_transaction(work)).await
    }

    /// Whether the file answers a trivial query.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] when it does not.
    pub async fn ping(&self) -> Result<(), RepoError> {
        self.run(|conn| diesel::sql_query("SELECT 1").execute(conn).map(drop))
            .await
    }
}

/// The unique index of accounts' emails (any letter case): the one constraint whose
/// violation is a [`RepoError::Conflict`]. Any other (a session id taken, say) is a fault.
/// SQLite names it only in its message: `UNIQUE constraint failed: index '...'`.
const EMAIL_KEY: &str = "index 'users_email_lower_key'";

/// A query's failure as the ports see it.
pub(crate) fn query_error(error: DieselError) -> RepoError {
    match error {
        DieselError::NotFound => RepoError::NotFound,
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, ref info)
            if info.message().ends_with(EMAIL_KEY) =>
        {
            RepoError::Conflict
        }
        // Another process held the file's lock for the whole busy timeout: busy, not
        // broken.
        DieselError::DatabaseError(_, ref info)
            if info.message().contains("database is locked")
                || info.message().contains("database is busy") =>
        {
            RepoError::Unavailable(Some(Box::new(error)))
        }
        other => RepoError::Other(Box::new(other)),
    }
}
