//! The repository port contract, on the in-memory adapter.

use std::sync::Arc;

use tessera_conformance::{Stores, conformance_tests};
use tessera_memory::{InMemoryTaskRepository, InMemoryThrottleStore};

async fn stores() -> Option<Stores> {
    let (users, sessions) = tessera_memory::accounts();
    Some(Stores {
        users,
        sessions,
        tasks: Arc::new(InMemoryTaskRepository::new()),
        throttle: Arc::new(InMemoryThrottleStore::new()),
        guard: Box::new(()),
    })
}

conformance_tests!(stores());
