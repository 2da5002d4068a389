//! The mail queue and the one-time links on [`PgStore`]: a mail and its link are queued
//! in one transaction under the account's row lock (so the quota counts every mail of
//! concurrent requests), and claims skip the rows another claim has locked, so that of
//! several instances each mail goes to one.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use tessera_application::ports::{ClaimedMail, LinkRecord, MailStore, QueuedMail, RepoError};
use tessera_domain::{
    ClaimId, EmailAddress, MailId, MailKind, MailQuota, PasswordHash, Session, TokenDigest, User,
    UserId,
};
use uuid::Uuid;

use crate::error::query_error;
use crate::pool::PgStore;
use crate::repositories::{prove_address, reset_account};
use crate::schema::{mail_links, mail_log, mail_outbox, users};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = mail_links, check_for_backend(diesel::pg::Pg))]
struct LinkRow {
    digest: Vec<u8>,
    user_id: Uuid,
    purpose: String,
    email: String,
    expires_at: DateTime<Utc>,
}

impl From<&LinkRecord> for LinkRow {
    fn from(link: &LinkRecord) -> Self {
        Self {
            digest: link.digest.0.to_vec(),
            user_id: link.user_id.as_uuid(),
            purpose: link.purpose.as_str().to_owned(),
            email: link.email.as_str().to_owned(),
            expires_at: link.expires_at,
        }
    }
}

impl LinkRow {
    /// The record; a row this version cannot read (never written by it) is none.
    fn into_domain(self) -> Option<LinkRecord> {
        Some(LinkRecord {
            digest: TokenDigest(self.digest.try_into().ok()?),
            user_id: UserId::from_uuid(self.user_id),
            purpose: self.purpose.parse().ok()?,
            email: EmailAddress::from_trusted(self.email),
            expires_at: self.expires_at,
        })
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = mail_outbox, check_for_backend(diesel::pg::Pg))]
struct OutboxRow {
    id: Uuid,
    user_id: Uuid,
    kind: String,
    recipient: String,
    sealed: Option<Vec<u8>>,
    queued_at: DateTime<Utc>,
    failures: i32,
}

impl OutboxRow {
    fn claimed(self, claim: ClaimId) -> Option<ClaimedMail> {
        Some(ClaimedMail {
            mail: QueuedMail {
                id: MailId::from_uuid(self.id),
                user_id: UserId::from_uuid(self.user_id),
                kind: self.kind.parse().ok()?,
                to: EmailAddress::from_trusted(self.recipient),
                sealed: self.sealed,
                queued_at: self.queued_at,
            },
            failures: u32::try_from(self.failures).unwrap_or_default(),
            claim,
        })
    }
}

/// Puts `mail` in the queue, due at once, and in the quota's record.
pub(crate) async fn enqueue(
    conn: &mut AsyncPgConnection,
    mail: &QueuedMail,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    let user = mail.user_id.as_uuid();
    diesel::insert_into(mail_outbox::table)
        .values((
            mail_outbox::id.eq(mail.id.as_uuid()),
            mail_outbox::user_id.eq(user),
            mail_outbox::kind.eq(mail.kind.as_str()),
            mail_outbox::recipient.eq(mail.to.as_str()),
            mail_outbox::sealed.eq(mail.sealed.as_deref()),
            mail_outbox::queued_at.eq(mail.queued_at),
            mail_outbox::due_at.eq(mail.queued_at),
        ))
        .execute(conn)
        .await?;
    diesel::insert_into(mail_log::table)
        .values((
            mail_log::user_id.eq(user),
            mail_log::kind.eq(mail.kind.as_str()),
            mail_log::at.eq(now),
        ))
        .execute(conn)
        .await
        .map(drop)
}

/// The account a link acts on, read without a lock (the caller locks the account, then
/// the link, and checks the link again under its lock).
async fn link_owner(conn: &mut AsyncPgConnection, digest: &[u8]) -> QueryResult<Option<Uuid>> {
    mail_links::table
        .find(digest)
        .select(mail_links::user_id)
        .first::<Uuid>(conn)
        .await
        .optional()
}

/// Locks the row of account `user` for the rest of the transaction (until then, no
/// other change of the account or queueing of its mail goes ahead).
async fn lock_account(conn: &mut AsyncPgConnection, user: Uuid) -> QueryResult<()> {
    users::table
        .find(user)
        .select(users::id)
        .for_no_key_update()
        .first::<Uuid>(conn)
        .await
        .optional()
        .map(drop)
}

/// Stores `link`, voiding the earlier ones of its account and purpose.
pub(crate) async fn add_link(conn: &mut AsyncPgConnection, link: &LinkRecord) -> QueryResult<()> {
    void(conn, link.user_id.as_uuid(), link.purpose).await?;
    diesel::insert_into(mail_links::table)
        .values(LinkRow::from(link))
        .execute(conn)
        .await
        .map(drop)
}

/// Voids every link of `user`: a new password or address makes them all stale.
pub(crate) async fn void_all(conn: &mut AsyncPgConnection, user: Uuid) -> QueryResult<usize> {
    diesel::delete(mail_links::table.filter(mail_links::user_id.eq(user)))
        .execute(conn)
        .await
}

