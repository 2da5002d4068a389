//! The limit counts in SQLite, shared by the processes that open the file: each step reads
//! and rewrites its row inside one write transaction (`BEGIN IMMEDIATE`), so concurrent
//! steps on one key, from any process, each see the previous one's result.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sqlite::Sqlite;
use tessera_application::ports::{AccountUpdate, RepoError, ThrottleStore};
use tessera_domain::{AccountLockPolicy, AccountRecord, AccountStep, Admission, Rate};

use crate::SqliteStore;
use crate::convert::{instant, micros};
use crate::schema::{account_throttle, rate_limits};

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = account_throttle, check_for_backend(Sqlite))]
#[diesel(treat_none_as_null = true)]
struct AccountRow {
    key: String,
    failures: i32,
    locked_until: Option<i64>,
    expires_at: i64,
    pending: i32,
    pending_until: Option<i64>,
    lock_reported: bool,
}

impl AccountRow {
    /// The record the row holds; a row that counts nothing is none.
    fn record(&self) -> Option<AccountRecord> {
        (self.failures > 0 || self.pending > 0).then_some(AccountRecord {
            failures: u32::try_from(self.failures).unwrap_or_default(),
            pending: u32::try_from(self.pending).unwrap_or_default(),
            pending_until: self.pending_until.map(instant),
            locked_until: self.locked_until.map(instant),
            lock_reported: self.lock_reported,
            expires_at: instant(self.expires_at),
        })
    }

    fn of(key: String, record: &AccountRecord) -> Self {
        Self {
            key,
            failures: i32::try_from(record.failures).unwrap_or(i32::MAX),
            locked_until: record.locked_until.map(micros),
            expires_at: micros(record.expires_at),
            pending: i32::try_from(record.pending).unwrap_or(i32::MAX),
            pending_until: record.pending_until.map(micros),
            lock_reported: record.lock_reported,
        }
    }
}

#[async_trait]
impl ThrottleStore for SqliteStore {
    async fn admit(
        &self,
        key: &str,
        rate: Rate,
        now: DateTime<Utc>,
    ) -> Result<Admission, RepoError> {
        let key = key.to_owned();
        self.write(move |conn| {
            let stored = rate_limits::table
                .find(&key)
                .select(rate_limits::tat)
                .first::<i64>(conn)
                .optional()?;
            let (admission, tat) = rate.step(stored.map(instant), now);
            if admission == Admission::Admitted {
                diesel::insert_into(rate_limits::table)
                    .values((rate_limits::key.eq(&key), rate_limits::tat.eq(micros(tat))))
                    .on_conflict(rate_limits::key)
                    .do_update()
                    .set(rate_limits::tat.eq(micros(tat)))
                    .execute(conn)?;
            }
            Ok(admission)
        })
        .await
    }

    async fn update_account(
        &self,
        key: &str,
        policy: AccountLockPolicy,
        step: AccountStep,
        now: DateTime<Utc>,
    ) -> Result<AccountUpdate, RepoError> {
        let key = key.to_owned();
        self.write(move |conn| {
            let row = account_throttle::table
                .find(&key)
                .select(AccountRow::as_select())
                .first(conn)
                .optional()?;
            let stored = row.as_ref().and_then(AccountRow::record);
            let (update, next) = AccountUpdate::apply(stored, policy, step, now);
            match next {
                Some(next) => {
                    let row = AccountRow::of(key, &next);
                    diesel::insert_into(account_throttle::table)
                        .values(&row)
                        .on_conflict(account_throttle::key)
                        .do_update()
                        .set(&row)
                        .execute(conn)
                }
                None => diesel::delete(account_throttle::table.find(&key)).execute(conn),
            }?;
            Ok(update)
        })
        .await
    }

    async fn prune(&self, now: DateTime<Utc>, batch: u32) -> Result<u64, RepoError> {
        let now = micros(now);
        self.write(move |conn| {
            // One budget for both tables: the rates first, the accounts with what is left.
            let spent = rate_limits::table
                .filter(rate_limits::tat.le(now))
                .limit(i64::from(batch))
                .select(rate_limits::key)
                .load::<String>(conn)?;
            let left = i64::from(batch) - i64::try_from(spent.len()).unwrap_or(i64::MAX);
            let expired = account_throttle::table
                .filter(account_throttle::expires_at.le(now))
                .limit(left.max(0))
                .select(account_throttle::key)
                .load::<String>(conn)?;
            let rates = diesel::delete(rate_limits::table.filter(rate_limits::key.eq_any(spent)))
                .execute(conn)?;
            let accounts = diesel::delete(
                account_throttle::table.filter(account_throttle::key.eq_any(expired)),
            )
            .execute(conn)?;
            Ok((rates + accounts) as u64)
        })
        .await
    }
}
