//! `POST /api/auth/signin`: a new session per signin, and one answer for every wrong
//! credential.

use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

use super::{assert_auth_body, assert_no_store};
use crate::helpers::{
    app_with_user, assert_error, assert_validation, expect_status, jti, spawn_app, unique_email,
    unique_password,
};

const SIGNIN: &str = "/api/auth/signin";

#[tokio::test]
async fn signin_returns_200_with_a_new_valid_token_each_time() {
    let (app, user) = app_with_user().await;
    let first = app.signin(&user.email, &user.password).await;
    assert_no_store(&first);
    let first = assert_auth_body(
        &expect_status(first, StatusCode::OK).await,
        &user.email,
        &user.name,
    );
    let second = app.signin(&user.email, &user.password).await;
    let second = assert_auth_body(
        &expect_status(second, StatusCode::OK).await,
        &user.email,
        &user.name,
    );

    assert_ne!(jti(&first), jti(&second), "each signin is a new session");
    assert_ne!(
        jti(&first),
        jti(&user.token),
        "signin is not the signup session"
    );
    for token in [&user.token, &first, &second] {
        let body = expect_status(app.me(token).await, StatusCode::OK).await;
        assert_eq!(body["user"]["id"], user.id.as_str());
    }
}

#[tokio::test]
async fn signin_email_is_case_insensitive_and_trimmed() {
    let (app, user) = app_with_user().await;
    let typed = format!("  {}  ", user.email.to_uppercase());
    let response = app.signin(&typed, &user.password).await;
    let body = expect_status(response, StatusCode::OK).await;
    assert_auth_body(&body, &user.email, &user.name);
    assert_eq!(body["user"]["id"], user.id.as_str());
}

#[tokio::test]
async fn signin_without_an_email_or_with_an_empty_one_returns_email_is_required() {
    let (app, user) = app_with_user().await;
    for body in [
        json!({"password": user.password}),
        json!({"email": "", "password": user.password}),
    ] {
        let response = app.post_json(SIGNIN, &body, None).await;
        assert_validation(response, "email", "Email is required").await;
    }
}

#[tokio::test]
async fn signin_without_a_password_or_with_an_empty_one_returns_password_is_required() {
    let (app, user) = app_with_user().await;
    for body in [
        json!({"email": user.email}),
        json!({"email": user.email, "password": ""}),
    ] {
        let response = app.post_json(SIGNIN, &body, None).await;
        assert_validation(response, "password", "Password is required").await;
    }
}

#[tokio::test]
async fn signin_with_unknown_email_returns_invalid_credentials() {
    let app = spawn_app().await;
    let response = app.signin(&unique_email(), &unique_password()).await;
    assert_error(
        response,
        StatusCode::BAD_REQUEST,
        "invalid_credentials",
        "Invalid email or password",
    )
    .await;
}

#[tokio::test]
async fn signin_with_wrong_password_returns_the_same_body_as_an_unknown_email() {
    let (app, user) = app_with_user().await;
    let wrong_password = app.signin(&user.email, &unique_password()).await;
    let wrong_password = assert_error(
        wrong_password,
        StatusCode::BAD_REQUEST,
        "invalid_credentials",
        "Invalid email or password",
    )
    .await;
    let unknown_email = app.signin(&unique_email(), &user.password).await;
    let unknown_email = assert_error(
        unknown_email,
        StatusCode::BAD_REQUEST,
        "invalid_credentials",
        "Invalid email or password",
    )
    .await;
    assert_eq!(wrong_password, unknown_email);
}

#[tokio::test]
async fn signin_with_a_password_over_72_bytes_is_never_truncated() {
    let app = spawn_app().await;
    let password = format!("{}{}", Uuid::new_v4().simple(), "k".repeat(40));
    assert_eq!(password.len(), 72);
    let email = unique_email();
    let response = app.signup("Truncation", &email, &password).await;
    expect_status(response, StatusCode::CREATED).await;

    let longer = format!("{password}extra");
    let response = app.signin(&email, &longer).await;
    assert_error(
        response,
        StatusCode::BAD_REQUEST,
        "invalid_credentials",
        "Invalid email or password",
    )
    .await;

    let response = app.signin(&email, &password).await;
    expect_status(response, StatusCode::OK).await;
}

#[tokio::test]
async fn signin_with_a_nul_character_in_the_email_is_a_validation_error() {
    let (app, user) = app_with_user().await;
    let email = format!("{}\u{0}", user.email);
    let response = app.signin(&email, &user.password).await;
    assert_validation(response, "email", "Please enter a valid email").await;
}

#[tokio::test]
async fn signin_with_a_nul_character_in_the_password_is_a_validation_error() {
    let (app, user) = app_with_user().await;
    let password = format!("{}\u{0}", user.password);
    let response = app.signin(&user.email, &password).await;
    assert_validation(
        response,
        "password",
        "Password contains an invalid character",
    )
    .await;
}
