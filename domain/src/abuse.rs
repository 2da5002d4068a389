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

/// Password checks counted against one account key (a normalised email). The default
/// counts nothing and expires at the epoch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AccountRecord {
    /// Password checks that failed since the count last reset.
    pub failures: u32,
    /// Attempts admitted whose check has not ended yet.
    pub pending: u32,
    /// When the pending marks stop counting (an instance that stopped while checking
    /// never finishes its attempts); `None` when nothing is pending.
    pub pending_until: Option<DateTime<Utc>>,
    /// No attempt is admitted before this instant.
    pub locked_until: Option<DateTime<Utc>>,
    /// Whether a refusal by the current lock has been reported (one report per lock).
    pub lock_reported: bool,
    /// After this instant the record is forgotten (the count starts again).
    pub expires_at: DateTime<Utc>,
}

/// What the account throttle says about one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountDecision {
    /// The password may be checked.
    Admitted,
    /// Not yet: as many attempts as may still fail before the lock are being checked.
    /// Ask again shortly; nothing was counted.
    Held,
    /// Refused until the lock ends, `wait` from now. `first` for the first refusal of
    /// this lock, the one to report.
    Locked {
        /// Until the lock ends.
        wait: std::time::Duration,
        /// Whether no refusal of this lock was decided before.
        first: bool,
    },
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

/// One step of an attempt on an account, as a store applies it to the account's record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountStep {
    /// A new attempt: admitted, held back or refused.
    Begin,
    /// An admitted attempt ended so.
    Finish(AttemptOutcome),
}

/// The per-account throttle: after `limit` failed checks for one account within the
/// window, attempts wait; the wait starts at one second and doubles with each further
/// failure, never more than `max_wait`. A success resets the count. Unknown and known
/// emails are counted alike.
///
/// Only failed checks count. An attempt in flight is pending: it is never a failure, but
/// while as many attempts are pending as may still fail before the lock (`limit` minus
/// the failures, at least one), a new attempt is held back, so that many attempts at once
/// cannot all slip in before the first failures are known. Pending marks stop counting
/// after `pending_for`, so that an instance that stopped mid-check holds nothing back for
/// long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountLockPolicy {
    limit: NonZeroU32,
    max_wait: Duration,
    window: Duration,
    pending_for: Duration,
}

impl AccountLockPolicy {
    /// How long failures are remembered after the last one (or after the lock it set).
    pub const WINDOW_MINUTES: i64 = 15;

    /// How long a pending mark counts unless set otherwise.
    pub const PENDING_SECONDS: i64 = 30;

    /// `limit` failures before the first wait; waits never longer than `max_wait_seconds`.
    #[must_use]
    pub fn new(limit: NonZeroU32, max_wait_seconds: u32) -> Self {
        Self {
            limit,
            max_wait: Duration::seconds(i64::from(max_wait_seconds.max(1))),
            window: Duration::minutes(Self::WINDOW_MINUTES),
            pending_for: Duration::seconds(Self::PENDING_SECONDS),
        }
    }

