//! The repository port contract as one suite of test bodies, run unchanged against every
//! storage adapter (in-memory and Postgres), so the fake is held to what the real store
//! does.
//!
//! An adapter's test file calls [`conformance_tests!`] with an async expression that
//! yields `Option<Subject>` (`None` skips, for a database that is not there outside CI).

use std::any::Any;

use chrono::{DateTime, Duration, SubsecRound, Utc};
use futures_util::future::join_all;
use tessera_application::ports::{AccountUpdate, NewTask, RepoError};
use tessera_domain::{
    AccountDecision, AccountLockPolicy, AccountRecord, AccountStep, Admission, AttemptOutcome,
    ClientAddress, ClientInfo, CredentialVersion, EmailAddress, NewUser, PasswordHash, Rate,
    SecurityEvent, SecurityEventKind, Session, SessionId, TaskChanges, TaskDescription, TaskId,
    TaskStatusFilter, TaskTitle, User, UserAgent, UserId, UserName,
};

pub use tessera_application::ports::Stores;

/// The stores of one adapter, and whatever keeps them alive (a test database, say),
/// dropped when the case ends.
pub type Subject = (Stores, Box<dyn Any + Send>);

/// Generates one `#[tokio::test]` per case of the suite.
#[macro_export]
macro_rules! conformance_tests {
    ($stores:expr) => {
        $crate::conformance_tests!(@cases $stores;
            inserted_users_are_found_by_any_case_of_their_email_and_by_id,
            a_second_account_with_the_same_email_in_another_case_is_a_conflict,
            of_concurrent_inserts_with_one_email_exactly_one_succeeds,
            unknown_emails_and_ids_find_nothing,
            an_account_is_stored_with_its_first_session_or_not_at_all,
            a_password_hash_is_replaced,
            updates_from_a_clock_behind_still_move_updated_at_forward,
            sessions_are_stored_found_and_ended,
            ending_another_users_session_changes_nothing,
            ending_all_sessions_can_spare_one,
            created_tasks_get_distinct_increasing_ids_and_round_trip,
            another_owners_task_is_not_found_for_any_operation,
            listing_is_newest_first_filtered_paged_and_counted,
            updates_apply_only_the_given_fields,
            an_empty_update_changes_nothing,
            toggling_flips_completion_each_time,
            deleted_tasks_are_gone,
            parallel_creations_by_one_user_all_get_distinct_ids,
            task_ids_are_unique_across_owners_and_never_reused,
            the_rate_limit_admits_a_burst_then_refuses_with_the_wait,
            concurrent_attempts_on_one_address_never_pass_the_burst,
            account_records_are_updated_one_at_a_time_and_deleted,
            account_records_keep_every_field_and_pending_alone_is_a_record,
            concurrent_attempts_under_the_lock_policy_see_each_others_pending_marks,
            pruning_deletes_only_what_no_longer_limits,
            pruning_never_deletes_more_than_its_batch,
            a_session_beyond_the_cap_ends_the_oldest_live_ones,
            live_sessions_are_listed_newest_first_with_their_client,
            ending_a_session_says_whether_it_ended_one,
            a_rename_changes_the_name_and_moves_updated_at,
            a_password_change_ends_every_session_and_stores_the_new_one,
            a_session_is_stored_only_while_its_password_is_current,
            of_two_password_changes_checked_against_one_version_one_wins,
            a_session_racing_a_password_change_is_ended_or_refused,
            deleting_an_account_removes_everything_it_held_and_frees_the_email,
            concurrent_creations_never_pass_the_task_quota,
            events_are_listed_newest_first_and_bounded,
            pruning_deletes_only_sessions_and_events_past_retention
        );
    };
    (@cases $stores:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                if let Some((stores, _guard)) = $stores.await {
                    $crate::cases::$case(stores).await;
                }
            }
        )*
    };
}

/// A limit no case reaches (sessions per user, tasks per user).
const MANY: u32 = 10_000;

fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

fn new_user(email: &str) -> NewUser {
    let at = now();
    NewUser {
        user: User {
            id: UserId::new_random(),
            email: EmailAddress::from_trusted(EmailAddress::normalise(email)),
            name: UserName::from_trusted("Conformance".to_owned()),
            created_at: at,
            updated_at: at,
        },
        password_hash: PasswordHash::new(
            "$2b$04$0123456789012345678901uVVVVVVVVVVVVVVVVVVVVVVVVVVVVVV".to_owned(),
        ),
    }
}

/// A fresh, active session of `user_id`.
fn first_session(user_id: UserId) -> Session {
    let at = now();
    Session {
        id: SessionId::new_random(),
        user_id,
        created_at: at,
        expires_at: at + Duration::days(7),
        ended_at: None,
        client: ClientInfo {
            ip: Some(ClientAddress::new(std::net::IpAddr::from([203, 0, 113, 7]))),
            user_agent: UserAgent::parse("conformance/1.0"),
        },
    }
}

fn unique_email(tag: &str) -> String {
    format!("{tag}-{}@example.com", SessionId::new_random())
}

async fn user(stores: &Stores) -> UserId {
    let new = new_user(&unique_email("owner"));
    let id = new.user.id;
    if let Err(e) = stores.users.insert(&new, &first_session(id)).await {
        panic!("inserting a fresh user failed: {e}");
    }
    id
}

fn title(text: &str) -> TaskTitle {
    TaskTitle::from_trusted(text.to_owned())
}

fn task(text: &str) -> NewTask {
    NewTask {
        title: title(text),
        description: None,
    }
}

fn ok<T>(result: Result<T, RepoError>, what: &str) -> T {
    match result {
        Ok(value) => value,
        Err(e) => panic!("{what}: {e}"),
    }
}

/// The cases; each takes fresh stores.
pub mod cases {
    use super::*;

    /// Emails are stored normalised and found whatever the letter case of the query.
    pub async fn inserted_users_are_found_by_any_case_of_their_email_and_by_id(stores: Stores) {
        let new = new_user(&unique_email("alice"));
        ok(
            stores.users.insert(&new, &first_session(new.user.id)).await,
            "insert",
        );
        let email = new.user.email.as_str().to_owned();
        let found = ok(stores.users.find_credentials(&email).await, "find");
        let Some(found) = found else {
            panic!("the user must be found by its email");
        };
        assert_eq!(found.user, new.user);
        assert_eq!(found.hash, new.password_hash);
        assert_eq!(found.version, CredentialVersion::INITIAL);
        let upper = ok(
            stores.users.find_credentials(&email.to_uppercase()).await,
            "find upper",
        );
        assert_eq!(upper.map(|found| found.user.id), Some(new.user.id));
        let by_id = ok(stores.users.find_by_id(new.user.id).await, "by id");
        assert_eq!(by_id, Some(new.user));
    }

