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
            pruning_deletes_only_sessions_and_events_past_retention,
            a_queued_mail_is_claimed_once_then_finished_and_gone,
            concurrent_claims_never_hand_out_one_mail_twice,
            a_claim_past_its_lease_frees_the_mail_and_loses_its_hold,
            a_retried_mail_is_due_at_its_time_with_one_failure_more,
            a_link_works_until_it_expires_and_a_newer_one_of_its_purpose_voids_it,
            the_quota_refuses_with_its_wait_and_stores_nothing,
            mail_for_an_account_that_does_not_exist_is_not_found,
            deleting_an_account_drops_its_links_and_mail,
            pruning_deletes_expired_links_within_its_batch,
            a_reset_through_its_link_changes_everything_it_promises_at_once,
            a_reset_without_a_live_reset_link_is_not_found_and_changes_nothing,
            of_two_resets_with_one_link_exactly_one_succeeds,
            a_password_change_voids_reset_links_and_queues_its_notice,
            an_account_is_stored_with_its_verification_mail_and_link,
            a_verification_link_proves_the_address_once,
            a_change_link_moves_the_email_and_tells_the_former_address,
            a_link_that_cannot_be_confirmed_changes_nothing,
            queueing_and_using_links_of_one_account_at_once_never_fail,
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
            email_verified: false,
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
    if let Err(e) = stores
        .users
        .insert(&new, Some(&first_session(id)), None)
        .await
    {
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
pub mod cases;