    /// The same policy, with pending marks counting for `pending_for` (at least a
    /// second): longer than any check may take.
    #[must_use]
    pub fn pending_for(self, pending_for: Duration) -> Self {
        Self {
            pending_for: pending_for.max(Duration::seconds(1)),
            ..self
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

    /// What `step` decides about `record` at `now`, and the record to store in its place
    /// (`None`: delete it). A finish decides nothing: it answers
    /// [`AccountDecision::Admitted`].
    #[must_use]
    pub fn apply(
        &self,
        record: Option<AccountRecord>,
        step: AccountStep,
        now: DateTime<Utc>,
    ) -> (AccountDecision, Option<AccountRecord>) {
        match step {
            AccountStep::Begin => {
                let (decision, next) = self.begin(record, now);
                (decision, Some(next))
            }
            AccountStep::Finish(outcome) => {
                (AccountDecision::Admitted, self.finish(record, outcome, now))
            }
        }
    }

    /// Decides on a new attempt and returns the record to store.
    #[must_use]
    pub fn begin(
        &self,
        record: Option<AccountRecord>,
        now: DateTime<Utc>,
    ) -> (AccountDecision, AccountRecord) {
        let record = self.live(record, now).unwrap_or_else(|| Self::empty(now));
        if let Some(until) = record.locked_until
            && until > now
        {
            // Never announce more than the cap, even if another instance's clock ran ahead.
            let wait = (until - now)
                .min(self.max_wait)
                .to_std()
                .unwrap_or_default();
            let decision = AccountDecision::Locked {
                wait,
                first: !record.lock_reported,
            };
            return (
                decision,
                AccountRecord {
                    lock_reported: true,
                    ..record
                },
            );
        }
        // As many checks at once as may still fail before the lock; one at a time once
        // the limit is reached.
        let may_fail = self.limit.get().saturating_sub(record.failures).max(1);
        if record.pending >= may_fail {
            return (AccountDecision::Held, record);
        }
        let pending_until = now + self.pending_for;
        let pending_until = record
            .pending_until
            .map_or(pending_until, |until| until.max(pending_until));
        (
            AccountDecision::Admitted,
            AccountRecord {
                pending: record.pending.saturating_add(1),
                pending_until: Some(pending_until),
                expires_at: record.expires_at.max(pending_until),
                ..record
            },
        )
    }

    /// The record after an admitted attempt ended; `None` deletes it.
    #[must_use]
    pub fn finish(
        &self,
        record: Option<AccountRecord>,
        outcome: AttemptOutcome,
        now: DateTime<Utc>,
    ) -> Option<AccountRecord> {
        let record = self.live(record, now).unwrap_or_else(|| Self::empty(now));
        // Its own mark ends; the others' stay (they are still being checked).
        let pending = record.pending.saturating_sub(1);
        let record = AccountRecord {
            pending,
            pending_until: record.pending_until.filter(|_| pending > 0),
            ..record
        };
        let record = match outcome {
            AttemptOutcome::Succeeded => AccountRecord {
                failures: 0,
                locked_until: None,
                lock_reported: false,
                ..record
            },
            AttemptOutcome::Failed => {
                let failures = record.failures.saturating_add(1);
                let wait = self.wait_after(failures);
                if wait > Duration::zero() {
                    // A new lock, from this failure: its first refusal is reported anew.
                    let until = record
                        .locked_until
                        .map_or(now + wait, |until| until.max(now + wait));
                    AccountRecord {
                        failures,
                        locked_until: Some(until),
                        lock_reported: false,
                        expires_at: record.expires_at.max(until + self.window),
                        ..record
                    }
                } else {
                    AccountRecord {
                        failures,
                        expires_at: record.expires_at.max(now + self.window),
                        ..record
                    }
                }
            }
            // Given back: the count as it was.
            AttemptOutcome::NotChecked => record,
        };
        (record.failures > 0 || record.pending > 0).then_some(record)
    }

    /// The record as it counts at `now`: `None` once expired, pending marks forgotten
    /// once they have stopped counting.
    fn live(&self, record: Option<AccountRecord>, now: DateTime<Utc>) -> Option<AccountRecord> {
        let mut record = record.filter(|r| r.expires_at > now)?;
        if record.pending_until.is_none_or(|until| until <= now) {
            record.pending = 0;
            record.pending_until = None;
        }
        (record.failures > 0 || record.pending > 0).then_some(record)
    }

    fn empty(now: DateTime<Utc>) -> AccountRecord {
        AccountRecord {
            expires_at: now,
            ..AccountRecord::default()
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
            } else {
                assert_eq!(decision, AccountDecision::Held, "held, never refused");
            }
            record = Some(next);
        }
        assert_eq!(admitted, 5);
        assert_eq!(record.map(|r| (r.failures, r.pending)), Some((0, 5)));
    }

    #[test]
    fn concurrent_right_passwords_are_held_then_admitted_and_never_locked() {
        let policy = AccountLockPolicy::new(nz(5), 900);
        let mut record = None;
        let mut in_flight = 0;
        let mut succeeded = 0;
        // Sixteen attempts at once: each is admitted or held; each success frees a place.
        let mut waiting = 16;
        while succeeded < 16 {
            while waiting > 0 {
                let (decision, next) = policy.begin(record, at(0));
                record = Some(next);
                match decision {
                    AccountDecision::Admitted => {
                        waiting -= 1;
                        in_flight += 1;
                    }
                    AccountDecision::Held => break,
                    AccountDecision::Locked { .. } => panic!("a right password was refused"),
                }
            }
            assert!(in_flight <= 5, "{in_flight} in flight");
            record = policy.finish(record, AttemptOutcome::Succeeded, at(0));
            in_flight -= 1;
            succeeded += 1;
        }
        assert_eq!(record, None, "nothing left once all succeeded");
    }

    #[test]
    fn concurrent_wrong_guesses_get_the_limit_then_one_reported_lock() {
        let policy = AccountLockPolicy::new(nz(5), 900);
        let mut record = None;
        for _ in 0..5 {
            let (decision, next) = policy.begin(record, at(0));
            assert_eq!(decision, AccountDecision::Admitted);
            record = Some(next);
        }
        assert_eq!(policy.begin(record, at(0)).0, AccountDecision::Held);
        for _ in 0..5 {
            record = policy.finish(record, AttemptOutcome::Failed, at(0));
        }
        let one_second = std::time::Duration::from_secs(1);
        let (first, next) = policy.begin(record, at(0));
        assert_eq!(
            first,
            AccountDecision::Locked {
                wait: one_second,
                first: true
            }
        );
        record = Some(next);
        for _ in 0..10 {
            let (again, next) = policy.begin(record, at(0));
            assert_eq!(
                again,
                AccountDecision::Locked {
                    wait: one_second,
                    first: false
                }
            );
            record = Some(next);
        }
        // After the wait, one attempt; its failure is a new lock, reported anew.
        let (decision, begun) = policy.begin(record, at(1));
        assert_eq!(decision, AccountDecision::Admitted);
        assert_eq!(policy.begin(Some(begun), at(1)).0, AccountDecision::Held);
        let failed = policy.finish(Some(begun), AttemptOutcome::Failed, at(1));
        assert_eq!(
            policy.begin(failed, at(1)).0,
            AccountDecision::Locked {
                wait: std::time::Duration::from_secs(2),
                first: true
            }
        );
    }

    #[test]
    fn pending_marks_stop_counting_after_their_time() {
        let policy = AccountLockPolicy::new(nz(2), 900).pending_for(Duration::seconds(30));
        let mut record = None;
        for _ in 0..2 {
            record = Some(policy.begin(record, at(0)).1);
        }
        // Never finished (its instance stopped): held for thirty seconds, not longer.
        assert_eq!(policy.begin(record, at(29)).0, AccountDecision::Held);
        let (decision, begun) = policy.begin(record, at(30));
        assert_eq!(decision, AccountDecision::Admitted);
        assert_eq!(begun.pending, 1);
        // A failure is counted whatever became of the marks.
        let failed = policy.finish(None, AttemptOutcome::Failed, at(31));
        assert_eq!(failed.map(|r| (r.failures, r.pending)), Some((1, 0)));
    }

    #[test]
    fn a_success_resets_the_failures_but_not_the_others_in_flight() {
        let policy = AccountLockPolicy::new(nz(3), 900);
        let mut record = None;
        for _ in 0..2 {
            let (_, begun) = policy.begin(record, at(0));
            record = policy.finish(Some(begun), AttemptOutcome::Failed, at(0));
        }
        // One place left: one attempt checked, the next held.
        let (decision, begun) = policy.begin(record, at(0));
        assert_eq!(decision, AccountDecision::Admitted);
        assert_eq!(policy.begin(Some(begun), at(0)).0, AccountDecision::Held);
        let succeeded = policy.finish(Some(begun), AttemptOutcome::Succeeded, at(0));
        assert_eq!(succeeded, None);
        // Three in flight, one succeeds: two still count.
        let mut record = None;
        for _ in 0..3 {
            record = Some(policy.begin(record, at(0)).1);
        }
        let after = policy.finish(record, AttemptOutcome::Succeeded, at(0));
        assert_eq!(after.map(|r| (r.failures, r.pending)), Some((0, 2)));
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
            AccountDecision::Locked {
                wait: std::time::Duration::from_secs(1),
                first: true
            }
        );
        // Once the wait has passed an attempt is admitted; its failure doubles the wait.
        let (decision, begun) = policy.begin(record, at(2));
        assert_eq!(decision, AccountDecision::Admitted);
        let failed = policy.finish(Some(begun), AttemptOutcome::Failed, at(2));
        assert_eq!(
            policy.begin(failed, at(2)).0,
            AccountDecision::Locked {
                wait: std::time::Duration::from_secs(2),
                first: true
            }
        );
        // A right password after the wait clears everything.
        let (_, begun) = policy.begin(failed, at(4));
        assert_eq!(
            policy.finish(Some(begun), AttemptOutcome::Succeeded, at(4)),
            None
        );
    }

