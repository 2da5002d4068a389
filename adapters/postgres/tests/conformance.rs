//! The repository port contract, on the Postgres adapter: a fresh migrated database per
//! test (skipped when no server answers, unless `CI` is set).

use std::sync::Arc;

use tessera_conformance::{Stores, Subject, conformance_tests};
use tessera_postgres::testing::TestDatabase;

async fn stores() -> Option<Subject> {
    let db = TestDatabase::create_or_skip().await?;
    Some((Stores::of(Arc::new(db.store())), Box::new(db)))
}

conformance_tests!(stores());
