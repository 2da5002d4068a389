//! Accounts: insertion, lookups, credentials and their versions, renames, password
//! changes and deletion.

use super::*;

/// Emails are stored normalised and found whatever the letter case of the query.
pub async fn inserted_users_are_found_by_any_case_of_their_email_and_by_id(stores: Stores) {
    let new = new_user(&unique_email("alice"));
    ok(
        stores
            .users
            .insert(&new, Some(&first_session(new.user.id)), None)
            .await,
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
pub async fn a_second_account_with_the_same_email_in_another_case_is_a_conflict(stores: Stores) {
    let email = unique_email("dup");
    let first = new_user(&email);
    ok(
        stores
            .users
            .insert(&first, Some(&first_session(first.user.id)), None)
            .await,
        "first insert",
    );
    let mut second = new_user(&email);
    // Stored forms are lower-case; the store must still refuse a differently cased one.
    second.user.email = EmailAddress::from_trusted(email.to_uppercase());
    let result = stores
        .users
        .insert(&second, Some(&first_session(second.user.id)), None)
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
        tokio::spawn(async move { users.insert(&candidate, Some(&session), None).await })
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
    ok(
        stores.users.insert(&new, Some(&first), None).await,
        "insert",
    );
    let stored = ok(stores.sessions.find(first.id).await, "session");
    assert_eq!(stored, Some(first.clone()));

    // A second account whose first session cannot be stored (its id is taken).
    let other = new_user(&unique_email("atomic-other"));
    let mut clash = first_session(other.user.id);
    clash.id = first.id;
    let result = stores.users.insert(&other, Some(&clash), None).await;
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
            .insert(&other, Some(&first_session(other.user.id)), None)
            .await,
        "retry",
    );
}

/// A re-hash replaces the stored hash; an unknown account is not an error.
pub async fn a_password_hash_is_replaced(stores: Stores) {
    let new = new_user(&unique_email("rehash"));
    ok(
        stores
            .users
            .insert(&new, Some(&first_session(new.user.id)), None)
            .await,
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

/// A rename is stored, and `updated_at` moves forward even from a clock behind.
pub async fn a_rename_changes_the_name_and_moves_updated_at(stores: Stores) {
    let new = new_user(&unique_email("rename"));
    ok(
        stores
            .users
            .insert(&new, Some(&first_session(new.user.id)), None)
            .await,
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
    ok(
        stores.users.insert(&new, Some(&first), None).await,
        "insert",
    );
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
                &changed_notice(new.user.id),
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
            &changed_notice(orphan.user_id),
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
        stores
            .users
            .insert(&new, Some(&first_session(new.user.id)), None)
            .await,
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
                &changed_notice(new.user.id),
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
        stores
            .users
            .insert(&new, Some(&first_session(new.user.id)), None)
            .await,
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
                .change_password(
                    id,
                    &hash,
                    &session,
                    now(),
                    CredentialVersion::INITIAL,
                    &changed_notice(id),
                )
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
            &changed_notice(new.user.id),
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
        stores
            .users
            .insert(&new, Some(&first_session(new.user.id)), None)
            .await,
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
                .change_password(
                    id,
                    &hash,
                    &session,
                    now(),
                    CredentialVersion::INITIAL,
                    &changed_notice(id),
                )
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
pub async fn deleting_an_account_removes_everything_it_held_and_frees_the_email(stores: Stores) {
    let new = new_user(&unique_email("delete"));
    let id = new.user.id;
    let first = first_session(id);
    ok(
        stores.users.insert(&new, Some(&first), None).await,
        "insert",
    );
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
            .insert(&again, Some(&first_session(again.user.id)), None)
            .await,
        "again",
    );
}
