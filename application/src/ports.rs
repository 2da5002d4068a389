//! The ports: what the use cases need from the outside world.
//!
//! Every port is object safe (`#[async_trait]`) and held as `Arc<dyn Port>`, so the
//! storage is a choice made at start (`STORAGE=postgres|memory`), not at compile time.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, SubsecRound, Utc};
use tessera_domain::{
    AccountDecision, AccountLockPolicy, AccountRecord, AccountStep, Admission, ClaimId,
    CredentialVersion, Credentials, EmailAddress, LinkToken, MailId, MailKind, MailLink, MailQuota,
    NewUser, Password, PasswordHash, Rate, SecurityEvent, Session, SessionId, Task, TaskChanges,
    TaskDescription, TaskId, TaskStatusFilter, TaskTitle, TokenDigest, User, UserId, UserName,
};
use thiserror::Error;

use crate::error::BoxError;

/// Why a repository call failed.
#[derive(Debug, Error)]
pub enum RepoError {
    /// The row does not exist, or is not the given owner's.
    #[error("not found")]
    NotFound,
    /// A uniqueness rule refused the write (for users: the email is taken).
    #[error("conflict with an existing row")]
    Conflict,
    /// The owner already holds as many rows as the limit allows (tasks).
    #[error("limit reached")]
    LimitReached,
    /// The store cannot be reached, or no connection was free in time.
    #[error("storage unavailable")]
    Unavailable(#[source] Option<BoxError>),
    /// Any other storage failure.
    #[error("storage failure")]
    Other(#[source] BoxError),
}

/// Accounts.
#[async_trait]
pub trait UserRepository: Send + Sync {
    /// Stores a new account with its first session (none when signin waits for the
    /// address to be proven) and its verification mail and link, if any, all or none: a
    /// failure leaves no account behind. The mail counts toward the account's quota.
    ///
    /// # Errors
    /// MUST return [`RepoError::Conflict`] if an account with the same (normalised) email
    /// exists, also when two inserts race, and never for anything else (a session id
    /// that is taken is [`RepoError::Other`]).
    async fn insert(
        &self,
        new_user: &NewUser,
        first_session: Option<&Session>,
        verification: Option<(&QueuedMail, &LinkRecord)>,
    ) -> Result<(), RepoError>;

    /// Replaces the password hash of an account by another hash of the same password (a
    /// re-hash at a new cost), only while its credentials are still at `version`; the
    /// version stays. An account that no longer exists, or whose password changed since,
    /// is left as it is, and that is not an error.
    ///
    /// # Errors
    /// Storage failures only.
    async fn set_password_hash(
        &self,
        id: UserId,
        hash: &PasswordHash,
        version: CredentialVersion,
    ) -> Result<(), RepoError>;

    /// Renames an account as of `at` (its `updated_at`); returns it as stored.
    ///
    /// # Errors
    /// MUST return [`RepoError::NotFound`] if the account does not exist.
    async fn set_name(
        &self,
        id: UserId,
        name: &UserName,
        at: DateTime<Utc>,
    ) -> Result<User, RepoError>;

    /// A password change, in one transaction, if the account's credentials are still at
    /// `checked` (the version the current password was checked against): the new hash,
    /// the version moved on ([`CredentialVersion::next`]), every active session of the
    /// account ended at `at`, `new_session` stored, the account's reset links voided, and
    /// `notice` (the `password_changed` mail) queued. Of two changes checked against one
    /// version, at most one succeeds.
    ///
    /// # Errors
    /// MUST return [`RepoError::NotFound`] if the account does not exist, and
    /// [`RepoError::Conflict`] if its credentials are no longer at `checked`; either way
    /// nothing changes.
    async fn change_password(
        &self,
        id: UserId,
        hash: &PasswordHash,
        new_session: &Session,
        at: DateTime<Utc>,
        checked: CredentialVersion,
        notice: &QueuedMail,
    ) -> Result<(), RepoError>;

    /// Deletes an account with its tasks, sessions and events, in one transaction. Its
    /// email is free again at once.
    ///
    /// # Errors
    /// MUST return [`RepoError::NotFound`] if the account does not exist.
    async fn delete(&self, id: UserId) -> Result<(), RepoError>;

    /// The account, its password hash and the hash's version for a normalised email, if
    /// there is one.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Other`] on storage failure only.
    async fn find_credentials(&self, email: &str) -> Result<Option<Credentials>, RepoError>;

    /// The account with this id, if there is one.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Other`] on storage failure only.
    async fn find_by_id(&self, id: UserId) -> Result<Option<User>, RepoError>;
}

/// Sessions, one per issued token.
#[async_trait]
pub trait SessionRepository: Send + Sync {
    /// Stores a new session of a password checked against `checked` and, in the same
    /// transaction, ends (as of its `created_at`) the user's oldest live sessions so that
    /// at most `cap` stay live, the new one included (see
    /// [`tessera_domain::sessions_beyond_cap`]). The session is stored only if its user
    /// exists and the user's credentials are still at `checked`, also when a password
    /// change or a deletion commits at the same moment.
    ///
    /// # Errors
    /// MUST return [`RepoError::NotFound`] if the user does not exist or its credentials
    /// are no longer at `checked` (nothing is stored); a session id that is taken is
    /// [`RepoError::Other`]; otherwise storage failures only.
    async fn create(
        &self,
        session: &Session,
        cap: u32,
        checked: CredentialVersion,
    ) -> Result<(), RepoError>;

    /// The session with this id, ended or not, if there is one.
    ///
    /// # Errors
    /// Storage failures only.
    async fn find(&self, id: SessionId) -> Result<Option<Session>, RepoError>;

    /// Ends one of `user`'s sessions at `at`; returns whether it ended one. Ending an
    /// ended or unknown session, or another user's, changes nothing and is not an error.
    ///
    /// # Errors
    /// Storage failures only.
    async fn end(&self, user: UserId, id: SessionId, at: DateTime<Utc>) -> Result<bool, RepoError>;

    /// `user`'s live sessions at `now` (not ended, not expired), newest first.
    ///
    /// # Errors
    /// Storage failures only.
    async fn list_live(&self, user: UserId, now: DateTime<Utc>) -> Result<Vec<Session>, RepoError>;

    /// Deletes sessions that ended, or expired, before `before`: at most `batch`;
    /// returns how many. Safe to run from several instances at once.
    ///
    /// # Errors
    /// Storage failures only.
    async fn prune(&self, before: DateTime<Utc>, batch: u32) -> Result<u64, RepoError>;

    /// Ends every active session of `user` but `except`, at `at`; returns how many ended.
    ///
    /// # Errors
    /// Storage failures only.
    async fn end_all(
        &self,
        user: UserId,
        except: Option<SessionId>,
        at: DateTime<Utc>,
    ) -> Result<u64, RepoError>;
}

/// A task to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTask {
    /// Its title.
    pub title: TaskTitle,
    /// Its description, if any.
    pub description: Option<TaskDescription>,
}

/// One page of a user's tasks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskPage {
    /// The tasks, newest first.
    pub tasks: Vec<Task>,
    /// How many tasks match the filter, all pages together.
    pub total: u64,
}

