//! Tessera's domain: users, tasks, sessions, the values they are made of, and the rule
//! that decides who may touch what.
//!
//! Everything here is plain Rust: no framework, no async runtime, no I/O. A value of a
//! validated type (`EmailAddress`, `TaskTitle`, ...) can only be built through its
//! `parse` constructor, so holding one is proof that it satisfies the contract's rules.

#[macro_use]
mod macros;

mod abuse;
mod access;
mod account;
mod ids;
mod mail;
mod secret;
mod session;
mod task;
mod text;
mod user;

pub use abuse::{
    AccountDecision, AccountLockPolicy, AccountRecord, AccountStep, Admission, AttemptOutcome,
    ClientAddress, Rate,
};
pub use access::{AccessDenied, Principal};
pub use account::{
    AccountLimits, ClientInfo, SecurityEvent, SecurityEventKind, UnknownEventKind, UserAgent,
};
pub use ids::{SessionId, TaskId, UserId};
pub use mail::{
    ClaimId, EmailVerification, LinkToken, MailId, MailKind, MailLink, MailQuota, MailRetry,
    TokenDigest, UnknownMailKind,
};
pub use secret::{AccessToken, REDACTED};
pub use session::{Session, SignOutScope, SignOutScopeError, sessions_beyond_cap};
pub use task::{
    PageError, PageQuery, Task, TaskChanges, TaskDescription, TaskDescriptionError,
    TaskStatusFilter, TaskTitle, TaskTitleError,
};
pub use user::{
    CredentialVersion, Credentials, EmailAddress, EmailError, EmailKey, NewUser, Password,
    PasswordCandidate, PasswordCandidateError, PasswordError, PasswordHash, User, UserName,
    UserNameError, common_password_count, is_common_password,
};
