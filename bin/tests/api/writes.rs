//! The task write budgets: per account (`TASK_WRITES_PER_MINUTE`) and per client address
//! (`TASK_WRITES_PER_MINUTE_PER_ADDRESS`), `0` for off.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{
    TestApp, TestUser, assert_rate_limited, expect_status, spawn_app_with, task_path, tasks_path,
};

async fn create(app: &TestApp, user: &TestUser, title: &str) -> reqwest::Response {
    app.post_json(&tasks_path(&user.id), &json!({"title": title}), user.auth())
        .await
}

#[tokio::test]
async fn an_account_past_its_write_budget_is_refused_every_kind_of_write() {
    let app = spawn_app_with(&[
        ("TASK_WRITES_PER_MINUTE", "4"),
        ("TASK_WRITES_PER_MINUTE_PER_ADDRESS", "0"),
    ])
    .await;
    let user = app.signed_up_user().await;
    let task = app.create_task(&user, "one").await;
    let id = task["id"].as_i64().unwrap_or_default();
    let path = task_path(&user.id, id);
    expect_status(
        app.json_request(Method::PATCH, &path, &json!({"title": "two"}), user.auth())
            .await,
        StatusCode::OK,
    )
    .await;
    expect_status(
        app.call(Method::PATCH, &format!("{path}/complete"), user.auth())
            .await,
        StatusCode::OK,
    )
    .await;
    expect_status(create(&app, &user, "three").await, StatusCode::CREATED).await;
    // The budget is spent: every write is refused, and nothing is stored.
    let wait = assert_rate_limited(create(&app, &user, "refused").await).await;
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
    let wait = assert_rate_limited(
        app.json_request(
            Method::PUT,
            &path,
            &json!({"title": "refused"}),
            user.auth(),
        )
        .await,
    )
    .await;
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
    let wait = assert_rate_limited(
        app.call(Method::POST, &format!("{path}/complete"), user.auth())
            .await,
    )
    .await;
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
    let wait = assert_rate_limited(app.call(Method::DELETE, &path, user.auth()).await).await;
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
    let list = app.list_tasks(&user).await;
    assert_eq!(list.as_array().map(Vec::len), Some(2));
    assert_eq!(app.get_task(&user, id).await["title"], "two");
    // Reads are not writes; another account has a budget of its own.
    expect_status(app.get(&path, user.auth()).await, StatusCode::OK).await;
    let other = app.signed_up_user().await;
    expect_status(create(&app, &other, "mine").await, StatusCode::CREATED).await;
}

#[tokio::test]
async fn one_address_shares_one_budget_over_all_its_accounts() {
    let app = spawn_app_with(&[
        ("TASK_WRITES_PER_MINUTE", "0"),
        ("TASK_WRITES_PER_MINUTE_PER_ADDRESS", "6"),
    ])
    .await;
    let users = [app.signed_up_user().await, app.signed_up_user().await];
    for n in 0..6 {
        let user = &users[n % 2];
        expect_status(create(&app, user, "shared").await, StatusCode::CREATED).await;
    }
    for user in &users {
        let wait = assert_rate_limited(create(&app, user, "refused").await).await;
        assert!((1..=60).contains(&wait), "Retry-After {wait}");
    }
}

#[tokio::test]
async fn zero_turns_the_write_budgets_off() {
    let app = spawn_app_with(&[
        ("TASK_WRITES_PER_MINUTE", "0"),
        ("TASK_WRITES_PER_MINUTE_PER_ADDRESS", "0"),
    ])
    .await;
    let user = app.signed_up_user().await;
    for n in 0..40 {
        expect_status(
            create(&app, &user, &format!("task {n}")).await,
            StatusCode::CREATED,
        )
        .await;
    }
}

#[tokio::test]
async fn the_default_budget_refuses_a_flood_from_one_account() {
    let app = spawn_app_with(&[]).await;
    let user = app.signed_up_user().await;
    let mut created = 0;
    let mut refused = None;
    // The default is a burst of 600 a minute: a bounded flood finds its end.
    for n in 0..700 {
        let response = create(&app, &user, &format!("flood {n}")).await;
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            refused = Some(response);
            break;
        }
        expect_status(response, StatusCode::CREATED).await;
        created += 1;
    }
    // 600 at once, and the few the budget refilled meanwhile (10 a second).
    assert!((600..700).contains(&created), "{created} created");
    let wait = assert_rate_limited(refused.expect("the flood was refused")).await;
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
}
