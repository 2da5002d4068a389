//! The mail queue and the one-time links on [`SqliteStore`]: each step is one write
//! transaction (`BEGIN IMMEDIATE`), so that a quota check and its insert, or a claim, are
//! one step for every process on the file.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel::sqlite::{Sqlite, SqliteConnection};
use tessera_application::ports::{ClaimedMail, LinkRecord, MailStore, QueuedMail, RepoError};
use tessera_domain::{
    ClaimId, EmailAddress, MailId, MailKind, MailQuota, PasswordHash, Session, TokenDigest, User,
    UserId,
};

use crate::SqliteStore;
use crate::convert::{instant, micros, uuid};
use crate::repositories::{prove_address, reset_account};
use crate::schema::{mail_links, mail_log, mail_outbox, users};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = mail_links, check_for_backend(Sqlite))]
struct LinkRow {
    digest: Vec<u8>,
    user_id: String,
    purpose: String,
    email: String,
    expires_at: i64,
}

impl From<&LinkRecord> for LinkRow {
    fn from(link: &LinkRecord) -> Self {
        Self {
            digest: link.digest.0.to_vec(),
            user_id: link.user_id.to_string(),
            purpose: link.purpose.as_str().to_owned(),
            email: link.email.as_str().to_owned(),
            expires_at: micros(link.expires_at),
        }
    }
}

impl LinkRow {
    /// The record; a row this version cannot read (never written by it) is none.
    fn into_domain(self) -> Option<LinkRecord> {
        Some(LinkRecord {
            digest: TokenDigest(self.digest.try_into().ok()?),
            user_id: UserId::from_uuid(uuid(&self.user_id)),
            purpose: self.purpose.parse().ok()?,
            email: EmailAddress::from_trusted(self.email),
            expires_at: instant(self.expires_at),
        })
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = mail_outbox, check_for_backend(Sqlite))]
struct OutboxRow {
    id: String,
    user_id: String,
    kind: String,
    recipient: String,
    sealed: Option<Vec<u8>>,
    queued_at: i64,
    failures: i32,
}

impl OutboxRow {
    fn claimed(self, claim: ClaimId) -> Option<ClaimedMail> {
        Some(ClaimedMail {
            mail: QueuedMail {
                id: MailId::from_uuid(uuid(&self.id)),
                user_id: UserId::from_uuid(uuid(&self.user_id)),
                kind: self.kind.parse().ok()?,
                to: EmailAddress::from_trusted(self.recipient),
                sealed: self.sealed,
                queued_at: instant(self.queued_at),
            },
            failures: u32::try_from(self.failures).unwrap_or_default(),
            claim,
        })
    }
}

/// Puts `mail` in the queue, due at once, and in the quota's record.
pub(crate) fn enqueue(
    conn: &mut SqliteConnection,
    mail: &QueuedMail,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    let user = mail.user_id.to_string();
    diesel::insert_into(mail_outbox::table)
        .values((
            mail_outbox::id.eq(mail.id.to_string()),
            mail_outbox::user_id.eq(&user),
            mail_outbox::kind.eq(mail.kind.as_str()),
            mail_outbox::recipient.eq(mail.to.as_str()),
            mail_outbox::sealed.eq(mail.sealed.as_deref()),
            mail_outbox::queued_at.eq(micros(mail.queued_at)),
            mail_outbox::due_at.eq(micros(mail.queued_at)),
        ))
        .execute(conn)?;
    diesel::insert_into(mail_log::table)
        .values((
            mail_log::user_id.eq(&user),
            mail_log::kind.eq(mail.kind.as_str()),
            mail_log::at.eq(micros(now)),
        ))
        .execute(conn)
        .map(drop)
}

/// Stores `link`, voiding the earlier ones of its account and purpose.
pub(crate) fn add_link(conn: &mut SqliteConnection, link: &LinkRecord) -> QueryResult<()> {
    void(conn, &link.user_id.to_string(), link.purpose)?;
    diesel::insert_into(mail_links::table)
        .values(LinkRow::from(link))
        .execute(conn)
        .map(drop)
}

