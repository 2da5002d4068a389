//! `GET /api/{user_id}/tasks/{id}`.

use reqwest::StatusCode;
use serde_json::json;

use super::create;
use crate::helpers::{app_with_user, assert_task_not_found, expect_status, task_id, task_path};

#[tokio::test]
async fn get_task_returns_the_task() {
    let (app, user) = app_with_user().await;
    let task = create(
        &app,
        &user,
        &json!({"title": "Read", "description": "A book"}),
    )
    .await;
    let response = app
        .get(&task_path(&user.id, task_id(&task)), user.auth())
        .await;
    assert_eq!(expect_status(response, StatusCode::OK).await, task);
}

#[tokio::test]
async fn get_task_with_an_unknown_or_non_integer_id_returns_task_not_found() {
    let (app, user) = app_with_user().await;
    app.create_task(&user, "exists").await;
    for id in ["999999", "0", "-1", "abc", "1.5", "99999999999999999999"] {
        let response = app.get(&task_path(&user.id, id), user.auth()).await;
        assert_task_not_found(id, response).await;
    }
}
