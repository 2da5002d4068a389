//! Password hashing: the work factor and the bounded hashing pool.

use tessera_crypto::HashLimits;

use super::SettingsError;
use super::read::{BCRYPT_COST, HASH_CONCURRENCY, HASH_QUEUE, HASH_WAIT_SECONDS, Raw};

/// The bcrypt cost and how many hashes run and wait.
#[derive(Debug, Clone)]
pub struct HashingSection {
    /// bcrypt work factor.
    pub bcrypt_cost: u32,
    /// The hashing pool: by default one hash per core, four waiting per thread.
    pub limits: HashLimits,
}

impl HashingSection {
    pub(super) fn read(raw: &Raw) -> Result<Self, SettingsError> {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        let concurrency = raw.number_or(&HASH_CONCURRENCY, cores)?;
        Ok(Self {
            bcrypt_cost: raw.number(&BCRYPT_COST)?,
            limits: HashLimits {
                concurrency,
                queue: raw.number_or(&HASH_QUEUE, 4 * concurrency)?,
                wait: raw.seconds(&HASH_WAIT_SECONDS)?,
            },
        })
    }
}
