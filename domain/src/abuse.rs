//! The abuse-resistance rules: who a client is for the limits, how fast one address may
//! try passwords, and how long an account waits after failed password checks.
//!
//! The stores that keep the counts are adapters; the arithmetic is here, once.

use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;

use chrono::{DateTime, Duration, Utc};

/// The address a request comes from, after the trusted-proxy rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientAddress(IpAddr);

impl ClientAddress {
    /// The address as seen. An IPv4 address written as IPv6 (`::ffff:a.b.c.d`) is the
    /// IPv4 address it holds.
    #[must_use]
    pub fn new(ip: IpAddr) -> Self {
        Self(ip.to_canonical())
    }

    /// The address.
    #[must_use]
    pub fn ip(self) -> IpAddr {
        self.0
    }

    /// The key that limits count this client under: the IPv4 address itself, or the
    /// IPv6 /64 it is in (one subscriber, one site, one host usually holds a whole /64,
    /// so counting per /128 would give one client 2^64 budgets).
    #[must_use]
    pub fn limit_key(self) -> String {
        match self.0 {
            IpAddr::V4(v4) => format!("ip:{v4}"),
            IpAddr::V6(v6) => {
                let prefix = u128::from(v6) & !((1_u128 << 64) - 1);
                format!("ip:{}/64", Ipv6Addr::from(prefix))
            }
        }
    }
}

impl std::fmt::Display for ClientAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// At most `per_minute` events a minute, in bursts of up to `per_minute`: the generic
/// cell rate algorithm (GCRA). A store keeps one instant per key, the theoretical
/// arrival time (TAT); an event at `now` is admitted when `TAT <= now + tolerance`, and
/// then moves it to `max(TAT, now) + interval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    per_minute: NonZeroU32,
}

/// Whether an event was admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Go ahead.
    Admitted,
    /// Refused: the next event would be admitted after this long.
    Limited(std::time::Duration),
}

impl Rate {
    /// `per_minute` events a minute.
    #[must_use]
    pub fn per_minute(per_minute: NonZeroU32) -> Self {
        Self { per_minute }
    }

    /// Time one event uses of the budget.
    #[must_use]
    pub fn interval(self) -> Duration {
        Duration::microseconds(60_000_000 / i64::from(self.per_minute.get()))
    }

    /// How far ahead of now the TAT may be while still admitting: a full burst.
    #[must_use]
    pub fn tolerance(self) -> Duration {
        self.interval() * (i32::try_from(self.per_minute.get()).unwrap_or(i32::MAX) - 1)
    }

    /// One GCRA step on a stored TAT (`None`: the key was never seen, or was pruned).
    /// Returns the decision and the TAT to store (unchanged when refused).
    #[must_use]
    pub fn step(
        self,
        tat: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> (Admission, DateTime<Utc>) {
        let tat = tat.unwrap_or(now);
        let allow_at = tat - self.tolerance();
        if allow_at > now {
            let wait = (allow_at - now).to_std().unwrap_or_default();
            (Admission::Limited(wait), tat)
        } else {
            (Admission::Admitted, tat.max(now) + self.interval())
        }
    }
}

/// Failed password checks counted against one account key (a normalised email).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountRecord {
    /// Attempts that failed, or are being checked, since the count last reset.
    pub failures: u32,
    /// No attempt is admitted before this instant.
    pub locked_until: Option<DateTime<Utc>>,
    /// After this instant the record is forgotten (the count starts again).
    pub expires_at: DateTime<Utc>,
}

/// What the account throttle says about one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountDecision {
    /// The password may be checked.
    Admitted,
    /// Refused until the lock ends, this long from now.
    Locked(std::time::Duration),
}

/// How a checked attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// The password was right: the count resets.
    Succeeded,
    /// The password was wrong (or the account unknown).
    Failed,
    /// The password was never checked (the server could not): the attempt is given back.
    NotChecked,
}

/// The per-account throttle: after `limit` failed checks for one account within the
/// window, attempts wait; the wait starts at one second and doubles with each further
/// failure, never more than `max_wait`. A success resets the count. Unknown and known
/// emails are counted alike.
///
/// Attempts are counted when they are admitted, before the password is checked, so that
/// many attempts at once cannot all slip in before the first failure is known: the
/// `limit`-th attempt in flight already sets the lock, and a success lifts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountLockPolicy {
    limit: NonZeroU32,
    max_wait: Duration,
    window: Duration,
}

impl AccountLockPolicy {
    /// How long failures are remembered after the last one (or after the lock it set).
    pub const WINDOW_MINUTES: i64 = 15;

