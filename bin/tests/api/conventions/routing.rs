//! Unknown routes, wrong methods, and the shape every error answer has.

use reqwest::{Method, Response, StatusCode};
use serde_json::json;

use super::SIGNUP;
use crate::helpers::{app_with_user, assert_error, assert_error_in, header, tasks_path};

async fn assert_method_not_allowed(context: &str, response: Response) {
    assert_error_in(
        context,
        response,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "Method not allowed",
    )
    .await;
}

#[tokio::test]
async fn an_unknown_route_returns_not_found() {
    let (app, user) = app_with_user().await;
    for path in ["/nope", "/api/nope", "/api/auth/nope"] {
        let response = app.get(path, user.auth()).await;
        assert_error_in(
            path,
            response,
            StatusCode::NOT_FOUND,
            "not_found",
            "Not found",
        )
        .await;
    }
    let response = app.get("/nope", None).await;
    assert_error(response, StatusCode::NOT_FOUND, "not_found", "Not found").await;
}

#[tokio::test]
async fn a_known_route_with_a_wrong_method_returns_method_not_allowed() {
    let (app, user) = app_with_user().await;
    let response = app.get(SIGNUP, None).await;
    assert_method_not_allowed("GET signup", response).await;
    let response = app.call(Method::DELETE, "/api/auth/signin", None).await;
    assert_method_not_allowed("DELETE signin", response).await;
    let response = app
        .json_request(
            Method::PUT,
            &tasks_path(&user.id),
            &json!({"title": "x"}),
            user.auth(),
        )
        .await;
    assert_method_not_allowed("PUT tasks", response).await;
    assert_eq!(app.list_tasks(&user).await, json!([]));
}

#[tokio::test]
async fn error_responses_are_json_with_only_error_and_code_and_no_internals() {
    // Every error assertion checks the shape; here one of each kind that the framework's
    // extractors and router produce, where a default text body would slip through.
    let (app, user) = app_with_user().await;
    let not_a_number = format!("{}/not-a-number", tasks_path(&user.id));
    let responses = [
        (
            "invalid json",
            app.raw(Method::POST, SIGNUP, "{", Some("application/json"), None)
                .await,
            StatusCode::BAD_REQUEST,
            "invalid_json",
            "Request body must be valid JSON",
        ),
        (
            "wrong type",
            app.post_json(&tasks_path(&user.id), &json!({"title": 1}), user.auth())
                .await,
            StatusCode::BAD_REQUEST,
            "invalid_json",
            "Request body must be valid JSON",
        ),
        (
            "no content type",
            app.raw(Method::POST, SIGNUP, "{}", None, None).await,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Content-Type must be application/json",
        ),
        (
            "unknown route",
            app.get("/api/unknown/route/here", None).await,
            StatusCode::NOT_FOUND,
            "not_found",
            "Not found",
        ),
        (
            "wrong method",
            app.call(Method::PATCH, SIGNUP, None).await,
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "Method not allowed",
        ),
        (
            "task id that is not a number",
            app.get(&not_a_number, user.auth()).await,
            StatusCode::NOT_FOUND,
            "not_found",
            "Task not found",
        ),
    ];
    for (context, response, status, code, message) in responses {
        let challenge = header(&response, "www-authenticate");
        let body = assert_error_in(context, response, status, code, message).await;
        assert!(
            challenge.is_none(),
            "{context}: WWW-Authenticate only on 401s, got {challenge:?}"
        );
        let text = body.to_string();
        for leak in ["serde", "actix", "line ", "column "] {
            assert!(!text.contains(leak), "{context}: leaks {leak:?}: {text}");
        }
    }
}
