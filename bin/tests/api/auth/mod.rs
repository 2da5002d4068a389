//! Signup, signin, signout and `me`.

mod me;
mod signin;
mod signout;
mod signup;

use reqwest::StatusCode;
use serde_json::Value;
use uuid::Uuid;

use crate::helpers::{TestApp, assert_keys, expect_status, header, now, string_at, timestamp};

const DEFAULT_TTL_SECONDS: i64 = 604_800;

/// Asserts the body of a successful signup or signin and returns its token.
fn assert_auth_body(body: &Value, email: &str, name: &str) -> String {
    assert_keys(body, &["expires_at", "token", "token_type", "user"]);
    assert_keys(
        &body["user"],
        &["created_at", "email", "email_verified", "id", "name"],
    );
    assert!(body["user"]["email_verified"].is_boolean(), "{body}");
    let id = string_at(body, "/user/id");
    let uuid = Uuid::parse_str(&id).unwrap_or_else(|error| panic!("user.id {id}: {error}"));
    assert_eq!(uuid.get_version_num(), 4, "user.id is a UUID v4: {id}");
    assert_eq!(body["user"]["email"], email, "user.email; body: {body}");
    assert_eq!(body["user"]["name"], name, "user.name; body: {body}");
    assert!(
        timestamp(&body["user"]["created_at"]) <= now() + 60,
        "created_at is not in the future: {body}"
    );
    assert_eq!(body["token_type"], "Bearer", "token_type; body: {body}");
    let token = string_at(body, "/token");
    assert_eq!(token.split('.').count(), 3, "token is a JWT: {token}");
    let lifetime = timestamp(&body["expires_at"]) - now();
    assert!(
        (DEFAULT_TTL_SECONDS - 60..=DEFAULT_TTL_SECONDS + 60).contains(&lifetime),
        "expires_at is about 7 days from now: {body}"
    );
    token
}

/// Asserts `Cache-Control: no-store` on a successful auth response.
fn assert_no_store(response: &reqwest::Response) {
    let cache_control = header(response, "cache-control").unwrap_or_default();
    assert!(
        cache_control.contains("no-store"),
        "Cache-Control is {cache_control:?}"
    );
}

async fn assert_active(app: &TestApp, token: &str) {
    expect_status(app.me(token).await, StatusCode::OK).await;
}
