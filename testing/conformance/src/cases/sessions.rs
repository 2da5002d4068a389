//! Sessions: storing, finding, ending, the cap, the live list.

use super::*;

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