    #[test]
    fn an_attempt_not_checked_leaves_no_lock_and_a_held_attempt_waits_for_the_failure() {
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
        // While an attempt is checked the next is held, not refused; the lock starts
        // with the failure.
        let policy = AccountLockPolicy::new(nz(1), 900);
        let (_, begun) = policy.begin(None, at(0));
        let (held, _) = policy.begin(Some(begun), at(0));
        assert_eq!(held, AccountDecision::Held);
        let failed_at = at(0) + Duration::milliseconds(400);
        let failed = policy.finish(Some(begun), AttemptOutcome::Failed, failed_at);
        assert!(matches!(
            policy.begin(failed, at(1)).0,
            AccountDecision::Locked { wait, first: true }
                if wait == std::time::Duration::from_millis(400)
        ));
        assert_eq!(
            policy.begin(failed, failed_at + Duration::seconds(1)).0,
            AccountDecision::Admitted
        );
    }

    #[test]
    fn an_announced_wait_never_exceeds_the_cap() {
        let policy = AccountLockPolicy::new(nz(1), 10);
        let skewed = AccountRecord {
            failures: 3,
            pending: 0,
            pending_until: None,
            locked_until: Some(at(60)),
            lock_reported: true,
            expires_at: at(1000),
        };
        assert_eq!(
            policy.begin(Some(skewed), at(0)).0,
            AccountDecision::Locked {
                wait: std::time::Duration::from_secs(10),
                first: false
            }
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
        assert_eq!(
            (fresh.failures, fresh.pending),
            (0, 1),
            "a record past its window starts again"
        );
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
                    AccountDecision::Locked { wait, .. } => {
                        prop_assert!(wait <= std::time::Duration::from_secs(u64::from(max_wait)));
                        record = Some(begun);
                    }
                    AccountDecision::Held => record = Some(begun),
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

        #[test]
        fn attempts_at_once_never_get_more_wrong_checks_than_the_limit(
            limit in 1_u32..8,
            failures_before in 0_u32..10,
            // true: a new attempt arrives; false: one in flight fails.
            steps in proptest::collection::vec(any::<bool>(), 1..200),
        ) {
            let Some(limit) = NonZeroU32::new(limit) else { return Ok(()) };
            let policy = AccountLockPolicy::new(limit, 900);
            let now = start();
            let mut record = None;
            for _ in 0..failures_before.min(limit.get() - 1) {
                let (_, begun) = policy.begin(record, now);
                record = policy.finish(Some(begun), AttemptOutcome::Failed, now);
            }
            let before = record.map_or(0, |r| r.failures);
            let (mut admitted, mut in_flight) = (0_u32, 0_u32);
            for arrives in steps {
                if arrives {
                    let (decision, next) = policy.begin(record, now);
                    record = Some(next);
                    if decision == AccountDecision::Admitted {
                        admitted += 1;
                        in_flight += 1;
                    }
                } else if in_flight > 0 {
                    record = policy.finish(record, AttemptOutcome::Failed, now);
                    in_flight -= 1;
                }
            }
            prop_assert!(before + admitted <= limit.get(), "{} + {} checks", before, admitted);
        }

        #[test]
        fn right_passwords_are_held_at_most_never_refused(
            limit in 1_u32..8,
            // (a new attempt arrives, or one in flight ends; it was checked; ms later), all
            // within the time pending marks count
            steps in proptest::collection::vec((any::<bool>(), any::<bool>(), 0_i64..100), 1..200),
        ) {
            let Some(limit) = NonZeroU32::new(limit) else { return Ok(()) };
            let policy = AccountLockPolicy::new(limit, 900);
            let mut now = start();
            let mut record = None;
            let mut in_flight = 0_u32;
            for (arrives, checked, gap_ms) in steps {
                now += Duration::milliseconds(gap_ms);
                if arrives {
                    let (decision, next) = policy.begin(record, now);
                    record = Some(next);
                    match decision {
                        AccountDecision::Admitted => in_flight += 1,
                        AccountDecision::Held => prop_assert!(in_flight >= 1),
                        AccountDecision::Locked { .. } => prop_assert!(false, "refused"),
                    }
                } else if in_flight > 0 {
                    let outcome = if checked { AttemptOutcome::Succeeded } else { AttemptOutcome::NotChecked };
                    record = policy.finish(record, outcome, now);
                    in_flight -= 1;
                }
                prop_assert!(in_flight <= limit.get());
            }
        }

        #[test]
        fn each_lock_is_reported_once(
            limit in 1_u32..5,
            // (a failure, else a refused or held try; ms later)
            steps in proptest::collection::vec((any::<bool>(), 0_i64..3_000), 1..200),
        ) {
            let Some(limit) = NonZeroU32::new(limit) else { return Ok(()) };
            let policy = AccountLockPolicy::new(limit, 8);
            let mut now = start();
            let mut record = None;
            let mut reported = std::collections::HashSet::new();
            let (mut locks, mut reports) = (0_u32, 0_u32);
            for (fails, gap_ms) in steps {
                now += Duration::milliseconds(gap_ms);
                let (decision, next) = policy.begin(record, now);
                record = Some(next);
                match decision {
                    AccountDecision::Admitted if fails => {
                        let before = record.and_then(|r| r.locked_until);
                        record = policy.finish(record, AttemptOutcome::Failed, now);
                        if record.and_then(|r| r.locked_until) != before {
                            locks += 1;
                        }
                    }
                    AccountDecision::Admitted => {
                        record = policy.finish(record, AttemptOutcome::NotChecked, now);
                    }
                    AccountDecision::Locked { first, .. } => {
                        let lock = record.and_then(|r| r.locked_until);
                        prop_assert_eq!(first, reported.insert(lock), "first exactly once per lock");
                        if first {
                            reports += 1;
                        }
                    }
                    AccountDecision::Held => prop_assert!(false, "nothing is in flight"),
                }
            }
            prop_assert!(reports <= locks);
        }
    }
}
