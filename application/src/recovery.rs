//! Account recovery by mail: a reset link sent to the account's address, and the reset
//! that uses it. The request answers the same for known and unknown addresses: the lookup
//! and the queueing run off the request's path (see [`RecoveryService::request_reset`]).

use std::sync::Arc;

use chrono::Duration;
use tessera_domain::{
    ClientInfo, EmailKey, LinkToken, MailId, MailKind, MailQuota, Password, SecurityEventKind,
};
use thiserror::Error;

use crate::auth::IssuedSession;
use crate::common::{AccountCore, notice};
use crate::error::Fault;
use crate::ports::{LinkRecord, LinkSecrets, QueuedMail, RepoError};

/// How the mail of accounts is limited, and how long its links work.
#[derive(Debug, Clone, Copy)]
pub struct MailSettings {
    /// Mails per account per hour (`MAIL_PER_ACCOUNT_PER_HOUR`).
    pub quota: MailQuota,
    /// How long a reset link works (`RESET_TOKEN_TTL_SECONDS`).
    pub reset_ttl: Duration,
    /// How long a verification link works (`VERIFY_TOKEN_TTL_SECONDS`).
    pub verify_ttl: Duration,
}

impl MailSettings {
    /// How long a link of `kind` works; `None` for the kinds without a link.
    #[must_use]
    pub fn lifetime(&self, kind: MailKind) -> Option<Duration> {
        match kind {
            MailKind::ResetPassword => Some(self.reset_ttl),
            MailKind::VerifyEmail | MailKind::ConfirmEmailChange => Some(self.verify_ttl),
            MailKind::EmailChanged
            | MailKind::PasswordChanged
            | MailKind::MfaDisabled
            | MailKind::PasskeyAdded => None,
        }
    }
}

/// Why a reset did not happen.
#[derive(Debug, Error)]
pub enum ResetError {
    /// The link is unknown, expired, used or voided.
    #[error("invalid or expired link")]
    InvalidLink,
    /// The server failed.
    #[error(transparent)]
    Fault(#[from] Fault),
}

/// Password reset by mail.
#[derive(Clone)]
pub struct RecoveryService {
    core: AccountCore,
    secrets: Arc<dyn LinkSecrets>,
    settings: MailSettings,
}

impl RecoveryService {
    pub(crate) fn new(
        core: AccountCore,
        secrets: Arc<dyn LinkSecrets>,
        settings: MailSettings,
    ) -> Self {
        Self {
            core,
            secrets,
            settings,
        }
    }

    /// Queues a reset link for the account of `email`, if there is one and its quota
    /// allows a mail now; a newer link voids the older ones. Nothing tells the caller
    /// which happened: the route answers before this runs.
    ///
    /// # Errors
    /// A fault of the storage (logged by the caller; the request was already answered).
    pub async fn request_reset(&self, email: &EmailKey, client: &ClientInfo) -> Result<(), Fault> {
        let core = &self.core;
        let Some(found) = core.stores.users.find_credentials(email.as_str()).await? else {
            return Ok(());
        };
        let now = core.clock.now();
        let (token, digest) = self.secrets.issue();
        let id = MailId::new_random();
        let mail = QueuedMail {
            id,
            user_id: found.user.id,
            kind: MailKind::ResetPassword,
            to: found.user.email.clone(),
            sealed: Some(self.secrets.seal(id, &token)),
            queued_at: now,
        };
        let link = LinkRecord {
            digest,
            user_id: found.user.id,
            purpose: MailKind::ResetPassword,
            email: found.user.email.clone(),
            expires_at: now + self.settings.reset_ttl,
        };
        match core
            .stores
            .mail
            .queue(&mail, Some(&link), self.settings.quota, now)
            .await
        {
            Ok(Ok(())) => {
                core.record(
                    found.user.id,
                    SecurityEventKind::PasswordResetRequested,
                    client,
                )
                .await;
                Ok(())
            }
            // Over the quota: the earlier link still works; nothing is sent.
            Ok(Err(_)) | Err(RepoError::NotFound) => Ok(()),
            Err(other) => Err(other.into()),
        }
    }

    /// Sets a new password through a reset link: every session of the account ends,
    /// the address counts as proven, and a new session is opened, whose token is
    /// returned.
    ///
    /// # Errors
    /// [`ResetError::InvalidLink`] for a link that does not work, or a fault.
    pub async fn reset(
        &self,
        token: &LinkToken,
        password: &Password,
        client: &ClientInfo,
    ) -> Result<IssuedSession, ResetError> {
        let core = &self.core;
        let digest = self.secrets.digest(token);
        let now = core.clock.now();
        // A dead link costs no hash.
        let link = core
            .stores
            .mail
            .find_link(&digest, now)
            .await
            .map_err(Fault::from)?
            .filter(|link| link.purpose == MailKind::ResetPassword)
            .ok_or(ResetError::InvalidLink)?;
        let user = core
            .stores
            .users
            .find_by_id(link.user_id)
            .await
            .map_err(Fault::from)?
            .ok_or(ResetError::InvalidLink)?;
        let hash = core.hasher.hash(password).await.map_err(Fault::from)?;
        let (session, mut issued) = core.new_session(user.clone(), client)?;
        let changed = notice(&user, MailKind::PasswordChanged, session.created_at);
        let reset = core
            .stores
            .mail
            .reset_password(&digest, &hash, &session, &changed, session.created_at)
            .await;
        issued.user = match reset {
            Ok(user) => user,
            Err(RepoError::NotFound) => return Err(ResetError::InvalidLink),
            Err(other) => return Err(Fault::from(other).into()),
        };
        core.record(user.id, SecurityEventKind::PasswordReset, client)
            .await;
        Ok(issued)
    }
}
