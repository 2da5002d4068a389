//! Where data is kept, and how the database is reached.

use std::time::Duration;

use secrecy::SecretString;
use tessera_postgres::PoolSettings;
use tessera_sqlite::SqliteSettings;

use super::SettingsError;
use super::read::{
    DATABASE_AUTH_POOL_SIZE, DATABASE_CONNECT_TIMEOUT_MS, DATABASE_POOL_SIZE,
    DATABASE_POOL_TIMEOUT_MS, DATABASE_STARTUP_TIMEOUT_SECONDS, DB_LOCK_TIMEOUT_MS,
    DB_STATEMENT_TIMEOUT_MS, Raw,
};

/// The database used when `DATABASE_URL` is not set: a local server's `tessera` database.
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/tessera";

/// The file used with `STORAGE=sqlite` when `DATABASE_URL` is not set.
pub const DEFAULT_SQLITE_URL: &str = "sqlite://.tessera/tessera.db";

/// Where data is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    /// PostgreSQL at `DATABASE_URL`.
    Postgres,
    /// SQLite, in the file of `DATABASE_URL` (`sqlite://path/tessera.db`).
    Sqlite,
    /// In this process, lost on exit.
    Memory,
}

/// `STORAGE` and `DATABASE_URL`, and whether `serve` migrates first.
#[derive(Debug, Clone)]
pub struct StorageSection {
    /// Where data is kept.
    pub kind: Storage,
    /// The PostgreSQL or SQLite URL.
    pub url: SecretString,
    /// Whether `serve` applies pending migrations before listening.
    pub migrate_on_start: bool,
}

impl StorageSection {
    pub(super) fn read(raw: &Raw) -> Result<Self, SettingsError> {
        let kind = match raw.text("STORAGE").as_deref() {
            None | Some("postgres") => Storage::Postgres,
            Some("memory") => Storage::Memory,
            Some("sqlite") => Storage::Sqlite,
            Some(other) => {
                return Err(SettingsError::new(
                    "STORAGE",
                    format!("{other:?} is not a storage; use postgres, sqlite or memory"),
                ));
            }
        };
        let url = raw.text("DATABASE_URL").unwrap_or_else(|| {
            if kind == Storage::Sqlite {
                DEFAULT_SQLITE_URL.to_owned()
            } else {
                DEFAULT_DATABASE_URL.to_owned()
            }
        });
        if kind == Storage::Sqlite {
            if !url.starts_with("sqlite://") || url.len() <= "sqlite://".len() {
                return Err(SettingsError::new(
                    "DATABASE_URL",
                    "with STORAGE=sqlite, must be a sqlite://path/file.db URL",
                ));
            }
        } else if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(SettingsError::new(
                "DATABASE_URL",
                "must be a postgres:// or postgresql:// URL",
            ));
        }
        Ok(Self {
            kind,
            url: SecretString::from(url),
            migrate_on_start: true,
        })
    }
}

/// The database's pools and time limits.
#[derive(Debug, Clone)]
pub struct DatabaseSection {
    /// The PostgreSQL pools (their share per request thread is set at start).
    pub pool: PoolSettings,
    /// How long `serve` and `migrate` keep trying to reach the database at start.
    pub startup_timeout: Duration,
}

impl DatabaseSection {
    pub(super) fn read(raw: &Raw) -> Result<Self, SettingsError> {
        Ok(Self {
            pool: PoolSettings {
                max_size: raw.number(&DATABASE_POOL_SIZE)?,
                auth_max_size: raw.number(&DATABASE_AUTH_POOL_SIZE)?,
                wait_timeout: raw.millis(&DATABASE_POOL_TIMEOUT_MS)?,
                connect_timeout: raw.millis(&DATABASE_CONNECT_TIMEOUT_MS)?,
                statement_timeout: raw.millis(&DB_STATEMENT_TIMEOUT_MS)?,
                lock_timeout: raw.millis(&DB_LOCK_TIMEOUT_MS)?,
                threads: 1,
            },
            startup_timeout: raw.seconds(&DATABASE_STARTUP_TIMEOUT_SECONDS)?,
        })
    }

    /// The PostgreSQL pools, each shared among `threads` request threads.
    #[must_use]
    pub fn postgres(&self, threads: usize) -> PoolSettings {
        PoolSettings {
            threads,
            ..self.pool
        }
    }

    /// How the SQLite store opens its file: it waits for another process's lock at most
    /// `DB_LOCK_TIMEOUT_MS`.
    #[must_use]
    pub fn sqlite(&self) -> SqliteSettings {
        SqliteSettings {
            busy_timeout: self.pool.lock_timeout,
        }
    }

    /// Descriptors the pools may hold open.
    #[must_use]
    pub fn connections(&self) -> usize {
        self.pool.max_size + self.pool.auth_max_size
    }
}
