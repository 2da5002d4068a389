//! Request bodies: JSON that does not parse or has the wrong shape, media types, the 64 KiB
//! limit.

use reqwest::{Method, Response, StatusCode};
use serde_json::json;

use super::SIGNUP;
use crate::helpers::{
    app_with_user, assert_error_in, assert_invalid_json, assert_validation, expect_status,
    tasks_path, unique_email, unique_password,
};

/// 64 KiB, the largest body accepted.
const BODY_LIMIT: usize = 64 * 1024;

async fn assert_unsupported_media_type(context: &str, response: Response) {
    assert_error_in(
        context,
        response,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        "Content-Type must be application/json",
    )
    .await;
}

async fn assert_payload_too_large(context: &str, response: Response) {
    assert_error_in(
        context,
        response,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        "Request body is too large",
    )
    .await;
}

/// A JSON text of exactly `length` bytes: `prefix`, then `a`s, then `suffix`.
fn padded_json(prefix: &str, suffix: &str, length: usize) -> String {
    let padding = length - prefix.len() - suffix.len();
    let text = format!("{prefix}{}{suffix}", "a".repeat(padding));
    assert_eq!(text.len(), length);
    text
}

fn signup_json() -> String {
    json!({"name": "Alice", "email": unique_email(), "password": unique_password()}).to_string()
}

#[tokio::test]
async fn invalid_json_body_returns_invalid_json() {
    let (app, user) = app_with_user().await;
    for body in [r#"{"name": "Alice","#, "{not json", ""] {
        let response = app
            .raw(Method::POST, SIGNUP, body, Some("application/json"), None)
            .await;
        assert_invalid_json(&format!("signup {body:?}"), response).await;
    }
    for body in [r#"{"title": "#, "{not json"] {
        let response = app
            .raw(
                Method::POST,
                &tasks_path(&user.id),
                body,
                Some("application/json"),
                user.auth(),
            )
            .await;
        assert_invalid_json(&format!("create task {body:?}"), response).await;
    }
}

#[tokio::test]
async fn a_field_of_the_wrong_json_type_returns_invalid_json() {
    let (app, user) = app_with_user().await;
    let signups = [
        json!({"name": 5, "email": unique_email(), "password": unique_password()}),
        json!({"name": "Alice", "email": ["a@example.com"], "password": unique_password()}),
        json!({"name": "Alice", "email": unique_email(), "password": 12_345_678}),
    ];
    for body in signups {
        let response = app.post_json(SIGNUP, &body, None).await;
        assert_invalid_json(&format!("signup {body}"), response).await;
    }
    let tasks = [
        json!({"title": true}),
        json!({"title": "Fine", "description": 5}),
        json!({"title": ["a"]}),
    ];
    for body in tasks {
        let response = app
            .post_json(&tasks_path(&user.id), &body, user.auth())
            .await;
        assert_invalid_json(&format!("create task {body}"), response).await;
    }
    assert_eq!(app.list_tasks(&user).await, json!([]));
}

#[tokio::test]
async fn a_json_array_or_scalar_body_returns_invalid_json() {
    let (app, user) = app_with_user().await;
    // A positional array of exactly the body's fields must not be read as the object.
    for body in [
        "[]",
        r#"[{"title": "x"}]"#,
        r#"["Buy milk", null]"#,
        r#"["Alice", "alice@example.com", "securepassword123"]"#,
        "null",
        r#""text""#,
        "42",
    ] {
        let response = app
            .raw(Method::POST, SIGNUP, body, Some("application/json"), None)
            .await;
        assert_invalid_json(&format!("signup {body}"), response).await;
        let response = app
            .raw(
                Method::POST,
                &tasks_path(&user.id),
                body,
                Some("application/json"),
                user.auth(),
            )
            .await;
        assert_invalid_json(&format!("create task {body}"), response).await;
    }
}

#[tokio::test]
async fn a_body_without_a_json_content_type_returns_unsupported_media_type() {
    let (app, user) = app_with_user().await;
    let task = json!({"title": "Typed"}).to_string();
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let context = format!("{content_type:?}");
        let response = app
            .raw(Method::POST, SIGNUP, signup_json(), content_type, None)
            .await;
        assert_unsupported_media_type(&format!("signup {context}"), response).await;
        let response = app
            .raw(
                Method::POST,
                &tasks_path(&user.id),
                task.as_str(),
                content_type,
                user.auth(),
            )
            .await;
        assert_unsupported_media_type(&format!("create task {context}"), response).await;
    }
    assert_eq!(app.list_tasks(&user).await, json!([]));
}

#[tokio::test]
async fn a_json_content_type_with_a_charset_is_accepted() {
    let (app, user) = app_with_user().await;
    let content_type = Some("application/json; charset=utf-8");
    let response = app
        .raw(Method::POST, SIGNUP, signup_json(), content_type, None)
        .await;
    expect_status(response, StatusCode::CREATED).await;
    let task = json!({"title": "Charset"}).to_string();
    let response = app
        .raw(
            Method::POST,
            &tasks_path(&user.id),
            task,
            content_type,
            user.auth(),
        )
        .await;
    let created = expect_status(response, StatusCode::CREATED).await;
    assert_eq!(created["title"], "Charset");
}

#[tokio::test]
async fn a_body_over_64_kib_returns_payload_too_large() {
    let (app, user) = app_with_user().await;
    let signup = padded_json(
        r#"{"name": "Alice", "email": "big@example.com", "password": "x"#,
        r#""}"#,
        BODY_LIMIT + 1,
    );
    let response = app
        .raw(Method::POST, SIGNUP, signup, Some("application/json"), None)
        .await;
    assert_payload_too_large("signup", response).await;

    let task = padded_json(
        r#"{"title": "Big", "description": ""#,
        r#""}"#,
        BODY_LIMIT + 1,
    );
    let response = app
        .raw(
            Method::POST,
            &tasks_path(&user.id),
            task,
            Some("application/json"),
            user.auth(),
        )
        .await;
    assert_payload_too_large("create task", response).await;
    assert_eq!(app.list_tasks(&user).await, json!([]));
}

#[tokio::test]
async fn a_body_of_exactly_64_kib_is_read_and_validated() {
    let (app, user) = app_with_user().await;
    let task = padded_json(r#"{"title": "Big", "description": ""#, r#""}"#, BODY_LIMIT);
    let response = app
        .raw(
            Method::POST,
            &tasks_path(&user.id),
            task,
            Some("application/json"),
            user.auth(),
        )
        .await;
    assert_validation(
        response,
        "description",
        "Description must be 1000 characters or less",
    )
    .await;
}