    /// Uniqueness ignores letter case.
    pub async fn a_second_account_with_the_same_email_in_another_case_is_a_conflict(
        stores: Stores,
    ) {
        let email = unique_email("dup");
        let first = new_user(&email);
        ok(
            stores
                .users
                .insert(&first, &first_session(first.user.id))
                .await,
            "first insert",
        );
        let mut second = new_user(&email);
        // Stored forms are lower-case; the store must still refuse a differently cased one.
        second.user.email = EmailAddress::from_trusted(email.to_uppercase());
        let result = stores
            .users
            .insert(&second, &first_session(second.user.id))
            .await;
        assert!(matches!(result, Err(RepoError::Conflict)), "{result:?}");
    }

    /// Thirty racing inserts: one wins, the others are conflicts, never another error.
    pub async fn of_concurrent_inserts_with_one_email_exactly_one_succeeds(stores: Stores) {
        let email = unique_email("race");
        let users = stores.users.clone();
        let attempts = (0..30).map(|_| {
            let users = users.clone();
            let candidate = new_user(&email);
            let session = first_session(candidate.user.id);
            tokio::spawn(async move { users.insert(&candidate, &session).await })
        });
        let results = join_all(attempts).await;
        let mut created = 0;
        for result in results {
            match result {
                Ok(Ok(())) => created += 1,
                Ok(Err(RepoError::Conflict)) => {}
                other => panic!("unexpected outcome {other:?}"),
            }
        }
        assert_eq!(created, 1);
    }

    /// Absent rows are `None`, not errors.
    pub async fn unknown_emails_and_ids_find_nothing(stores: Stores) {
        let found = ok(
            stores.users.find_credentials("nobody@example.com").await,
            "find",
        );
        assert!(found.is_none());
        let with_nul = ok(
            stores.users.find_credentials("nul\0@example.com").await,
            "find with NUL",
        );
        assert!(with_nul.is_none());
        let by_id = ok(stores.users.find_by_id(UserId::new_random()).await, "by id");
        assert!(by_id.is_none());
        let session = ok(
            stores.sessions.find(SessionId::new_random()).await,
            "session",
        );
        assert!(session.is_none());
    }

    /// Signup's write: the account and its first session together; when the session
    /// cannot be stored, no account remains, and the failure is not a conflict.
    pub async fn an_account_is_stored_with_its_first_session_or_not_at_all(stores: Stores) {
        let new = new_user(&unique_email("atomic"));
        let first = first_session(new.user.id);
        ok(stores.users.insert(&new, &first).await, "insert");
        let stored = ok(stores.sessions.find(first.id).await, "session");
        assert_eq!(stored, Some(first.clone()));

        // A second account whose first session cannot be stored (its id is taken).
        let other = new_user(&unique_email("atomic-other"));
        let mut clash = first_session(other.user.id);
        clash.id = first.id;
        let result = stores.users.insert(&other, &clash).await;
        assert!(
            matches!(result, Err(RepoError::Other(_))),
            "a taken session id must fail without being a conflict: {result:?}"
        );
        let by_id = ok(stores.users.find_by_id(other.user.id).await, "by id");
        assert_eq!(
            by_id, None,
            "the account must not outlive its failed signup"
        );
        let by_email = ok(
            stores
                .users
                .find_credentials(other.user.email.as_str())
                .await,
            "by email",
        );
        assert!(by_email.is_none());
        // The email is still free.
        ok(
            stores
                .users
                .insert(&other, &first_session(other.user.id))
                .await,
            "retry",
        );
    }

    /// A re-hash replaces the stored hash; an unknown account is not an error.
    pub async fn a_password_hash_is_replaced(stores: Stores) {
        let new = new_user(&unique_email("rehash"));
        ok(
            stores.users.insert(&new, &first_session(new.user.id)).await,
            "insert",
        );
        let replacement = PasswordHash::new(
            "$2b$05$abcdefghijklmnopqrstuuVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVV".to_owned(),
        );
        ok(
            stores
                .users
                .set_password_hash(new.user.id, &replacement, CredentialVersion::INITIAL)
                .await,
            "set",
        );
        let found = ok(
            stores.users.find_credentials(new.user.email.as_str()).await,
            "find",
        );
        assert_eq!(
            found.map(|found| (found.hash, found.version)),
            Some((replacement.clone(), CredentialVersion::INITIAL)),
            "a re-hash keeps the version"
        );
        ok(
            stores
                .users
                .set_password_hash(
                    UserId::new_random(),
                    &replacement,
                    CredentialVersion::INITIAL,
                )
                .await,
            "unknown account",
        );
        // A re-hash of a password that has changed since it was checked is dropped.
        let other = PasswordHash::new(
            "$2b$05$abcdefghijklmnopqrstuuXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX".to_owned(),
        );
        ok(
            stores
                .users
                .set_password_hash(new.user.id, &other, CredentialVersion::INITIAL.next())
                .await,
            "stale re-hash",
        );
        let kept = ok(
            stores.users.find_credentials(new.user.email.as_str()).await,
            "find",
        );
        assert_eq!(kept.map(|found| found.hash), Some(replacement));
    }

    /// An instance whose clock is an hour behind the one that created (and last
    /// changed) a task still updates and toggles it: `updated_at` moves forward and never
    /// falls before `created_at`.
    pub async fn updates_from_a_clock_behind_still_move_updated_at_forward(stores: Stores) {
        let owner = user(&stores).await;
        let created = ok(
            stores.tasks.create(owner, task("skew"), now(), MANY).await,
            "create",
        );
        let behind = created.created_at - Duration::hours(1);
        let changes = TaskChanges {
            title: Some(title("skewed")),
            ..TaskChanges::default()
        };
        let updated = ok(
            stores
                .tasks
                .update(owner, created.id, &changes, behind)
                .await,
            "update from behind",
        );
        assert_eq!(updated.title, title("skewed"));
        assert!(updated.updated_at > created.updated_at, "{updated:?}");
        assert!(updated.updated_at >= updated.created_at);
        let toggled = ok(
            stores.tasks.toggle(owner, created.id, behind).await,
            "toggle from behind",
        );
        assert!(toggled.completed);
        assert!(toggled.updated_at > updated.updated_at, "{toggled:?}");
        // A clock that is ahead is taken as it is.
        let ahead = created.created_at + Duration::hours(1);
        let later = ok(stores.tasks.toggle(owner, created.id, ahead).await, "ahead");
        assert_eq!(later.updated_at, ahead);
    }