/// Tasks. Every method takes the owner: a task of another user is, to its caller, a task
/// that does not exist.
#[async_trait]
pub trait TaskRepository: Send + Sync {
    /// `owner`'s tasks matching `filter`, newest first (then highest id first), skipping
    /// `offset` and returning at most `limit`, with the count of all matching tasks.
    ///
    /// # Errors
    /// Storage failures only.
    async fn list(
        &self,
        owner: UserId,
        filter: TaskStatusFilter,
        limit: u32,
        offset: u64,
    ) -> Result<TaskPage, RepoError>;

    /// Stores a new, not completed task for `owner`, created and updated at `now`, with
    /// a fresh id, unless `owner` already holds `max_tasks` tasks. Concurrent creations
    /// MUST never take an owner past `max_tasks`.
    ///
    /// # Errors
    /// [`RepoError::LimitReached`] at the limit; otherwise storage failures only.
    async fn create(
        &self,
        owner: UserId,
        task: NewTask,
        now: DateTime<Utc>,
        max_tasks: u32,
    ) -> Result<Task, RepoError>;

    /// One of `owner`'s tasks.
    ///
    /// # Errors
    /// MUST return [`RepoError::NotFound`] if the task is absent or not `owner`'s.
    async fn get(&self, owner: UserId, id: TaskId) -> Result<Task, RepoError>;