    /// `limit` failures before the first wait; waits never longer than `max_wait_seconds`.
    #[must_use]
    pub fn new(limit: NonZeroU32, max_wait_seconds: u32) -> Self {
        Self {
            limit,
            max_wait: Duration::seconds(i64::from(max_wait_seconds.max(1))),
            window: Duration::minutes(Self::WINDOW_MINUTES),
        }
    }

    /// The wait after the `failures`-th failure: none below the limit, then 1 s, 2 s,
    /// 4 s, ... up to `max_wait`.
    #[must_use]
    pub fn wait_after(&self, failures: u32) -> Duration {
        let Some(beyond) = failures.checked_sub(self.limit.get()) else {
            return Duration::zero();
        };
        let seconds = 1_i64 << beyond.min(62);
        Duration::seconds(seconds.min(self.max_wait.num_seconds()))
    }

    /// Decides on a new attempt and returns the record to store.
    #[must_use]
    pub fn begin(
        &self,
        record: Option<AccountRecord>,
        now: DateTime<Utc>,
    ) -> (AccountDecision, AccountRecord) {
        let record = record.filter(|r| r.expires_at > now);
        if let Some(record) = record
            && let Some(until) = record.locked_until
            && until > now
        {
            // Never announce more than the cap, even if another instance's clock ran ahead.
            let wait = (until - now)
                .min(self.max_wait)
                .to_std()
                .unwrap_or_default();
            return (AccountDecision::Locked(wait), record);
        }
        let failures = record.map_or(0, |r| r.failures).saturating_add(1);
        (AccountDecision::Admitted, self.counted(failures, now))
    }

    /// The record after an admitted attempt ended; `None` deletes it.
    #[must_use]
    pub fn finish(
        &self,
        record: Option<AccountRecord>,
        outcome: AttemptOutcome,
        now: DateTime<Utc>,
    ) -> Option<AccountRecord> {
        let record = record.filter(|r| r.expires_at > now)?;
        match outcome {
            AttemptOutcome::Succeeded => None,
            // Counted, and its lock set, when it was admitted: a wait announced while it
            // was being checked is the whole wait.
            AttemptOutcome::Failed => Some(record),
            // Given back: the count as it was, and no lock of its own. (A lock that
            // admitted it had already passed.)
            AttemptOutcome::NotChecked => {
                let failures = record.failures.saturating_sub(1);
                (failures > 0).then_some(AccountRecord {
                    failures,
                    locked_until: None,
                    expires_at: record.expires_at,
                })
            }
        }
    }