/// Voids the links of `user` for `purpose`.
pub(crate) async fn void(
    conn: &mut AsyncPgConnection,
    user: Uuid,
    purpose: MailKind,
) -> QueryResult<usize> {
    diesel::delete(
        mail_links::table
            .filter(mail_links::user_id.eq(user))
            .filter(mail_links::purpose.eq(purpose.as_str())),
    )
    .execute(conn)
    .await
}

#[async_trait]
impl MailStore for PgStore {
    async fn queue(
        &self,
        mail: &QueuedMail,
        link: Option<&LinkRecord>,
        quota: MailQuota,
        now: DateTime<Utc>,
    ) -> Result<Result<(), Duration>, RepoError> {
        let user = mail.user_id.as_uuid();
        self.on_auth(async |conn| {
            conn.transaction::<_, diesel::result::Error, _>(async |conn| {
                // One queueing per account at a time, so that the quota sees every mail.
                users::table
                    .find(user)
                    .select(users::id)
                    .for_no_key_update()
                    .first::<Uuid>(conn)
                    .await?;
                let sent: Vec<(String, DateTime<Utc>)> = mail_log::table
                    .filter(mail_log::user_id.eq(user))
                    .filter(mail_log::at.gt(now - Duration::hours(1)))
                    .select((mail_log::kind, mail_log::at))
                    .load(conn)
                    .await?;
                let sent: Vec<(MailKind, DateTime<Utc>)> = sent
                    .into_iter()
                    .filter_map(|(kind, at)| Some((kind.parse().ok()?, at)))
                    .collect();
                if let Err(wait) = quota.check(mail.kind, &sent, now) {
                    return Ok(Err(wait));
                }
                if let Some(link) = link {
                    add_link(conn, link).await?;
                }
                enqueue(conn, mail, now).await?;
                Ok(Ok(()))
            })
            .await
        })
        .await
    }

    async fn reset_password(
        &self,
        digest: &TokenDigest,
        hash: &PasswordHash,
        new_session: &Session,
        notice: &QueuedMail,
        now: DateTime<Utc>,
    ) -> Result<User, RepoError> {
        let digest = digest.0.to_vec();
        let reset = self
            .on_auth(async |conn| {
                conn.transaction::<_, diesel::result::Error, _>(async |conn| {
                    // Lock order, as queueing and password changes take it: the account's
                    // row, then its link. Under the link's row lock, of two resets with one
                    // link the second finds it gone.
                    let Some(owner) = link_owner(conn, &digest).await? else {
                        return Ok(None);
                    };
                    lock_account(conn, owner).await?;
                    let owner = mail_links::table
                        .find(&digest)
                        .filter(mail_links::user_id.eq(owner))
                        .filter(mail_links::purpose.eq(MailKind::ResetPassword.as_str()))
                        .filter(mail_links::expires_at.gt(now))
                        .select(mail_links::user_id)
                        .for_update()
                        .first::<Uuid>(conn)
                        .await
                        .optional()?;
                    match owner {
                        Some(owner) if owner == new_session.user_id.as_uuid() => {
                            void_all(conn, owner).await?;
                            let user = reset_account(conn, owner, hash, new_session, now).await?;
                            enqueue(conn, notice, now).await?;
                            Ok(Some(user))
                        }
                        _ => Ok(None),
                    }
                })
                .await
            })
            .await?;
        reset.ok_or(RepoError::NotFound)
    }

    async fn confirm_link(
        &self,
        digest: &TokenDigest,
        changed: &QueuedMail,
        now: DateTime<Utc>,
    ) -> Result<User, RepoError> {
        let digest = digest.0.to_vec();
        let confirmed = self
            .on_auth(async |conn| {
                conn.transaction::<_, diesel::result::Error, _>(async |conn| {
                    // Lock order, as queueing and password changes take it: the account's
                    // row, then its link. Under the link's row lock, of two uses of one link
                    // the second finds it gone.
                    let Some(owner) = link_owner(conn, &digest).await? else {
                        return Ok(None);
                    };
                    let Some(current) = users::table
                        .find(owner)
                        .select(users::email)
                        .for_update()
                        .first::<String>(conn)
                        .await
                        .optional()?
                    else {
                        return Ok(None);
                    };
                    let Some(link) = mail_links::table
                        .find(&digest)
                        .filter(mail_links::user_id.eq(owner))
                        .filter(mail_links::purpose.ne(MailKind::ResetPassword.as_str()))
                        .filter(mail_links::expires_at.gt(now))
                        .select(LinkRow::as_select())
                        .for_update()
                        .first(conn)
                        .await
                        .optional()?
                        .and_then(LinkRow::into_domain)
                    else {
                        return Ok(None);
                    };
                    let stored = if link.purpose == MailKind::ConfirmEmailChange {
                        // A taken address fails the unique index: nothing changes.
                        let user = prove_address(conn, owner, Some(&link.email), now).await?;
                        void_all(conn, owner).await?;
                        let notice = QueuedMail {
                            to: EmailAddress::from_trusted(current),
                            ..changed.clone()
                        };
                        enqueue(conn, &notice, now).await?;
                        user
                    } else if current == link.email.as_str() {
                        void(conn, owner, MailKind::VerifyEmail).await?;
                        prove_address(conn, owner, None, now).await?
                    } else {
                        return Ok(None);
                    };
                    Ok(Some(stored))
                })
                .await
            })
            .await?;
        confirmed.ok_or(RepoError::NotFound)
    }

