//! What one client address and one account may do: password attempts, task writes,
//! sessions, tasks, and how long their traces are kept.

use std::num::NonZeroU32;
use std::time::Duration;

use tessera_application::{ThrottleSettings, WriteBudgetSettings};
use tessera_domain::{AccountLimits, AccountLockPolicy, Rate};

use super::SettingsError;
use super::read::{
    ACCOUNT_FAILURE_LIMIT, ACCOUNT_LOCK_MAX_SECONDS, AUTH_RATE_LIMIT_PER_MINUTE,
    MAX_SESSIONS_PER_USER, MAX_TASKS_PER_USER, RETENTION_DAYS, Raw, TASK_WRITES_PER_MINUTE,
    TASK_WRITES_PER_MINUTE_PER_ADDRESS,
};

/// The budgets and quotas; a rate of 0 turns its limit off.
#[derive(Debug, Clone)]
pub struct LimitsSection {
    /// Password attempts per client address per minute.
    pub auth_rate_limit_per_minute: u32,
    /// Failed password checks on one account before it must wait.
    pub account_failure_limit: u32,
    /// Longest wait imposed on an account, in seconds.
    pub account_lock_max_seconds: u32,
    /// Task writes per account per minute.
    pub task_writes_per_minute: u32,
    /// Task writes per client address per minute.
    pub task_writes_per_minute_per_address: u32,
    /// Most live sessions per account; a signin beyond it ends the oldest.
    pub max_sessions_per_user: u32,
    /// Most tasks per account.
    pub max_tasks_per_user: u32,
    /// Days ended and expired sessions, and events, are kept.
    pub retention_days: u32,
}

impl LimitsSection {
    pub(super) fn read(raw: &Raw) -> Result<Self, SettingsError> {
        Ok(Self {
            auth_rate_limit_per_minute: raw.number(&AUTH_RATE_LIMIT_PER_MINUTE)?,
            account_failure_limit: raw.number(&ACCOUNT_FAILURE_LIMIT)?,
            account_lock_max_seconds: raw.number(&ACCOUNT_LOCK_MAX_SECONDS)?,
            task_writes_per_minute: raw.number(&TASK_WRITES_PER_MINUTE)?,
            task_writes_per_minute_per_address: raw.number(&TASK_WRITES_PER_MINUTE_PER_ADDRESS)?,
            max_sessions_per_user: raw.number(&MAX_SESSIONS_PER_USER)?,
            max_tasks_per_user: raw.number(&MAX_TASKS_PER_USER)?,
            retention_days: raw.number(&RETENTION_DAYS)?,
        })
    }

    /// The password throttle. An attempt held back waits at most `hash_wait` (no longer
    /// than a request may wait for a hashing thread), and a pending mark outlives any
    /// check: that wait, and half a minute for the hash and the storage round trips.
    #[must_use]
    pub fn throttle(&self, hash_wait: Duration) -> ThrottleSettings {
        let pending_for = chrono::Duration::from_std(hash_wait).unwrap_or(chrono::Duration::zero())
            + chrono::Duration::seconds(AccountLockPolicy::PENDING_SECONDS);
        ThrottleSettings {
            per_address: per_minute(self.auth_rate_limit_per_minute),
            per_account: NonZeroU32::new(self.account_failure_limit).map(|limit| {
                AccountLockPolicy::new(limit, self.account_lock_max_seconds)
                    .pending_for(pending_for)
            }),
            hold: hash_wait,
        }
    }

    /// The task write budgets.
    #[must_use]
    pub fn write_budget(&self) -> WriteBudgetSettings {
        WriteBudgetSettings {
            per_account: per_minute(self.task_writes_per_minute),
            per_address: per_minute(self.task_writes_per_minute_per_address),
        }
    }

    /// What one account may hold, and how long its traces are kept.
    #[must_use]
    pub fn account(&self) -> AccountLimits {
        AccountLimits {
            max_sessions: self.max_sessions_per_user,
            max_tasks: self.max_tasks_per_user,
            retention: chrono::Duration::days(i64::from(self.retention_days)),
        }
    }
}

/// A rate per minute; `None` (no limit) for 0.
fn per_minute(count: u32) -> Option<Rate> {
    NonZeroU32::new(count).map(Rate::per_minute)
}
