//! The rate-limit and throttle counts in PostgreSQL, shared by every instance on the
//! database.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamptz};
use diesel_async::{AsyncConnection, RunQueryDsl};
use tessera_application::ports::{AccountUpdate, RepoError, ThrottleStore};
use tessera_domain::{AccountLockPolicy, AccountRecord, AccountStep, Admission, Rate};

use crate::error::query_error;
use crate::pool::PgStore;
use crate::schema::account_throttle;

/// The GCRA step of [`Rate`] as one atomic upsert: the row lock taken by `ON CONFLICT`
/// makes concurrent steps on one key, from any instance, run one after the other. The
/// outer `SELECT` reads the snapshot from before the upsert, so a refused step still
/// learns the TAT that refused it.
const ADMIT: &str = "\
WITH step AS (
    INSERT INTO rate_limits AS r (key, tat)
    VALUES ($1, $2 + $3 * interval '1 microsecond')
    ON CONFLICT (key) DO UPDATE
        SET tat = GREATEST(r.tat, $2) + $3 * interval '1 microsecond'
        WHERE r.tat <= $2 + $4 * interval '1 microsecond'
    RETURNING tat
)
SELECT (SELECT tat FROM step) AS admitted,
       (SELECT tat FROM rate_limits WHERE key = $1) AS current";

#[derive(QueryableByName)]
struct AdmitRow {
    #[diesel(sql_type = Nullable<Timestamptz>)]
    admitted: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    current: Option<DateTime<Utc>>,
}

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = account_throttle, check_for_backend(diesel::pg::Pg))]
#[diesel(treat_none_as_null = true)]
struct AccountRow {
    key: String,
    failures: i32,
    locked_until: Option<DateTime<Utc>>,
    expires_at: DateTime<Utc>,
    pending: i32,
    pending_until: Option<DateTime<Utc>>,
    lock_reported: bool,
}

impl AccountRow {
    fn new(key: String, record: &AccountRecord) -> Self {
        Self {
            key,
            failures: i32::try_from(record.failures).unwrap_or(i32::MAX),
            locked_until: record.locked_until,
            expires_at: record.expires_at,
            pending: i32::try_from(record.pending).unwrap_or(i32::MAX),
            pending_until: record.pending_until,
            lock_reported: record.lock_reported,
        }
    }

    /// The record the row holds; a row that counts nothing (the placeholder a first
    /// attempt locks) is none.
    fn record(&self) -> Option<AccountRecord> {
        (self.failures > 0 || self.pending > 0).then_some(AccountRecord {
            failures: u32::try_from(self.failures).unwrap_or_default(),
            pending: u32::try_from(self.pending).unwrap_or_default(),
            pending_until: self.pending_until,
            locked_until: self.locked_until,
            lock_reported: self.lock_reported,
            expires_at: self.expires_at,
        })
    }
}

fn micros(duration: chrono::Duration) -> i64 {
    duration.num_microseconds().unwrap_or(i64::MAX)
}

#[async_trait]
impl ThrottleStore for PgStore {
    async fn admit(
        &self,
        key: &str,
        rate: Rate,
        now: DateTime<Utc>,
    ) -> Result<Admission, RepoError> {
        let mut conn = self.auth_conn().await?;
        let row: AdmitRow = diesel::sql_query(ADMIT)
            .bind::<Text, _>(key)
            .bind::<Timestamptz, _>(now)
            .bind::<BigInt, _>(micros(rate.interval()))
            .bind::<BigInt, _>(micros(rate.tolerance()))
            .get_result(&mut conn)
            .await
            .map_err(query_error)?;
        if row.admitted.is_some() {
            return Ok(Admission::Admitted);
        }
        // The outer SELECT reads the snapshot from before the statement; under
        // concurrent steps it may miss the TAT that refused this one. Then at least one
        // interval is announced rather than none.
        let wait = row.current.unwrap_or(now) - rate.tolerance() - now;
        let wait = if wait > chrono::Duration::zero() {
            wait
        } else {
            rate.interval()
        };
        Ok(Admission::Limited(wait.to_std().unwrap_or_default()))
    }

    async fn update_account(
        &self,
        key: &str,
        policy: AccountLockPolicy,
        step: AccountStep,
        now: DateTime<Utc>,
    ) -> Result<AccountUpdate, RepoError> {
        let key = key.to_owned();
        self.on_auth(async |conn| {
            conn.transaction::<_, diesel::result::Error, _>(async |conn| {
                // A row to lock even for a key never seen: concurrent first attempts on one
                // account then queue on it instead of racing to insert. The no-op update on
                // conflict locks an existing row at once, so that pruning (which skips locked
                // rows) cannot delete it before it is read.
                diesel::insert_into(account_throttle::table)
                    .values(&AccountRow::new(key.clone(), &AccountRecord::default()))
                    .on_conflict(account_throttle::key)
                    .do_update()
                    .set(account_throttle::key.eq(diesel::upsert::excluded(account_throttle::key)))
                    .execute(conn)
                    .await?;
                let row: AccountRow = account_throttle::table
                    .find(&key)
                    .select(AccountRow::as_select())
                    .for_update()
                    .first(conn)
                    .await?;
                let (update, next) = AccountUpdate::apply(row.record(), policy, step, now);
                match next {
                    Some(next) => {
                        diesel::update(account_throttle::table.find(&key))
                            .set(&AccountRow::new(key.clone(), &next))
                            .execute(conn)
                            .await?;
                    }
                    None => {
                        diesel::delete(account_throttle::table.find(&key))
                            .execute(conn)
                            .await?;
                    }
                }
                Ok(update)
            })
            .await
        })
        .await
    }

    async fn prune(&self, now: DateTime<Utc>, batch: u32) -> Result<u64, RepoError> {
        let mut conn = self.auth_conn().await?;
        let limit = i64::from(batch);
        let rates = diesel::sql_query(
            "DELETE FROM rate_limits WHERE key IN \
             (SELECT key FROM rate_limits WHERE tat <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)",
        )
        .bind::<Timestamptz, _>(now)
        .bind::<BigInt, _>(limit)
        .execute(&mut conn)
        .await
        .map_err(query_error)?;
        // One batch for both tables: what the rates used is not left to the records.
        let left = limit - i64::try_from(rates).unwrap_or(i64::MAX);
        if left <= 0 {
            return Ok(rates as u64);
        }
        let accounts = diesel::sql_query(
            "DELETE FROM account_throttle WHERE key IN \
             (SELECT key FROM account_throttle WHERE expires_at <= $1 LIMIT $2 \
              FOR UPDATE SKIP LOCKED)",
        )
        .bind::<Timestamptz, _>(now)
        .bind::<BigInt, _>(left)
        .execute(&mut conn)
        .await
        .map_err(query_error)?;
        Ok((rates + accounts) as u64)
    }
}
