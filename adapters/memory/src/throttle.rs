//! Rate-limit and throttle counts in memory: per process (`STORAGE=memory`).

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tessera_application::ports::{AccountUpdate, RepoError, ThrottleStore};
use tessera_domain::{AccountLockPolicy, AccountRecord, AccountStep, Admission, Rate};

use crate::lock;

/// The counts of this process.
#[derive(Debug, Default)]
pub struct InMemoryThrottleStore {
    rates: Mutex<HashMap<String, DateTime<Utc>>>,
    accounts: Mutex<HashMap<String, AccountRecord>>,
}

impl InMemoryThrottleStore {
    /// No counts yet.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl ThrottleStore for InMemoryThrottleStore {
    async fn admit(
        &self,
        key: &str,
        rate: Rate,
        now: DateTime<Utc>,
    ) -> Result<Admission, RepoError> {
        let mut rates = lock(&self.rates);
        let (admission, tat) = rate.step(rates.get(key).copied(), now);
        rates.insert(key.to_owned(), tat);
        Ok(admission)
    }

    async fn update_account(
        &self,
        key: &str,
        policy: AccountLockPolicy,
        step: AccountStep,
        now: DateTime<Utc>,
    ) -> Result<AccountUpdate, RepoError> {
        let mut accounts = lock(&self.accounts);
        let (update, next) = AccountUpdate::apply(accounts.get(key).copied(), policy, step, now);
        match next {
            Some(record) => accounts.insert(key.to_owned(), record),
            None => accounts.remove(key),
        };
        Ok(update)
    }

    async fn prune(&self, now: DateTime<Utc>, batch: u32) -> Result<u64, RepoError> {
        let mut budget = usize::try_from(batch).unwrap_or(usize::MAX);
        let mut pruned = 0_u64;
        let mut rates = lock(&self.rates);
        let stale: Vec<String> = rates
            .iter()
            .filter(|(_, tat)| **tat <= now)
            .map(|(key, _)| key.clone())
            .take(budget)
            .collect();
        budget -= stale.len();
        for key in stale {
            rates.remove(&key);
            pruned += 1;
        }
        drop(rates);
        let mut accounts = lock(&self.accounts);
        let stale: Vec<String> = accounts
            .iter()
            .filter(|(_, record)| record.expires_at <= now)
            .map(|(key, _)| key.clone())
            .take(budget)
            .collect();
        for key in stale {
            accounts.remove(&key);
            pruned += 1;
        }
        Ok(pruned)
    }
}
