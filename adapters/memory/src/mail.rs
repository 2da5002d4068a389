//! The mail queue and the one-time links, in the one store's maps.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use tessera_application::ports::{ClaimedMail, LinkRecord, MailStore, QueuedMail, RepoError};
use tessera_domain::{
    ClaimId, MailId, MailKind, MailQuota, PasswordHash, Session, TokenDigest, User, UserId,
};

use crate::MemoryStore;

/// A mail in the queue, with where its delivery stands.
#[derive(Debug, Clone)]
pub(crate) struct Outboxed {
    mail: QueuedMail,
    failures: u32,
    due: DateTime<Utc>,
    claim: Option<(ClaimId, DateTime<Utc>)>,
}

/// The mail part of the store's data.
#[derive(Debug, Default)]
pub(crate) struct Mail {
    links: std::collections::HashMap<TokenDigest, LinkRecord>,
    outbox: std::collections::BTreeMap<MailId, Outboxed>,
    /// Every mail queued in the last hour (or longer, until pruned), for the quota.
    log: Vec<(UserId, MailKind, DateTime<Utc>)>,
}

impl Mail {
    /// Puts `mail` in the queue, due at once, and in the quota's record.
    pub(crate) fn enqueue(&mut self, mail: &QueuedMail, now: DateTime<Utc>) {
        self.outbox.insert(
            mail.id,
            Outboxed {
                mail: mail.clone(),
                failures: 0,
                due: mail.queued_at,
                claim: None,
            },
        );
        self.log.push((mail.user_id, mail.kind, now));
    }

    /// Stores `link`, voiding the earlier ones of its account and purpose.
    pub(crate) fn add_link(&mut self, link: &LinkRecord) {
        self.void(link.user_id, link.purpose);
        self.links.insert(link.digest, link.clone());
    }

    /// Voids every link of `user`: a new password or address makes them all stale.
    pub(crate) fn void_all(&mut self, user: UserId) {
        self.links.retain(|_, link| link.user_id != user);
    }

    /// Voids the links of `user` for `purpose`.
    pub(crate) fn void(&mut self, user: UserId, purpose: MailKind) {
        self.links
            .retain(|_, link| !(link.user_id == user && link.purpose == purpose));
    }

    /// Drops what belongs to a deleted account.
    pub(crate) fn forget(&mut self, user: UserId) {
        self.links.retain(|_, link| link.user_id != user);
        self.outbox.retain(|_, queued| queued.mail.user_id != user);
        self.log.retain(|(owner, _, _)| *owner != user);
    }
}

#[async_trait]
impl MailStore for MemoryStore {
    async fn queue(
        &self,
        mail: &QueuedMail,
        link: Option<&LinkRecord>,
        quota: MailQuota,
        now: DateTime<Utc>,
    ) -> Result<Result<(), Duration>, RepoError> {
        let mut data = self.data();
        if !data.users.contains_key(&mail.user_id) {
            return Err(RepoError::NotFound);
        }
        let since = now - Duration::hours(1);
        let sent: Vec<(MailKind, DateTime<Utc>)> = data
            .mail
            .log
            .iter()
            .filter(|(owner, _, at)| *owner == mail.user_id && *at > since)
            .map(|(_, kind, at)| (*kind, *at))
            .collect();
        if let Err(wait) = quota.check(mail.kind, &sent, now) {
            return Ok(Err(wait));
        }
        if let Some(link) = link {
            data.mail.add_link(link);
        }
        data.mail.enqueue(mail, now);
        Ok(Ok(()))
    }

    async fn reset_password(
        &self,
        digest: &TokenDigest,
        hash: &PasswordHash,
        new_session: &Session,
        notice: &QueuedMail,
        now: DateTime<Utc>,
    ) -> Result<User, RepoError> {
        let mut data = self.data();
        let user = data
            .mail
            .links
            .get(digest)
            .filter(|link| link.purpose == MailKind::ResetPassword && link.expires_at > now)
            .map(|link| link.user_id)
            .ok_or(RepoError::NotFound)?;
        let stored = data.replace_password(user, hash, new_session, notice, now)?;
        stored.user.email_verified = true;
        Ok(stored.user.clone())
    }

