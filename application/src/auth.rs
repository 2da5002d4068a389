//! Signup, signin, signout and the token guard.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use tessera_domain::{
    AccountLimits, AttemptOutcome, ClientInfo, CredentialVersion, EmailAddress, NewUser, Password,
    PasswordHash, Principal, SecurityEvent, SecurityEventKind, Session, SessionId, SignOutScope,
    User, UserId, UserName,
};
use thiserror::Error;

use crate::error::{Fault, ValidationErrors};
use crate::ports::{
    AccessClaims, Clock, EventRepository, PasswordHasher, RepoError, SessionRepository, TokenError,
    TokenIssuer, TokenVerifier, UserRepository,
};
use crate::throttle::{AccountRefusal, Throttle};

/// Settings of the authentication use cases.
#[derive(Debug, Clone, Copy)]
pub struct AuthSettings {
    /// How long an issued token lives.
    pub token_ttl: Duration,
    /// What one account may hold.
    pub limits: AccountLimits,
}

/// What `Debug` shows in place of a password or a token, here and in the adapters.
pub const REDACTED: &str = "<redacted>";

/// A signup request as received; every field may be missing.
#[derive(Clone, Default)]
pub struct SignUpCommand {
    /// The display name.
    pub name: Option<String>,
    /// The email address.
    pub email: Option<String>,
    /// The chosen password.
    pub password: Option<String>,
    /// Where the request came from.
    pub client: ClientInfo,
}

impl std::fmt::Debug for SignUpCommand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignUpCommand")
            .field("name", &self.name)
            .field("email", &self.email)
            .field("password", &self.password.as_ref().map(|_| REDACTED))
            .field("client", &self.client)
            .finish()
    }
}

/// A signin request as received.
#[derive(Clone, Default)]
pub struct SignInCommand {
    /// The email address, in any letter case.
    pub email: Option<String>,
    /// The password.
    pub password: Option<String>,
    /// Where the request came from.
    pub client: ClientInfo,
}

impl std::fmt::Debug for SignInCommand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignInCommand")
            .field("email", &self.email)
            .field("password", &self.password.as_ref().map(|_| REDACTED))
            .field("client", &self.client)
            .finish()
    }
}

/// A signout request as received.
#[derive(Clone, Default)]
pub struct SignOutCommand {
    /// The bearer token, if one was sent.
    pub token: Option<String>,
    /// `local`, `global` or `others`; `None` means `local`.
    pub scope: Option<String>,
    /// Where the request came from.
    pub client: ClientInfo,
}

impl std::fmt::Debug for SignOutCommand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignOutCommand")
            .field("token", &self.token.as_ref().map(|_| REDACTED))
            .field("scope", &self.scope)
            .field("client", &self.client)
            .finish()
    }
}

/// A user with a freshly issued token and its session.
#[derive(Clone)]
pub struct IssuedSession {
    /// The user.
    pub user: User,
    /// The signed token.
    pub token: String,
    /// When the token expires.
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for IssuedSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedSession")
            .field("user", &self.user)
            .field("token", &REDACTED)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// A caller whose token passed the guard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Authenticated {
    /// Who is calling.
    pub principal: Principal,
    /// When the token expires.
    pub expires_at: DateTime<Utc>,
}