    /// Applies `changes` to one of `owner`'s tasks in one step; unless `changes` is empty,
    /// `updated_at` becomes [`Task::next_updated_at`] of the stored one and `now` (so a
    /// caller whose clock is behind never moves it back). Returns the task as stored.
    ///
    /// # Errors
    /// MUST return [`RepoError::NotFound`] if the task is absent or not `owner`'s.
    async fn update(
        &self,
        owner: UserId,
        id: TaskId,
        changes: &TaskChanges,
        now: DateTime<Utc>,
    ) -> Result<Task, RepoError>;

    /// Flips `completed` of one of `owner`'s tasks in one step (two concurrent toggles
    /// leave it as it was), `updated_at` moving as in [`TaskRepository::update`].
    ///
    /// # Errors
    /// MUST return [`RepoError::NotFound`] if the task is absent or not `owner`'s.
    async fn toggle(
        &self,
        owner: UserId,
        id: TaskId,
        now: DateTime<Utc>,
    ) -> Result<Task, RepoError>;

    /// Deletes one of `owner`'s tasks.
    ///
    /// # Errors
    /// MUST return [`RepoError::NotFound`] if the task is absent or not `owner`'s.
    async fn delete(&self, owner: UserId, id: TaskId) -> Result<(), RepoError>;
}

/// The security events of each account.
#[async_trait]
pub trait EventRepository: Send + Sync {
    /// Stores one event. An event of an account that no longer exists is dropped.
    ///
    /// # Errors
    /// Storage failures only.
    async fn record(&self, event: &SecurityEvent) -> Result<(), RepoError>;

    /// `user`'s events, newest first (then latest recorded first), at most `limit`.
    ///
    /// # Errors
    /// Storage failures only.
    async fn list(&self, user: UserId, limit: u32) -> Result<Vec<SecurityEvent>, RepoError>;

    /// Deletes events from before `before`: at most `batch`; returns how many. Safe to
    /// run from several instances at once.
    ///
    /// # Errors
    /// Storage failures only.
    async fn prune(&self, before: DateTime<Utc>, batch: u32) -> Result<u64, RepoError>;
}

/// What an update of an account record did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountUpdate {
    /// The step's decision.
    pub decision: AccountDecision,
    /// The record the step read and replaced; `None` when there was none.
    pub replaced: Option<AccountRecord>,
}

impl AccountUpdate {
    /// Applies `step` of `policy` at `now` to `stored`: the update, and the record to store.
    #[must_use]
    pub fn apply(
        stored: Option<AccountRecord>,
        policy: AccountLockPolicy,
        step: AccountStep,
        now: DateTime<Utc>,
    ) -> (Self, Option<AccountRecord>) {
        let (decision, next) = policy.apply(stored, step, now);
        let update = Self {
            decision,
            replaced: stored,
        };
        (update, next)
    }
}

