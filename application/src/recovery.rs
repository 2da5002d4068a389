//! Account recovery by mail: a reset link sent to the account's address, and the reset
//! that uses it. The request answers the same for known and unknown addresses: the lookup
//! and the queueing run off the request's path (see [`RecoveryService::request_reset`]).

use tessera_domain::{
    ClientInfo, EmailKey, LinkToken, MailKind, Password, SecurityEventKind, User,
};
use thiserror::Error;

use crate::auth::IssuedSession;
use crate::common::{AccountCore, notice};
use crate::error::Fault;
use crate::ports::RepoError;

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

/// Why a verification or email-change link did not work.
#[derive(Debug, Error)]
pub enum VerifyError {
    /// The link is unknown, expired, used or voided.
    #[error("invalid or expired link")]
    InvalidLink,
    /// The new address of a change belongs to another account by now.
    #[error("email already registered")]
    EmailTaken,
    /// The server failed.
    #[error(transparent)]
    Fault(#[from] Fault),
}

/// What the links of mail do: reset a password, prove an address, confirm a change of
/// address. None needs a signed-in caller: a link may be opened in another browser.
#[derive(Clone)]
pub struct RecoveryService {
    core: AccountCore,
}

impl RecoveryService {
    pub(crate) fn new(core: AccountCore) -> Self {
        Self { core }
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
        let user = &found.user;
        match core
            .queue_link(user, MailKind::ResetPassword, &user.email)
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
            Ok(Err(_)) => Ok(()),
            Err(fault) => Err(fault),
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
        let digest = core.mail.secrets.digest(token);
        let now = core.clock.now();
        // A dead link costs no hash.
        let (_, user) = self
            .live_link(&digest, now, |purpose| purpose == MailKind::ResetPassword)
            .await?
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
        core.mail.wake.wake();
        core.record(user.id, SecurityEventKind::PasswordReset, client)
            .await;
        Ok(issued)
    }

    /// Uses a verification or email-change link: the address is proven, or the account's
    /// email becomes the new one (proven; its sessions stay; the former address is told).
    ///
    /// # Errors
    /// [`VerifyError`] saying why not.
    pub async fn verify(
        &self,
        token: &LinkToken,
        client: &ClientInfo,
    ) -> Result<User, VerifyError> {
        let core = &self.core;
        let digest = core.mail.secrets.digest(token);
        let now = core.clock.now();
        let (link, user) = self
            .live_link(&digest, now, |purpose| purpose != MailKind::ResetPassword)
            .await?
            .ok_or(VerifyError::InvalidLink)?;
        let changed = notice(&user, MailKind::EmailChanged, now);
        let stored = match core.stores.mail.confirm_link(&digest, &changed, now).await {
            Ok(stored) => stored,
            Err(RepoError::NotFound) => return Err(VerifyError::InvalidLink),
            Err(RepoError::Conflict) => return Err(VerifyError::EmailTaken),
            Err(other) => return Err(Fault::from(other).into()),
        };
        let event = if link.purpose == MailKind::ConfirmEmailChange {
            core.mail.wake.wake();
            SecurityEventKind::EmailChanged
        } else {
            SecurityEventKind::EmailVerified
        };
        core.record(stored.id, event, client).await;
        Ok(stored)
    }

    /// The link of `digest` and its account, if the link works at `now` and its purpose
    /// is one `wanted` takes.
    async fn live_link(
        &self,
        digest: &tessera_domain::TokenDigest,
        now: chrono::DateTime<chrono::Utc>,
        wanted: impl Fn(MailKind) -> bool,
    ) -> Result<Option<(crate::ports::LinkRecord, User)>, Fault> {
        let stores = &self.core.stores;
        let Some(link) = stores
            .mail
            .find_link(digest, now)
            .await?
            .filter(|link| wanted(link.purpose))
        else {
            return Ok(None);
        };
        Ok(stores
            .users
            .find_by_id(link.user_id)
            .await?
            .map(|user| (link, user)))
    }
}
