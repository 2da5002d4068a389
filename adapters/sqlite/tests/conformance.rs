//! The repository port contract, on the SQLite adapter: a fresh, migrated file per test.

use std::sync::Arc;
use std::time::Duration;

use tessera_conformance::{Stores, Subject, conformance_tests};
use tessera_sqlite::testing::TempDatabase;
use tessera_sqlite::{SqliteSettings, SqliteStore, migrate};

async fn stores() -> Option<Subject> {
    let guard = TempDatabase::new();
    let url = guard.url();
    let settings = SqliteSettings {
        busy_timeout: Duration::from_secs(5),
    };
    if let Err(e) = migrate(&url, &settings) {
        panic!("migrating {url}: {e}");
    }
    let store = match SqliteStore::open(&url, &settings) {
        Ok(store) => Arc::new(store),
        Err(e) => panic!("opening {url}: {e}"),
    };
    Some((Stores::of(store), Box::new(guard)))
}

conformance_tests!(stores());
