//! The API suite's own helpers: what an answer must look like (the contract's error
//! shapes), time, and the requests several areas send. Starting servers, the client and
//! the request helpers come from the test kit, re-exported here.

use std::time::Duration;

use reqwest::{Response, StatusCode};
use serde_json::Value;
pub use tessera_test_kit::{
    ForgedToken, TestApp, TestUser, client_from, expect_status, header, send, spawn_app,
    spawn_app_with, string_at, task_path, tasks_path, unique_email, unique_password,
};

/// The texts that betray internals (a panic, a crate path, a Rust type) in an error body.
const LEAKS: [&str; 3] = ["panicked", "tessera_", "::"];

/// Starts a server and signs up one user on it.
pub async fn app_with_user() -> (TestApp, TestUser) {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;
    (app, user)
}

/// The types of the security events of the token's user, newest first.
pub async fn event_types(app: &TestApp, token: &str) -> Vec<String> {
    let body = expect_status(
        app.get("/api/auth/events", Some(token)).await,
        StatusCode::OK,
    )
    .await;
    body["events"]
        .as_array()
        .map(|events| {
            events
                .iter()
                .map(|e| e["type"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The `jti` (session id) of a token.
pub fn jti(token: &str) -> String {
    string_at(&ForgedToken::parse(token).claims, "/jti")
}

/// Asserts the 401 `token_revoked`: the token's session has ended.
pub async fn assert_revoked(response: Response) {
    assert_unauthorized(
        response,
        "token_revoked",
        "Session has ended, please log in again",
    )
    .await;
}

/// Asserts the contract's 429 `rate_limited`; returns its `Retry-After` in whole seconds.
pub async fn assert_rate_limited(response: Response) -> u64 {
    let retry_after = header(&response, "retry-after").expect("a Retry-After header");
    assert_error(
        response,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        "Too many attempts, please try again later",
    )
    .await;
    retry_after.parse().expect("Retry-After in whole seconds")
}

/// The integer id of a task.
pub fn task_id(task: &Value) -> i64 {
    task["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("task id is not an integer: {task}"))
}

/// The current Unix time in seconds.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Parses an RFC 3339 UTC timestamp (ending in `Z`) into Unix seconds.
pub fn timestamp(value: &Value) -> i64 {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("timestamp is not a string: {value}"));
    assert!(text.ends_with('Z'), "timestamp is not UTC with a Z: {text}");
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|error| panic!("timestamp {text} is not RFC 3339: {error}"))
        .timestamp()
}

/// Waits long enough that a timestamp written now differs from `previous`, at the
/// precision the server writes (sub-second if `previous` has a fraction, else seconds).
pub async fn wait_for_new_timestamp(previous: &Value) {
    let text = previous.as_str().unwrap_or_default();
    let pause = if text.contains('.') {
        Duration::from_millis(15)
    } else {
        Duration::from_millis(1_100)
    };
    tokio::time::sleep(pause).await;
}

/// Asserts that `value` is an object with exactly these keys.
pub fn assert_keys(value: &Value, expected: &[&str]) {
    let object = value
        .as_object()
        .unwrap_or_else(|| panic!("not a JSON object: {value}"));
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    let mut expected = expected.to_vec();
    expected.sort_unstable();
    assert_eq!(keys, expected, "keys of {value}");
}

/// Asserts an error response: status, JSON Content-Type, exactly `error` and `code` (plus
/// `fields` for `validation_failed`), no internals; returns the body. `context` names the
/// request in failure messages.
pub async fn assert_error_in(
    context: &str,
    response: Response,
    status: StatusCode,
    code: &str,
    message: &str,
) -> Value {
    let body = check_error_shape(context, response, status, code).await;
    assert_eq!(
        body["error"], message,
        "{context}: error message; body: {body}"
    );
    body
}

/// [`assert_error_in`] without a context.
pub async fn assert_error(
    response: Response,
    status: StatusCode,
    code: &str,
    message: &str,
) -> Value {
    assert_error_in("", response, status, code, message).await
}

/// Asserts a 400 `validation_failed` whose `error` is `message` and whose `fields` has
/// `message` for `field`.
pub async fn assert_validation(response: Response, field: &str, message: &str) -> Value {
    let body = assert_error(
        response,
        StatusCode::BAD_REQUEST,
        "validation_failed",
        message,
    )
    .await;
    assert_eq!(
        body["fields"][field], message,
        "fields.{field}; body: {body}"
    );
    body
}

/// Asserts the contract's 400 `invalid_json`.
pub async fn assert_invalid_json(context: &str, response: Response) {
    assert_error_in(
        context,
        response,
        StatusCode::BAD_REQUEST,
        "invalid_json",
        "Request body must be valid JSON",
    )
    .await;
}

/// Asserts a 400 `validation_failed` naming `field`, whatever its wording.
pub async fn assert_validation_of(context: &str, response: Response, field: &str) -> Value {
    let body = check_error_shape(
        context,
        response,
        StatusCode::BAD_REQUEST,
        "validation_failed",
    )
    .await;
    assert!(
        body["fields"][field].is_string(),
        "{context}: fields.{field} is missing; body: {body}"
    );
    assert_eq!(
        body["error"], body["fields"][field],
        "{context}: error is the field's message; body: {body}"
    );
    body
}

/// Asserts a 401 with `code` and `message`, whose challenge names `invalid_token` (a token
/// was sent).
pub async fn assert_unauthorized(response: Response, code: &str, message: &str) -> Value {
    let challenge = header(&response, "www-authenticate").unwrap_or_default();
    let body = assert_error(response, StatusCode::UNAUTHORIZED, code, message).await;
    assert!(
        challenge.starts_with("Bearer") && challenge.contains(r#"error="invalid_token""#),
        "WWW-Authenticate is {challenge:?}"
    );
    body
}

/// Asserts the 401 `invalid_token` response.
pub async fn assert_invalid_token(context: &str, response: Response) -> Value {
    let challenge = header(&response, "www-authenticate").unwrap_or_default();
    let body = assert_error_in(
        context,
        response,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
        "Invalid or malformed token",
    )
    .await;
    assert!(
        challenge.starts_with("Bearer") && challenge.contains(r#"error="invalid_token""#),
        "{context}: WWW-Authenticate is {challenge:?}"
    );
    body
}

/// Asserts the 401 `missing_token` response to a request that sent no bearer token: the
/// challenge is exactly `Bearer`.
pub async fn assert_missing_token(context: &str, response: Response) -> Value {
    let challenge = header(&response, "www-authenticate");
    let body = assert_error_in(
        context,
        response,
        StatusCode::UNAUTHORIZED,
        "missing_token",
        "Authentication required",
    )
    .await;
    assert_eq!(
        challenge.as_deref(),
        Some("Bearer"),
        "{context}: WWW-Authenticate"
    );
    body
}

/// Asserts the 404 for a task that is absent, not an integer or someone else's.
pub async fn assert_task_not_found(context: &str, response: Response) -> Value {
    assert_error_in(
        context,
        response,
        StatusCode::NOT_FOUND,
        "not_found",
        "Task not found",
    )
    .await
}

async fn check_error_shape(
    context: &str,
    response: Response,
    status: StatusCode,
    code: &str,
) -> Value {
    let actual = response.status();
    let content_type = header(&response, "content-type").unwrap_or_default();
    let text = response.text().await.expect("the body is readable");
    assert_eq!(actual, status, "{context}: unexpected status; body: {text}");
    assert!(
        content_type.starts_with("application/json"),
        "{context}: error Content-Type is {content_type:?}; body: {text}"
    );
    for leak in LEAKS {
        assert!(
            !text.contains(leak),
            "{context}: error body leaks {leak:?}: {text}"
        );
    }
    let body: Value = serde_json::from_str(&text)
        .unwrap_or_else(|error| panic!("{context}: error body is not JSON ({error}): {text}"));
    if code == "validation_failed" {
        assert_keys(&body, &["code", "error", "fields"]);
        let fields = body["fields"]
            .as_object()
            .unwrap_or_else(|| panic!("{context}: fields is not an object: {text}"));
        assert!(
            !fields.is_empty() && fields.values().all(Value::is_string),
            "{context}: fields must hold one message per field: {text}"
        );
    } else {
        assert_keys(&body, &["code", "error"]);
    }
    assert_eq!(body["code"], code, "{context}: error code; body: {text}");
    body
}
