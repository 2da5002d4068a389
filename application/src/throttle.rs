//! The limits on password attempts: per client address, and per account.

use std::sync::Arc;
use std::time::Duration;

use tessera_domain::{
    AccountDecision, AccountLockPolicy, AccountRecord, Admission, AttemptOutcome, ClientAddress,
    Rate,
};
use thiserror::Error;

use crate::error::Fault;
use crate::ports::{Clock, ThrottleStore};

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

/// The limits, as configured.
#[derive(Debug, Clone, Copy, Default)]
pub struct ThrottleSettings {
    /// Attempts per client address per minute; `None` turns the limit off.
    pub per_address: Option<Rate>,
    /// The per-account lock; `None` turns it off.
    pub per_account: Option<AccountLockPolicy>,
}

/// Counts password attempts in a [`ThrottleStore`], so that every instance sharing the
/// store shares the budgets.
#[derive(Clone, Default)]
pub struct Throttle {
    counts: Option<(Arc<dyn ThrottleStore>, Arc<dyn Clock>)>,
    settings: ThrottleSettings,
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
#[must_use = "an attempt counts as a failure until it is finished"]
pub struct AccountAttempt {
    key: Option<String>,
}

impl Throttle {
    /// Limits kept in `store`, timed by `clock`.
    #[must_use]
    pub fn new(
        store: Arc<dyn ThrottleStore>,
        clock: Arc<dyn Clock>,
        settings: ThrottleSettings,
    ) -> Self {
        Self {
            counts: Some((store, clock)),
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
        let (Some(rate), Some((store, clock))) = (self.settings.per_address, &self.counts) else {
            return Ok(());
        };
        match store
            .admit(&client.limit_key(), rate, clock.now())
            .await
            .map_err(Fault::from)?
        {
            Admission::Admitted => Ok(()),
            Admission::Limited(wait) => Err(Refusal::Limited(wait)),
        }
    }

    /// Admits one password check for the account of `normalised_email` (known or not),
    /// or says how long it must wait.
    ///
    /// # Errors
    /// [`Refusal::Limited`] while the account is locked; [`Refusal::Fault`] if the store
    /// fails.
    pub async fn begin_account(&self, normalised_email: &str) -> Result<AccountAttempt, Refusal> {
        let (Some(policy), Some((store, clock))) = (self.settings.per_account, &self.counts) else {
            return Ok(AccountAttempt { key: None });
        };
        let key = account_key(normalised_email);
        let now = clock.now();
        let mut decision = AccountDecision::Admitted;
        store
            .update_account(&key, &mut |record: Option<AccountRecord>| {
                let (decided, next) = policy.begin(record, now);
                decision = decided;
                Some(next)
            })
            .await
            .map_err(Fault::from)?;
        match decision {
            AccountDecision::Admitted => Ok(AccountAttempt { key: Some(key) }),
            AccountDecision::Locked(wait) => Err(Refusal::Limited(wait)),
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
        let (Some(key), Some(policy), Some((store, clock))) =
            (attempt.key, self.settings.per_account, &self.counts)
        else {
            return Ok(());
        };
        let now = clock.now();
        store
            .update_account(&key, &mut |record| policy.finish(record, outcome, now))
            .await
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
