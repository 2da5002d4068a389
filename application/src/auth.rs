//! Signup, signin, signout, the token guard and the signed-in user.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use tessera_domain::{
    AccessToken, AccountLimits, ClientInfo, CredentialVersion, EmailAddress, EmailKey,
    EmailVerification, MailKind, NewUser, Password, PasswordCandidate, Principal,
    SecurityEventKind, SignOutScope, User, UserId, UserName,
};
use thiserror::Error;

use crate::account::AccountService;
use crate::common::{AccountCore, CheckError, Checked};
use crate::error::Fault;
use crate::mailing::Mailing;
use crate::ports::{
    Clock, PasswordHasher, RepoError, Stores, TokenError, TokenIssuer, TokenVerifier,
};
use crate::recovery::RecoveryService;
use crate::throttle::Throttle;

/// Settings of the authentication use cases.
#[derive(Debug, Clone, Copy)]
pub struct AuthSettings {
    /// How long an issued token lives.
    pub token_ttl: Duration,
    /// What one account may hold.
    pub limits: AccountLimits,
}

/// A signup: a valid name, address and password.
#[derive(Debug, Clone)]
pub struct SignUp {
    /// The display name.
    pub name: UserName,
    /// The email address.
    pub email: EmailAddress,
    /// The chosen password.
    pub password: Password,
}

/// A signin: the account's key and a password to check.
#[derive(Debug, Clone)]
pub struct SignIn {
    /// The account, by its typed address.
    pub email: EmailKey,
    /// The password to check.
    pub password: PasswordCandidate,
}

/// A signout: the token presented, if any, and which sessions to end.
#[derive(Debug, Clone, Default)]
pub struct SignOut {
    /// The bearer token, if one was sent.
    pub token: Option<AccessToken>,
    /// Which sessions.
    pub scope: SignOutScope,
}

/// A user with a freshly issued token and its session.
#[derive(Debug, Clone)]
pub struct IssuedSession {
    /// The user.
    pub user: User,
    /// The signed token.
    pub token: AccessToken,
    /// When the token expires.
    pub expires_at: DateTime<Utc>,
}

/// A caller whose token passed the guard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Authenticated {
    /// Who is calling.
    pub principal: Principal,
    /// When the token expires.
    pub expires_at: DateTime<Utc>,
}

/// A new account: signed in, or waiting for its address to be proven
/// (`EMAIL_VERIFICATION=required`: no session until then).
#[derive(Debug, Clone)]
pub enum SignedUp {
    /// Signed in: a token and its session.
    Session(IssuedSession),
    /// Created, with no session: the verification mail is queued.
    VerificationRequired(User),
}

impl SignedUp {
    /// The session opened, if signin did not wait for the address.
    #[must_use]
    pub fn into_session(self) -> Option<IssuedSession> {
        match self {
            Self::Session(session) => Some(session),
            Self::VerificationRequired(_) => None,
        }
    }
}

/// Why a signup failed.
#[derive(Debug, Error)]
pub enum SignUpError {
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
    /// Unknown email or wrong password (deliberately not told apart).
    #[error("invalid credentials")]
    InvalidCredentials,
    /// Too many failed attempts on this account: try again after this long.
    #[error("too many attempts")]
    Throttled(std::time::Duration),
    /// The right password, but signin waits for the address to be proven.
    #[error("email not verified")]
    EmailNotVerified,
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

/// The authentication use cases: signup, signin, signout, the guard, the signed-in user.
#[derive(Clone)]
pub struct AuthService {
    core: AccountCore,
    verifier: Arc<dyn TokenVerifier>,
}

impl AuthService {
    /// Builds the service on its ports.
    #[must_use]
    pub fn new(
        stores: &Stores,
        hasher: Arc<dyn PasswordHasher>,
        tokens: (Arc<dyn TokenIssuer>, Arc<dyn TokenVerifier>),
        clock: Arc<dyn Clock>,
        settings: (AuthSettings, Mailing),
    ) -> Self {
        Self {
            core: AccountCore::new(stores.clone(), hasher, tokens.0, clock, settings),
            verifier: tokens.1,
        }
    }

    /// The same service, with password checks counted by `throttle`.
    #[must_use]
    pub fn with_throttle(mut self, throttle: Throttle) -> Self {
        self.core.throttle = throttle;
        self
    }

    /// The use cases of mail links (reset, verification, change of address), on the
    /// same stores, hasher, tokens and throttle.
    #[must_use]
    pub fn recovery(&self) -> RecoveryService {
        RecoveryService::new(self.core.clone())
    }

    /// The account use cases on the same stores, hasher, tokens and throttle.
    #[must_use]
    pub fn accounts(&self) -> AccountService {
        AccountService::new(self.core.clone())
    }

