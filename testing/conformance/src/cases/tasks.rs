//! Tasks: ids, ownership, listing, updates, toggling, deletion, the quota.

use super::*;

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
