//! The repository port contract, on the Postgres adapter: a fresh migrated database per
//! test (skipped when no server answers, unless `CI` is set).

use std::sync::Arc;

use tessera_conformance::{Stores, conformance_tests};
use tessera_postgres::testing::TestDatabase;

async fn stores() -> Option<Stores> {
    let db = TestDatabase::create_or_skip().await?;
    let store = Arc::new(db.store());
    Some(Stores {
        users: store.clone(),
        sessions: store.clone(),
        events: store.clone(),
        tasks: store.clone(),
        throttle: store,
        guard: Box::new(db),
    })
}

conformance_tests!(stores());
