//! The task quota of one account, and the offset bound of its list.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{assert_error, expect_status, spawn_app_with, task_path, tasks_path};

#[tokio::test]
async fn the_task_quota_refuses_one_task_more_and_bounds_the_offset() {
    let app = spawn_app_with(&[("MAX_TASKS_PER_USER", "3")]).await;
    let user = app.signed_up_user().await;
    let mut ids = Vec::new();
    for n in 0..3 {
        ids.push(app.create_task(&user, &format!("task {n}")).await["id"].clone());
    }
    let response = app
        .post_json(
            &tasks_path(&user.id),
            &json!({"title": "one too many"}),
            user.auth(),
        )
        .await;
    assert_error(
        response,
        StatusCode::CONFLICT,
        "quota_exceeded",
        "You have reached the maximum number of tasks",
    )
    .await;
    assert_eq!(
        app.list_tasks(&user).await.as_array().map(Vec::len),
        Some(3)
    );
    let first = ids[0].as_i64().unwrap_or_default();
    expect_status(
        app.call(Method::DELETE, &task_path(&user.id, first), user.auth())
            .await,
        StatusCode::OK,
    )
    .await;
    app.create_task(&user, "room again").await;
    // Another user's quota is their own.
    let other = app.signed_up_user().await;
    app.create_task(&other, "mine").await;

    let at_limit = app
        .get(&format!("{}?offset=3", tasks_path(&user.id)), user.auth())
        .await;
    expect_status(at_limit, StatusCode::OK).await;
    let beyond = app
        .get(&format!("{}?offset=4", tasks_path(&user.id)), user.auth())
        .await;
    assert_eq!(beyond.status(), StatusCode::BAD_REQUEST);
}
