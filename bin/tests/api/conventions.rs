//! Framework-level errors, content types, body limits, routing, health and CORS.

use reqwest::{Method, Response, StatusCode};
use serde_json::json;

use crate::helpers::{
    TestApp, app_with_user, assert_error, assert_error_in, assert_invalid_json, assert_validation,
    expect_status, header, send, spawn_app, spawn_app_with, tasks_path, unique_email,
    unique_password,
};

const SIGNUP: &str = "/api/auth/signup";
const DEFAULT_ORIGIN: &str = "http://localhost:3000";
const EVIL_ORIGIN: &str = "http://evil.example";
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

/// A CORS preflight for `PATCH` with Authorization and Content-Type from `origin`.
async fn preflight(app: &TestApp, origin: &str) -> Response {
    let path = format!("/api/{}/tasks/1", uuid::Uuid::new_v4());
    let request = app
        .request(Method::OPTIONS, &path, None)
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "PATCH")
        .header(
            "Access-Control-Request-Headers",
            "authorization,content-type",
        );
    send(request).await
}

/// Asserts that a preflight from `origin` is allowed for PATCH with both headers.
async fn assert_preflight_allowed(app: &TestApp, origin: &str) {
    let response = preflight(app, origin).await;
    assert!(
        response.status().is_success(),
        "preflight from {origin}: status {}",
        response.status()
    );
    assert_eq!(
        header(&response, "access-control-allow-origin").as_deref(),
        Some(origin),
        "preflight from {origin}"
    );
    let methods = header(&response, "access-control-allow-methods")
        .unwrap_or_default()
        .to_ascii_uppercase();
    assert!(methods.contains("PATCH"), "allowed methods: {methods}");
    let headers = header(&response, "access-control-allow-headers")
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert!(
        headers.contains("authorization") && headers.contains("content-type"),
        "allowed headers: {headers}"
    );
}

/// Asserts that a preflight from `origin` is not granted.
async fn assert_preflight_refused(app: &TestApp, origin: &str) {
    let response = preflight(app, origin).await;
    let allowed = header(&response, "access-control-allow-origin");
    assert!(
        allowed.is_none(),
        "preflight from {origin} was granted: {allowed:?}"
    );
    // Even the CORS layer's refusal is answered in the contract's JSON shape.
    let content_type = header(&response, "content-type").unwrap_or_default();
    assert!(
        content_type.starts_with("application/json"),
        "refused preflight from {origin} answered {content_type:?}"
    );
    let body: serde_json::Value = response.json().await.expect("a JSON error body");
    assert!(
        body["code"].is_string() && body["error"].is_string(),
        "{body}"
    );
}

// ----- bodies -----

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

// ----- routing -----

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

// ----- operations -----

#[tokio::test]
async fn health_returns_ok() {
    let app = spawn_app().await;
    let response = app.get("/health", None).await;
    let content_type = header(&response, "content-type").unwrap_or_default();
    assert!(
        content_type.starts_with("application/json"),
        "Content-Type is {content_type:?}"
    );
    assert_eq!(
        expect_status(response, StatusCode::OK).await,
        json!({"status": "ok"})
    );
}

// ----- CORS -----

#[tokio::test]
async fn cors_preflight_from_the_default_allowed_origin_is_granted() {
    let app = spawn_app().await;
    assert_preflight_allowed(&app, DEFAULT_ORIGIN).await;
}

#[tokio::test]
async fn cors_requests_from_an_unknown_origin_get_no_allow_origin() {
    let app = spawn_app().await;
    assert_preflight_refused(&app, EVIL_ORIGIN).await;
    let request = app
        .request(Method::GET, "/health", None)
        .header("Origin", EVIL_ORIGIN);
    let response = send(request).await;
    let allowed = header(&response, "access-control-allow-origin");
    assert!(
        allowed.is_none(),
        "request from {EVIL_ORIGIN} was granted: {allowed:?}"
    );
}

#[tokio::test]
async fn cors_response_from_an_allowed_origin_exposes_the_total_count() {
    let (app, user) = app_with_user().await;
    let request = app
        .request(Method::GET, &tasks_path(&user.id), user.auth())
        .header("Origin", DEFAULT_ORIGIN);
    let response = send(request).await;
    assert_eq!(
        header(&response, "access-control-allow-origin").as_deref(),
        Some(DEFAULT_ORIGIN)
    );
    let exposed = header(&response, "access-control-expose-headers")
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert!(
        exposed.contains("x-total-count"),
        "exposed headers: {exposed:?}"
    );
    assert_eq!(header(&response, "x-total-count").as_deref(), Some("0"));
    assert_eq!(expect_status(response, StatusCode::OK).await, json!([]));
}

#[tokio::test]
async fn cors_origins_setting_allows_each_listed_origin_and_only_those() {
    let first = "https://app.example.com";
    let second = "http://localhost:5173";
    let origins = format!("{first},{second}");
    let app = spawn_app_with(&[("CORS_ORIGINS", origins.as_str())]).await;
    assert_preflight_allowed(&app, first).await;
    assert_preflight_allowed(&app, second).await;
    assert_preflight_refused(&app, DEFAULT_ORIGIN).await;
    assert_preflight_refused(&app, EVIL_ORIGIN).await;
}
