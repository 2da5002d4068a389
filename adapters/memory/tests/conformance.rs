//! The repository port contract, on the in-memory adapter.

use tessera_conformance::{Subject, conformance_tests};

async fn stores() -> Option<Subject> {
    Some((tessera_memory::MemoryStore::new().stores(), Box::new(())))
}

conformance_tests!(stores());
