//! The rate-limit and throttle counts: the GCRA step, account records, pruning.

use super::*;

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