/// The counts behind the rate limits and throttles. Instances that share a store share
/// the counts: every method is atomic across them.
#[async_trait]
pub trait ThrottleStore: Send + Sync {
    /// One step of `rate`'s GCRA for `key` at `now` (see [`Rate`]): admitted when the
    /// stored TAT is at most `now + rate.tolerance()`, which then becomes
    /// `max(TAT, now) + rate.interval()`; refused otherwise, the TAT unchanged, with the
    /// time until an event would be admitted. Concurrent calls for one key MUST each see
    /// the TAT the previous one stored.
    ///
    /// # Errors
    /// Storage failures only.
    async fn admit(
        &self,
        key: &str,
        rate: Rate,
        now: DateTime<Utc>,
    ) -> Result<Admission, RepoError>;

    /// Applies `step` of `policy` at `now` to the account record of `key` where it is
    /// stored ([`AccountLockPolicy::apply`]: the record it makes replaces the stored one,
    /// `None` deletes it), atomically: concurrent updates of one key MUST each see the
    /// record the previous one stored. Returns the step's decision and the record it
    /// replaced.
    ///
    /// # Errors
    /// Storage failures only.
    async fn update_account(
        &self,
        key: &str,
        policy: AccountLockPolicy,
        step: AccountStep,
        now: DateTime<Utc>,
    ) -> Result<AccountUpdate, RepoError>;

    /// Deletes what no longer limits anything at `now` (GCRA entries whose TAT has
    /// passed, account records past `expires_at`), at most `batch` rows; returns how many.
    ///
    /// # Errors
    /// Storage failures only.
    async fn prune(&self, now: DateTime<Utc>, batch: u32) -> Result<u64, RepoError>;
}

/// Whether the storage can serve requests now (for `/ready`).
#[async_trait]
pub trait Readiness: Send + Sync {
    /// Answers once the store has answered a trivial request.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] when it cannot be reached.
    async fn check(&self) -> Result<(), RepoError>;
}

/// Every storage port of one store: what `bin` wires into the use cases, what the
/// conformance suite holds to the ports' promises, what the tests build on.
#[derive(Clone)]
pub struct Stores {
    /// Accounts.
    pub users: Arc<dyn UserRepository>,
    /// Sessions.
    pub sessions: Arc<dyn SessionRepository>,
    /// Security events.
    pub events: Arc<dyn EventRepository>,
    /// Tasks.
    pub tasks: Arc<dyn TaskRepository>,
    /// Rate-limit and throttle counts.
    pub throttle: Arc<dyn ThrottleStore>,
    /// The mail queue and the one-time links.
    pub mail: Arc<dyn MailStore>,
    /// Whether the store answers.
    pub readiness: Arc<dyn Readiness>,
}

impl Stores {
    /// Every port of one store that implements them all.
    #[must_use]
    pub fn of<S>(store: Arc<S>) -> Self
    where
        S: UserRepository
            + SessionRepository
            + EventRepository
            + TaskRepository
            + ThrottleStore
            + MailStore
            + Readiness
            + 'static,
    {
        Self {
            users: store.clone(),
            sessions: store.clone(),
            events: store.clone(),
            tasks: store.clone(),
            throttle: store.clone(),
            mail: store.clone(),
            readiness: store,
        }
    }
}

