//! What a signed-in person manages: their name, their password, their sessions, their
//! security events, and the account itself.

use tessera_domain::{
    ClientInfo, CredentialVersion, Password, Principal, SecurityEvent, SecurityEventKind, Session,
    SessionId, User, UserName,
};
use thiserror::Error;

use crate::auth::{AuthService, CheckError, IssuedSession, REDACTED};
use crate::error::{Fault, ValidationErrors};
use crate::ports::RepoError;

/// A password change as received.
#[derive(Clone, Default)]
pub struct ChangePasswordCommand {
    /// The password in use.
    pub current_password: Option<String>,
    /// The password wanted.
    pub new_password: Option<String>,
    /// Where the request came from.
    pub client: ClientInfo,
}

impl std::fmt::Debug for ChangePasswordCommand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChangePasswordCommand")
            .field(
                "current_password",
                &self.current_password.as_ref().map(|_| REDACTED),
            )
            .field(
                "new_password",
                &self.new_password.as_ref().map(|_| REDACTED),
            )
            .field("client", &self.client)
            .finish()
    }
}

/// An account deletion as received.
#[derive(Clone, Default)]
pub struct DeleteAccountCommand {
    /// The account's password.
    pub password: Option<String>,
    /// Where the request came from.
    pub client: ClientInfo,
}

impl std::fmt::Debug for DeleteAccountCommand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeleteAccountCommand")
            .field("password", &self.password.as_ref().map(|_| REDACTED))
            .field("client", &self.client)
            .finish()
    }
}

/// Why an account operation failed.
#[derive(Debug, Error)]
pub enum AccountError {
    /// Some fields are invalid.
    #[error("invalid request: {0}")]
    Validation(ValidationErrors),
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

impl AuthService {
    /// Renames the caller's account.
    ///
    /// # Errors
    /// [`AccountError::Validation`] for a name the signup rules refuse.
    pub async fn update_name(
        &self,
        caller: Principal,
        name: Option<String>,
        client: &ClientInfo,
    ) -> Result<User, AccountError> {
        let name = UserName::parse(name.as_deref().unwrap_or_default())
            .map_err(|e| AccountError::Validation(ValidationErrors::single("name", e)))?;
        let user = self
            .users
            .set_name(caller.user_id, &name, self.clock.now())
            .await?;
        self.record(user.id, SecurityEventKind::NameChanged, client)
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
        command: ChangePasswordCommand,
    ) -> Result<IssuedSession, AccountError> {
        let current = command.current_password.unwrap_or_default();
        let mut errors = ValidationErrors::default();
        if current.is_empty() {
            errors.add("current_password", "Current password is required");
        }
        let new_password = errors.check(
            "new_password",
            Password::parse(command.new_password.as_deref().unwrap_or_default()),
        );
        let Some(new_password) = new_password.filter(|_| errors.is_empty()) else {
            return Err(AccountError::Validation(errors));
        };
        let (user, checked) = self
            .verify_caller(caller, &current, &command.client)
            .await?;
        let hash = self.hasher.hash(&new_password).await.map_err(Fault::from)?;
        let (session, issued) = self.new_session(user.clone(), &command.client)?;
        // Only if the password just checked is still the account's: of two changes made
        // at once with the same current password, the first to commit wins.
        match self
            .users
            .change_password(user.id, &hash, &session, session.created_at, checked)
            .await
        {
            Ok(()) => {}
            Err(RepoError::Conflict) => return Err(AccountError::WrongPassword),
            Err(other) => return Err(other.into()),
        }
        self.record(user.id, SecurityEventKind::PasswordChanged, &command.client)
            .await;
        Ok(issued)
    }

    /// The caller's live sessions, newest first, the caller's own marked.
    ///
    /// # Errors
    /// A fault of the storage.
    pub async fn list_sessions(&self, caller: Principal) -> Result<Vec<SessionView>, Fault> {
        let sessions = self
            .sessions
            .list_live(caller.user_id, self.clock.now())
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
    /// [`AccountError::SessionNotFound`] for an id that is not a UUID, unknown, ended or
    /// another user's.
    pub async fn end_session(
        &self,
        caller: Principal,
        raw_id: &str,
        client: &ClientInfo,
    ) -> Result<(), AccountError> {
        let id = SessionId::parse(raw_id).ok_or(AccountError::SessionNotFound)?;
        let ended = self
            .sessions
            .end(caller.user_id, id, self.clock.now())
            .await
            .map_err(Fault::from)?;
        if !ended {
            return Err(AccountError::SessionNotFound);
        }
        self.record(caller.user_id, SecurityEventKind::SessionEnded, client)
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
        Ok(self.events.list(caller.user_id, limit).await?)
    }

    /// Deletes the caller's account, with its tasks, sessions and events, once its
    /// password is given (counted like a signin).
    ///
    /// # Errors
    /// [`AccountError`] saying what was wrong.
    pub async fn delete_account(
        &self,
        caller: Principal,
        command: DeleteAccountCommand,
    ) -> Result<(), AccountError> {
        let password = command.password.unwrap_or_default();
        if password.is_empty() {
            return Err(AccountError::Validation(ValidationErrors::single(
                "password",
                "Password is required",
            )));
        }
        let (user, _) = self
            .verify_caller(caller, &password, &command.client)
            .await?;
        self.users.delete(user.id).await?;
        tracing::info!(
            target: "tessera::security",
            event = "account_deleted",
            user_id = %user.id,
            "security event"
        );
        Ok(())
    }

    /// The caller's account and which of its passwords was checked, if `password` is its
    /// password: one bcrypt verification under the same per-account throttle as signin.
    async fn verify_caller(
        &self,
        caller: Principal,
        password: &str,
        client: &ClientInfo,
    ) -> Result<(User, CredentialVersion), AccountError> {
        let user = self
            .users
            .find_by_id(caller.user_id)
            .await
            .map_err(Fault::from)?
            .ok_or(AccountError::Gone)?;
        // The stored address is already in its normal form.
        let key = user.email.as_str();
        let found = self
            .users
            .find_credentials(key)
            .await
            .map_err(Fault::from)?
            .filter(|found| found.user.id == user.id);
        let version = found
            .as_ref()
            .map_or(CredentialVersion::INITIAL, |found| found.version);
        let found = found.map(|found| (found.user, found.hash));
        let user = self
            .checked_attempt(key, found, password, client)
            .await?
            .ok_or(AccountError::WrongPassword)?;
        Ok((user, version))
    }
}
