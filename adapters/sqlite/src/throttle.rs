//! The limit counts in SQLite, shared by the processes that open the file: each step reads
//! and rewrites its row inside one write transaction (`BEGIN IMMEDIATE`), so concurrent
//! steps on one key, from any process, each see the previous one's result.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::sql_types::{BigInt, Bool, Integer, Nullable, Text};
use diesel::{OptionalExtension, QueryableByName, RunQueryDsl, sql_query};
use tessera_application::ports::{AccountUpdate, RepoError, ThrottleStore};
use tessera_domain::{AccountLockPolicy, AccountRecord, AccountStep, Admission, Rate};

use crate::SqliteStore;
use crate::convert::{instant, micros};

#[derive(QueryableByName)]
struct TatRow {
    #[diesel(sql_type = BigInt)]
    tat: i64,
}

#[derive(QueryableByName)]
struct AccountRow {
    #[diesel(sql_type = Integer)]
    failures: i32,
    #[diesel(sql_type = Nullable<BigInt>)]
    locked_until: Option<i64>,
    #[diesel(sql_type = BigInt)]
    expires_at: i64,
    #[diesel(sql_type = Integer)]
    pending: i32,
    #[diesel(sql_type = Nullable<BigInt>)]
    pending_until: Option<i64>,
    #[diesel(sql_type = Bool)]
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
            let stored = sql_query("SELECT tat FROM rate_limits WHERE key = ?")
                .bind::<Text, _>(&key)
                .get_result::<TatRow>(conn)
                .optional()?;
            let (admission, tat) = rate.step(stored.map(|row| instant(row.tat)), now);
            if admission == Admission::Admitted {
                sql_query(
                    "INSERT INTO rate_limits (key, tat) VALUES (?1, ?2)
                     ON CONFLICT (key) DO UPDATE SET tat = ?2",
                )
                .bind::<Text, _>(&key)
                .bind::<BigInt, _>(micros(tat))
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
            let row = sql_query(
                "SELECT failures, locked_until, expires_at, pending, pending_until, \
                 lock_reported FROM account_throttle WHERE key = ?",
            )
            .bind::<Text, _>(&key)
            .get_result::<AccountRow>(conn)
            .optional()?;
            let stored = row.as_ref().and_then(AccountRow::record);
            let (update, next) = AccountUpdate::apply(stored, policy, step, now);
            match next {
                Some(next) => sql_query(
                    "INSERT INTO account_throttle (key, failures, locked_until, expires_at,
                         pending, pending_until, lock_reported)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                     ON CONFLICT (key) DO UPDATE
                     SET failures = ?2, locked_until = ?3, expires_at = ?4,
                         pending = ?5, pending_until = ?6, lock_reported = ?7",
                )
                .bind::<Text, _>(&key)
                .bind::<Integer, _>(i32::try_from(next.failures).unwrap_or(i32::MAX))
                .bind::<Nullable<BigInt>, _>(next.locked_until.map(micros))
                .bind::<BigInt, _>(micros(next.expires_at))
                .bind::<Integer, _>(i32::try_from(next.pending).unwrap_or(i32::MAX))
                .bind::<Nullable<BigInt>, _>(next.pending_until.map(micros))
                .bind::<Bool, _>(next.lock_reported)
                .execute(conn),
                None => sql_query("DELETE FROM account_throttle WHERE key = ?")
                    .bind::<Text, _>(&key)
                    .execute(conn),
            }?;
            Ok(update)
        })
        .await
    }

    async fn prune(&self, now: DateTime<Utc>, batch: u32) -> Result<u64, RepoError> {
        self.write(move |conn| {
            let rates = sql_query(
                "DELETE FROM rate_limits WHERE key IN (
                    SELECT key FROM rate_limits WHERE tat <= ?1 LIMIT ?2)",
            )
            .bind::<BigInt, _>(micros(now))
            .bind::<BigInt, _>(i64::from(batch))
            .execute(conn)?;
            let left = i64::from(batch) - i64::try_from(rates).unwrap_or(i64::MAX);
            let accounts = sql_query(
                "DELETE FROM account_throttle WHERE key IN (
                    SELECT key FROM account_throttle WHERE expires_at <= ?1 LIMIT ?2)",
            )
            .bind::<BigInt, _>(micros(now))
            .bind::<BigInt, _>(left.max(0))
            .execute(conn)?;
            Ok((rates + accounts) as u64)
        })
        .await
    }
}