    /// A session round-trips, ends once, and ending it again changes nothing.
    pub async fn sessions_are_stored_found_and_ended(stores: Stores) {
        let owner = user(&stores).await;
        let s = first_session(owner);
        ok(
            stores
                .sessions
                .create(&s, MANY, CredentialVersion::INITIAL)
                .await,
            "create",
        );
        assert_eq!(
            ok(stores.sessions.find(s.id).await, "find"),
            Some(s.clone())
        );
        let first_end = now();
        ok(stores.sessions.end(owner, s.id, first_end).await, "end");
        ok(
            stores
                .sessions
                .end(owner, s.id, first_end + Duration::seconds(5))
                .await,
            "end again",
        );
        let found = ok(stores.sessions.find(s.id).await, "find ended");
        assert_eq!(found.and_then(|s| s.ended_at), Some(first_end));
        // Ending an unknown session is not an error.
        ok(
            stores
                .sessions
                .end(owner, SessionId::new_random(), now())
                .await,
            "end unknown",
        );
    }

    /// `end` is scoped to the user.
    pub async fn ending_another_users_session_changes_nothing(stores: Stores) {
        let owner = user(&stores).await;
        let intruder = user(&stores).await;
        let s = first_session(owner);
        ok(
            stores
                .sessions
                .create(&s, MANY, CredentialVersion::INITIAL)
                .await,
            "create",
        );
        ok(stores.sessions.end(intruder, s.id, now()).await, "end");
        let found = ok(stores.sessions.find(s.id).await, "find");
        assert_eq!(found.map(|s| s.is_active()), Some(true));
    }

    /// `end_all` ends every active session of one user but the spared one.
    pub async fn ending_all_sessions_can_spare_one(stores: Stores) {
        let owner = user(&stores).await;
        let other = user(&stores).await;
        let mine: Vec<Session> = (0..3).map(|_| first_session(owner)).collect();
        let theirs = first_session(other);
        for s in mine.iter().chain([&theirs]) {
            ok(
                stores
                    .sessions
                    .create(s, MANY, CredentialVersion::INITIAL)
                    .await,
                "create",
            );
        }
        let ended = ok(
            stores
                .sessions
                .end_all(owner, Some(mine[0].id), now())
                .await,
            "end others",
        );
        // The two others, and the session the account was created with.
        assert_eq!(ended, 3);
        let active = |s: Option<Session>| s.map(|s| s.is_active());
        assert_eq!(
            active(ok(stores.sessions.find(mine[0].id).await, "f")),
            Some(true)
        );
        assert_eq!(
            active(ok(stores.sessions.find(mine[1].id).await, "f")),
            Some(false)
        );
        assert_eq!(
            active(ok(stores.sessions.find(theirs.id).await, "f")),
            Some(true)
        );
        let ended = ok(stores.sessions.end_all(owner, None, now()).await, "end all");
        assert_eq!(ended, 1);
        assert_eq!(
            active(ok(stores.sessions.find(mine[0].id).await, "f")),
            Some(false)
        );
    }

    /// Ids grow; what is stored is what is read back, to the microsecond.
    pub async fn created_tasks_get_distinct_increasing_ids_and_round_trip(stores: Stores) {
        let owner = user(&stores).await;
        let at = now();
        let first = ok(
            stores
                .tasks
                .create(
                    owner,
                    NewTask {
                        title: title("First"),
                        description: Some(TaskDescription::from_trusted("Details".to_owned())),
                    },
                    at,
                    MANY,
                )
                .await,
            "create",
        );
        let second = ok(
            stores.tasks.create(owner, task("Second"), at, MANY).await,
            "create",
        );
        assert!(second.id > first.id);
        assert_eq!(first.owner, owner);
        assert!(!first.completed);
        assert_eq!(first.created_at, at);
        assert_eq!(first.updated_at, at);
        assert_eq!(ok(stores.tasks.get(owner, first.id).await, "get"), first);
    }

    /// Every operation on another owner's task answers `NotFound` and changes nothing.
    pub async fn another_owners_task_is_not_found_for_any_operation(stores: Stores) {
        let owner = user(&stores).await;
        let intruder = user(&stores).await;
        let t = ok(
            stores.tasks.create(owner, task("Mine"), now(), MANY).await,
            "create",
        );
        let changes = TaskChanges {
            completed: Some(true),
            ..TaskChanges::default()
        };
        assert!(matches!(
            stores.tasks.get(intruder, t.id).await,
            Err(RepoError::NotFound)
        ));
        assert!(matches!(
            stores.tasks.update(intruder, t.id, &changes, now()).await,
            Err(RepoError::NotFound)
        ));
        assert!(matches!(
            stores.tasks.toggle(intruder, t.id, now()).await,
            Err(RepoError::NotFound)
        ));
        assert!(matches!(
            stores.tasks.delete(intruder, t.id).await,
            Err(RepoError::NotFound)
        ));
        let page = ok(
            stores
                .tasks
                .list(intruder, TaskStatusFilter::All, 100, 0)
                .await,
            "list",
        );
        assert_eq!(page.total, 0);
        assert_eq!(ok(stores.tasks.get(owner, t.id).await, "get"), t);
        assert!(matches!(
            stores.tasks.get(owner, TaskId::new(i64::MAX)).await,
            Err(RepoError::NotFound)
        ));
    }

    /// Newest first (ties by highest id), filtered by status, paged, with the full count.
    pub async fn listing_is_newest_first_filtered_paged_and_counted(stores: Stores) {
        let owner = user(&stores).await;
        let base = now();
        let mut ids = Vec::new();
        for n in 0..5 {
            // Two tasks share a timestamp: the higher id comes first.
            let at = base + Duration::seconds(n.min(3));
            let t = ok(
                stores
                    .tasks
                    .create(owner, task(&format!("t{n}")), at, MANY)
                    .await,
                "create",
            );
            if n % 2 == 0 {
                ok(stores.tasks.toggle(owner, t.id, at).await, "toggle");
            }
            ids.push(t.id);
        }
        let all = ok(
            stores
                .tasks
                .list(owner, TaskStatusFilter::All, 100, 0)
                .await,
            "all",
        );
        let order: Vec<TaskId> = all.tasks.iter().map(|t| t.id).collect();
        assert_eq!(order, [ids[4], ids[3], ids[2], ids[1], ids[0]]);
        assert_eq!(all.total, 5);
        let done = ok(
            stores
                .tasks
                .list(owner, TaskStatusFilter::Completed, 1, 1)
                .await,
            "completed",
        );
        assert_eq!(done.total, 3);
        assert_eq!(
            done.tasks.iter().map(|t| t.id).collect::<Vec<_>>(),
            [ids[2]]
        );
        let pending = ok(
            stores
                .tasks
                .list(owner, TaskStatusFilter::Pending, 100, 0)
                .await,
            "pending",
        );
        assert_eq!(pending.total, 2);
        assert!(pending.tasks.iter().all(|t| !t.completed));
        let beyond = ok(
            stores
                .tasks
                .list(owner, TaskStatusFilter::All, 10, 50)
                .await,
            "beyond",
        );
        assert!(beyond.tasks.is_empty());
        assert_eq!(beyond.total, 5);
    }

