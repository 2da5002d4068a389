//! bcrypt, on a small pool of low-priority threads of its own.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::time::Duration;

use async_trait::async_trait;
use tessera_application::ports::{CryptoError, HashError, PasswordHasher};
use tessera_domain::{Password, PasswordHash};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};

/// How much hashing may run and wait at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashLimits {
    /// Hashes running at once: the number of hashing threads.
    pub concurrency: usize,
    /// Requests that may wait for a hashing thread; more are refused at once.
    pub queue: usize,
    /// Longest wait for a hashing thread before the request is refused.
    pub wait: Duration,
}

impl HashLimits {
    /// The defaults: one hash per core, four waiting per thread, three seconds' wait.
    #[must_use]
    pub fn for_this_machine() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        Self {
            concurrency: cores,
            queue: 4 * cores,
            wait: Duration::from_secs(3),
        }
    }
}

/// How much lower than request handling the hashing threads run (a nice value): when
/// the CPU is contended, request handling gets nearly all of it and a flood of signins
/// slows only signins.
const HASHING_NICENESS: i32 = 10;

type Job = Box<dyn FnOnce() + Send>;

/// Hashes and verifies passwords with bcrypt.
///
/// Each hash is CPU work of tens to hundreds of milliseconds. It runs on
/// `concurrency` threads of this hasher's own, at a lower scheduling priority than the
/// threads that handle requests. A request first takes a place (at most `concurrency +
/// queue` are handed out; none free is an immediate refusal), then waits at most `wait`
/// for a thread. The thread permit travels with the work: once a hash has started it
/// holds its permit until it ends, even if the request that asked for it is gone, so
/// no more than `concurrency` hashes ever run.
pub struct BcryptHasher {
    cost: u32,
    dummy: PasswordHash,
    limits: HashLimits,
    places: Arc<Semaphore>,
    threads: Arc<Semaphore>,
    jobs: Mutex<mpsc::Sender<Job>>,
    waiting: Arc<AtomicUsize>,
    running: Arc<AtomicUsize>,
}

impl std::fmt::Debug for BcryptHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BcryptHasher")
            .field("cost", &self.cost)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// Hashes running and waiting at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HashLoad {
    /// Hashes being computed.
    pub running: usize,
    /// Requests waiting for a hashing thread.
    pub waiting: usize,
}

impl BcryptHasher {
    /// Lowest cost bcrypt accepts.
    pub const MIN_COST: u32 = 4;
    /// Highest cost bcrypt accepts.
    pub const MAX_COST: u32 = 31;

    /// A hasher of the given cost with the default limits.
    ///
    /// # Errors
    /// [`CryptoError`] if the cost is out of bcrypt's range.
    pub fn new(cost: u32) -> Result<Self, CryptoError> {
        Self::with_limits(cost, HashLimits::for_this_machine())
    }