/// Why a cryptographic operation failed on the server's side.
#[derive(Debug, Error)]
#[error("{0}")]
pub struct CryptoError(pub &'static str);

/// Why a password could not be hashed or checked.
#[derive(Debug, Error)]
pub enum HashError {
    /// Every hashing slot is taken and the queue is full, or the wait for a slot ran
    /// out: worth retrying shortly.
    #[error("password hashing is saturated")]
    Saturated,
    /// The hashing itself failed.
    #[error(transparent)]
    Failed(#[from] CryptoError),
}

/// Password hashing. Implementations run the work off the async workers.
#[async_trait]
pub trait PasswordHasher: Send + Sync {
    /// Hashes a password that met the policy.
    ///
    /// # Errors
    /// [`HashError::Saturated`] when no hashing slot is free in time; [`HashError::Failed`]
    /// if the hashing itself fails.
    async fn hash(&self, password: &Password) -> Result<PasswordHash, HashError>;

    /// Whether `candidate` matches `hash`. MUST take as long for a wrong candidate as for
    /// a right one, and MUST answer `false` for a candidate over 72 bytes.
    ///
    /// # Errors
    /// [`HashError::Saturated`] when no hashing slot is free in time; [`HashError::Failed`]
    /// if the hash is not one this hasher can read.
    async fn verify(&self, candidate: &str, hash: &PasswordHash) -> Result<bool, HashError>;

    /// A valid hash of no one's password, made with the same cost as real ones, to verify
    /// against when an account does not exist so that signin takes the same time.
    fn dummy_hash(&self) -> &PasswordHash;

    /// Whether `hash` was made with other parameters (a cost) than this hasher uses now,
    /// so that the password should be hashed again once it is known to be right.
    fn needs_rehash(&self, hash: &PasswordHash) -> bool;
}

/// What a token says about its bearer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessClaims {
    /// The user (`sub` and `user_id`).
    pub user_id: UserId,
    /// The user's email at issue time.
    pub email: String,
    /// The user's name at issue time.
    pub name: String,
    /// The session (`jti`).
    pub session_id: SessionId,
    /// `iat`.
    pub issued_at: DateTime<Utc>,
    /// `exp`.
    pub expires_at: DateTime<Utc>,
}

/// Why a token was refused.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum TokenError {
    /// Malformed, badly signed, wrong algorithm, issuer or audience, missing claim, too large.
    #[error("invalid token")]
    Invalid,
    /// Past its `exp` (beyond the leeway).
    #[error("expired token")]
    Expired,
}

/// Issues signed tokens.
pub trait TokenIssuer: Send + Sync {
    /// Signs a token carrying `claims`.
    ///
    /// # Errors
    /// [`CryptoError`] if signing fails.
    fn issue(&self, claims: &AccessClaims) -> Result<String, CryptoError>;
}

/// Checks tokens: signature, algorithm, expiry, issuer, audience, claims.
pub trait TokenVerifier: Send + Sync {
    /// The claims of a token that passes every check. Whether its session is still open
    /// is not this port's business.
    ///
    /// # Errors
    /// [`TokenError`] saying why it was refused.
    fn verify(&self, token: &str) -> Result<AccessClaims, TokenError>;
}

/// Waiting without holding a thread (the runtime's timer).
#[async_trait]
pub trait Pause: Send + Sync {
    /// Returns once `duration` has passed.
    async fn pause(&self, duration: std::time::Duration);
}

/// The time.
pub trait Clock: Send + Sync {
    /// Now, to the microsecond (the precision storage keeps).
    fn now(&self) -> DateTime<Utc>;
}

/// The system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now().trunc_subsecs(6)
    }
}

/// A mail ready to go out: what the transport renders and sends.
#[derive(Debug, Clone)]
pub struct OutgoingMail {
    /// Its id: the `Message-ID` is made from it, so every try of one mail carries the
    /// same one.
    pub id: MailId,
    /// What it says.
    pub kind: MailKind,
    /// The recipient.
    pub to: EmailAddress,
    /// The link it carries, for the kinds with one, and how long the link works.
    pub link: Option<(MailLink, chrono::Duration)>,
    /// When it was queued (its `Date`).
    pub queued_at: DateTime<Utc>,
}

/// Why a mail was not delivered, as the sender acts on it.
#[derive(Debug, Error)]
pub enum SendError {
    /// The server refused for now (a 4xx reply): tried again later.
    #[error("temporary refusal: {0}")]
    Temporary(String),
    /// The server could not be reached or the connection failed: tried again later.
    #[error("mail server unreachable: {0}")]
    Unreachable(String),
    /// The server refused for good (a 5xx reply): dropped.
    #[error("permanent refusal: {0}")]
    Permanent(String),
    /// The mail cannot be written (an address the transport cannot carry): dropped.
    #[error("mail cannot be sent: {0}")]
    Invalid(String),
    /// Mail is off (no `SMTP_URL`): dropped unsent.
    #[error("mail is off")]
    Off,
}

