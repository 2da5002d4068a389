//! The cases, one module per port; each takes fresh stores.

use crate::*;

mod events;
mod mail;
mod sessions;
mod tasks;
mod throttle;
mod users;

pub use events::*;
pub use mail::*;
pub use sessions::*;
pub use tasks::*;
pub use throttle::*;
pub use users::*;

/// A mail of `kind` to `user_id`, queued at `at`; the link kinds carry sealed bytes.
fn mail(
    user_id: UserId,
    kind: tessera_domain::MailKind,
    at: DateTime<Utc>,
) -> tessera_application::ports::QueuedMail {
    tessera_application::ports::QueuedMail {
        id: tessera_domain::MailId::new_random(),
        user_id,
        kind,
        to: EmailAddress::from_trusted(unique_email("to")),
        sealed: kind.link_page().map(|_| vec![7; 60]),
        queued_at: at,
    }
}

/// The `password_changed` notice a password change queues for `user`.
fn changed_notice(user: UserId) -> tessera_application::ports::QueuedMail {
    mail(user, tessera_domain::MailKind::PasswordChanged, now())
}

fn rate(per_minute: u32) -> Rate {
    Rate::per_minute(std::num::NonZeroU32::new(per_minute).unwrap_or(std::num::NonZeroU32::MIN))
}

/// A policy of `limit` failures before a wait of at most 900 s.
fn policy(limit: u32) -> AccountLockPolicy {
    AccountLockPolicy::new(
        std::num::NonZeroU32::new(limit).unwrap_or(std::num::NonZeroU32::MIN),
        900,
    )
}

/// One step on the account record of `key`.
async fn step(
    stores: &Stores,
    key: &str,
    policy: AccountLockPolicy,
    step: AccountStep,
    at: DateTime<Utc>,
) -> AccountUpdate {
    ok(
        stores.throttle.update_account(key, policy, step, at).await,
        "update",
    )
}

/// `count` failed checks on `key` at `at`, one after the other.
async fn failures(
    stores: &Stores,
    key: &str,
    policy: AccountLockPolicy,
    count: u32,
    at: DateTime<Utc>,
) {
    for _ in 0..count {
        let failed = AccountStep::Finish(AttemptOutcome::Failed);
        step(stores, key, policy, failed, at).await;
    }
}

/// The record of `key` as stored now, read by a step that gives an attempt back and
/// so leaves the record as it was.
async fn stored(stores: &Stores, key: &str, at: DateTime<Utc>) -> Option<AccountRecord> {
    let read = AccountStep::Finish(AttemptOutcome::NotChecked);
    step(stores, key, policy(1), read, at).await.replaced
}

fn session_at(user_id: UserId, created_at: DateTime<Utc>) -> Session {
    Session {
        created_at,
        expires_at: created_at + Duration::days(7),
        ..first_session(user_id)
    }
}

async fn live_ids(stores: &Stores, user: UserId) -> Vec<SessionId> {
    ok(stores.sessions.list_live(user, now()).await, "list")
        .iter()
        .map(|s| s.id)
        .collect()
}

fn event(user_id: UserId, kind: SecurityEventKind, at: DateTime<Utc>) -> SecurityEvent {
    SecurityEvent {
        user_id,
        kind,
        at,
        client: first_session(user_id).client,
    }
}