    async fn confirm_link(
        &self,
        digest: &TokenDigest,
        changed: &QueuedMail,
        now: DateTime<Utc>,
    ) -> Result<User, RepoError> {
        let mut data = self.data();
        let link = data
            .mail
            .links
            .get(digest)
            .filter(|link| link.expires_at > now && link.purpose != MailKind::ResetPassword)
            .cloned()
            .ok_or(RepoError::NotFound)?;
        let current = data
            .users
            .get(&link.user_id)
            .map(|stored| stored.user.email.clone())
            .ok_or(RepoError::NotFound)?;
        let change = link.purpose == MailKind::ConfirmEmailChange;
        if change {
            if data
                .by_email(link.email.as_str())
                .is_some_and(|other| other.user.id != link.user_id)
            {
                return Err(RepoError::Conflict);
            }
        } else if current != link.email {
            return Err(RepoError::NotFound);
        }
        if change {
            data.mail
                .links
                .retain(|_, other| other.user_id != link.user_id);
            let notice = QueuedMail {
                to: current,
                ..changed.clone()
            };
            data.mail.enqueue(&notice, now);
        } else {
            data.mail.void(link.user_id, MailKind::VerifyEmail);
        }
        let stored = data
            .users
            .get_mut(&link.user_id)
            .ok_or(RepoError::NotFound)?;
        if change {
            stored.user.email = link.email.clone();
        }
        stored.user.email_verified = true;
        stored.user.updated_at = tessera_domain::Task::next_updated_at(stored.user.updated_at, now);
        Ok(stored.user.clone())
    }

    async fn find_link(
        &self,
        digest: &TokenDigest,
        now: DateTime<Utc>,
    ) -> Result<Option<LinkRecord>, RepoError> {
        Ok(self
            .data()
            .mail
            .links
            .get(digest)
            .filter(|link| link.expires_at > now)
            .cloned())
    }

    async fn claim(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        batch: u32,
    ) -> Result<Vec<ClaimedMail>, RepoError> {
        let mut data = self.data();
        let mut due: Vec<&mut Outboxed> = data
            .mail
            .outbox
            .values_mut()
            .filter(|queued| queued.due <= now)
            .filter(|queued| queued.claim.is_none_or(|(_, until)| until <= now))
            .collect();
        due.sort_by_key(|queued| queued.due);
        Ok(due
            .into_iter()
            .take(usize::try_from(batch).unwrap_or(usize::MAX))
            .map(|queued| {
                let claim = ClaimId::new_random();
                queued.claim = Some((claim, now + lease));
                ClaimedMail {
                    mail: queued.mail.clone(),
                    failures: queued.failures,
                    claim,
                }
            })
            .collect())
    }

    async fn finish(&self, id: MailId, claim: ClaimId) -> Result<(), RepoError> {
        let mut data = self.data();
        if data
            .mail
            .outbox
            .get(&id)
            .is_some_and(|queued| queued.claim.is_some_and(|(held, _)| held == claim))
        {
            data.mail.outbox.remove(&id);
        }
        Ok(())
    }

    async fn retry(&self, id: MailId, claim: ClaimId, at: DateTime<Utc>) -> Result<(), RepoError> {
        if let Some(queued) = self.data().mail.outbox.get_mut(&id)
            && queued.claim.is_some_and(|(held, _)| held == claim)
        {
            queued.claim = None;
            queued.due = at;
            queued.failures = queued.failures.saturating_add(1);
        }
        Ok(())
    }

    async fn queued(&self) -> Result<u64, RepoError> {
        Ok(self.data().mail.outbox.len() as u64)
    }

    async fn prune(&self, now: DateTime<Utc>, batch: u32) -> Result<u64, RepoError> {
        let mut data = self.data();
        let mut left = usize::try_from(batch).unwrap_or(usize::MAX);
        let expired: Vec<TokenDigest> = data
            .mail
            .links
            .iter()
            .filter(|(_, link)| link.expires_at <= now)
            .map(|(digest, _)| *digest)
            .take(left)
            .collect();
        for digest in &expired {
            data.mail.links.remove(digest);
        }
        left -= expired.len();
        let since = now - Duration::hours(1);
        let mut pruned = 0;
        data.mail.log.retain(|(_, _, at)| {
            let old = *at <= since && pruned < left;
            pruned += usize::from(old);
            !old
        });
        Ok((expired.len() + pruned) as u64)
    }
}