impl SendError {
    /// Whether a later try may succeed.
    #[must_use]
    pub fn is_retried(&self) -> bool {
        matches!(self, Self::Temporary(_) | Self::Unreachable(_))
    }

    /// The `reason` label of `tessera_mail_failed_total`.
    #[must_use]
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Temporary(_) => "temporary",
            Self::Unreachable(_) => "unreachable",
            Self::Permanent(_) => "permanent",
            Self::Invalid(_) => "invalid",
            Self::Off => "off",
        }
    }
}

/// Where mail goes: an SMTP server, a directory of `.eml` files, or nowhere.
#[async_trait]
pub trait MailTransport: Send + Sync {
    /// Delivers one mail, whole, or says why not. A message it returns never holds the
    /// link.
    ///
    /// # Errors
    /// [`SendError`], by what the sender should do next.
    async fn send(&self, mail: &OutgoingMail) -> Result<(), SendError>;
}

/// Tells this instance's sender that mail was queued, so that it goes out at once
/// instead of at the next poll.
pub trait MailWake: Send + Sync {
    /// Wakes the sender; cheap, never blocks.
    fn wake(&self);
}

/// What a one-time link's record keeps: the digest of its token, never the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkRecord {
    /// The SHA-256 of the token.
    pub digest: TokenDigest,
    /// Whose account it acts on.
    pub user_id: UserId,
    /// What it does: [`MailKind::VerifyEmail`], [`MailKind::ResetPassword`] or
    /// [`MailKind::ConfirmEmailChange`].
    pub purpose: MailKind,
    /// The address it proves: the account's when it was issued, or the new one of a
    /// change.
    pub email: EmailAddress,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

/// A mail as stored until it is delivered or dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedMail {
    /// Its id.
    pub id: MailId,
    /// The account it belongs to (its mail goes with it).
    pub user_id: UserId,
    /// What it says.
    pub kind: MailKind,
    /// The recipient.
    pub to: EmailAddress,
    /// The link's token, sealed (encrypted) by the caller: only the sender can read it
    /// back. `None` for the kinds without a link.
    pub sealed: Option<Vec<u8>>,
    /// When it was queued.
    pub queued_at: DateTime<Utc>,
}

/// A mail handed to one sender until `until`: no other claim gets it meanwhile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedMail {
    /// The mail.
    pub mail: QueuedMail,
    /// Tries that failed before this one.
    pub failures: u32,
    /// This claim: only its holder can finish or release the mail.
    pub claim: ClaimId,
}

/// The mail queue and the one-time links, shared by every instance.
#[async_trait]
pub trait MailStore: Send + Sync {
    /// Queues `mail` and, for a link kind, its `link`, in one transaction, if `quota`
    /// lets the account have one more mail at `now` ([`MailQuota::check`] against the
    /// account's mails of the last hour, which the store keeps for that, delivered or
    /// not). A link voids the account's earlier links of its purpose. Returns the wait
    /// when the quota refuses, and then stores nothing.
    ///
    /// # Errors
    /// MUST return [`RepoError::NotFound`] if the account does not exist.
    async fn queue(
        &self,
        mail: &QueuedMail,
        link: Option<&LinkRecord>,
        quota: MailQuota,
        now: DateTime<Utc>,
    ) -> Result<Result<(), chrono::Duration>, RepoError>;

