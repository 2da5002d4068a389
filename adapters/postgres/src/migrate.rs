//! Embedded migrations, applied under an advisory lock so that several instances
//! starting at once on one database take turns instead of racing.

use std::time::Duration;

use diesel::sql_types::BigInt;
use diesel_async::{AsyncConnection, AsyncMigrationHarness, AsyncPgConnection, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use thiserror::Error;

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations");

/// The advisory lock key that serialises migrations ("tessera" in ASCII).
const MIGRATION_LOCK: i64 = 0x0074_6573_7365_7261;

/// Why migrating failed.
#[derive(Debug, Error)]
pub enum MigrateError {
    /// The database could not be reached.
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    /// A migration failed.
    #[error("migration failed: {0}")]
    Migration(String),
}

/// Applies pending migrations; returns the versions applied.
///
/// The work runs on a thread of its own with its own runtime: diesel's migration harness
/// blocks, and must not do so on the caller's async workers (whatever their flavour).
///
/// # Errors
/// [`MigrateError`] if the database is unreachable or a migration fails.
pub async fn migrate(url: &str, connect_timeout: Duration) -> Result<Vec<String>, MigrateError> {
    let url = url.to_owned();
    let (done, result) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("tessera-migrate".to_owned())
        .spawn(move || {
            let outcome = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .map_err(|e| MigrateError::Migration(e.to_string()))
                .and_then(|runtime| runtime.block_on(run(&url, connect_timeout)));
            let _ = done.send(outcome);
        })
        .map_err(|e| MigrateError::Migration(e.to_string()))?;
    result
        .await
        .map_err(|_| MigrateError::Migration("the migration thread stopped".to_owned()))?
}

async fn run(url: &str, connect_timeout: Duration) -> Result<Vec<String>, MigrateError> {
    let mut conn = tokio::time::timeout(connect_timeout, AsyncPgConnection::establish(url))
        .await
        .map_err(|_| MigrateError::Connect("timed out".to_owned()))?
        .map_err(|e| MigrateError::Connect(e.to_string()))?;
    // Session-level lock: held until released below or the connection closes.
    diesel::sql_query("SELECT pg_advisory_lock($1)")
        .bind::<BigInt, _>(MIGRATION_LOCK)
        .execute(&mut conn)
        .await
        .map_err(|e| MigrateError::Migration(e.to_string()))?;
    let (conn, applied) = tokio::task::spawn_blocking(move || {
        let mut harness = AsyncMigrationHarness::new(conn);
        let applied = harness
            .run_pending_migrations(MIGRATIONS)
            .map(|versions| versions.iter().map(ToString::to_string).collect::<Vec<_>>())
            .map_err(|e| MigrateError::Migration(e.to_string()));
        (harness.into_inner(), applied)
    })
    .await
    .map_err(|e| MigrateError::Migration(e.to_string()))?;
    let mut conn = conn;
    let _ = diesel::sql_query("SELECT pg_advisory_unlock($1)")
        .bind::<BigInt, _>(MIGRATION_LOCK)
        .execute(&mut conn)
        .await;
    applied
}
