//! The repository port contract, on the in-memory adapter.

use std::sync::Arc;

use tessera_conformance::{Stores, conformance_tests};
use tessera_memory::InMemoryThrottleStore;

async fn stores() -> Option<Stores> {
    let store = tessera_memory::MemoryStore::new();
    Some(Stores {
        users: store.users,
        sessions: store.sessions,
        events: store.events,
        tasks: store.tasks,
        throttle: Arc::new(InMemoryThrottleStore::new()),
        guard: Box::new(()),
    })
}

conformance_tests!(stores());
