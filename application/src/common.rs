//! What the authentication and account services share: the stores, the one
//! password check (a bcrypt verification under the per-account throttle), the security
//! events it records, and the sessions both open.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tessera_domain::{
    AccessToken, AttemptOutcome, ClientInfo, CredentialVersion, Credentials, EmailKey, MailId,
    MailKind, PasswordCandidate, SecurityEvent, SecurityEventKind, Session, SessionId, User,
    UserId,
};

use crate::auth::{AuthSettings, IssuedSession};
use crate::error::Fault;
use crate::mailing::Mailing;
use crate::ports::{AccessClaims, Clock, PasswordHasher, QueuedMail, Stores, TokenIssuer};
use crate::throttle::{AccountRefusal, Throttle};

/// A mail without a link (a notice of a change made) to the account's address.
pub(crate) fn notice(user: &User, kind: MailKind, at: DateTime<Utc>) -> QueuedMail {
    QueuedMail {
        id: MailId::new_random(),
        user_id: user.id,
        kind,
        to: user.email.clone(),
        sealed: None,
        queued_at: at,
    }
}

/// Why a password check did not give an answer.
#[derive(Debug)]
pub(crate) enum CheckError {
    /// The account must wait this long.
    Throttled(std::time::Duration),
    /// The server failed.
    Fault(Fault),
}

/// An account whose password was just checked.
pub(crate) struct Checked {
    /// The account.
    pub(crate) user: User,
    /// Which of its passwords was checked: what a session or a change is tied to.
    pub(crate) version: CredentialVersion,
    /// Whether its hash is of another cost than the hasher's.
    pub(crate) stale: bool,
}

/// The parts both account services are built on.
#[derive(Clone)]
pub(crate) struct AccountCore {
    pub(crate) stores: Stores,
    pub(crate) hasher: Arc<dyn PasswordHasher>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) settings: AuthSettings,
    pub(crate) throttle: Throttle,
    pub(crate) mail: Mailing,
    issuer: Arc<dyn TokenIssuer>,
}

impl AccountCore {
    pub(crate) fn new(
        stores: Stores,
        hasher: Arc<dyn PasswordHasher>,
        issuer: Arc<dyn TokenIssuer>,
        clock: Arc<dyn Clock>,
        (settings, mail): (AuthSettings, Mailing),
    ) -> Self {
        Self {
            stores,
            hasher,
            clock,
            settings,
            throttle: Throttle::off(),
            mail,
            issuer,
        }
    }

    /// Queues a fresh link of `kind` for `user` to `email` (voiding the account's earlier
    /// links of that kind) if the account's mail quota allows one now, and wakes the
    /// sender. `Err` inside: the wait the quota asks for; nothing was stored.
    pub(crate) async fn queue_link(
        &self,
        user: &User,
        kind: MailKind,
        email: &tessera_domain::EmailAddress,
    ) -> Result<Result<(), std::time::Duration>, Fault> {
        let now = self.clock.now();
        let made = self.mail.link_mail(user, kind, email, now);
        let queued = self
            .stores
            .mail
            .queue(&made.mail, Some(&made.link), self.mail.settings.quota, now)
            .await;
        match queued {
            // Deleted meanwhile: nobody to write to.
            Err(crate::ports::RepoError::NotFound) => Ok(Ok(())),
            Err(other) => Err(other.into()),
            Ok(queued) => Ok(queued.map_err(|wait| wait.to_std().unwrap_or_default())),
        }
        .inspect(|queued| {
            if queued.is_ok() {
                self.mail.wake.wake();
            }
        })
    }