    /// The record of the `failures`-th attempt at `now`: locked for its wait, if any, and
    /// remembered for the window after the lock ends.
    fn counted(&self, failures: u32, now: DateTime<Utc>) -> AccountRecord {
        let wait = self.wait_after(failures);
        let locked_until = (wait > Duration::zero()).then(|| now + wait);
        AccountRecord {
            failures,
            locked_until,
            expires_at: locked_until.unwrap_or(now) + self.window,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap_or_default()
    }

    fn nz(n: u32) -> NonZeroU32 {
        NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
    }

    #[test]
    fn ipv6_clients_are_counted_per_64_and_mapped_ipv4_as_ipv4() {
        let a = ClientAddress::new(
            "2001:db8:1:2:aaaa::1"
                .parse()
                .unwrap_or(IpAddr::V4(0.into())),
        );
        let b = ClientAddress::new(
            "2001:db8:1:2:ffff::9"
                .parse()
                .unwrap_or(IpAddr::V4(0.into())),
        );
        let c = ClientAddress::new("2001:db8:1:3::1".parse().unwrap_or(IpAddr::V4(0.into())));
        assert_eq!(a.limit_key(), "ip:2001:db8:1:2::/64");
        assert_eq!(a.limit_key(), b.limit_key());
        assert_ne!(a.limit_key(), c.limit_key());
        let mapped = ClientAddress::new("::ffff:127.0.0.7".parse().unwrap_or(IpAddr::V4(0.into())));
        assert_eq!(mapped.limit_key(), "ip:127.0.0.7");
        assert_eq!(mapped.to_string(), "127.0.0.7");
    }

    #[test]
    fn gcra_admits_a_burst_then_one_per_interval() {
        let rate = Rate::per_minute(nz(10));
        let mut tat = None;
        for _ in 0..10 {
            let (admission, next) = rate.step(tat, at(0));
            assert_eq!(admission, Admission::Admitted);
            tat = Some(next);
        }
        let (admission, unchanged) = rate.step(tat, at(0));
        assert_eq!(
            admission,
            Admission::Limited(std::time::Duration::from_secs(6))
        );
        assert_eq!(Some(unchanged), tat);
        assert_eq!(rate.step(tat, at(6)).0, Admission::Admitted);
        // A quiet minute refills the whole burst.
        let (_, later) = rate.step(tat, at(60));
        assert_eq!(later, at(66));
    }

    #[test]
    fn the_account_wait_doubles_from_one_second_and_is_capped() {
        let policy = AccountLockPolicy::new(nz(5), 900);
        assert_eq!(policy.wait_after(4), Duration::zero());
        assert_eq!(policy.wait_after(5), Duration::seconds(1));
        assert_eq!(policy.wait_after(6), Duration::seconds(2));
        assert_eq!(policy.wait_after(9), Duration::seconds(16));
        assert_eq!(policy.wait_after(20), Duration::seconds(900));
        assert_eq!(policy.wait_after(u32::MAX), Duration::seconds(900));
    }

    #[test]
    fn attempts_in_flight_count_so_a_burst_cannot_pass_the_limit() {
        let policy = AccountLockPolicy::new(nz(5), 900);
        let mut record = None;
        let mut admitted = 0;
        for _ in 0..50 {
            let (decision, next) = policy.begin(record, at(0));
            if decision == AccountDecision::Admitted {
                admitted += 1;
            }
            record = Some(next);
        }
        assert_eq!(admitted, 5);
    }

    #[test]
    fn failures_lock_success_resets_and_the_lock_ends_when_announced() {
        let policy = AccountLockPolicy::new(nz(2), 900);
        let mut record = None;
        for second in 0..2 {
            let (decision, begun) = policy.begin(record, at(second));
            assert_eq!(decision, AccountDecision::Admitted);
            record = policy.finish(Some(begun), AttemptOutcome::Failed, at(second));
        }
        // Locked for 1 s from the second failure, whatever the password.
        let (decision, _) = policy.begin(record, at(1));
        assert_eq!(
            decision,
            AccountDecision::Locked(std::time::Duration::from_secs(1))
        );
        // Once the wait has passed an attempt is admitted; its failure doubles the wait.
        let (decision, begun) = policy.begin(record, at(2));
        assert_eq!(decision, AccountDecision::Admitted);
        let failed = policy.finish(Some(begun), AttemptOutcome::Failed, at(2));
        assert_eq!(
            policy.begin(failed, at(2)).0,
            AccountDecision::Locked(std::time::Duration::from_secs(2))
        );
        // A right password after the wait clears everything.
        let (_, begun) = policy.begin(failed, at(4));
        assert_eq!(
            policy.finish(Some(begun), AttemptOutcome::Succeeded, at(4)),
            None
        );
    }

    #[test]
    fn an_attempt_not_checked_leaves_no_lock_and_a_failure_keeps_the_announced_wait() {
        let policy = AccountLockPolicy::new(nz(5), 900);
        let mut record = None;
        for second in 0..10 {
            let (_, begun) = policy.begin(record, at(second * 100));
            record = policy.finish(Some(begun), AttemptOutcome::Failed, at(second * 100));
        }
        // The last lock has passed; an attempt is admitted, then cannot be checked.
        let later = at(1_000);
        let (decision, begun) = policy.begin(record, later);
        assert_eq!(decision, AccountDecision::Admitted);
        let given_back = policy.finish(Some(begun), AttemptOutcome::NotChecked, later);
        assert_eq!(given_back.map(|r| r.failures), Some(10));
        assert_eq!(policy.begin(given_back, later).0, AccountDecision::Admitted);
        // A wait announced while an attempt is checked is not lengthened by its failure.
        let policy = AccountLockPolicy::new(nz(1), 900);
        let (_, begun) = policy.begin(None, at(0));
        let (announced, _) = policy.begin(Some(begun), at(0));
        assert_eq!(
            announced,
            AccountDecision::Locked(std::time::Duration::from_secs(1))
        );
        let failed = policy.finish(
            Some(begun),
            AttemptOutcome::Failed,
            at(0) + Duration::milliseconds(400),
        );
        assert_eq!(policy.begin(failed, at(1)).0, AccountDecision::Admitted);
    }

    #[test]
    fn an_announced_wait_never_exceeds_the_cap() {
        let policy = AccountLockPolicy::new(nz(1), 10);
        let skewed = AccountRecord {
            failures: 3,
            locked_until: Some(at(60)),
            expires_at: at(1000),
        };
        assert_eq!(
            policy.begin(Some(skewed), at(0)).0,
            AccountDecision::Locked(std::time::Duration::from_secs(10))
        );
    }

    #[test]
    fn an_attempt_not_checked_is_given_back_and_old_records_are_forgotten() {
        let policy = AccountLockPolicy::new(nz(5), 900);
        let (_, begun) = policy.begin(None, at(0));
        assert_eq!(
            policy.finish(Some(begun), AttemptOutcome::NotChecked, at(0)),
            None
        );
        let (_, begun) = policy.begin(None, at(0));
        let failed = policy.finish(Some(begun), AttemptOutcome::Failed, at(0));
        assert_eq!(failed.map(|r| r.failures), Some(1));
        let (_, fresh) = policy.begin(failed, at(16 * 60));
        assert_eq!(fresh.failures, 1, "a record past its window starts again");
    }
}

#[cfg(test)]
mod properties {
    use std::net::Ipv4Addr;

