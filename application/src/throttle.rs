//! The limits on password attempts: per client address, and per account.

use std::sync::Arc;
use std::time::Duration;

use tessera_domain::{
    AccountDecision, AccountLockPolicy, AccountStep, Admission, AttemptOutcome, ClientAddress, Rate,
};
use thiserror::Error;

use crate::error::Fault;
use crate::ports::{Clock, Pause, ThrottleStore};

/// The longest account key kept: no valid address is longer, and a key must fit a
/// database index whatever a client sends.
const MAX_ACCOUNT_KEY_CHARS: usize = 254;

/// Why an attempt was not let through.
#[derive(Debug, Error)]
pub enum Refusal {
    /// Over a limit: try again after this long.
    #[error("too many attempts")]
    Limited(Duration),
    /// The counts could not be read or written.
    #[error(transparent)]
    Fault(#[from] Fault),
}

/// Why an attempt on an account was not let through.
#[derive(Debug, Error)]
pub enum AccountRefusal {
    /// The account is locked: try again after `wait`. `first` for the lock's first
    /// refusal (the one to report: one report per wait, however many it refuses).
    #[error("the account is locked")]
    Locked {
        /// Until the lock ends.
        wait: Duration,
        /// Whether this is the first refusal of this lock.
        first: bool,
    },
    /// The counts could not be read or written, or the attempt was held back for longer
    /// than [`ThrottleSettings::hold`] (answered like saturated hashing).
    #[error(transparent)]
    Fault(#[from] Fault),
}

/// The limits, as configured.
#[derive(Debug, Clone, Copy)]
pub struct ThrottleSettings {
    /// Attempts per client address per minute; `None` turns the limit off.
    pub per_address: Option<Rate>,
    /// The per-account lock; `None` turns it off.
    pub per_account: Option<AccountLockPolicy>,
    /// How long an attempt held back by the account throttle (others on the account
    /// are being checked) waits at most before it is answered as unavailable.
    pub hold: Duration,
}

impl Default for ThrottleSettings {
    fn default() -> Self {
        Self {
            per_address: None,
            per_account: None,
            hold: Duration::from_secs(3),
        }
    }
}

/// The pause between two tries of a held attempt: 20 ms, plus up to 30 ms taken from
/// the clock's microseconds, so that held attempts do not all ask again at once.
fn hold_step(now: chrono::DateTime<chrono::Utc>) -> Duration {
    Duration::from_millis(20 + u64::from(now.timestamp_subsec_micros() % 31))
}

/// Counts password attempts in a [`ThrottleStore`], so that every instance sharing the
/// store shares the budgets.
#[derive(Clone, Default)]
pub struct Throttle {
    counts: Option<Counts>,
    settings: ThrottleSettings,
}

/// Where the counts are kept, and the time.
#[derive(Clone)]
struct Counts {
    store: Arc<dyn ThrottleStore>,
    clock: Arc<dyn Clock>,
    pause: Arc<dyn Pause>,
}

impl std::fmt::Debug for Throttle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Throttle")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// An admitted attempt on an account, to be finished with its outcome.
#[derive(Debug)]
#[must_use = "an attempt holds others back until it is finished"]
pub struct AccountAttempt {
    key: Option<String>,
}

impl Throttle {
    /// Limits kept in `store`, timed by `clock`; held attempts wait by `pause`.
    #[must_use]
    pub fn new(
        store: Arc<dyn ThrottleStore>,
        clock: Arc<dyn Clock>,
        pause: Arc<dyn Pause>,
        settings: ThrottleSettings,
    ) -> Self {
        Self {
            counts: Some(Counts {
                store,
                clock,
                pause,
            }),
            settings,
        }
    }

    /// No limit at all.
    #[must_use]
    pub fn off() -> Self {
        Self::default()
    }

    /// Counts one attempt from `client` against its address budget.
    ///
    /// # Errors
    /// [`Refusal::Limited`] over the budget; [`Refusal::Fault`] if the store fails.
    pub async fn admit_address(&self, client: ClientAddress) -> Result<(), Refusal> {
        let (Some(rate), Some(counts)) = (self.settings.per_address, &self.counts) else {
            return Ok(());
        };
        match counts
            .store
            .admit(&client.limit_key(), rate, counts.clock.now())
            .await
            .map_err(Fault::from)?
        {
            Admission::Admitted => Ok(()),
            Admission::Limited(wait) => Err(Refusal::Limited(wait)),
        }
    }

    /// Admits one password check for the account of `normalised_email` (known or not),
    /// or says how long it must wait. An attempt held back (as many others as may still
    /// fail are being checked) asks again every 20 to 50 ms, for at most
    /// [`ThrottleSettings::hold`].
    ///
    /// # Errors
    /// [`AccountRefusal::Locked`] while the account is locked; [`AccountRefusal::Fault`]
    /// if the store fails, or the attempt was held back for too long
    /// ([`Fault::Unavailable`]).
    pub async fn begin_account(
        &self,
        normalised_email: &str,
    ) -> Result<AccountAttempt, AccountRefusal> {
        let (Some(policy), Some(counts)) = (self.settings.per_account, &self.counts) else {
            return Ok(AccountAttempt { key: None });
        };
        let key = account_key(normalised_email);
        let mut held_for = Duration::ZERO;
        loop {
            let now = counts.clock.now();
            let update = counts
                .store
                .update_account(&key, policy, AccountStep::Begin, now)
                .await
                .map_err(Fault::from)?;
            match update.decision {
                AccountDecision::Admitted => return Ok(AccountAttempt { key: Some(key) }),
                AccountDecision::Locked { wait, first } => {
                    return Err(AccountRefusal::Locked { wait, first });
                }
                AccountDecision::Held if held_for >= self.settings.hold => {
                    return Err(AccountRefusal::Fault(Fault::Unavailable(Some(
                        "held back by the account throttle for too long".into(),
                    ))));
                }
                AccountDecision::Held => {
                    let step = hold_step(now).min(self.settings.hold - held_for);
                    counts.pause.pause(step).await;
                    held_for += step;
                }
            }
        }
    }

    /// Records how an admitted attempt ended.
    ///
    /// # Errors
    /// A [`Fault`] if the store fails.
    pub async fn finish_account(
        &self,
        attempt: AccountAttempt,
        outcome: AttemptOutcome,
    ) -> Result<(), Fault> {
        let (Some(key), Some(policy), Some(counts)) =
            (attempt.key, self.settings.per_account, &self.counts)
        else {
            return Ok(());
        };
        let now = counts.clock.now();
        counts
            .store
            .update_account(&key, policy, AccountStep::Finish(outcome), now)
            .await
            .map(drop)
            .map_err(Fault::from)
    }
}

fn account_key(normalised_email: &str) -> String {
    let cut = normalised_email
        .char_indices()
        .nth(MAX_ACCOUNT_KEY_CHARS)
        .map_or(normalised_email.len(), |(at, _)| at);
    format!("account:{}", &normalised_email[..cut])
}

#[cfg(test)]
mod tests {
    use super::account_key;

    #[test]
    fn account_keys_are_bounded_whatever_the_email() {
        assert_eq!(account_key("a@b.co"), "account:a@b.co");
        let long = "é".repeat(10_000);
        assert_eq!(account_key(&long).chars().count(), 8 + 254);
    }
}
