//! PostgreSQL storage for Tessera: the repository ports over diesel-async with a
//! deadpool pool, and the embedded migrations.
//!
//! Every task query filters by owner in SQL. Database failures are mapped once, here, to
//! the port errors: a unique violation is `Conflict`; a refused, lost or unavailable
//! connection, or a pool with no free connection in time, is `Unavailable`.

mod error;
mod mail;
mod migrate;
mod pool;
mod repositories;
mod schema;
#[cfg(feature = "test-support")]
pub mod testing;
mod throttle;

pub use migrate::{MigrateError, migrate};
pub use pool::{PgStore, PoolSettings, PoolStatus, redact};
