//! A store that several servers use at once, as instances of one deployment do.

use tessera_postgres::testing::TestDatabase;
use tessera_sqlite::testing::TempDatabase;

use crate::app::{Storage, TestApp, TestAppBuilder};

/// A fresh PostgreSQL database or SQLite file, removed when this is dropped.
pub struct SharedStore {
    storage: Storage,
    url: String,
    _guard: Guard,
}

enum Guard {
    Postgres(#[expect(dead_code, reason = "held for its Drop")] TestDatabase),
    Sqlite(#[expect(dead_code, reason = "held for its Drop")] TempDatabase),
}

impl SharedStore {
    /// A fresh database on the server at `TEST_DATABASE_URL`, migrated; `None` (the test
    /// skips) when there is no server and `CI` is not set.
    pub async fn postgres() -> Option<Self> {
        let db = TestDatabase::create_or_skip().await?;
        Some(Self {
            storage: Storage::Postgres,
            url: db.url().to_owned(),
            _guard: Guard::Postgres(db),
        })
    }

    /// A fresh, empty SQLite file (the first server to start migrates it).
    pub fn sqlite() -> Self {
        let file = TempDatabase::new();
        Self {
            storage: Storage::Sqlite,
            url: file.url(),
            _guard: Guard::Sqlite(file),
        }
    }

    /// Which storage this is.
    pub fn storage(&self) -> Storage {
        self.storage
    }

    /// The `DATABASE_URL` of this store.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A server on this store, with the test settings.
    pub fn app(&self) -> TestAppBuilder {
        TestApp::builder().on(self)
    }

    /// Two servers on this store, started at once, each with `settings`.
    pub async fn two_apps(&self, settings: &[(&str, &str)]) -> (TestApp, TestApp) {
        tokio::join!(
            self.app().settings(settings).start(),
            self.app().settings(settings).start()
        )
    }
}
