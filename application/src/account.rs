//! What a signed-in person manages: their name, their password, their sessions, their
//! security events, and the account itself.

use tessera_domain::{
    ClientInfo, CredentialVersion, EmailAddress, EmailKey, MailKind, Password, PasswordCandidate,
    Principal, SecurityEvent, SecurityEventKind, Session, SessionId, User, UserName,
};
use thiserror::Error;

use crate::auth::IssuedSession;
use crate::common::{AccountCore, CheckError, notice};
use crate::error::Fault;
use crate::ports::RepoError;

/// A password change: the password in use, to check, and a valid new one.
#[derive(Debug, Clone)]
pub struct ChangePassword {
    /// The password in use.
    pub current: PasswordCandidate,
    /// The password wanted.
    pub new: Password,
}

/// An account deletion, confirmed by the account's password.
#[derive(Debug, Clone)]
pub struct DeleteAccount {
    /// The account's password.
    pub password: PasswordCandidate,
}

/// A change of address: the new one, and the account's password to check.
#[derive(Debug, Clone)]
pub struct ChangeEmail {
    /// The address wanted.
    pub new_email: EmailAddress,
    /// The account's password.
    pub password: PasswordCandidate,
}

/// Why an account operation failed.
#[derive(Debug, Error)]
pub enum AccountError {
    /// The password given is not the account's.
    #[error("wrong password")]
    WrongPassword,
    /// Too many password attempts on this account: try again after this long.
    #[error("too many attempts")]
    Throttled(std::time::Duration),
    /// The session named does not exist, is ended, or is another user's.
    #[error("session not found")]
    SessionNotFound,
    /// The account no longer exists (deleted since the token was issued).
    #[error("account gone")]
    Gone,
    /// The address is proven already: no verification mail to send.
    #[error("email already verified")]
    AlreadyVerified,
    /// The new address is the account's own.
    #[error("new email equals the current one")]
    SameEmail,
    /// The new address belongs to another account.
    #[error("email already registered")]
    EmailTaken,
    /// The account's mail quota asks for this wait before another mail of the kind.
    #[error("too much mail")]
    MailLimited(std::time::Duration),
    /// The server failed.
    #[error(transparent)]
    Fault(#[from] Fault),
}

impl From<CheckError> for AccountError {
    fn from(error: CheckError) -> Self {
        match error {
            CheckError::Throttled(wait) => Self::Throttled(wait),
            CheckError::Fault(fault) => Self::Fault(fault),
        }
    }
}

impl From<RepoError> for AccountError {
    fn from(error: RepoError) -> Self {
        match error {
            RepoError::NotFound => Self::Gone,
            other => Self::Fault(other.into()),
        }
    }
}

/// One of a user's live sessions, as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionView {
    /// The session.
    pub session: Session,
    /// Whether it is the caller's own.
    pub current: bool,
}

/// The account use cases, on the parts of [`crate::AuthService`] (see
/// [`crate::AuthService::accounts`]).
#[derive(Clone)]
pub struct AccountService {
    core: AccountCore,
}

impl AccountService {
    pub(crate) fn new(core: AccountCore) -> Self {
        Self { core }
    }

    /// Renames the caller's account.
    ///
    /// # Errors
    /// [`AccountError::Gone`] when the account no longer exists, or a fault.
    pub async fn update_name(
        &self,
        caller: Principal,
        name: &UserName,
        client: &ClientInfo,
    ) -> Result<User, AccountError> {
        let core = &self.core;
        let user = core
            .stores
            .users
            .set_name(caller.user_id, name, core.clock.now())
            .await?;
        core.record(user.id, SecurityEventKind::NameChanged, client)
            .await;
        Ok(user)
    }

    /// Changes the caller's password: checks the current one (counted like a signin),
    /// then, in one transaction, stores the new hash, ends every session of the user
    /// (the caller's included) and opens a new one, whose token is returned.
    ///
    /// # Errors
    /// [`AccountError`] saying what was wrong.
    pub async fn change_password(
        &self,
        caller: Principal,
        command: ChangePassword,
        client: &ClientInfo,
    ) -> Result<IssuedSession, AccountError> {
        let core = &self.core;
        let (user, checked) = self.verify_caller(caller, &command.current, client).await?;
        let hash = core.hasher.hash(&command.new).await.map_err(Fault::from)?;
        let (session, issued) = core.new_session(user.clone(), client)?;
        let at = session.created_at;
        let changed = notice(&user, MailKind::PasswordChanged, at);
        // Only if the password just checked is still the account's: of two changes made
        // at once with the same current password, the first to commit wins.
        match core
            .stores
            .users
            .change_password(user.id, &hash, &session, at, checked, &changed)
            .await
        {
            Ok(()) => {}
            Err(RepoError::Conflict) => return Err(AccountError::WrongPassword),
            Err(other) => return Err(other.into()),
        }
        core.mail.wake.wake();
        core.record(user.id, SecurityEventKind::PasswordChanged, client)
            .await;
        Ok(issued)
    }

