//! The budgets of task writes: per account and per client address, so that no one
//! account, and no one address however many accounts it holds, fills the disk at the
//! speed of its connection.

use std::sync::Arc;

use tessera_domain::{Admission, ClientAddress, Rate, UserId};

use crate::error::Fault;
use crate::ports::{Clock, ThrottleStore};
use crate::throttle::Refusal;

/// The write budgets, as configured; `None` turns one off.
#[derive(Debug, Clone, Copy, Default)]
pub struct WriteBudgetSettings {
    /// Task writes per account per minute.
    pub per_account: Option<Rate>,
    /// Task writes per client address per minute, all accounts together.
    pub per_address: Option<Rate>,
}

/// Counts task writes in a [`ThrottleStore`], so that every instance sharing the store
/// shares the budgets.
#[derive(Clone, Default)]
pub struct WriteBudget {
    counts: Option<(Arc<dyn ThrottleStore>, Arc<dyn Clock>)>,
    settings: WriteBudgetSettings,
}

impl std::fmt::Debug for WriteBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteBudget")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl WriteBudget {
    /// Budgets kept in `store`, timed by `clock`.
    #[must_use]
    pub fn new(
        store: Arc<dyn ThrottleStore>,
        clock: Arc<dyn Clock>,
        settings: WriteBudgetSettings,
    ) -> Self {
        Self {
            counts: Some((store, clock)),
            settings,
        }
    }

    /// No budget at all.
    #[must_use]
    pub fn off() -> Self {
        Self::default()
    }

    /// Counts one write by `owner` from `client`: the account's budget first, then the
    /// address's.
    ///
    /// # Errors
    /// [`Refusal::Limited`] over either budget; [`Refusal::Fault`] if the store fails.
    pub async fn admit(&self, owner: UserId, client: ClientAddress) -> Result<(), Refusal> {
        let Some((store, clock)) = &self.counts else {
            return Ok(());
        };
        let budgets = [
            (self.settings.per_account, format!("writes:user:{owner}")),
            (
                self.settings.per_address,
                format!("writes:{}", client.limit_key()),
            ),
        ];
        for (rate, key) in budgets {
            let Some(rate) = rate else { continue };
            match store
                .admit(&key, rate, clock.now())
                .await
                .map_err(Fault::from)?
            {
                Admission::Admitted => {}
                Admission::Limited(wait) => return Err(Refusal::Limited(wait)),
            }
        }
        Ok(())
    }
}
