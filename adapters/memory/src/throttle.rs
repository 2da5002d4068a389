//! Rate-limit and throttle counts in memory: per process (`STORAGE=memory`).

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tessera_application::ports::{RepoError, ThrottleStore};
use tessera_domain::{AccountRecord, Admission, Rate};

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
        step: &mut (dyn FnMut(Option<AccountRecord>) -> Option<AccountRecord> + Send),
    ) -> Result<(), RepoError> {
        let mut accounts = lock(&self.accounts);
        match step(accounts.get(key).copied()) {
            Some(record) => accounts.insert(key.to_owned(), record),
            None => accounts.remove(key),
        };
        Ok(())
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