    /// A hasher of the given cost and limits. Computes the dummy hash once, now, so that
    /// a signin for an unknown account costs exactly what a real verification costs, and
    /// starts the hashing threads.
    ///
    /// # Errors
    /// [`CryptoError`] if the cost is out of bcrypt's range, a limit is zero, or the
    /// threads cannot be started.
    pub fn with_limits(cost: u32, limits: HashLimits) -> Result<Self, CryptoError> {
        if !(Self::MIN_COST..=Self::MAX_COST).contains(&cost) {
            return Err(CryptoError("bcrypt cost must be between 4 and 31"));
        }
        if limits.concurrency == 0 {
            return Err(CryptoError("hash concurrency must be at least 1"));
        }
        let dummy = bcrypt::hash("tessera: no account has this password", cost)
            .map_err(|_| CryptoError("bcrypt could not hash"))?;
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..limits.concurrency {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("tessera-hash-{n}"))
                .spawn(move || hashing_thread(&queue))
                .map_err(|_| CryptoError("hashing threads could not start"))?;
        }
        Ok(Self {
            cost,
            dummy: PasswordHash::new(dummy),
            limits,
            places: Arc::new(Semaphore::new(limits.concurrency + limits.queue)),
            threads: Arc::new(Semaphore::new(limits.concurrency)),
            jobs: Mutex::new(jobs),
            waiting: Arc::new(AtomicUsize::new(0)),
            running: Arc::new(AtomicUsize::new(0)),
        })
    }

    /// The work factor in use.
    #[must_use]
    pub fn cost(&self) -> u32 {
        self.cost
    }

    /// Hashes running and waiting right now.
    #[must_use]
    pub fn load(&self) -> HashLoad {
        HashLoad {
            running: self.running.load(Ordering::Relaxed),
            waiting: self.waiting.load(Ordering::Relaxed),
        }
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashError> {
        // A place in line, or a refusal at once. Dropped with the request while it
        // waits: a client that hangs up gives its place back.
        let place = self
            .places
            .clone()
            .try_acquire_owned()
            .map_err(|_| HashError::Saturated)?;
        let thread = {
            let _waiting = Counted::enter(&self.waiting);
            tokio::time::timeout(self.limits.wait, self.threads.clone().acquire_owned())
                .await
                .map_err(|_| HashError::Saturated)?
                .map_err(|_| CryptoError("password hashing is shut down"))?
        };
        let (done, result) = oneshot::channel();
        let running = self.running.clone();
        let job: Job = Box::new(move || {
            let permits: (OwnedSemaphorePermit, OwnedSemaphorePermit) = (thread, place);
            let counted = Counted::enter(&running);
            let value = work();
            // The permits go back once the work is done, whether or not anyone still
            // waits for the answer.
            drop((counted, permits));
            let _ = done.send(value);
        });
        self.jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .send(job)
            .map_err(|_| CryptoError("password hashing is shut down"))?;
        result
            .await
            .map_err(|_| HashError::Failed(CryptoError("password hashing task failed")))
    }
}

/// The mean wall time of one bcrypt verification at `cost`, over `rounds` verifications
/// run one after the other on the calling thread, in seconds.
///
/// # Errors
/// [`CryptoError`] if the cost is out of bcrypt's range.
pub fn time_verification(cost: u32, rounds: u32) -> Result<f64, CryptoError> {
    if !(BcryptHasher::MIN_COST..=BcryptHasher::MAX_COST).contains(&cost) {
        return Err(CryptoError("bcrypt cost must be between 4 and 31"));
    }
    let hash = bcrypt::hash("tessera: timing a verification", cost)
        .map_err(|_| CryptoError("bcrypt could not hash"))?;
    let started = std::time::Instant::now();
    for _ in 0..rounds {
        let _ = bcrypt::verify("tessera: a wrong password", &hash);
    }
    Ok(started.elapsed().as_secs_f64() / f64::from(rounds.max(1)))
}

/// One hashing thread: lowers its own priority, then runs jobs until the hasher is gone.
fn hashing_thread(queue: &Mutex<mpsc::Receiver<Job>>) {
    if let Err(error) =
        rustix::process::setpriority_process(Some(rustix::thread::gettid()), HASHING_NICENESS)
    {
        tracing::warn!(%error, "could not lower the priority of a hashing thread");
    }
    loop {
        let job = queue.lock().unwrap_or_else(PoisonError::into_inner).recv();
        match job {
            // A panic in one hash must not take a hashing thread away for good.
            Ok(job) => drop(std::panic::catch_unwind(std::panic::AssertUnwindSafe(job))),
            Err(_) => return,
        }
    }
}

/// Counts one waiting request while alive, so the count stays right even when the
/// request's future is dropped halfway (a client that hangs up).
struct Counted<'a>(&'a AtomicUsize);

impl<'a> Counted<'a> {
    fn enter(counter: &'a AtomicUsize) -> Self {
        counter.fetch_add(1, Ordering::Relaxed);
        Self(counter)
    }
}

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

#[async_trait]
impl PasswordHasher for BcryptHasher {
    async fn hash(&self, password: &Password) -> Result<PasswordHash, HashError> {
        // `Password` is at most 72 bytes, so bcrypt's truncation never applies: every
        // byte counts.
        let plain = password.as_str().to_owned();
        let cost = self.cost;
        self.run(move || bcrypt::hash(plain, cost))
            .await?
            .map(PasswordHash::new)
            .map_err(|_| CryptoError("bcrypt could not hash").into())
    }