/// Why a signup failed.
#[derive(Debug, Error)]
pub enum SignUpError {
    /// Some fields are invalid.
    #[error("invalid signup: {0}")]
    Validation(ValidationErrors),
    /// An account with this email exists.
    #[error("email already registered")]
    EmailTaken,
    /// The server failed.
    #[error(transparent)]
    Fault(#[from] Fault),
}

/// Why a signin failed.
#[derive(Debug, Error)]
pub enum SignInError {
    /// A field is missing.
    #[error("invalid signin: {0}")]
    Validation(ValidationErrors),
    /// Unknown email or wrong password (deliberately not told apart).
    #[error("invalid credentials")]
    InvalidCredentials,
    /// Too many failed attempts on this account: try again after this long.
    #[error("too many attempts")]
    Throttled(std::time::Duration),
    /// The server failed.
    #[error(transparent)]
    Fault(#[from] Fault),
}

/// Why a signout failed. A missing or dead token is not a failure: there is nothing to end.
#[derive(Debug, Error)]
pub enum SignOutError {
    /// The scope is not one of the three.
    #[error("invalid signout: {0}")]
    Validation(ValidationErrors),
    /// The server failed.
    #[error(transparent)]
    Fault(#[from] Fault),
}

/// Why a token was refused by the guard.
#[derive(Debug, Error)]
pub enum AuthenticateError {
    /// Malformed, forged, or otherwise not a token of this service.
    #[error("invalid token")]
    Invalid,
    /// Expired.
    #[error("expired token")]
    Expired,
    /// Its session was ended by a signout (or no longer exists).
    #[error("session ended")]
    Revoked,
    /// The server failed.
    #[error(transparent)]
    Fault(#[from] Fault),
}

impl From<TokenError> for AuthenticateError {
    fn from(error: TokenError) -> Self {
        match error {
            TokenError::Invalid => Self::Invalid,
            TokenError::Expired => Self::Expired,
        }
    }
}

/// The stores the authentication use cases keep accounts in.
#[derive(Clone)]
pub struct AccountStores {
    /// Accounts.
    pub users: Arc<dyn UserRepository>,
    /// Sessions.
    pub sessions: Arc<dyn SessionRepository>,
    /// Security events.
    pub events: Arc<dyn EventRepository>,
}

/// The authentication and account use cases.
#[derive(Clone)]
pub struct AuthService {
    pub(crate) users: Arc<dyn UserRepository>,
    pub(crate) sessions: Arc<dyn SessionRepository>,
    pub(crate) events: Arc<dyn EventRepository>,
    pub(crate) hasher: Arc<dyn PasswordHasher>,
    issuer: Arc<dyn TokenIssuer>,
    verifier: Arc<dyn TokenVerifier>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) settings: AuthSettings,
    pub(crate) throttle: Throttle,
}

impl AuthService {
    /// Builds the service on its ports.
    #[must_use]
    pub fn new(
        stores: AccountStores,
        hasher: Arc<dyn PasswordHasher>,
        tokens: (Arc<dyn TokenIssuer>, Arc<dyn TokenVerifier>),
        clock: Arc<dyn Clock>,
        settings: AuthSettings,
    ) -> Self {
        Self {
            users: stores.users,
            sessions: stores.sessions,
            events: stores.events,
            hasher,
            issuer: tokens.0,
            verifier: tokens.1,
            clock,
            settings,
            throttle: Throttle::off(),
        }
    }

    /// The same service, with password checks counted by `throttle`.
    #[must_use]
    pub fn with_throttle(mut self, throttle: Throttle) -> Self {
        self.throttle = throttle;
        self
    }

    /// The limits on password attempts, for the routes that count them per address.
    #[must_use]
    pub fn throttle(&self) -> &Throttle {
        &self.throttle
    }

    /// Creates an account and signs it in.
    ///
    /// # Errors
    /// [`SignUpError`] saying what was wrong.
    pub async fn sign_up(&self, command: SignUpCommand) -> Result<IssuedSession, SignUpError> {
        let mut errors = ValidationErrors::default();
        let name = errors.check(
            "name",
            UserName::parse(command.name.as_deref().unwrap_or_default()),
        );
        let email = errors.check(
            "email",
            EmailAddress::parse(command.email.as_deref().unwrap_or_default()),
        );
        let password = errors.check(
            "password",
            Password::parse(command.password.as_deref().unwrap_or_default()),
        );
        let (Some(name), Some(email), Some(password)) = (name, email, password) else {
            return Err(SignUpError::Validation(errors));
        };

        let password_hash = self.hasher.hash(&password).await.map_err(Fault::from)?;
        let now = self.clock.now();
        let user = User {
            id: UserId::new_random(),
            email,
            name,
            created_at: now,
            updated_at: now,
        };
        let (session, issued) = self.new_session(user.clone(), &command.client)?;
        let id = user.id;
        let new_user = NewUser {
            user,
            password_hash,
        };
        match self.users.insert(&new_user, &session).await {
            Ok(()) => {}
            Err(RepoError::Conflict) => return Err(SignUpError::EmailTaken),
            Err(other) => return Err(Fault::from(other).into()),
        }
        self.record(id, SecurityEventKind::SignUp, &command.client)
            .await;
        Ok(issued)
    }

