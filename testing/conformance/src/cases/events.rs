//! Security events, and the retention of sessions and events.

use super::*;

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
