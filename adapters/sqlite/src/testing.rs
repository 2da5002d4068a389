//! A SQLite database file for one test, removed (with its WAL files) when it is dropped.

use std::path::{Path, PathBuf};

/// A fresh, not yet created, database file in the system's temporary directory.
#[derive(Debug)]
pub struct TempDatabase(PathBuf);

impl TempDatabase {
    /// A new file name no other test uses.
    #[must_use]
    pub fn new() -> Self {
        Self(std::env::temp_dir().join(format!("tessera-{}.db", uuid::Uuid::new_v4())))
    }

    /// Its `sqlite://` URL, for `DATABASE_URL`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("sqlite://{}", self.0.display())
    }

    /// Its path.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Default for TempDatabase {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TempDatabase {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut path = self.0.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
}