    /// `None` fields stay; `Some(None)` clears the description.
    pub async fn updates_apply_only_the_given_fields(stores: Stores) {
        let owner = user(&stores).await;
        let created = now();
        let t = ok(
            stores
                .tasks
                .create(
                    owner,
                    NewTask {
                        title: title("Before"),
                        description: Some(TaskDescription::from_trusted("Keep?".to_owned())),
                    },
                    created,
                    MANY,
                )
                .await,
            "create",
        );
        let later = created + Duration::seconds(3);
        let retitled = ok(
            stores
                .tasks
                .update(
                    owner,
                    t.id,
                    &TaskChanges {
                        title: Some(title("After")),
                        ..TaskChanges::default()
                    },
                    later,
                )
                .await,
            "retitle",
        );
        assert_eq!(retitled.title.as_str(), "After");
        assert_eq!(retitled.description, t.description);
        assert_eq!(retitled.updated_at, later);
        assert_eq!(retitled.created_at, created);
        let cleared = ok(
            stores
                .tasks
                .update(
                    owner,
                    t.id,
                    &TaskChanges {
                        description: Some(None),
                        completed: Some(true),
                        ..TaskChanges::default()
                    },
                    later,
                )
                .await,
            "clear",
        );
        assert_eq!(cleared.description, None);
        assert!(cleared.completed);
        assert_eq!(ok(stores.tasks.get(owner, t.id).await, "get"), cleared);
    }

    /// An empty change set leaves even `updated_at` alone.
    pub async fn an_empty_update_changes_nothing(stores: Stores) {
        let owner = user(&stores).await;
        let t = ok(
            stores.tasks.create(owner, task("Still"), now(), MANY).await,
            "create",
        );
        let same = ok(
            stores
                .tasks
                .update(
                    owner,
                    t.id,
                    &TaskChanges::default(),
                    now() + Duration::hours(1),
                )
                .await,
            "update",
        );
        assert_eq!(same, t);
    }

    /// Toggle flips and stamps.
    pub async fn toggling_flips_completion_each_time(stores: Stores) {
        let owner = user(&stores).await;
        let t = ok(
            stores.tasks.create(owner, task("Flip"), now(), MANY).await,
            "create",
        );
        let later = t.created_at + Duration::seconds(1);
        let on = ok(stores.tasks.toggle(owner, t.id, later).await, "on");
        assert!(on.completed);
        assert_eq!(on.updated_at, later);
        let off = ok(stores.tasks.toggle(owner, t.id, later).await, "off");
        assert!(!off.completed);
    }

    /// Deleted tasks are gone for every operation.
    pub async fn deleted_tasks_are_gone(stores: Stores) {
        let owner = user(&stores).await;
        let t = ok(
            stores.tasks.create(owner, task("Bye"), now(), MANY).await,
            "create",
        );
        ok(stores.tasks.delete(owner, t.id).await, "delete");
        assert!(matches!(
            stores.tasks.get(owner, t.id).await,
            Err(RepoError::NotFound)
        ));
        assert!(matches!(
            stores.tasks.delete(owner, t.id).await,
            Err(RepoError::NotFound)
        ));
        assert!(matches!(
            stores.tasks.toggle(owner, t.id, now()).await,
            Err(RepoError::NotFound)
        ));
    }

