//! The repository port contract, on the in-memory adapter.

use std::sync::Arc;

use tessera_conformance::{Stores, conformance_tests};
use tessera_memory::{
    InMemorySessionRepository, InMemoryTaskRepository, InMemoryThrottleStore,
    InMemoryUserRepository,
};

async fn stores() -> Option<Stores> {
    Some(Stores {
        users: Arc::new(InMemoryUserRepository::new()),
        sessions: Arc::new(InMemorySessionRepository::new()),
        tasks: Arc::new(InMemoryTaskRepository::new()),
        throttle: Arc::new(InMemoryThrottleStore::new()),
        guard: Box::new(()),
    })
}

conformance_tests!(stores());
