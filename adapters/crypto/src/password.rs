//! bcrypt, run on the blocking pool.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use tessera_application::ports::{CryptoError, PasswordHasher};
use tessera_domain::{Password, PasswordHash};
use tokio::sync::Semaphore;

/// Hashes and verifies passwords with bcrypt.
///
/// Each hash is CPU work of tens to hundreds of milliseconds: it runs on tokio's blocking
/// pool so the async workers keep serving other requests, and at most one hash per core
/// runs at a time so a burst of signins queues instead of starving everything else.
pub struct BcryptHasher {
    cost: u32,
    dummy: PasswordHash,
    permits: Arc<Semaphore>,
    in_flight: Arc<AtomicUsize>,
}

impl std::fmt::Debug for BcryptHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BcryptHasher")
            .field("cost", &self.cost)
            .finish_non_exhaustive()
    }
}

impl BcryptHasher {
    /// Lowest cost bcrypt accepts.
    pub const MIN_COST: u32 = 4;
    /// Highest cost bcrypt accepts.
    pub const MAX_COST: u32 = 31;

    /// A hasher of the given cost. Computes the dummy hash once, now, so that a signin
    /// for an unknown account costs exactly what a real verification costs.
    ///
    /// # Errors
    /// [`CryptoError`] if the cost is out of bcrypt's range.
    pub fn new(cost: u32) -> Result<Self, CryptoError> {
        if !(Self::MIN_COST..=Self::MAX_COST).contains(&cost) {
            return Err(CryptoError("bcrypt cost must be between 4 and 31"));
        }
        let dummy = bcrypt::hash("tessera: no account has this password", cost)
            .map_err(|_| CryptoError("bcrypt could not hash"))?;
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        Ok(Self {
            cost,
            dummy: PasswordHash::new(dummy),
            permits: Arc::new(Semaphore::new(cores)),
            in_flight: Arc::new(AtomicUsize::new(0)),
        })
    }

    /// The work factor in use.
    #[must_use]
    pub fn cost(&self) -> u32 {
        self.cost
    }

    /// How many hashes or verifications are running or waiting right now.
    #[must_use]
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Relaxed)
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, CryptoError> {
        let _counted = InFlight::enter(&self.in_flight);
        async {
            let _permit = self
                .permits
                .acquire()
                .await
                .map_err(|_| CryptoError("password hashing is shut down"))?;
            tokio::task::spawn_blocking(work)
                .await
                .map_err(|_| CryptoError("password hashing task failed"))
        }
        .await
    }
}

/// Counts one hash while alive, so the count stays right even when the caller's future
/// is dropped halfway (a client that hangs up).
struct InFlight<'a>(&'a AtomicUsize);

impl<'a> InFlight<'a> {
    fn enter(counter: &'a AtomicUsize) -> Self {
        counter.fetch_add(1, Ordering::Relaxed);
        Self(counter)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

#[async_trait]
impl PasswordHasher for BcryptHasher {
    async fn hash(&self, password: &Password) -> Result<PasswordHash, CryptoError> {
        // `Password` is at most 72 bytes, so bcrypt's truncation never applies: every
        // byte counts.
        let plain = password.as_str().to_owned();
        let cost = self.cost;
        self.run(move || bcrypt::hash(plain, cost))
            .await?
            .map(PasswordHash::new)
            .map_err(|_| CryptoError("bcrypt could not hash"))
    }

    async fn verify(&self, candidate: &str, hash: &PasswordHash) -> Result<bool, CryptoError> {
        // bcrypt would compare only the first 72 bytes of a longer candidate; such a
        // candidate can never be a stored password, but it still pays the same cost.
        let fits = candidate.len() <= Password::MAX_BYTES;
        let candidate = candidate.to_owned();
        let hash = hash.as_str().to_owned();
        let matches = self
            .run(move || bcrypt::verify(candidate, &hash))
            .await?
            .map_err(|_| CryptoError("stored password hash is unreadable"))?;
        Ok(matches && fits)
    }

    fn dummy_hash(&self) -> &PasswordHash {
        &self.dummy
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn password(raw: &str) -> Password {
        match Password::parse(raw) {
            Ok(p) => p,
            Err(e) => panic!("test password {raw:?} refused: {e}"),
        }
    }

    async fn hasher(cost: u32) -> BcryptHasher {
        match tokio::task::spawn_blocking(move || BcryptHasher::new(cost)).await {
            Ok(Ok(h)) => h,
            _ => panic!("hasher must build"),
        }
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_nothing_else() -> Result<(), CryptoError> {
        let hasher = hasher(4).await;
        let hash = hasher.hash(&password("correct horse battery")).await?;
        assert!(hash.as_str().starts_with("$2b$04$"));
        assert!(hasher.verify("correct horse battery", &hash).await?);
        assert!(!hasher.verify("correct horse batterY", &hash).await?);
        assert!(!hasher.verify("", &hash).await?);
        Ok(())
    }

    #[tokio::test]
    async fn every_one_of_72_bytes_counts_and_longer_candidates_never_match()
    -> Result<(), CryptoError> {
        let hasher = hasher(4).await;
        let full = "é".repeat(36);
        assert_eq!(full.len(), 72);
        let hash = hasher.hash(&password(&full)).await?;
        assert!(hasher.verify(&full, &hash).await?);
        let last_byte_differs = format!("{}e", "é".repeat(35));
        assert!(!hasher.verify(&last_byte_differs, &hash).await?);
        // bcrypt alone would accept this: its first 72 bytes are the password.
        assert!(!hasher.verify(&format!("{full}x"), &hash).await?);
        Ok(())
    }

    #[tokio::test]
    async fn the_dummy_hash_is_a_real_hash_of_the_configured_cost() -> Result<(), CryptoError> {
        let hasher = hasher(5).await;
        assert!(hasher.dummy_hash().as_str().starts_with("$2b$05$"));
        assert!(
            !hasher
                .verify("securepassword123", hasher.dummy_hash())
                .await?
        );
        Ok(())
    }

    /// The production default, run once so a regression in the real cost is caught.
    #[tokio::test]
    async fn the_default_cost_of_12_hashes_and_verifies() -> Result<(), CryptoError> {
        let hasher = hasher(12).await;
        let hash = hasher.hash(&password("securepassword123")).await?;
        assert!(hash.as_str().starts_with("$2b$12$"));
        assert!(hasher.verify("securepassword123", &hash).await?);
        Ok(())
    }

    #[test]
    fn costs_outside_bcrypts_range_are_refused() {
        assert!(BcryptHasher::new(3).is_err());
        assert!(BcryptHasher::new(32).is_err());
    }

    #[tokio::test]
    async fn an_unreadable_stored_hash_is_an_error_not_a_match() {
        let hasher = hasher(4).await;
        let broken = PasswordHash::new("not a bcrypt hash".to_owned());
        assert!(hasher.verify("whatever123", &broken).await.is_err());
    }
}