    /// One password check of the account `key`, known or not, under the per-account
    /// throttle: the account, as checked, when `password` is its password (and, with
    /// `owner`, the account is that user's). A wrong password for a known account, and
    /// the first refusal of each lock of the throttle, are recorded as its events.
    /// Unknown accounts cost the same bcrypt verification as known ones.
    pub(crate) async fn checked_attempt(
        &self,
        key: &EmailKey,
        owner: Option<UserId>,
        password: &PasswordCandidate,
        client: &ClientInfo,
    ) -> Result<Option<Checked>, CheckError> {
        let found = self
            .stores
            .users
            .find_credentials(key.as_str())
            .await
            .map_err(|e| CheckError::Fault(e.into()))?
            .filter(|found| owner.is_none_or(|owner| found.user.id == owner));
        let known = found.as_ref().map(|found| found.user.id);
        let attempt = match self.throttle.begin_account(key.as_str()).await {
            Ok(attempt) => attempt,
            Err(AccountRefusal::Locked { wait, first }) => {
                // One event per wait, however many attempts it refuses.
                if first && let Some(id) = known {
                    self.record(id, SecurityEventKind::RateLimited, client)
                        .await;
                }
                return Err(CheckError::Throttled(wait));
            }
            Err(AccountRefusal::Fault(fault)) => return Err(CheckError::Fault(fault)),
        };
        let checked = self.check_password(found, password).await;
        let outcome = match &checked {
            Ok(Some(_)) => AttemptOutcome::Succeeded,
            Ok(None) => AttemptOutcome::Failed,
            Err(_) => AttemptOutcome::NotChecked,
        };
        self.throttle
            .finish_account(attempt, outcome)
            .await
            .map_err(CheckError::Fault)?;
        let checked = checked.map_err(CheckError::Fault)?;
        if checked.is_none()
            && let Some(id) = known
        {
            self.record(id, SecurityEventKind::SignInFailed, client)
                .await;
        }
        Ok(checked)
    }

    /// The account `found`, as checked, if `password` is its password.
    async fn check_password(
        &self,
        found: Option<Credentials>,
        password: &PasswordCandidate,
    ) -> Result<Option<Checked>, Fault> {
        // Never compare a password bcrypt would truncate: it could match on its first
        // 72 bytes alone. Such a password matches no account, yet costs the same time.
        let fits = password.as_str().len() <= tessera_domain::Password::MAX_BYTES;
        let (found, hash) = match found {
            Some(found) if fits => {
                let hash = found.hash.clone();
                (Some(found), hash)
            }
            _ => (None, self.hasher.dummy_hash().clone()),
        };
        let matches = self.hasher.verify(password.as_str(), &hash).await?;
        Ok(found.filter(|_| matches).map(|found| Checked {
            stale: self.hasher.needs_rehash(&found.hash),
            version: found.version,
            user: found.user,
        }))
    }

    /// Records a security event of `user`, and logs it as a structured line (target
    /// `tessera::security`). Best effort: an event that cannot be stored is logged with
    /// the failure, and the operation it describes stands.
    pub(crate) async fn record(&self, user: UserId, kind: SecurityEventKind, client: &ClientInfo) {
        let event = SecurityEvent {
            user_id: user,
            kind,
            at: self.clock.now(),
            client: client.clone(),
        };
        let ip = client.ip.map(|ip| ip.to_string());
        let user_agent = client.user_agent.as_ref().map(|ua| ua.as_str().to_owned());
        match self.stores.events.record(&event).await {
            Ok(()) => tracing::info!(
                target: "tessera::security",
                event = kind.as_str(),
                user_id = %user,
                ip = ip.as_deref(),
                user_agent = user_agent.as_deref(),
                "security event"
            ),
            Err(error) => tracing::warn!(
                target: "tessera::security",
                event = kind.as_str(),
                user_id = %user,
                ip = ip.as_deref(),
                user_agent = user_agent.as_deref(),
                error = %error,
                "security event not stored"
            ),
        }
    }

    /// A new session for `user`, opened from `client`, not yet stored, and its token.
    pub(crate) fn new_session(
        &self,
        user: User,
        client: &ClientInfo,
    ) -> Result<(Session, IssuedSession), Fault> {
        let now = self.clock.now();
        let expires_at = now + self.settings.token_ttl;
        let session = Session {
            id: SessionId::new_random(),
            user_id: user.id,
            created_at: now,
            expires_at,
            ended_at: None,
            client: client.clone(),
        };
        let claims = AccessClaims {
            user_id: user.id,
            email: user.email.as_str().to_owned(),
            name: user.name.as_str().to_owned(),
            session_id: session.id,
            issued_at: now,
            expires_at,
        };
        let token = AccessToken::new(self.issuer.issue(&claims)?);
        let issued = IssuedSession {
            user,
            token,
            // The token carries whole seconds; report the instant it really expires.
            expires_at: DateTime::from_timestamp(expires_at.timestamp(), 0).unwrap_or(expires_at),
        };
        Ok((session, issued))
    }
}