    /// Creates an account, queues its verification mail (unless verification is off),
    /// and signs it in (unless signin waits for the address to be proven).
    ///
    /// # Errors
    /// [`SignUpError`] saying what was wrong.
    pub async fn sign_up(
        &self,
        command: SignUp,
        client: &ClientInfo,
    ) -> Result<SignedUp, SignUpError> {
        let core = &self.core;
        let password_hash = core
            .hasher
            .hash(&command.password)
            .await
            .map_err(Fault::from)?;
        let now = core.clock.now();
        let user = User {
            id: UserId::new_random(),
            email: command.email,
            name: command.name,
            email_verified: false,
            created_at: now,
            updated_at: now,
        };
        let verification = core.mail.settings.verification;
        let opened = match verification {
            EmailVerification::Required => None,
            EmailVerification::Optional | EmailVerification::Off => {
                Some(core.new_session(user.clone(), client)?)
            }
        };
        let mail = (verification != EmailVerification::Off).then(|| {
            core.mail
                .link_mail(&user, MailKind::VerifyEmail, &user.email, now)
        });
        let new_user = NewUser {
            user,
            password_hash,
        };
        let stored = core
            .stores
            .users
            .insert(
                &new_user,
                opened.as_ref().map(|(session, _)| session),
                mail.as_ref().map(|made| (&made.mail, &made.link)),
            )
            .await;
        match stored {
            Ok(()) => {}
            Err(RepoError::Conflict) => return Err(SignUpError::EmailTaken),
            Err(other) => return Err(Fault::from(other).into()),
        }
        if mail.is_some() {
            core.mail.wake.wake();
        }
        let user = new_user.user;
        core.record(user.id, SecurityEventKind::SignUp, client)
            .await;
        Ok(match opened {
            Some((_, issued)) => SignedUp::Session(issued),
            None => SignedUp::VerificationRequired(user),
        })
    }

    /// Checks credentials and opens a new session.
    ///
    /// An unknown email costs the same as a wrong password: a bcrypt verification runs
    /// against a dummy hash, so response time does not reveal which accounts exist.
    ///
    /// # Errors
    /// [`SignInError`] saying what was wrong.
    pub async fn sign_in(
        &self,
        command: SignIn,
        client: &ClientInfo,
    ) -> Result<IssuedSession, SignInError> {
        let core = &self.core;
        match core
            .checked_attempt(&command.email, None, &command.password, client)
            .await
        {
            Ok(Some(Checked {
                user,
                version,
                stale,
            })) => {
                // Only a signin re-hashes: the password change and the deletion replace
                // or drop the hash anyway.
                if core.mail.settings.verification == EmailVerification::Required
                    && !user.email_verified
                {
                    return Err(SignInError::EmailNotVerified);
                }
                if stale && let Ok(valid) = Password::parse(command.password.as_str()) {
                    self.rehash(user.id, &valid, version).await;
                }
                // Stored only if the password just checked is still the account's: a
                // password change or a deletion that committed meanwhile wins.
                let (session, issued) = core.new_session(user.clone(), client)?;
                match core
                    .stores
                    .sessions
                    .create(&session, core.settings.limits.max_sessions, version)
                    .await
                {
                    Ok(()) => {}
                    Err(RepoError::NotFound) => return Err(SignInError::InvalidCredentials),
                    Err(other) => return Err(Fault::from(other).into()),
                }
                core.record(user.id, SecurityEventKind::SignIn, client)
                    .await;
                Ok(issued)
            }
            Ok(None) => Err(SignInError::InvalidCredentials),
            Err(CheckError::Throttled(wait)) => Err(SignInError::Throttled(wait)),
            Err(CheckError::Fault(fault)) => Err(fault.into()),
        }
    }

    /// Stores a hash of `password` at the hasher's current cost, unless the password
    /// changed since it was checked (at `version`). Best effort: the right password was
    /// given either way, and a later signin tries again.
    async fn rehash(&self, id: UserId, password: &Password, version: CredentialVersion) {
        if let Ok(hash) = self.core.hasher.hash(password).await {
            // Storage failing here changes nothing the caller can see: the old hash stays.
            let _ = self
                .core
                .stores
                .users
                .set_password_hash(id, &hash, version)
                .await;
        }
    }

    /// Ends sessions and says how many. Without a live token there is nothing to end,
    /// and that is success.
    ///
    /// # Errors
    /// A server fault.
    pub async fn sign_out(&self, command: SignOut, client: &ClientInfo) -> Result<u64, Fault> {
        let Some(token) = command.token else {
            return Ok(0);
        };
        let caller = match self.authenticate(token.as_str()).await {
            Ok(caller) => caller.principal,
            Err(AuthenticateError::Fault(fault)) => return Err(fault),
            Err(_) => return Ok(0),
        };
        let sessions = &self.core.stores.sessions;
        let now = self.core.clock.now();
        let ended = match command.scope {
            // The guard just found this session active.
            SignOutScope::Local => sessions
                .end(caller.user_id, caller.session_id, now)
                .await
                .map(u64::from),
            SignOutScope::Global => sessions.end_all(caller.user_id, None, now).await,
            SignOutScope::Others => {
                sessions
                    .end_all(caller.user_id, Some(caller.session_id), now)
                    .await
            }
        }?;
        self.core
            .record(caller.user_id, SecurityEventKind::SignOut, client)
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
            .core
            .stores
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
        self.core
            .stores
            .users
            .find_by_id(caller.user_id)
            .await
            .map_err(Fault::from)?
            .ok_or(AuthenticateError::Revoked)
    }
}
