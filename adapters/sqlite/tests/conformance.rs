//! The repository port contract, on the SQLite adapter: a fresh, migrated file per test.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tessera_conformance::{Stores, conformance_tests};
use tessera_sqlite::{SqliteSettings, SqliteStore, migrate};

/// A database file removed, with its WAL files, when the test ends.
struct TempDatabase(PathBuf);

impl Drop for TempDatabase {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut path = self.0.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
}

async fn stores() -> Option<Stores> {
    let path = std::env::temp_dir().join(format!("tessera-{}.db", uuid::Uuid::new_v4()));
    let url = format!("sqlite://{}", path.display());
    let settings = SqliteSettings {
        busy_timeout: Duration::from_secs(5),
    };
    let guard = TempDatabase(path);
    if let Err(e) = migrate(&url, &settings) {
        panic!("migrating {url}: {e}");
    }
    let store = match SqliteStore::open(&url, &settings) {
        Ok(store) => Arc::new(store),
        Err(e) => panic!("opening {url}: {e}"),
    };
    Some(Stores {
        users: store.clone(),
        sessions: store.clone(),
        events: store.clone(),
        tasks: store.clone(),
        throttle: store,
        guard: Box::new(guard),
    })
}

conformance_tests!(stores());