    /// A password reset through the reset link of `digest`, in one transaction, if it
    /// works at `now`: the link and the account's other reset links deleted, the new hash
    /// with the version moved on, the address marked proven (the person read that
    /// mailbox), every active session ended at `now`, `new_session` stored and `notice`
    /// (the `password_changed` mail) queued. Returns the account as stored. Of two resets
    /// with one link, at most one succeeds.
    ///
    /// # Errors
    /// MUST return [`RepoError::NotFound`], changing nothing, if the link does not work
    /// (absent, expired, used, voided, or not a reset link).
    async fn reset_password(
        &self,
        digest: &TokenDigest,
        hash: &PasswordHash,
        new_session: &Session,
        notice: &QueuedMail,
        now: DateTime<Utc>,
    ) -> Result<User, RepoError>;

    /// Uses the verification or email-change link of `digest`, in one transaction, if it
    /// works at `now`, and returns the account as stored:
    ///
    /// - a [`MailKind::VerifyEmail`] link marks the address proven, if it is still the
    ///   account's; the account's verification links are deleted;
    /// - a [`MailKind::ConfirmEmailChange`] link makes its address the account's email,
    ///   proven, deletes every link of the account, and queues `changed` (the
    ///   `email_changed` notice) to the address the account had until then, whatever
    ///   `changed.to` says.
    ///
    /// # Errors
    /// MUST return [`RepoError::NotFound`], changing nothing, if the link does not work
    /// (absent, expired, used, voided, a reset link, or a verification link of an address
    /// the account no longer has), and [`RepoError::Conflict`], changing nothing, if the
    /// new address belongs to another account by now.
    async fn confirm_link(
        &self,
        digest: &TokenDigest,
        changed: &QueuedMail,
        now: DateTime<Utc>,
    ) -> Result<User, RepoError>;

    /// The link of `digest`, if it exists and works at `now`.
    ///
    /// # Errors
    /// Storage failures only.
    async fn find_link(
        &self,
        digest: &TokenDigest,
        now: DateTime<Utc>,
    ) -> Result<Option<LinkRecord>, RepoError>;

    /// Claims up to `batch` mails due at `now` (never tried, or due for a retry) that no
    /// live claim holds, for `lease`: of concurrent claims, from any instance, each mail
    /// goes to one. A claim that outlives its lease (its holder stopped) frees the mail
    /// for the next.
    ///
    /// # Errors
    /// Storage failures only.
    async fn claim(
        &self,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        batch: u32,
    ) -> Result<Vec<ClaimedMail>, RepoError>;

    /// Deletes a mail delivered or dropped, if `claim` still holds it.
    ///
    /// # Errors
    /// Storage failures only.
    async fn finish(&self, id: MailId, claim: ClaimId) -> Result<(), RepoError>;

    /// Releases a mail whose try failed, due again at `at`, with one failure more, if
    /// `claim` still holds it.
    ///
    /// # Errors
    /// Storage failures only.
    async fn retry(&self, id: MailId, claim: ClaimId, at: DateTime<Utc>) -> Result<(), RepoError>;

    /// How many mails wait to be delivered.
    ///
    /// # Errors
    /// Storage failures only.
    async fn queued(&self) -> Result<u64, RepoError>;

    /// Deletes up to `batch` expired links and quota records older than an hour, as of
    /// `now`; returns how many.
    ///
    /// # Errors
    /// Storage failures only.
    async fn prune(&self, now: DateTime<Utc>, batch: u32) -> Result<u64, RepoError>;
}

/// The one-time link tokens: made, digested, and sealed into a queued mail so that only
/// the sender reads them back.
pub trait LinkSecrets: Send + Sync {
    /// A fresh token and its digest.
    fn issue(&self) -> (LinkToken, TokenDigest);

    /// The digest of a presented token.
    fn digest(&self, token: &LinkToken) -> TokenDigest;

    /// `token` encrypted (with integrity) for the mail `id`, under the current key.
    fn seal(&self, id: MailId, token: &LinkToken) -> Vec<u8>;

    /// The token sealed for mail `id`, under the current key or the previous one; `None`
    /// when neither opens it (a key since retired, or bytes altered).
    fn open(&self, id: MailId, sealed: &[u8]) -> Option<LinkToken>;
}