    /// Checks credentials and opens a new session.
    ///
    /// An unknown email costs the same as a wrong password: a bcrypt verification runs
    /// against a dummy hash, so response time does not reveal which accounts exist.
    ///
    /// # Errors
    /// [`SignInError`] saying what was wrong.
    pub async fn sign_in(&self, command: SignInCommand) -> Result<IssuedSession, SignInError> {
        let email = command.email.unwrap_or_default();
        let password = command.password.unwrap_or_default();
        let mut errors = ValidationErrors::default();
        if EmailAddress::is_blank(&email) {
            errors.add("email", tessera_domain::EmailError::Required);
        } else if email.contains('\0') {
            // No stored address holds a NUL, and storage may refuse to even compare one.
            errors.add("email", tessera_domain::EmailError::Invalid);
        }
        if password.is_empty() {
            errors.add("password", "Password is required");
        }
        if !errors.is_empty() {
            return Err(SignInError::Validation(errors));
        }

        let normalised = EmailAddress::normalise(&email);
        let found = self
            .users
            .find_credentials(&normalised)
            .await
            .map_err(Fault::from)?;
        let version = found
            .as_ref()
            .map_or(CredentialVersion::INITIAL, |found| found.version);
        // Only a signin re-hashes: the password change and the deletion replace or drop
        // the hash anyway.
        let stale = found
            .as_ref()
            .is_some_and(|found| self.hasher.needs_rehash(&found.hash));
        let found = found.map(|found| (found.user, found.hash));
        match self
            .checked_attempt(&normalised, found, &password, &command.client)
            .await
        {
            Ok(Some(user)) => {
                if stale && let Ok(valid) = Password::parse(&password) {
                    self.rehash(user.id, &valid, version).await;
                }
                // Stored only if the password just checked is still the account's: a
                // password change or a deletion that committed meanwhile wins.
                let (session, issued) = self.new_session(user.clone(), &command.client)?;
                match self
                    .sessions
                    .create(&session, self.settings.limits.max_sessions, version)
                    .await
                {
                    Ok(()) => {}
                    Err(RepoError::NotFound) => return Err(SignInError::InvalidCredentials),
                    Err(other) => return Err(Fault::from(other).into()),
                }
                self.record(user.id, SecurityEventKind::SignIn, &command.client)
                    .await;
                Ok(issued)
            }
            Ok(None) => Err(SignInError::InvalidCredentials),
            Err(CheckError::Throttled(wait)) => Err(SignInError::Throttled(wait)),
            Err(CheckError::Fault(fault)) => Err(fault.into()),
        }
    }