    use proptest::prelude::*;

    use super::*;

    fn start() -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap_or_default()
    }

    proptest! {
        #[test]
        fn ipv4_mapped_addresses_are_their_ipv4(bits in any::<u32>()) {
            let v4 = Ipv4Addr::from(bits);
            let mapped = ClientAddress::new(IpAddr::V6(v4.to_ipv6_mapped()));
            prop_assert_eq!(mapped, ClientAddress::new(IpAddr::V4(v4)));
            prop_assert_eq!(mapped.limit_key(), format!("ip:{v4}"));
        }

        #[test]
        fn one_ipv6_64_is_one_key(prefix in any::<u64>(), a in any::<u64>(), b in any::<u64>()) {
            let address = |host: u64| {
                ClientAddress::new(IpAddr::V6(Ipv6Addr::from((u128::from(prefix) << 64) | u128::from(host))))
            };
            prop_assume!(prefix != 0);
            prop_assert_eq!(address(a).limit_key(), address(b).limit_key());
            let other = ClientAddress::new(IpAddr::V6(Ipv6Addr::from((u128::from(prefix ^ 1) << 64) | u128::from(a))));
            prop_assert_ne!(address(a).limit_key(), other.limit_key());
        }

        #[test]
        fn a_rate_admits_at_most_its_budget_in_any_minute(
            per_minute in 1_u32..50,
            gaps_ms in proptest::collection::vec(0_i64..10_000, 1..300),
        ) {
            let Some(budget) = NonZeroU32::new(per_minute) else { return Ok(()) };
            let rate = Rate::per_minute(budget);
            let mut tat = None;
            let mut now = start();
            let mut admitted = Vec::new();
            for gap in gaps_ms {
                now += Duration::milliseconds(gap);
                let (decision, next) = rate.step(tat, now);
                tat = Some(next);
                match decision {
                    Admission::Admitted => admitted.push(now),
                    Admission::Limited(wait) => prop_assert!(wait > std::time::Duration::ZERO),
                }
            }
            // GCRA's bound: between any two admitted events, at most the burst plus one
            // event per interval that elapsed.
            let interval_us = rate.interval().num_microseconds().unwrap_or(i64::MAX);
            for (i, first) in admitted.iter().enumerate() {
                for (offset, last) in admitted[i..].iter().enumerate() {
                    let elapsed_us = (*last - *first).num_microseconds().unwrap_or(i64::MAX);
                    let allowed = i64::from(per_minute) + elapsed_us / interval_us;
                    let count = i64::try_from(offset).unwrap_or(i64::MAX) + 1;
                    prop_assert!(count <= allowed, "{} admitted, {} allowed", count, allowed);
                }
            }
        }

        #[test]
        fn announced_waits_never_exceed_the_cap(
            limit in 1_u32..10,
            max_wait in 1_u32..1000,
            outcomes in proptest::collection::vec((any::<bool>(), 0_i64..5_000), 1..80),
        ) {
            let Some(limit) = NonZeroU32::new(limit) else { return Ok(()) };
            let policy = AccountLockPolicy::new(limit, max_wait);
            let mut record = None;
            let mut now = start();
            for (success, gap_ms) in outcomes {
                now += Duration::milliseconds(gap_ms);
                let (decision, begun) = policy.begin(record, now);
                match decision {
                    AccountDecision::Locked(wait) => {
                        prop_assert!(wait <= std::time::Duration::from_secs(u64::from(max_wait)));
                        record = Some(begun);
                    }
                    AccountDecision::Admitted => {
                        let outcome = if success { AttemptOutcome::Succeeded } else { AttemptOutcome::Failed };
                        record = policy.finish(Some(begun), outcome, now);
                        if success {
                            prop_assert_eq!(record, None);
                        }
                    }
                }
            }
        }
    }
}