/// Voids every link of `user`: a new password or address makes them all stale.
pub(crate) fn void_all(conn: &mut SqliteConnection, user: &str) -> QueryResult<usize> {
    diesel::delete(mail_links::table.filter(mail_links::user_id.eq(user))).execute(conn)
}

/// Voids the links of `user` for `purpose`.
pub(crate) fn void(
    conn: &mut SqliteConnection,
    user: &str,
    purpose: MailKind,
) -> QueryResult<usize> {
    diesel::delete(
        mail_links::table
            .filter(mail_links::user_id.eq(user))
            .filter(mail_links::purpose.eq(purpose.as_str())),
    )
    .execute(conn)
}

#[async_trait]
impl MailStore for SqliteStore {
    async fn queue(
        &self,
        mail: &QueuedMail,
        link: Option<&LinkRecord>,
        quota: MailQuota,
        now: DateTime<Utc>,
    ) -> Result<Result<(), Duration>, RepoError> {
        let mail = mail.clone();
        let link = link.cloned();
        self.write(move |conn| {
            let user = mail.user_id.to_string();
            users::table
                .find(&user)
                .select(users::id)
                .first::<String>(conn)?;
            let sent: Vec<(String, i64)> = mail_log::table
                .filter(mail_log::user_id.eq(&user))
                .filter(mail_log::at.gt(micros(now - Duration::hours(1))))
                .select((mail_log::kind, mail_log::at))
                .load(conn)?;
            let sent: Vec<(MailKind, DateTime<Utc>)> = sent
                .into_iter()
                .filter_map(|(kind, at)| Some((kind.parse().ok()?, instant(at))))
                .collect();
            if let Err(wait) = quota.check(mail.kind, &sent, now) {
                return Ok(Err(wait));
            }
            if let Some(link) = &link {
                add_link(conn, link)?;
            }
            enqueue(conn, &mail, now)?;
            Ok(Ok(()))
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
        let (hash, session, notice) = (hash.clone(), new_session.clone(), notice.clone());
        let reset = self
            .write(move |conn| {
                // One writer at a time (BEGIN IMMEDIATE): of two resets with one link, the
                // second finds it gone.
                let owner = mail_links::table
                    .find(&digest)
                    .filter(mail_links::purpose.eq(MailKind::ResetPassword.as_str()))
                    .filter(mail_links::expires_at.gt(micros(now)))
                    .select(mail_links::user_id)
                    .first::<String>(conn)
                    .optional()?;
                match owner {
                    Some(owner) if owner == session.user_id.to_string() => {
                        void_all(conn, &owner)?;
                        let user = reset_account(conn, &owner, &hash, &session, now)?;
                        enqueue(conn, &notice, now)?;
                        Ok(Some(user))
                    }
                    _ => Ok(None),
                }
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
        let changed = changed.clone();
        let confirmed = self
            .write(move |conn| {
                // One writer at a time (BEGIN IMMEDIATE): of two uses of one link, the
                // second finds it gone.
                let Some(link) = mail_links::table
                    .find(&digest)
                    .filter(mail_links::purpose.ne(MailKind::ResetPassword.as_str()))
                    .filter(mail_links::expires_at.gt(micros(now)))
                    .select(LinkRow::as_select())
                    .first(conn)
                    .optional()?
                    .and_then(LinkRow::into_domain)
                else {
                    return Ok(None);
                };
                let owner = link.user_id.to_string();
                let Some(current) = users::table
                    .find(&owner)
                    .select(users::email)
                    .first::<String>(conn)
                    .optional()?
                else {
                    return Ok(None);
                };
                let user = if link.purpose == MailKind::ConfirmEmailChange {
                    let user = prove_address(conn, &owner, Some(&link.email), now)?;
                    void_all(conn, &owner)?;
                    let notice = QueuedMail {
                        to: EmailAddress::from_trusted(current),
                        ..changed
                    };
                    enqueue(conn, &notice, now)?;
                    user
                } else if current == link.email.as_str() {
                    void(conn, &owner, MailKind::VerifyEmail)?;
                    prove_address(conn, &owner, None, now)?
                } else {
                    return Ok(None);
                };
                Ok(Some(user))
            })
            .await?;
        confirmed.ok_or(RepoError::NotFound)
    }

    async fn find_link(
        &self,
        digest: &TokenDigest,
        now: DateTime<Utc>,
    ) -> Result<Option<LinkRecord>, RepoError> {
        let digest = digest.0.to_vec();
        self.run(move |conn| {
            mail_links::table
                .find(digest)
                .filter(mail_links::expires_at.gt(micros(now)))
                .select(LinkRow::as_select())
                .first(conn)
                .optional()
        })
        .await
        .map(|row| row.and_then(LinkRow::into_domain))
    }

    async fn claim(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        batch: u32,
    ) -> Result<Vec<ClaimedMail>, RepoError> {
        let claim = ClaimId::new_random();
        let rows = self
            .write(move |conn| {
                let at = micros(now);
                let due: Vec<String> = mail_outbox::table
                    .filter(mail_outbox::due_at.le(at))
                    .filter(
                        mail_outbox::claimed_until
                            .is_null()
                            .or(mail_outbox::claimed_until.le(at)),
                    )
                    .order(mail_outbox::due_at)
                    .limit(i64::from(batch))
                    .select(mail_outbox::id)
                    .load(conn)?;
                if due.is_empty() {
                    return Ok(Vec::new());
                }
                diesel::update(mail_outbox::table.filter(mail_outbox::id.eq_any(&due)))
                    .set((
                        mail_outbox::claim.eq(claim.to_string()),
                        mail_outbox::claimed_until.eq(micros(now + lease)),
                    ))
                    .returning(OutboxRow::as_returning())
                    .get_results::<OutboxRow>(conn)
            })
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|row| row.claimed(claim))
            .collect())
    }

    async fn finish(&self, id: MailId, claim: ClaimId) -> Result<(), RepoError> {
        self.write(move |conn| {
            diesel::delete(
                mail_outbox::table
                    .find(id.to_string())
                    .filter(mail_outbox::claim.eq(claim.to_string())),
            )
            .execute(conn)
            .map(drop)
        })
        .await
    }

    async fn retry(&self, id: MailId, claim: ClaimId, at: DateTime<Utc>) -> Result<(), RepoError> {
        self.write(move |conn| {
            diesel::update(
                mail_outbox::table
                    .find(id.to_string())
                    .filter(mail_outbox::claim.eq(claim.to_string())),
            )
            .set((
                mail_outbox::claim.eq(None::<String>),
                mail_outbox::claimed_until.eq(None::<i64>),
                mail_outbox::due_at.eq(micros(at)),
                mail_outbox::failures.eq(mail_outbox::failures + 1),
            ))
            .execute(conn)
            .map(drop)
        })
        .await
    }

    async fn queued(&self) -> Result<u64, RepoError> {
        self.run(|conn| mail_outbox::table.count().get_result::<i64>(conn))
            .await
            .map(|n| u64::try_from(n).unwrap_or_default())
    }

    async fn prune(&self, now: DateTime<Utc>, batch: u32) -> Result<u64, RepoError> {
        self.write(move |conn| {
            // One budget for both tables: the expired links first, the old quota records
            // with what is left.
            let expired: Vec<Vec<u8>> = mail_links::table
                .filter(mail_links::expires_at.le(micros(now)))
                .limit(i64::from(batch))
                .select(mail_links::digest)
                .load(conn)?;
            let links =
                diesel::delete(mail_links::table.filter(mail_links::digest.eq_any(&expired)))
                    .execute(conn)?;
            let left = i64::from(batch) - i64::try_from(links).unwrap_or(i64::MAX);
            let old: Vec<i64> = mail_log::table
                .filter(mail_log::at.le(micros(now - Duration::hours(1))))
                .limit(left.max(0))
                .select(mail_log::id)
                .load(conn)?;
            let records =
                diesel::delete(mail_log::table.filter(mail_log::id.eq_any(&old))).execute(conn)?;
            Ok((links + records) as u64)
        })
        .await
    }
}
