//! The SQLite migrations (`adapters/sqlite/migrations`, in SQLite's dialect), embedded in
//! the binary and applied under the file's exclusive lock, so that two processes starting
//! on one file apply each migration once.

use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use tessera_application::ports::RepoError;

use crate::{SqliteSettings, open, path_of, retrying_while_locked};

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// Applies the pending migrations to the file at `url`; returns the versions applied.
///
/// # Errors
/// [`RepoError`] when the file cannot be opened or a migration fails.
pub fn migrate(url: &str, settings: &SqliteSettings) -> Result<Vec<String>, RepoError> {
    let mut conn = open(path_of(url), settings)?;
    // BEGIN EXCLUSIVE: a second process waits until the first is done, then finds
    // nothing pending. The harness's own transactions nest as savepoints.
    retrying_while_locked(settings, || {
        conn.exclusive_transaction(|conn| {
            conn.run_pending_migrations(MIGRATIONS)
                .map(|applied| applied.iter().map(ToString::to_string).collect())
                .map_err(diesel::result::Error::QueryBuilderError)
        })
        .map_err(crate::query_error)
    })
}