    async fn verify(&self, candidate: &str, hash: &PasswordHash) -> Result<bool, HashError> {
        // bcrypt would compare only the first 72 bytes of a longer candidate; such a
        // candidate can never be a stored password, but it still pays the same cost.
        let fits = candidate.len() <= Password::MAX_BYTES;
        let candidate = candidate.to_owned();
        let hash = hash.as_str().to_owned();
        // A hash of a lower cost than this hasher's (made before `BCRYPT_COST` was
        // raised) would answer faster than an unknown email does: the same candidate is
        // then also checked against the dummy hash, so that the answer takes at least
        // what a verification at the current cost takes.
        let cheaper = hash
            .parse::<bcrypt::HashParts>()
            .is_ok_and(|parts| parts.get_cost() < self.cost);
        let dummy = cheaper.then(|| self.dummy.as_str().to_owned());
        let matches = self
            .run(move || {
                let matches = bcrypt::verify(&candidate, &hash);
                if let Some(dummy) = dummy {
                    let _ = bcrypt::verify(&candidate, &dummy);
                }
                matches
            })
            .await?
            .map_err(|_| CryptoError("stored password hash is unreadable"))?;
        Ok(matches && fits)
    }

    fn dummy_hash(&self) -> &PasswordHash {
        &self.dummy
    }