    /// One password check of the account `key` (a normalised email), known or not,
    /// under the per-account throttle: the user when `password` is theirs. A wrong
    /// password for a known account, and the first refusal of each lock of the throttle,
    /// are recorded as its events. Unknown accounts cost the same bcrypt verification as known ones.
    pub(crate) async fn checked_attempt(
        &self,
        key: &str,
        found: Option<(User, PasswordHash)>,
        password: &str,
        client: &ClientInfo,
    ) -> Result<Option<User>, CheckError> {
        let known = found.as_ref().map(|(user, _)| user.id);
        let attempt = match self.throttle.begin_account(key).await {
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

    /// The account `found` holds, if `password` is its password.
    async fn check_password(
        &self,
        found: Option<(User, PasswordHash)>,
        password: &str,
    ) -> Result<Option<User>, Fault> {
        // Never compare a password bcrypt would truncate: it could match on its first
        // 72 bytes alone. Such a password matches no account, yet costs the same time.
        let fits = password.len() <= Password::MAX_BYTES;
        let (user, hash) = match found {
            Some((user, hash)) if fits => (Some(user), hash),
            _ => (None, self.hasher.dummy_hash().clone()),
        };
        let matches = self.hasher.verify(password, &hash).await?;
        Ok(user.filter(|_| matches))
    }

    /// Stores a hash of `password` at the hasher's current cost, unless the password
    /// changed since it was checked (at `version`). Best effort: the right password was
    /// given either way, and a later signin tries again.
    async fn rehash(&self, id: UserId, password: &Password, version: CredentialVersion) {
        if let Ok(hash) = self.hasher.hash(password).await {
            // Storage failing here changes nothing the caller can see: the old hash stays.
            let _ = self.users.set_password_hash(id, &hash, version).await;
        }
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
        match self.events.record(&event).await {
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

    /// Ends sessions and says how many. Without a live token there is nothing to end,
    /// and that is success.
    ///
    /// # Errors
    /// [`SignOutError::Validation`] for an unknown scope, or a server fault.
    pub async fn sign_out(&self, command: SignOutCommand) -> Result<u64, SignOutError> {
        let scope = match command.scope.as_deref() {
            None => SignOutScope::default(),
            Some(raw) => SignOutScope::parse(raw)
                .map_err(|e| SignOutError::Validation(ValidationErrors::single("scope", e)))?,
        };
        let Some(token) = command.token else {
            return Ok(0);
        };
        let caller = match self.authenticate(&token).await {
            Ok(caller) => caller.principal,
            Err(AuthenticateError::Fault(fault)) => return Err(fault.into()),
            Err(_) => return Ok(0),
        };
        let now = self.clock.now();
        let result = match scope {
            // The guard just found this session active.
            SignOutScope::Local => self
                .sessions
                .end(caller.user_id, caller.session_id, now)
                .await
                .map(u64::from),
            SignOutScope::Global => self.sessions.end_all(caller.user_id, None, now).await,
            SignOutScope::Others => {
                self.sessions
                    .end_all(caller.user_id, Some(caller.session_id), now)
                    .await
            }
        };
        let ended = result.map_err(|e| SignOutError::Fault(e.into()))?;
        self.record(caller.user_id, SecurityEventKind::SignOut, &command.client)
            .await;
        Ok(ended)
    }

    /// The guard: checks a bearer token and that its session is still open.
    ///
    /// # Errors
    /// [`AuthenticateError`] saying why the token is refused.
    pub async fn authenticate(&self, token: &str) -> Result<Authenticated, AuthenticateError> {
        let claims = self.verifier.verify(token)?;
        let session = self
            .sessions
            .find(claims.session_id)
            .await
            .map_err(Fault::from)?;
        match session {
            None => Err(AuthenticateError::Revoked),
            // A session of another user under this jti: not a token this service issued.
            Some(session) if session.user_id != claims.user_id => Err(AuthenticateError::Invalid),
            Some(session) if !session.is_active() => Err(AuthenticateError::Revoked),
            Some(_) => Ok(Authenticated {
                principal: Principal {
                    user_id: claims.user_id,
                    session_id: claims.session_id,
                },
                expires_at: claims.expires_at,
            }),
        }
    }

    /// The signed-in user's account.
    ///
    /// # Errors
    /// [`AuthenticateError::Revoked`] if the account no longer exists, or a fault.
    pub async fn me(&self, caller: Principal) -> Result<User, AuthenticateError> {
        self.users
            .find_by_id(caller.user_id)
            .await
            .map_err(Fault::from)?
            .ok_or(AuthenticateError::Revoked)
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
        let token = self.issuer.issue(&claims)?;
        let issued = IssuedSession {
            user,
            token,
            // The token carries whole seconds; report the instant it really expires.
            expires_at: DateTime::from_timestamp(expires_at.timestamp(), 0).unwrap_or(expires_at),
        };
        Ok((session, issued))
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

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use tessera_domain::{EmailAddress, User, UserId, UserName};

    use super::*;

    #[test]
    fn debug_output_never_shows_a_password_or_a_token() {
        let secret = "hunter2-very-secret";
        let user = User {
            id: UserId::new_random(),
            email: EmailAddress::from_trusted("a@example.com".to_owned()),
            name: UserName::from_trusted("A".to_owned()),
            created_at: Utc::now(),
            updated_at: Utc::now(),
        };
        let shown = [
            format!(
                "{:?}",
                SignUpCommand {
                    name: Some("A".to_owned()),
                    email: Some("a@example.com".to_owned()),
                    password: Some(secret.to_owned()),
                    client: ClientInfo::default(),
                }
            ),
            format!(
                "{:?}",
                SignInCommand {
                    email: Some("a@example.com".to_owned()),
                    password: Some(secret.to_owned()),
                    client: ClientInfo::default(),
                }
            ),
            format!(
                "{:?}",
                SignOutCommand {
                    token: Some(secret.to_owned()),
                    scope: None,
                    client: ClientInfo::default(),
                }
            ),
            format!(
                "{:?}",
                IssuedSession {
                    user,
                    token: secret.to_owned(),
                    expires_at: Utc::now(),
                }
            ),
        ];
        for text in shown {
            assert!(!text.contains(secret), "{text}");
            assert!(text.contains(REDACTED), "{text}");
        }
    }
}