    /// Queues a verification mail to the caller's address, unless it is proven already
    /// or the account's mail quota asks for a wait.
    ///
    /// # Errors
    /// [`AccountError::AlreadyVerified`], [`AccountError::MailLimited`], or
    /// [`AccountError::Gone`].
    pub async fn request_verification(&self, caller: Principal) -> Result<(), AccountError> {
        let core = &self.core;
        let user = self.account(caller).await?;
        if user.email_verified {
            return Err(AccountError::AlreadyVerified);
        }
        core.queue_link(&user, MailKind::VerifyEmail, &user.email)
            .await?
            .map_err(AccountError::MailLimited)
    }

    /// Asks to change the caller's address: once the password checks (counted like a
    /// signin), a confirmation link goes to the new address; nothing changes until it is
    /// opened. A newer request voids the earlier link.
    ///
    /// # Errors
    /// [`AccountError`] saying what was wrong: [`AccountError::SameEmail`] before the
    /// password is checked, [`AccountError::EmailTaken`] after.
    pub async fn request_email_change(
        &self,
        caller: Principal,
        command: ChangeEmail,
        client: &ClientInfo,
    ) -> Result<(), AccountError> {
        let core = &self.core;
        let current = self.account(caller).await?;
        if current.email == command.new_email {
            return Err(AccountError::SameEmail);
        }
        let (user, _) = self
            .check_password(current, &command.password, client)
            .await?;
        let taken = core
            .stores
            .users
            .find_credentials(command.new_email.as_str())
            .await
            .map_err(Fault::from)?
            .is_some();
        if taken {
            return Err(AccountError::EmailTaken);
        }
        core.queue_link(&user, MailKind::ConfirmEmailChange, &command.new_email)
            .await?
            .map_err(AccountError::MailLimited)?;
        core.record(user.id, SecurityEventKind::EmailChangeRequested, client)
            .await;
        Ok(())
    }

    /// The caller's live sessions, newest first, the caller's own marked.
    ///
    /// # Errors
    /// A fault of the storage.
    pub async fn list_sessions(&self, caller: Principal) -> Result<Vec<SessionView>, Fault> {
        let sessions = self
            .core
            .stores
            .sessions
            .list_live(caller.user_id, self.core.clock.now())
            .await?;
        Ok(sessions
            .into_iter()
            .map(|session| SessionView {
                current: session.id == caller.session_id,
                session,
            })
            .collect())
    }

    /// Ends one of the caller's sessions by its id (the caller's own included).
    ///
    /// # Errors
    /// [`AccountError::SessionNotFound`] for an id that is unknown, ended or another
    /// user's.
    pub async fn end_session(
        &self,
        caller: Principal,
        id: SessionId,
        client: &ClientInfo,
    ) -> Result<(), AccountError> {
        let core = &self.core;
        let ended = core
            .stores
            .sessions
            .end(caller.user_id, id, core.clock.now())
            .await
            .map_err(Fault::from)?;
        if !ended {
            return Err(AccountError::SessionNotFound);
        }
        core.record(caller.user_id, SecurityEventKind::SessionEnded, client)
            .await;
        Ok(())
    }

    /// The caller's security events, newest first, at most `limit`.
    ///
    /// # Errors
    /// A fault of the storage.
    pub async fn list_events(
        &self,
        caller: Principal,
        limit: u32,
    ) -> Result<Vec<SecurityEvent>, Fault> {
        Ok(self.core.stores.events.list(caller.user_id, limit).await?)
    }

    /// Deletes the caller's account, with its tasks, sessions and events, once its
    /// password is given (counted like a signin).
    ///
    /// # Errors
    /// [`AccountError`] saying what was wrong.
    pub async fn delete_account(
        &self,
        caller: Principal,
        command: DeleteAccount,
        client: &ClientInfo,
    ) -> Result<(), AccountError> {
        let (user, _) = self
            .verify_caller(caller, &command.password, client)
            .await?;
        self.core.stores.users.delete(user.id).await?;
        tracing::info!(
            target: "tessera::security",
            event = "account_deleted",
            user_id = %user.id,
            "security event"
        );
        Ok(())
    }

    /// The caller's account, as stored.
    async fn account(&self, caller: Principal) -> Result<User, AccountError> {
        self.core
            .stores
            .users
            .find_by_id(caller.user_id)
            .await
            .map_err(Fault::from)?
            .ok_or(AccountError::Gone)
    }

    /// The caller's account and which of its passwords was checked, if `password` is its
    /// password: one bcrypt verification under the same per-account throttle as signin.
    async fn verify_caller(
        &self,
        caller: Principal,
        password: &PasswordCandidate,
        client: &ClientInfo,
    ) -> Result<(User, CredentialVersion), AccountError> {
        let user = self.account(caller).await?;
        self.check_password(user, password, client).await
    }

    /// `user` as checked and which of its passwords was, if `password` is its password.
    async fn check_password(
        &self,
        user: User,
        password: &PasswordCandidate,
        client: &ClientInfo,
    ) -> Result<(User, CredentialVersion), AccountError> {
        let key = EmailKey::from(&user.email);
        let checked = self
            .core
            .checked_attempt(&key, Some(user.id), password, client)
            .await?
            .ok_or(AccountError::WrongPassword)?;
        Ok((checked.user, checked.version))
    }
}
