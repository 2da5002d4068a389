//! The repository port contract, on the in-memory adapter.

use tessera_conformance::{Subject, conformance_tests};

async fn stores() -> Option<Subject> {
    Some((tessera_memory::MemoryStore::new().stores(), Box::new(())))
}

conformance_tests!(stores());

mod mail {
    use std::sync::Arc;

    use tessera_application::ports::MailStore;
    use tessera_conformance::{Subject, mail_conformance_tests};

    async fn subject() -> Option<(Subject, Arc<dyn MailStore>)> {
        let store = tessera_memory::MemoryStore::new();
        Some(((store.stores(), Box::new(())), Arc::new(store)))
    }

    mail_conformance_tests!(subject());
}
