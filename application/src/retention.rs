//! Retention: ended and expired sessions, and security events, are deleted once they are
//! older than `RETENTION_DAYS`.

use std::sync::Arc;

use tessera_domain::AccountLimits;

use crate::error::Fault;
use crate::ports::{Clock, EventRepository, SessionRepository};

/// Rows deleted by one statement at most, so that no run holds many row locks for long.
pub const BATCH: u32 = 1000;

/// Batches per kind in one run at most, so that a run always ends; what is left waits
/// for the next run.
pub const MAX_BATCHES: u32 = 100;

/// What one run deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Sessions ended or expired before the retention period.
    pub sessions: u64,
    /// Events from before the retention period.
    pub events: u64,
}

/// Deletes what is past the retention period, in bounded batches. Several instances may
/// run it at once: each batch skips the rows another holds.
#[derive(Clone)]
pub struct Retention {
    sessions: Arc<dyn SessionRepository>,
    events: Arc<dyn EventRepository>,
    clock: Arc<dyn Clock>,
    limits: AccountLimits,
}

impl Retention {
    /// Retention over these stores, with these limits.
    #[must_use]
    pub fn new(
        sessions: Arc<dyn SessionRepository>,
        events: Arc<dyn EventRepository>,
        clock: Arc<dyn Clock>,
        limits: AccountLimits,
    ) -> Self {
        Self {
            sessions,
            events,
            clock,
            limits,
        }
    }

    /// One run: batches of at most [`BATCH`] until a batch comes back short.
    ///
    /// # Errors
    /// The first storage failure (what was deleted before it stays deleted).
    pub async fn run(&self) -> Result<Pruned, Fault> {
        let before = self.limits.retained_since(self.clock.now());
        let mut pruned = Pruned::default();
        for _ in 0..MAX_BATCHES {
            let deleted = self.sessions.prune(before, BATCH).await?;
            pruned.sessions += deleted;
            if deleted < u64::from(BATCH) {
                break;
            }
        }
        for _ in 0..MAX_BATCHES {
            let deleted = self.events.prune(before, BATCH).await?;
            pruned.events += deleted;
            if deleted < u64::from(BATCH) {
                break;
            }
        }
        Ok(pruned)
    }
}
