//! `DELETE /api/{user_id}/tasks/{id}`, and every modifying route on a task that is not
//! there.

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::titles;
use crate::helpers::{app_with_user, assert_task_not_found, expect_status, task_id, task_path};

#[tokio::test]
async fn delete_task_returns_a_message_and_the_task_is_gone() {
    let (app, user) = app_with_user().await;
    let kept = app.create_task(&user, "Keep").await;
    let doomed = app.create_task(&user, "Delete").await;
    let path = task_path(&user.id, task_id(&doomed));

    let response = app.call(Method::DELETE, &path, user.auth()).await;
    let body = expect_status(response, StatusCode::OK).await;
    assert_eq!(body, json!({"message": "Task deleted successfully"}));

    assert_task_not_found("GET after DELETE", app.get(&path, user.auth()).await).await;
    let again = app.call(Method::DELETE, &path, user.auth()).await;
    assert_task_not_found("DELETE again", again).await;
    assert_eq!(app.list_tasks(&user).await, json!([kept]));
}

#[tokio::test]
async fn modifying_an_unknown_or_non_integer_task_id_returns_task_not_found() {
    let (app, user) = app_with_user().await;
    app.create_task(&user, "exists").await;
    for id in ["999999", "abc", "99999999999999999999"] {
        let path = task_path(&user.id, id);
        let complete = format!("{path}/complete");
        let body = json!({"title": "Whatever", "completed": true});
        let put = app
            .json_request(Method::PUT, &path, &body, user.auth())
            .await;
        assert_task_not_found(&format!("PUT {id}"), put).await;
        let patch = app
            .json_request(Method::PATCH, &path, &body, user.auth())
            .await;
        assert_task_not_found(&format!("PATCH {id}"), patch).await;
        let toggle_patch = app.call(Method::PATCH, &complete, user.auth()).await;
        assert_task_not_found(&format!("PATCH complete {id}"), toggle_patch).await;
        let toggle_post = app.call(Method::POST, &complete, user.auth()).await;
        assert_task_not_found(&format!("POST complete {id}"), toggle_post).await;
        let delete = app.call(Method::DELETE, &path, user.auth()).await;
        assert_task_not_found(&format!("DELETE {id}"), delete).await;
    }
    assert_eq!(titles(&app.list_tasks(&user).await), ["exists"]);
}
