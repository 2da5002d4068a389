//! `DELETE /api/auth/me`: everything the account held goes, and its email is free again.

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::ME;
use crate::helpers::{
    app_with_user, assert_error, assert_revoked, assert_validation, expect_status, string_at,
    task_path, tasks_path, unique_password,
};

#[tokio::test]
async fn deleting_the_account_removes_its_tasks_and_sessions_and_frees_the_email() {
    let (app, user) = app_with_user().await;
    let other = app.new_token(&user).await;
    let task = app.create_task(&user, "Gone soon").await;
    let response = app
        .json_request(Method::DELETE, ME, &json!({}), user.auth())
        .await;
    assert_validation(response, "password", "Password is required").await;
    let response = app
        .json_request(
            Method::DELETE,
            ME,
            &json!({"password": "wrong-password-1"}),
            user.auth(),
        )
        .await;
    assert_error(
        response,
        StatusCode::BAD_REQUEST,
        "invalid_credentials",
        "Password is incorrect",
    )
    .await;
    // Nothing was deleted.
    app.get_task(&user, task["id"].as_i64().unwrap_or_default())
        .await;

    let body = json!({"password": user.password});
    let deleted = expect_status(
        app.json_request(Method::DELETE, ME, &body, user.auth())
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(deleted, json!({"message": "Account deleted"}));
    assert_revoked(app.me(&user.token).await).await;
    assert_revoked(app.me(&other).await).await;
    let response = app.get(&tasks_path(&user.id), Some(&other)).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let signin = app.signin(&user.email, &user.password).await;
    assert_eq!(signin.status(), StatusCode::BAD_REQUEST);
    // The email signs up again, as a new account with no tasks.
    let again = expect_status(
        app.signup("Again", &user.email, &unique_password()).await,
        StatusCode::CREATED,
    )
    .await;
    assert_ne!(again["user"]["id"], user.id.as_str());
    let id = string_at(&again, "/user/id");
    let token = string_at(&again, "/token");
    let tasks = expect_status(
        app.get(&tasks_path(&id), Some(&token)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(tasks, json!([]));
    let old_task = app
        .get(
            &task_path(&id, task["id"].as_i64().unwrap_or_default()),
            Some(&token),
        )
        .await;
    assert_eq!(old_task.status(), StatusCode::NOT_FOUND);
}
