//! An exhausted pool answers "unavailable" within its wait, and serves again once a
//! connection is returned.

use std::time::{Duration, Instant};

use tessera_application::ports::{RepoError, TaskRepository, UserRepository};
use tessera_domain::{TaskId, UserId};
use tessera_postgres::testing::{TestDatabase, hold_connection, lock_table, small_store};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exhausted_pool_is_unavailable_within_its_wait_and_recovers() {
    let Some(db) = TestDatabase::create_or_skip().await else {
        return;
    };
    let store = small_store(db.url(), 1, Duration::from_millis(200));
    let held = match hold_connection(&store).await {
        Ok(held) => held,
        Err(e) => panic!("first connection: {e}"),
    };
    let began = Instant::now();
    let result = store.get(UserId::new_random(), TaskId::new(1)).await;
    assert!(
        matches!(result, Err(RepoError::Unavailable(_))),
        "{result:?}"
    );
    assert!(
        began.elapsed() < Duration::from_secs(5),
        "{:?}",
        began.elapsed()
    );
    assert_eq!(store.status()[0].waiting, 0);
    // Accounts have a pool of their own: an exhausted task pool does not stop them.
    let result = store.find_by_id(UserId::new_random()).await;
    assert!(matches!(result, Ok(None)), "{result:?}");

    drop(held);
    let result = store.get(UserId::new_random(), TaskId::new(1)).await;
    assert!(matches!(result, Err(RepoError::NotFound)), "{result:?}");
}

/// A request dropped in the middle of a throttle update (its client hung up) must not
/// leave the account's row locked by a transaction nobody will finish.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_update_dropped_halfway_leaves_no_lock_behind() {
    use tessera_application::ports::ThrottleStore;
    use tessera_domain::{AccountLockPolicy, AccountStep, AttemptOutcome};

    let Some(db) = TestDatabase::create_or_skip().await else {
        return;
    };
    let store = small_store(db.url(), 2, Duration::from_millis(500));
    let policy = AccountLockPolicy::new(std::num::NonZeroU32::MIN, 900);
    let failed = AccountStep::Finish(AttemptOutcome::Failed);
    let key = "account:halfway@example.com";
    // The table is locked by another session, so the update stops inside its
    // transaction, and is dropped there.
    let lock = match lock_table(db.url(), "account_throttle").await {
        Ok(lock) => lock,
        Err(e) => panic!("lock: {e}"),
    };
    let dropped = tokio::time::timeout(
        Duration::from_millis(200),
        store.update_account(key, policy, failed, chrono::Utc::now()),
    )
    .await;
    assert!(dropped.is_err(), "the update should have been dropped");
    drop(lock);
    let began = Instant::now();
    let next = store
        .update_account(key, policy, AccountStep::Begin, chrono::Utc::now())
        .await;
    assert!(
        began.elapsed() < Duration::from_secs(1),
        "the next update waited {:?} for a lock",
        began.elapsed()
    );
    match next {
        Ok(update) => assert_eq!(update.replaced, None, "the dropped update was rolled back"),
        Err(e) => panic!("next update: {e}"),
    }
}