    async fn find_link(
        &self,
        digest: &TokenDigest,
        now: DateTime<Utc>,
    ) -> Result<Option<LinkRecord>, RepoError> {
        let mut conn = self.auth_conn().await?;
        mail_links::table
            .find(digest.0.as_slice())
            .filter(mail_links::expires_at.gt(now))
            .select(LinkRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map(|row| row.and_then(LinkRow::into_domain))
            .map_err(query_error)
    }

    async fn claim(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        batch: u32,
    ) -> Result<Vec<ClaimedMail>, RepoError> {
        let claim = ClaimId::new_random();
        let rows: Vec<OutboxRow> = self
            .on_auth(async |conn| {
                conn.transaction::<_, diesel::result::Error, _>(async |conn| {
                    // Rows another claim has locked are skipped, not waited for.
                    let due: Vec<Uuid> = mail_outbox::table
                        .filter(mail_outbox::due_at.le(now))
                        .filter(
                            mail_outbox::claimed_until
                                .is_null()
                                .or(mail_outbox::claimed_until.le(now)),
                        )
                        .order(mail_outbox::due_at)
                        .limit(i64::from(batch))
                        .select(mail_outbox::id)
                        .for_update()
                        .skip_locked()
                        .load(conn)
                        .await?;
                    if due.is_empty() {
                        return Ok(Vec::new());
                    }
                    diesel::update(mail_outbox::table.filter(mail_outbox::id.eq_any(&due)))
                        .set((
                            mail_outbox::claim.eq(claim.as_uuid()),
                            mail_outbox::claimed_until.eq(now + lease),
                        ))
                        .returning(OutboxRow::as_returning())
                        .get_results(conn)
                        .await
                })
                .await
            })
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|row| row.claimed(claim))
            .collect())
    }

    async fn finish(&self, id: MailId, claim: ClaimId) -> Result<(), RepoError> {
        let mut conn = self.auth_conn().await?;
        diesel::delete(
            mail_outbox::table
                .find(id.as_uuid())
                .filter(mail_outbox::claim.eq(claim.as_uuid())),
        )
        .execute(&mut conn)
        .await
        .map(drop)
        .map_err(query_error)
    }

    async fn retry(&self, id: MailId, claim: ClaimId, at: DateTime<Utc>) -> Result<(), RepoError> {
        let mut conn = self.auth_conn().await?;
        diesel::update(
            mail_outbox::table
                .find(id.as_uuid())
                .filter(mail_outbox::claim.eq(claim.as_uuid())),
        )
        .set((
            mail_outbox::claim.eq(None::<Uuid>),
            mail_outbox::claimed_until.eq(None::<DateTime<Utc>>),
            mail_outbox::due_at.eq(at),
            mail_outbox::failures.eq(mail_outbox::failures + 1),
        ))
        .execute(&mut conn)
        .await
        .map(drop)
        .map_err(query_error)
    }

    async fn queued(&self) -> Result<u64, RepoError> {
        let mut conn = self.auth_conn().await?;
        mail_outbox::table
            .count()
            .get_result::<i64>(&mut conn)
            .await
            .map(|n| u64::try_from(n).unwrap_or_default())
            .map_err(query_error)
    }

    async fn prune(&self, now: DateTime<Utc>, batch: u32) -> Result<u64, RepoError> {
        // One budget for both tables: the expired links first, the old quota records with
        // what is left.
        self.on_auth(async |conn| {
            conn.transaction::<_, diesel::result::Error, _>(async |conn| {
                let expired: Vec<Vec<u8>> = mail_links::table
                    .filter(mail_links::expires_at.le(now))
                    .limit(i64::from(batch))
                    .select(mail_links::digest)
                    .for_update()
                    .skip_locked()
                    .load(conn)
                    .await?;
                let links =
                    diesel::delete(mail_links::table.filter(mail_links::digest.eq_any(&expired)))
                        .execute(conn)
                        .await?;
                let left = i64::from(batch) - i64::try_from(links).unwrap_or(i64::MAX);
                let old: Vec<i64> = mail_log::table
                    .filter(mail_log::at.le(now - Duration::hours(1)))
                    .limit(left.max(0))
                    .select(mail_log::id)
                    .for_update()
                    .skip_locked()
                    .load(conn)
                    .await?;
                let records = diesel::delete(mail_log::table.filter(mail_log::id.eq_any(&old)))
                    .execute(conn)
                    .await?;
                Ok((links + records) as u64)
            })
            .await
        })
        .await
    }
}
