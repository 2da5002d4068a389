//! Password hashing: the work factor and the bounded hashing pool.

use std::time::Duration;

use tessera_crypto::HashLimits;

use super::SettingsError;
use super::read::{BCRYPT_COST, HASH_CONCURRENCY, HASH_QUEUE, HASH_WAIT_SECONDS, Raw};

/// The bcrypt cost and how many hashes run and wait.
#[derive(Debug, Clone)]
pub struct HashingSection {
    /// bcrypt work factor.
    pub bcrypt_cost: u32,
    /// Password hashes running at once (by default one per core).
    pub concurrency: usize,
    /// Requests that may wait for a hashing thread (by default four per thread).
    pub queue: usize,
    /// Longest wait for a hashing thread.
    pub wait: Duration,
}

impl HashingSection {
    pub(super) fn read(raw: &Raw) -> Result<Self, SettingsError> {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        let concurrency = raw.number_or(&HASH_CONCURRENCY, cores)?;
        Ok(Self {
            bcrypt_cost: raw.number(&BCRYPT_COST)?,
            concurrency,
            queue: raw.number_or(&HASH_QUEUE, 4 * concurrency)?,
            wait: raw.seconds(&HASH_WAIT_SECONDS)?,
        })
    }

    /// The hashing pool's bounds.
    #[must_use]
    pub fn limits(&self) -> HashLimits {
        HashLimits {
            concurrency: self.concurrency,
            queue: self.queue,
            wait: self.wait,
        }
    }
}
