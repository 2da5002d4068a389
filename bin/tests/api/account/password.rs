//! `POST /api/auth/password`: the sessions a change ends, the order of its checks, its
//! budget.

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{ME, PASSWORD, list_sessions};
use crate::helpers::{
    app_with_user, assert_error, assert_revoked, assert_validation, expect_status, spawn_app_with,
    string_at, unique_password,
};

#[tokio::test]
async fn a_password_change_ends_every_session_and_the_new_token_works() {
    let (app, user) = app_with_user().await;
    let other = app.new_token(&user).await;
    let new_password = unique_password();

    let response = app
        .change_password(&user.token, "wrong-password-1", &new_password)
        .await;
    assert_error(
        response,
        StatusCode::BAD_REQUEST,
        "invalid_credentials",
        "Current password is incorrect",
    )
    .await;
    // Nothing changed: both sessions still work.
    expect_status(app.me(&other).await, StatusCode::OK).await;

    let body = expect_status(
        app.change_password(&user.token, &user.password, &new_password)
            .await,
        StatusCode::OK,
    )
    .await;
    let fresh = string_at(&body, "/token");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["user"]["id"], user.id.as_str());
    assert_revoked(app.me(&user.token).await).await;
    assert_revoked(app.me(&other).await).await;
    expect_status(app.me(&fresh).await, StatusCode::OK).await;
    let sessions = list_sessions(&app, &fresh).await;
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    assert_eq!(sessions[0]["current"], true);

    let old = app.signin(&user.email, &user.password).await;
    assert_error(
        old,
        StatusCode::BAD_REQUEST,
        "invalid_credentials",
        "Invalid email or password",
    )
    .await;
    expect_status(app.signin(&user.email, &new_password).await, StatusCode::OK).await;
}

#[tokio::test]
async fn password_change_fields_are_checked_before_the_password() {
    let (app, user) = app_with_user().await;
    let response = app
        .post_json(
            PASSWORD,
            &json!({"new_password": unique_password()}),
            user.auth(),
        )
        .await;
    assert_validation(response, "current_password", "Current password is required").await;
    for (new, message) in [
        ("short", "Password must be at least 8 characters"),
        (
            "password123",
            "This password is too common, please choose another",
        ),
        (&"é".repeat(37), "Password must be at most 72 bytes"),
    ] {
        // A wrong current password is not even checked when the new one is invalid.
        let response = app
            .change_password(&user.token, "not-the-password", new)
            .await;
        assert_validation(response, "new_password", message).await;
    }
    let response = app.post_json(PASSWORD, &json!({}), user.auth()).await;
    let body =
        assert_validation(response, "current_password", "Current password is required").await;
    assert_eq!(
        body["fields"]["new_password"],
        "Password must be at least 8 characters"
    );
    expect_status(app.me(&user.token).await, StatusCode::OK).await;
}

#[tokio::test]
async fn password_routes_count_against_the_address_budget() {
    let app = spawn_app_with(&[("AUTH_RATE_LIMIT_PER_MINUTE", "3")]).await;
    let user = app.signed_up_user().await;
    // The signup took one attempt; two more are allowed.
    for _ in 0..2 {
        let response = app
            .change_password(&user.token, "wrong-password-1", &unique_password())
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    }
    let response = app
        .json_request(
            Method::DELETE,
            ME,
            &json!({"password": user.password}),
            user.auth(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key("retry-after"));
    // Routes that check no password are not counted.
    expect_status(app.me(&user.token).await, StatusCode::OK).await;
    let renamed = app
        .json_request(
            Method::PATCH,
            ME,
            &json!({"name": "Still Here"}),
            user.auth(),
        )
        .await;
    expect_status(renamed, StatusCode::OK).await;
}