    fn needs_rehash(&self, hash: &PasswordHash) -> bool {
        // A hash this hasher cannot read never verified, so it is never re-hashed.
        hash.as_str()
            .parse::<bcrypt::HashParts>()
            .is_ok_and(|parts| parts.get_cost() != self.cost)
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
    async fn a_hash_verifies_its_password_and_nothing_else() -> Result<(), HashError> {
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
    -> Result<(), HashError> {
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
    async fn the_dummy_hash_is_a_real_hash_of_the_configured_cost() -> Result<(), HashError> {
        let hasher = hasher(5).await;
        assert!(hasher.dummy_hash().as_str().starts_with("$2b$05$"));
        assert!(
            !hasher
                .verify("securepassword123", hasher.dummy_hash())
                .await?
        );
        Ok(())
    }

    #[tokio::test]
    async fn a_hash_of_another_cost_needs_a_rehash() -> Result<(), HashError> {
        let at_four = hasher(4).await;
        let at_five = hasher(5).await;
        let hash = at_four.hash(&password("correct horse battery")).await?;
        assert!(!at_four.needs_rehash(&hash));
        assert!(at_five.needs_rehash(&hash));
        assert!(!at_five.needs_rehash(at_five.dummy_hash()));
        assert!(!at_five.needs_rehash(&PasswordHash::new("not a hash".to_owned())));
        Ok(())
    }

    /// The production default, run once so a regression in the real cost is caught.
    #[tokio::test]
    async fn the_default_cost_of_12_hashes_and_verifies() -> Result<(), HashError> {
        let hasher = hasher(12).await;
        let hash = hasher.hash(&password("securepassword123")).await?;
        assert!(hash.as_str().starts_with("$2b$12$"));
        assert!(hasher.verify("securepassword123", &hash).await?);
        Ok(())
    }

    #[tokio::test]
    async fn a_hash_cheaper_than_the_current_cost_is_not_a_faster_answer() {
        // Cost 10 against a stored cost 4: 64 times the work apart, so the ratio below
        // holds whatever else the machine does.
        let hasher = hasher(10).await;
        let cheap = match bcrypt::hash("old-cheap-password", 4) {
            Ok(hash) => PasswordHash::new(hash),
            Err(e) => panic!("bcrypt: {e}"),
        };
        let dummy = hasher.dummy_hash().clone();
        let timed = async |hash: &PasswordHash, candidate: &str| {
            let started = std::time::Instant::now();
            let result = hasher.verify(candidate, hash).await;
            (started.elapsed(), result)
        };
        let (unknown, _) = timed(&dummy, "wrong-password-1").await;
        let (wrong, result) = timed(&cheap, "wrong-password-1").await;
        assert!(matches!(result, Ok(false)), "{result:?}");
        let (right, result) = timed(&cheap, "old-cheap-password").await;
        assert!(matches!(result, Ok(true)), "{result:?}");
        for (what, took) in [("wrong", wrong), ("right", right)] {
            assert!(
                took * 2 >= unknown,
                "a {what} password on a cost-4 hash took {took:?}, an unknown account {unknown:?}"
            );
        }
    }

    fn limited(concurrency: usize, queue: usize, wait_ms: u64) -> BcryptHasher {
        let limits = HashLimits {
            concurrency,
            queue,
            wait: Duration::from_millis(wait_ms),
        };
        match BcryptHasher::with_limits(4, limits) {
            Ok(h) => h,
            Err(e) => panic!("hasher must build: {e}"),
        }
    }

    /// A hash whose verification runs far longer than any wait the tests set (about a
    /// second at cost 14 on one core), at a cost the tests can afford.
    fn slow_hash() -> PasswordHash {
        match bcrypt::hash("slow-password-1", 14) {
            Ok(hash) => PasswordHash::new(hash),
            Err(e) => panic!("bcrypt: {e}"),
        }
    }

    async fn until(what: &str, hasher: &BcryptHasher, wanted: HashLoad) {
        for _ in 0..500 {
            if hasher.load() == wanted {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("{what}: load stayed {:?}, wanted {wanted:?}", hasher.load());
    }

    #[tokio::test]
    async fn a_full_queue_is_refused_at_once_and_a_long_wait_is_refused() {
        let hasher = Arc::new(limited(1, 1, 200));
        let hash = slow_hash();
        let first = tokio::spawn({
            let (hasher, hash) = (hasher.clone(), hash.clone());
            async move { hasher.verify("x-password", &hash).await }
        });
        until(
            "one running",
            &hasher,
            HashLoad {
                running: 1,
                waiting: 0,
            },
        )
        .await;
        let second = tokio::spawn({
            let (hasher, hash) = (hasher.clone(), hash.clone());
            async move { hasher.verify("x-password", &hash).await }
        });
        until(
            "one waiting",
            &hasher,
            HashLoad {
                running: 1,
                waiting: 1,
            },
        )
        .await;
        let started = std::time::Instant::now();
        let third = hasher.verify("x-password", &hash).await;
        assert!(matches!(third, Err(HashError::Saturated)), "{third:?}");
        assert!(
            started.elapsed() < Duration::from_millis(100),
            "refused at once"
        );
        let second = second.await.unwrap_or_else(|e| panic!("join: {e}"));
        assert!(
            matches!(second, Err(HashError::Saturated)),
            "waited too long: {second:?}"
        );
        let first = first.await.unwrap_or_else(|e| panic!("join: {e}"));
        assert!(matches!(first, Ok(false)), "{first:?}");
    }

    #[tokio::test]
    async fn a_dropped_request_keeps_its_started_hash_counted_and_gives_back_a_waiting_place() {
        let hasher = Arc::new(limited(1, 1, 10_000));
        let hash = slow_hash();
        // Gives up while its hash runs: the hash still holds the only thread.
        let gave_up = tokio::time::timeout(
            Duration::from_millis(50),
            hasher.verify("x-password", &hash),
        )
        .await;
        assert!(gave_up.is_err());
        assert_eq!(
            hasher.load(),
            HashLoad {
                running: 1,
                waiting: 0
            }
        );
        // Gives up while waiting: its place is free again at once.
        let waited = tokio::time::timeout(
            Duration::from_millis(50),
            hasher.verify("x-password", &hash),
        )
        .await;
        assert!(waited.is_err());
        assert_eq!(
            hasher.load(),
            HashLoad {
                running: 1,
                waiting: 0
            }
        );
        // The next request waits for the abandoned hash instead of running beside it.
        let next = tokio::spawn({
            let (hasher, hash) = (hasher.clone(), hash.clone());
            async move { hasher.verify("x-password", &hash).await }
        });
        until(
            "waiting behind",
            &hasher,
            HashLoad {
                running: 1,
                waiting: 1,
            },
        )
        .await;
        let next = next.await.unwrap_or_else(|e| panic!("join: {e}"));
        assert!(matches!(next, Ok(false)), "{next:?}");
        assert_eq!(hasher.load(), HashLoad::default());
    }

    #[test]
    fn hashing_threads_run_at_a_lower_priority() {
        let hasher = limited(1, 0, 1_000);
        let (tx, rx) = mpsc::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(rustix::process::getpriority_process(None));
        });
        let sent = hasher
            .jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .send(job);
        assert!(sent.is_ok());
        let niceness = rx.recv_timeout(Duration::from_secs(5));
        assert!(
            matches!(niceness, Ok(Ok(n)) if n >= HASHING_NICENESS),
            "{niceness:?}"
        );
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
