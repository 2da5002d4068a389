//! The signup and signin rate limit: attempts per client IP per minute.

use std::net::{IpAddr, Ipv4Addr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// A keyed GCRA limiter: a burst of `n` attempts, refilled at `n` per minute. Built once
/// and shared by every worker, so the budget is per process, not per thread.
#[derive(Clone)]
pub struct AuthRateLimit {
    limiter: Option<Arc<DefaultKeyedRateLimiter<IpAddr>>>,
    clock: DefaultClock,
    checks: Arc<AtomicU64>,
}

/// Every this many checks, clients whose budget is full again are forgotten, so the
/// table does not grow with every address ever seen.
const PRUNE_EVERY: u64 = 1024;

impl std::fmt::Debug for AuthRateLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthRateLimit")
            .field("enabled", &self.limiter.is_some())
            .finish()
    }
}

impl AuthRateLimit {
    /// `per_minute` attempts per client IP per minute; 0 turns the limit off.
    #[must_use]
    pub fn per_minute(per_minute: u32) -> Self {
        let limiter =
            NonZeroU32::new(per_minute).map(|n| Arc::new(RateLimiter::keyed(Quota::per_minute(n))));
        Self {
            limiter,
            clock: DefaultClock::default(),
            checks: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Counts one attempt from `client`; `Err` holds how long to wait when over the limit.
    /// Requests without a known peer address share one budget.
    pub fn check(&self, client: Option<IpAddr>) -> Result<(), Duration> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        if self.checks.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        let key = client.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        limiter
            .check_key(&key)
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }
}

/// Whole seconds to announce in `Retry-After`: rounded up, at least one.
#[must_use]
pub fn retry_after_seconds(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_counts_per_client_and_zero_turns_it_off() {
        let limit = AuthRateLimit::per_minute(3);
        let a = Some(IpAddr::from([10, 0, 0, 1]));
        let b = Some(IpAddr::from([10, 0, 0, 2]));
        for _ in 0..3 {
            assert!(limit.check(a).is_ok());
        }
        let wait = limit.check(a).err();
        assert!(wait.is_some_and(|w| w > Duration::ZERO && w <= Duration::from_secs(20)));
        assert!(limit.check(b).is_ok(), "another client has its own budget");

        // Pruning keeps clients whose budget is not full again.
        for n in 0..PRUNE_EVERY {
            let _ = limit.check(Some(IpAddr::from([10, 1, (n >> 8) as u8, n as u8])));
        }
        assert!(
            limit.check(a).is_err(),
            "pruning must not forget a limited client"
        );

        let off = AuthRateLimit::per_minute(0);
        assert!((0..100).all(|_| off.check(a).is_ok()));
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_seconds(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_seconds(Duration::from_millis(5_999)), 6);
        assert_eq!(retry_after_seconds(Duration::from_secs(6)), 6);
        assert_eq!(retry_after_seconds(Duration::ZERO), 1);
    }
}
