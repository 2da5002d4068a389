//! JSON bodies: a key twice, and the media types that are read.

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{JSON, SIGNUP};
use crate::helpers::{
    app_with_user, assert_error_in, assert_invalid_json, expect_status, task_path, tasks_path,
};

const SIGNIN: &str = "/api/auth/signin";

#[tokio::test]
async fn a_key_twice_is_invalid_json_on_every_body_and_changes_nothing() {
    let (app, user) = app_with_user().await;
    let tasks = tasks_path(&user.id);
    for body in [
        r#"{"title":"a","title":"b"}"#,
        r#"{"title":"a","\u0074itle":"b"}"#,
        r#"{"title":"a","description":"x","description":"y"}"#,
        r#"{"title":"a","extra":{"k":1,"k":2}}"#,
    ] {
        let response = app.raw(Method::POST, &tasks, body, JSON, user.auth()).await;
        assert_invalid_json(body, response).await;
    }
    let listed = app.list_tasks(&user).await;
    assert_eq!(listed, json!([]), "no task may have been created");

    let task = app.create_task(&user, "kept").await;
    let id = task["id"].as_i64().unwrap_or_default();
    for (method, body) in [
        (Method::PUT, r#"{"title":"x","title":"y"}"#),
        (Method::PATCH, r#"{"completed":true,"completed":false}"#),
        (Method::PATCH, r#"{"title":"x","t\u0069tle":"y"}"#),
    ] {
        let response = app
            .raw(
                method.clone(),
                &task_path(&user.id, id),
                body,
                JSON,
                user.auth(),
            )
            .await;
        assert_invalid_json(&format!("{method} {body}"), response).await;
    }
    assert_eq!(
        app.get_task(&user, id).await,
        task,
        "the task must be unchanged"
    );

    // A proxy reading the first password would see a wrong one: never act on the last.
    let signin = format!(
        r#"{{"email":"{}","password":"wrong-password","password":"{}"}}"#,
        user.email, user.password
    );
    assert_invalid_json(
        "signin",
        app.raw(Method::POST, SIGNIN, signin, JSON, None).await,
    )
    .await;
    let signup =
        r#"{"name":"A","name":"B","email":"dup-key@example.com","password":"securepassword123"}"#;
    assert_invalid_json(
        "signup",
        app.raw(Method::POST, SIGNUP, signup, JSON, None).await,
    )
    .await;
    let again = app
        .signup("A", "dup-key@example.com", "securepassword123")
        .await;
    expect_status(again, StatusCode::CREATED).await;
    let signout = r#"{"scope":"local","scope":"global"}"#;
    let response = app
        .raw(
            Method::POST,
            "/api/auth/signout",
            signout,
            JSON,
            user.auth(),
        )
        .await;
    assert_invalid_json("signout", response).await;
    expect_status(app.me(&user.token).await, StatusCode::OK).await;
}

#[tokio::test]
async fn only_application_json_and_plus_json_media_types_are_read() {
    let (app, user) = app_with_user().await;
    let tasks = tasks_path(&user.id);
    let body = r#"{"title":"typed"}"#;
    for content_type in [
        "text/json",
        "multipart/x+json",
        "text/plain",
        "application/jsonx",
    ] {
        let response = app
            .raw(Method::POST, &tasks, body, Some(content_type), user.auth())
            .await;
        assert_error_in(
            content_type,
            response,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Content-Type must be application/json",
        )
        .await;
    }
    assert_eq!(app.list_tasks(&user).await, json!([]));
    for content_type in [
        "application/vnd.api+json",
        "application/json; charset=utf-8",
    ] {
        let response = app
            .raw(Method::POST, &tasks, body, Some(content_type), user.auth())
            .await;
        expect_status(response, StatusCode::CREATED).await;
    }
    let response = app
        .raw(
            Method::POST,
            "/api/auth/signout",
            r#"{"scope":"local"}"#,
            Some("text/json"),
            user.auth(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
}