    /// Two hundred creations at once: all stored, all with distinct ids.
    pub async fn parallel_creations_by_one_user_all_get_distinct_ids(stores: Stores) {
        let owner = user(&stores).await;
        let creations = (0..200).map(|n| {
            let tasks = stores.tasks.clone();
            tokio::spawn(async move {
                tasks
                    .create(owner, task(&format!("p{n}")), now(), MANY)
                    .await
            })
        });
        let mut ids = Vec::new();
        for result in join_all(creations).await {
            match result {
                Ok(Ok(t)) => ids.push(t.id),
                other => panic!("creation failed: {other:?}"),
            }
        }
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 200);
        let page = ok(
            stores
                .tasks
                .list(owner, TaskStatusFilter::All, 500, 0)
                .await,
            "list",
        );
        assert_eq!(page.total, 200);
    }

    /// Ids are never reused across owners: they come from one sequence per store.
    pub async fn task_ids_are_unique_across_owners_and_never_reused(stores: Stores) {
        let a = user(&stores).await;
        let b = user(&stores).await;
        let ta = ok(stores.tasks.create(a, task("a"), now(), MANY).await, "a");
        let tb = ok(stores.tasks.create(b, task("b"), now(), MANY).await, "b");
        assert_ne!(ta.id, tb.id);
        ok(stores.tasks.delete(a, ta.id).await, "delete");
        let tc = ok(stores.tasks.create(a, task("c"), now(), MANY).await, "c");
        assert!(tc.id > tb.id, "a deleted id must not come back");
    }

    fn rate(per_minute: u32) -> Rate {
        Rate::per_minute(std::num::NonZeroU32::new(per_minute).unwrap_or(std::num::NonZeroU32::MIN))
    }

    /// The GCRA step as [`Rate::step`] defines it: a burst, then a refusal naming the
    /// wait, the TAT unchanged by refusals, and keys apart.
    pub async fn the_rate_limit_admits_a_burst_then_refuses_with_the_wait(stores: Stores) {
        let key = unique_email("ip");
        let t0 = now();
        for n in 0..4 {
            let admission = ok(stores.throttle.admit(&key, rate(4), t0).await, "admit");
            assert_eq!(admission, Admission::Admitted, "attempt {n}");
        }
        for _ in 0..3 {
            let refused = ok(stores.throttle.admit(&key, rate(4), t0).await, "admit");
            assert_eq!(
                refused,
                Admission::Limited(std::time::Duration::from_secs(15)),
                "refused with the time until the next cell"
            );
        }
        let later = t0 + Duration::seconds(15);
        let admission = ok(stores.throttle.admit(&key, rate(4), later).await, "admit");
        assert_eq!(admission, Admission::Admitted);
        let other = ok(
            stores
                .throttle
                .admit(&unique_email("ip"), rate(4), t0)
                .await,
            "admit",
        );
        assert_eq!(other, Admission::Admitted, "another key has its own budget");
    }

    /// Many attempts at once on one key: exactly the burst gets through.
    pub async fn concurrent_attempts_on_one_address_never_pass_the_burst(stores: Stores) {
        let key = unique_email("ip");
        let at = now();
        let throttle = stores.throttle.clone();
        let attempts = (0..30).map(|_| {
            let (throttle, key) = (throttle.clone(), key.clone());
            tokio::spawn(async move { throttle.admit(&key, rate(10), at).await })
        });
        let admitted = join_all(attempts)
            .await
            .into_iter()
            .map(|joined| match joined {
                Ok(result) => ok(result, "admit"),
                Err(e) => panic!("join: {e}"),
            })
            .filter(|a| *a == Admission::Admitted)
            .count();
        assert_eq!(admitted, 10);
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

    /// Concurrent updates of one account record each see the previous one's result; a
    /// step that leaves nothing to count deletes the record.
    pub async fn account_records_are_updated_one_at_a_time_and_deleted(stores: Stores) {
        let key = unique_email("account");
        let at = now();
        let policy = policy(1000);
        let fail = AccountStep::Finish(AttemptOutcome::Failed);
        let updates = (0..20).map(|_| {
            let (throttle, key) = (stores.throttle.clone(), key.clone());
            tokio::spawn(async move { throttle.update_account(&key, policy, fail, at).await })
        });
        for joined in join_all(updates).await {
            match joined {
                Ok(result) => drop(ok(result, "update")),
                Err(e) => panic!("join: {e}"),
            }
        }
        let expected = (0..20).fold(None, |record, _| {
            policy.finish(record, AttemptOutcome::Failed, at)
        });
        let success = AccountStep::Finish(AttemptOutcome::Succeeded);
        let reset = step(&stores, &key, policy, success, at).await;
        assert_eq!(reset.replaced, expected);
        assert_eq!(reset.replaced.map(|r| r.failures), Some(20));
        assert_eq!(
            stored(&stores, &key, at).await,
            None,
            "the record was deleted"
        );
    }

    /// Each step reads exactly the record the one before stored, every field to the
    /// microsecond; a record with an attempt pending but no failure is a record, not none.
    pub async fn account_records_keep_every_field_and_pending_alone_is_a_record(stores: Stores) {
        let key = unique_email("account");
        let at = now();
        let policy = policy(2);
        let micros = |n: i64| at + Duration::microseconds(n);
        let failed = AccountStep::Finish(AttemptOutcome::Failed);
        // Pending alone, two pending, a failure, the lock, its first refusal, a second.
        let steps = [
            (AccountStep::Begin, micros(1)),
            (AccountStep::Begin, micros(3)),
            (failed, micros(5)),
            (failed, micros(7)),
            (AccountStep::Begin, micros(11)),
            (AccountStep::Begin, micros(13)),
        ];
        let mut model: Option<AccountRecord> = None;
        for (n, (next, at)) in steps.into_iter().enumerate() {
            let update = step(&stores, &key, policy, next, at).await;
            assert_eq!(update.replaced, model, "step {n} read what the last stored");
            let (decision, record) = policy.apply(model, next, at);
            assert_eq!(update.decision, decision, "step {n}");
            model = record;
        }
        let last = stored(&stores, &key, micros(17)).await;
        assert_eq!(last, model);
        let record = last.unwrap_or_default();
        assert!(
            record.locked_until.is_some() && record.lock_reported,
            "{record:?}"
        );
        let pending_only = unique_email("account");
        step(&stores, &pending_only, policy, AccountStep::Begin, at).await;
        let record = stored(&stores, &pending_only, at).await;
        assert_eq!(record.map(|r| (r.failures, r.pending)), Some((0, 1)));
    }

    /// The policy's steps on one record, many at once: each sees the pending marks of the
    /// ones before it, so exactly `limit` attempts are admitted and the others held; their
    /// failures then set one lock, whose first refusal alone is the first.
    pub async fn concurrent_attempts_under_the_lock_policy_see_each_others_pending_marks(
        stores: Stores,
    ) {
        let key = unique_email("account");
        let at = now();
        let policy = policy(5);
        let all_at_once = |count: usize, next: AccountStep| {
            join_all((0..count).map(|_| {
                let (throttle, key) = (stores.throttle.clone(), key.clone());
                tokio::spawn(async move { throttle.update_account(&key, policy, next, at).await })
            }))
        };
        let decisions: Vec<AccountDecision> = all_at_once(16, AccountStep::Begin)
            .await
            .into_iter()
            .map(|joined| match joined {
                Ok(result) => ok(result, "begin").decision,
                Err(e) => panic!("join: {e}"),
            })
            .collect();
        let admitted = decisions
            .iter()
            .filter(|d| **d == AccountDecision::Admitted)
            .count();
        let held = decisions
            .iter()
            .filter(|d| **d == AccountDecision::Held)
            .count();
        assert_eq!((admitted, held), (5, 11), "{decisions:?}");
        for joined in all_at_once(5, AccountStep::Finish(AttemptOutcome::Failed)).await {
            match joined {
                Ok(result) => drop(ok(result, "finish")),
                Err(e) => panic!("join: {e}"),
            }
        }
        let firsts: Vec<bool> = all_at_once(10, AccountStep::Begin)
            .await
            .into_iter()
            .map(|joined| match joined {
                Ok(result) => match ok(result, "begin").decision {
                    AccountDecision::Locked { first, .. } => first,
                    other => panic!("not locked: {other:?}"),
                },
                Err(e) => panic!("join: {e}"),
            })
            .collect();
        assert_eq!(firsts.len(), 10);
        assert_eq!(
            firsts.iter().filter(|first| **first).count(),
            1,
            "{firsts:?}"
        );
    }

    /// Pruning deletes passed TATs and expired account records, nothing else.
    pub async fn pruning_deletes_only_what_no_longer_limits(stores: Stores) {
        let at = now();
        let (spent, fresh) = (unique_email("ip"), unique_email("ip"));
        ok(stores.throttle.admit(&spent, rate(1), at).await, "admit");
        ok(
            stores
                .throttle
                .admit(&fresh, rate(1), at + Duration::minutes(5))
                .await,
            "admit",
        );
        // Failures are remembered for the window after the last one: the old record
        // expires at `at`, the live one half an hour later.
        let window = Duration::minutes(AccountLockPolicy::WINDOW_MINUTES);
        let (old, live) = (unique_email("account"), unique_email("account"));
        failures(&stores, &old, policy(10), 3, at - window).await;
        failures(
            &stores,
            &live,
            policy(10),
            3,
            at + Duration::minutes(30) - window,
        )
        .await;
        let later = at + Duration::minutes(2);
        let pruned = ok(stores.throttle.prune(later, 100).await, "prune");
        assert_eq!(pruned, 2, "the spent rate and the expired record");
        // The fresh rate still refuses; the live record is still there.
        let refused = ok(
            stores
                .throttle
                .admit(&fresh, rate(1), at + Duration::minutes(5))
                .await,
            "admit",
        );
        assert!(matches!(refused, Admission::Limited(_)));
        let kept = stored(&stores, &live, later).await;
        assert_eq!(kept.map(|r| r.failures), Some(3));
        // The spent one starts a new budget.
        let again = ok(stores.throttle.admit(&spent, rate(1), later).await, "admit");
        assert_eq!(again, Admission::Admitted);
    }

    /// One batch covers rates and account records together: with one spent rate and
    /// one expired record, a batch of one deletes one of them, the next batch the other.
    pub async fn pruning_never_deletes_more_than_its_batch(stores: Stores) {
        let at = now();
        ok(
            stores
                .throttle
                .admit(&unique_email("ip"), rate(1), at)
                .await,
            "admit",
        );
        let window = Duration::minutes(AccountLockPolicy::WINDOW_MINUTES);
        failures(
            &stores,
            &unique_email("account"),
            policy(10),
            1,
            at - window,
        )
        .await;
        let later = at + Duration::minutes(2);
        let first = ok(stores.throttle.prune(later, 1).await, "prune");
        assert_eq!(first, 1, "a batch of one deletes one");
        let second = ok(stores.throttle.prune(later, 1).await, "prune");
        assert_eq!(second, 1, "the next batch deletes the other");
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

    /// A new session beyond the cap ends the oldest live ones (the signup's included),
    /// never another user's, never an expired or ended one counted as live.
    pub async fn a_session_beyond_the_cap_ends_the_oldest_live_ones(stores: Stores) {
        let owner = user(&stores).await;
        let other = user(&stores).await;
        let start = now() + Duration::seconds(1);
        let made: Vec<Session> = (0..4)
            .map(|n| session_at(owner, start + Duration::seconds(n)))
            .collect();
        for session in &made {
            ok(
                stores
                    .sessions
                    .create(session, 3, CredentialVersion::INITIAL)
                    .await,
                "create",
            );
        }
        let mut expected: Vec<SessionId> = made.iter().rev().take(3).map(|s| s.id).collect();
        assert_eq!(live_ids(&stores, owner).await, expected);
        assert_eq!(
            live_ids(&stores, other).await.len(),
            1,
            "another user's session stays"
        );
        // One more: the oldest of the three ends.
        let newest = session_at(owner, start + Duration::seconds(10));
        ok(
            stores
                .sessions
                .create(&newest, 3, CredentialVersion::INITIAL)
                .await,
            "create",
        );
        expected.pop();
        expected.insert(0, newest.id);
        assert_eq!(live_ids(&stores, owner).await, expected);
        let ended = ok(stores.sessions.find(made[1].id).await, "find");
        assert_eq!(ended.and_then(|s| s.ended_at), Some(newest.created_at));
    }

    /// `list_live` leaves out ended and expired sessions and keeps the client.
    pub async fn live_sessions_are_listed_newest_first_with_their_client(stores: Stores) {
        let owner = user(&stores).await;
        let mut expired = session_at(owner, now() - Duration::days(8));
        expired.expires_at = now() - Duration::days(1);
        let ended = session_at(owner, now());
        let later = session_at(owner, now() + Duration::seconds(5));
        for session in [&expired, &ended, &later] {
            ok(
                stores
                    .sessions
                    .create(session, MANY, CredentialVersion::INITIAL)
                    .await,
                "create",
            );
        }
        ok(stores.sessions.end(owner, ended.id, now()).await, "end");
        let live = ok(stores.sessions.list_live(owner, now()).await, "list");
        assert_eq!(live.first(), Some(&later));
        assert!(live.iter().all(|s| s.id != expired.id && s.id != ended.id));
        assert_eq!(live.len(), 2, "the later one and the account's first");
        assert_eq!(
            live.first().map(|s| s.client.clone()),
            Some(first_session(owner).client)
        );
    }

    /// `end` answers whether it ended a live session of that user.
    pub async fn ending_a_session_says_whether_it_ended_one(stores: Stores) {
        let owner = user(&stores).await;
        let intruder = user(&stores).await;
        let s = first_session(owner);
        ok(
            stores
                .sessions
                .create(&s, MANY, CredentialVersion::INITIAL)
                .await,
            "create",
        );
        assert!(!ok(
            stores.sessions.end(intruder, s.id, now()).await,
            "intruder"
        ));
        assert!(ok(stores.sessions.end(owner, s.id, now()).await, "owner"));
        assert!(!ok(stores.sessions.end(owner, s.id, now()).await, "again"));
        assert!(!ok(
            stores
                .sessions
                .end(owner, SessionId::new_random(), now())
                .await,
            "unknown"
        ));
    }

    /// A rename is stored, and `updated_at` moves forward even from a clock behind.
    pub async fn a_rename_changes_the_name_and_moves_updated_at(stores: Stores) {
        let new = new_user(&unique_email("rename"));
        ok(
            stores.users.insert(&new, &first_session(new.user.id)).await,
            "insert",
        );
        let name = UserName::from_trusted("Renamed".to_owned());
        let behind = new.user.created_at - Duration::hours(1);
        let renamed = ok(
            stores.users.set_name(new.user.id, &name, behind).await,
            "rename",
        );
        assert_eq!(renamed.name, name);
        assert!(renamed.updated_at > new.user.updated_at);
        let found = ok(stores.users.find_by_id(new.user.id).await, "find");
        assert_eq!(found.map(|u| u.name), Some(name.clone()));
        let gone = stores
            .users
            .set_name(UserId::new_random(), &name, now())
            .await;
        assert!(matches!(gone, Err(RepoError::NotFound)), "{gone:?}");
    }

    /// The password change: new hash, every session ended, the new one live.
    pub async fn a_password_change_ends_every_session_and_stores_the_new_one(stores: Stores) {
        let new = new_user(&unique_email("password"));
        let first = first_session(new.user.id);
        ok(stores.users.insert(&new, &first).await, "insert");
        let second = first_session(new.user.id);
        ok(
            stores
                .sessions
                .create(&second, MANY, CredentialVersion::INITIAL)
                .await,
            "second",
        );
        let hash = PasswordHash::new(
            "$2b$05$abcdefghijklmnopqrstuuWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW".to_owned(),
        );
        let replacement = first_session(new.user.id);
        let at = now();
        ok(
            stores
                .users
                .change_password(
                    new.user.id,
                    &hash,
                    &replacement,
                    at,
                    CredentialVersion::INITIAL,
                )
                .await,
            "change",
        );
        assert_eq!(live_ids(&stores, new.user.id).await, [replacement.id]);
        for old in [first.id, second.id] {
            let ended = ok(stores.sessions.find(old).await, "find");
            assert_eq!(ended.and_then(|s| s.ended_at), Some(at));
        }
        let found = ok(
            stores.users.find_credentials(new.user.email.as_str()).await,
            "find",
        );
        assert_eq!(
            found.map(|found| (found.hash, found.version)),
            Some((hash.clone(), CredentialVersion::INITIAL.next()))
        );
        // An unknown account changes nothing, not even the session table.
        let orphan = first_session(UserId::new_random());
        let gone = stores
            .users
            .change_password(
                orphan.user_id,
                &hash,
                &orphan,
                now(),
                CredentialVersion::INITIAL,
            )
            .await;
        assert!(matches!(gone, Err(RepoError::NotFound)), "{gone:?}");
        assert_eq!(ok(stores.sessions.find(orphan.id).await, "orphan"), None);
    }

    /// A session checked against a password that has since changed, or of an account
    /// that is gone, is not stored.
    pub async fn a_session_is_stored_only_while_its_password_is_current(stores: Stores) {
        let new = new_user(&unique_email("checked"));
        ok(
            stores.users.insert(&new, &first_session(new.user.id)).await,
            "insert",
        );
        let replacement = first_session(new.user.id);
        ok(
            stores
                .users
                .change_password(
                    new.user.id,
                    &new.password_hash,
                    &replacement,
                    now(),
                    CredentialVersion::INITIAL,
                )
                .await,
            "change",
        );
        let old = first_session(new.user.id);
        let refused = stores
            .sessions
            .create(&old, MANY, CredentialVersion::INITIAL)
            .await;
        assert!(matches!(refused, Err(RepoError::NotFound)), "{refused:?}");
        assert_eq!(ok(stores.sessions.find(old.id).await, "find"), None);
        let current = first_session(new.user.id);
        ok(
            stores
                .sessions
                .create(&current, MANY, CredentialVersion::INITIAL.next())
                .await,
            "current",
        );
        let mut live = live_ids(&stores, new.user.id).await;
        live.sort();
        let mut expected = vec![replacement.id, current.id];
        expected.sort();
        assert_eq!(live, expected);
        // An account that is gone (deleted while its signin was being checked).
        ok(stores.users.delete(new.user.id).await, "delete");
        let orphan = first_session(new.user.id);
        let gone = stores
            .sessions
            .create(&orphan, MANY, CredentialVersion::INITIAL.next())
            .await;
        assert!(matches!(gone, Err(RepoError::NotFound)), "{gone:?}");
        let unknown = first_session(UserId::new_random());
        let gone = stores
            .sessions
            .create(&unknown, MANY, CredentialVersion::INITIAL)
            .await;
        assert!(matches!(gone, Err(RepoError::NotFound)), "{gone:?}");
    }

    /// Two changes checked against the same password, at once: one succeeds, the other
    /// is a conflict and changes nothing; a later change against the old version too.
    pub async fn of_two_password_changes_checked_against_one_version_one_wins(stores: Stores) {
        let new = new_user(&unique_email("twochanges"));
        ok(
            stores.users.insert(&new, &first_session(new.user.id)).await,
            "insert",
        );
        let hashes = ["A", "B"].map(|letter| {
            PasswordHash::new(format!(
                "$2b$05$abcdefghijklmnopqrstuu{}",
                letter.repeat(31)
            ))
        });
        let sessions = [first_session(new.user.id), first_session(new.user.id)];
        let attempts = hashes.iter().zip(&sessions).map(|(hash, session)| {
            let users = stores.users.clone();
            let (hash, session, id) = (hash.clone(), session.clone(), new.user.id);
            tokio::spawn(async move {
                users
                    .change_password(id, &hash, &session, now(), CredentialVersion::INITIAL)
                    .await
            })
        });
        let results: Vec<_> = join_all(attempts)
            .await
            .into_iter()
            .map(|joined| joined.unwrap_or_else(|e| panic!("the change panicked: {e}")))
            .collect();
        let won: Vec<usize> = (0..2).filter(|&i| results[i].is_ok()).collect();
        assert_eq!(won.len(), 1, "{results:?}");
        let lost = 1 - won[0];
        assert!(
            matches!(results[lost], Err(RepoError::Conflict)),
            "{results:?}"
        );
        let found = ok(
            stores.users.find_credentials(new.user.email.as_str()).await,
            "find",
        );
        assert_eq!(
            found.map(|found| (found.hash, found.version)),
            Some((hashes[won[0]].clone(), CredentialVersion::INITIAL.next()))
        );
        assert_eq!(live_ids(&stores, new.user.id).await, [sessions[won[0]].id]);
        let late = first_session(new.user.id);
        let again = stores
            .users
            .change_password(
                new.user.id,
                &hashes[lost],
                &late,
                now(),
                CredentialVersion::INITIAL,
            )
            .await;
        assert!(matches!(again, Err(RepoError::Conflict)), "{again:?}");
        assert_eq!(ok(stores.sessions.find(late.id).await, "late"), None);
    }

    /// Signins of the old password storing their sessions while a password change
    /// commits: each is either stored before the change (and ended by it) or refused.
    /// Only the change's own session is live afterwards.
    pub async fn a_session_racing_a_password_change_is_ended_or_refused(stores: Stores) {
        let new = new_user(&unique_email("racing"));
        ok(
            stores.users.insert(&new, &first_session(new.user.id)).await,
            "insert",
        );
        let replacement = first_session(new.user.id);
        let signins = (0..10).map(|_| {
            let sessions = stores.sessions.clone();
            let session = first_session(new.user.id);
            tokio::spawn(async move {
                sessions
                    .create(&session, MANY, CredentialVersion::INITIAL)
                    .await
            })
        });
        let change = {
            let users = stores.users.clone();
            let (hash, session, id) = (new.password_hash.clone(), replacement.clone(), new.user.id);
            tokio::spawn(async move {
                users
                    .change_password(id, &hash, &session, now(), CredentialVersion::INITIAL)
                    .await
            })
        };
        let (signins, change) = tokio::join!(join_all(signins), change);
        ok(
            change.unwrap_or_else(|e| panic!("the change panicked: {e}")),
            "change",
        );
        for signin in signins {
            match signin.unwrap_or_else(|e| panic!("the signin panicked: {e}")) {
                Ok(()) | Err(RepoError::NotFound) => {}
                Err(other) => panic!("a signin racing a change: {other}"),
            }
        }
        assert_eq!(live_ids(&stores, new.user.id).await, [replacement.id]);
    }

    /// Deleting an account removes its sessions, tasks and events; the email is free.
    pub async fn deleting_an_account_removes_everything_it_held_and_frees_the_email(
        stores: Stores,
    ) {
        let new = new_user(&unique_email("delete"));
        let id = new.user.id;
        let first = first_session(id);
        ok(stores.users.insert(&new, &first).await, "insert");
        let doomed = ok(
            stores.tasks.create(id, task("doomed"), now(), MANY).await,
            "task",
        );
        ok(
            stores
                .events
                .record(&event(id, SecurityEventKind::SignUp, now()))
                .await,
            "event",
        );
        let keeper = user(&stores).await;
        let kept = ok(
            stores.tasks.create(keeper, task("kept"), now(), MANY).await,
            "kept",
        );

        ok(stores.users.delete(id).await, "delete");
        assert_eq!(ok(stores.users.find_by_id(id).await, "find"), None);
        assert_eq!(ok(stores.sessions.find(first.id).await, "session"), None);
        assert!(matches!(
            stores.tasks.get(id, doomed.id).await,
            Err(RepoError::NotFound)
        ));
        assert!(ok(stores.events.list(id, 10).await, "events").is_empty());
        assert!(matches!(
            stores.users.delete(id).await,
            Err(RepoError::NotFound)
        ));
        assert_eq!(
            ok(stores.tasks.get(keeper, kept.id).await, "kept").id,
            kept.id
        );
        let again = new_user(new.user.email.as_str());
        ok(
            stores
                .users
                .insert(&again, &first_session(again.user.id))
                .await,
            "again",
        );
    }

    /// Twenty creations at once with room for five: exactly five tasks; a deletion
    /// makes room for one more.
    pub async fn concurrent_creations_never_pass_the_task_quota(stores: Stores) {
        let owner = user(&stores).await;
        let attempts = (0..20).map(|n| {
            let tasks = stores.tasks.clone();
            tokio::spawn(async move { tasks.create(owner, task(&format!("q{n}")), now(), 5).await })
        });
        let mut created = Vec::new();
        for result in join_all(attempts).await {
            match result {
                Ok(Ok(task)) => created.push(task),
                Ok(Err(RepoError::LimitReached)) => {}
                other => panic!("unexpected outcome {other:?}"),
            }
        }
        assert_eq!(created.len(), 5);
        let page = ok(
            stores
                .tasks
                .list(owner, TaskStatusFilter::All, 100, 0)
                .await,
            "list",
        );
        assert_eq!(page.total, 5);
        let full = stores.tasks.create(owner, task("over"), now(), 5).await;
        assert!(matches!(full, Err(RepoError::LimitReached)), "{full:?}");
        if let Some(first) = created.first() {
            ok(stores.tasks.delete(owner, first.id).await, "delete");
        }
        ok(
            stores.tasks.create(owner, task("room"), now(), 5).await,
            "room",
        );
    }

    fn event(user_id: UserId, kind: SecurityEventKind, at: DateTime<Utc>) -> SecurityEvent {
        SecurityEvent {
            user_id,
            kind,
            at,
            client: first_session(user_id).client,
        }
    }

    /// Events come back newest first, then latest recorded first, at most `limit`, and
    /// only the user's.
    pub async fn events_are_listed_newest_first_and_bounded(stores: Stores) {
        let owner = user(&stores).await;
        let other = user(&stores).await;
        let at = now();
        let recorded = [
            event(owner, SecurityEventKind::SignUp, at),
            event(owner, SecurityEventKind::SignIn, at + Duration::seconds(1)),
            event(
                owner,
                SecurityEventKind::SignInFailed,
                at + Duration::seconds(1),
            ),
            event(other, SecurityEventKind::SignIn, at + Duration::seconds(2)),
            event(
                owner,
                SecurityEventKind::NameChanged,
                at + Duration::seconds(3),
            ),
        ];
        for e in &recorded {
            ok(stores.events.record(e).await, "record");
        }
        let listed = ok(stores.events.list(owner, 10).await, "list");
        let kinds: Vec<SecurityEventKind> = listed.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [
                SecurityEventKind::NameChanged,
                SecurityEventKind::SignInFailed,
                SecurityEventKind::SignIn,
                SecurityEventKind::SignUp,
            ]
        );
        assert_eq!(listed.first(), Some(&recorded[4]));
        assert_eq!(ok(stores.events.list(owner, 2).await, "bounded").len(), 2);
    }

    /// Retention deletes sessions ended or expired before the cut-off and events from
    /// before it, in batches, and nothing else.
    pub async fn pruning_deletes_only_sessions_and_events_past_retention(stores: Stores) {
        let owner = user(&stores).await;
        let cut = now() - Duration::days(30);
        let mut old_ended = session_at(owner, cut - Duration::days(10));
        old_ended.ended_at = Some(cut - Duration::days(5));
        let mut old_expired = session_at(owner, cut - Duration::days(10));
        old_expired.expires_at = cut - Duration::days(3);
        let mut recently_ended = session_at(owner, cut - Duration::days(10));
        recently_ended.ended_at = Some(cut + Duration::days(1));
        recently_ended.expires_at = cut + Duration::days(5);
        let live = session_at(owner, cut - Duration::days(1));
        for session in [&old_ended, &old_expired, &recently_ended, &live] {
            ok(
                stores
                    .sessions
                    .create(session, MANY, CredentialVersion::INITIAL)
                    .await,
                "create",
            );
        }
        let old_event = event(owner, SecurityEventKind::SignIn, cut - Duration::seconds(1));
        let new_event = event(
            owner,
            SecurityEventKind::SignOut,
            cut + Duration::seconds(1),
        );
        ok(stores.events.record(&old_event).await, "old event");
        ok(stores.events.record(&new_event).await, "new event");

        assert_eq!(ok(stores.sessions.prune(cut, 1).await, "first batch"), 1);
        assert_eq!(ok(stores.sessions.prune(cut, 100).await, "rest"), 1);
        assert_eq!(ok(stores.sessions.prune(cut, 100).await, "nothing left"), 0);
        for gone in [old_ended.id, old_expired.id] {
            assert_eq!(ok(stores.sessions.find(gone).await, "gone"), None);
        }
        for kept in [recently_ended.id, live.id] {
            assert!(ok(stores.sessions.find(kept).await, "kept").is_some());
        }
        assert_eq!(ok(stores.events.prune(cut, 100).await, "events"), 1);
        assert_eq!(ok(stores.events.list(owner, 10).await, "left"), [new_event]);
    }
}
