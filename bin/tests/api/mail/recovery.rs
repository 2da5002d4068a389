//! `POST /api/auth/password/forgot` and `/api/auth/password/reset`.

use reqwest::StatusCode;
use serde_json::json;

use super::{PASSWORD_CHANGED, RESET, app_and_catcher, forgot, reset, reset_token};
use crate::helpers::{
    assert_error, assert_revoked, assert_validation, event_types, expect_status, string_at,
    unique_email, unique_password,
};

#[tokio::test]
async fn forgot_answers_alike_for_an_account_and_no_account_and_mails_only_the_account() {
    let (app, catcher) = app_and_catcher().await;
    let user = app.signed_up_user().await;
    let nobody = unique_email();
    let known = forgot(&app, &user.email.to_uppercase()).await;
    let unknown = forgot(&app, &nobody).await;
    assert_eq!(known, unknown);
    assert_eq!(
        known,
        json!({"message": "If an account exists for this email, a reset link has been sent"})
    );
    let mail = catcher.wait_for(&user.email, RESET).await;
    // The link, in both parts, to the reset page of PUBLIC_URL.
    let token = mail
        .token("reset-password")
        .expect("a link in the text part");
    assert_eq!(token.len(), 43, "{token}");
    assert_eq!(
        mail.html_token("reset-password").as_deref(),
        Some(token.as_str())
    );
    assert!(
        mail.text
            .contains(&format!("{}/#/reset-password?token={token}", app.address)),
        "{}",
        mail.text
    );
    assert!(mail.text.contains("30 minutes"), "{}", mail.text);
    for header in ["From", "To", "Subject", "Date", "Message-ID"] {
        assert!(mail.header(header).is_some(), "no {header}: {}", mail.raw);
    }
    assert_eq!(
        mail.header("Auto-Submitted").as_deref(),
        Some("auto-generated")
    );
    assert!(
        mail.header("Content-Type")
            .is_some_and(|t| t.starts_with("multipart/alternative")),
        "{}",
        mail.raw
    );
    assert_eq!(
        catcher
            .count_after(&nobody, RESET, std::time::Duration::from_secs(1))
            .await,
        0
    );
    assert!(
        event_types(&app, &user.token)
            .await
            .contains(&"password_reset_requested".to_owned())
    );
}

#[tokio::test]
async fn forgot_refuses_a_missing_or_invalid_email_and_sends_nothing() {
    let (app, _catcher) = app_and_catcher().await;
    for (body, message) in [
        (json!({}), "Email is required"),
        (json!({"email": "  "}), "Email is required"),
        (
            json!({"email": "not-an-address"}),
            "Please enter a valid email",
        ),
    ] {
        let response = app
            .post_json("/api/auth/password/forgot", &body, None)
            .await;
        assert_validation(response, "email", message).await;
    }
}

#[tokio::test]
async fn a_reset_link_sets_the_password_once_ends_every_session_and_proves_the_address() {
    let (app, catcher) = app_and_catcher().await;
    let user = app.signed_up_user().await;
    let token = reset_token(&app, &catcher, &user).await;
    let new_password = unique_password();
    let body = expect_status(reset(&app, &token, &new_password).await, StatusCode::OK).await;
    assert_eq!(body["user"]["email_verified"], json!(true));
    let fresh = string_at(&body, "/token");
    assert_revoked(app.me(&user.token).await).await;
    expect_status(app.me(&fresh).await, StatusCode::OK).await;
    assert_eq!(
        app.signin_status(&user.email, &user.password).await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.signin_status(&user.email, &new_password).await,
        StatusCode::OK
    );
    // Used: the link is dead.
    assert_error(
        reset(&app, &token, &unique_password()).await,
        StatusCode::BAD_REQUEST,
        "invalid_link",
        "This link is invalid or has expired",
    )
    .await;
    catcher.wait_for(&user.email, PASSWORD_CHANGED).await;
    let events = event_types(&app, &fresh).await;
    assert!(events.contains(&"password_reset".to_owned()), "{events:?}");
}

#[tokio::test]
async fn a_reset_checks_the_new_password_first_then_the_link() {
    let (app, _catcher) = app_and_catcher().await;
    let response = reset(&app, "not-a-token", "short").await;
    assert_validation(
        response,
        "new_password",
        "Password must be at least 8 characters",
    )
    .await;
    for token in ["", "not-a-token", &"A".repeat(43), &"A".repeat(44)] {
        assert_error(
            reset(&app, token, &unique_password()).await,
            StatusCode::BAD_REQUEST,
            "invalid_link",
            "This link is invalid or has expired",
        )
        .await;
    }
    let missing = app
        .post_json(
            "/api/auth/password/reset",
            &json!({"new_password": unique_password()}),
            None,
        )
        .await;
    assert_error(
        missing,
        StatusCode::BAD_REQUEST,
        "invalid_link",
        "This link is invalid or has expired",
    )
    .await;
}

#[tokio::test]
async fn a_password_change_voids_the_reset_link() {
    let (app, catcher) = app_and_catcher().await;
    let user = app.signed_up_user().await;
    let token = reset_token(&app, &catcher, &user).await;
    expect_status(
        app.change_password(&user.token, &user.password, &unique_password())
            .await,
        StatusCode::OK,
    )
    .await;
    assert_error(
        reset(&app, &token, &unique_password()).await,
        StatusCode::BAD_REQUEST,
        "invalid_link",
        "This link is invalid or has expired",
    )
    .await;
    catcher.wait_for(&user.email, PASSWORD_CHANGED).await;
}

#[tokio::test]
async fn a_second_request_within_a_minute_sends_nothing_and_the_first_link_still_works() {
    let (app, catcher) = app_and_catcher().await;
    let user = app.signed_up_user().await;
    let token = reset_token(&app, &catcher, &user).await;
    forgot(&app, &user.email).await;
    assert_eq!(
        catcher
            .count_after(&user.email, RESET, std::time::Duration::from_secs(2))
            .await,
        1
    );
    expect_status(
        reset(&app, &token, &unique_password()).await,
        StatusCode::OK,
    )
    .await;
}

#[tokio::test]
async fn two_resets_with_one_link_at_once_let_one_through() {
    let (app, catcher) = app_and_catcher().await;
    let user = app.signed_up_user().await;
    let token = reset_token(&app, &catcher, &user).await;
    let (first, second) = (unique_password(), unique_password());
    let (a, b) = tokio::join!(reset(&app, &token, &first), reset(&app, &token, &second));
    let statuses = [a.status(), b.status()];
    assert!(
        statuses.contains(&StatusCode::OK) && statuses.contains(&StatusCode::BAD_REQUEST),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn forgot_and_an_email_change_count_against_the_address_budget() {
    let catcher = tessera_test_kit::MailCatcher::start(tessera_test_kit::Answer::Accept).await;
    let app = super::sending_to(&catcher)
        .setting("AUTH_RATE_LIMIT_PER_MINUTE", "3")
        .start()
        .await;
    // The signup is the first attempt of this address's minute.
    let user = app.signed_up_user().await;
    forgot(&app, &unique_email()).await;
    let change = app
        .json_request(
            reqwest::Method::POST,
            "/api/auth/email",
            &json!({"new_email": unique_email(), "password": user.password}),
            user.auth(),
        )
        .await;
    expect_status(change, StatusCode::ACCEPTED).await;
    for response in [
        app.post_json(
            "/api/auth/password/forgot",
            &json!({"email": user.email}),
            None,
        )
        .await,
        app.json_request(
            reqwest::Method::POST,
            "/api/auth/email",
            &json!({"new_email": unique_email(), "password": user.password}),
            user.auth(),
        )
        .await,
    ] {
        crate::helpers::assert_rate_limited(response).await;
    }
}

#[tokio::test]
async fn forgot_and_an_email_change_refuse_an_address_over_254_characters() {
    let (app, _catcher) = app_and_catcher().await;
    let user = app.signed_up_user().await;
    let long = format!("{}@example.com", "a".repeat(243));
    assert_eq!(long.len(), 255);
    let message = "Email must be 254 characters or less";
    assert_validation(
        app.post_json("/api/auth/password/forgot", &json!({"email": long}), None)
            .await,
        "email",
        message,
    )
    .await;
    assert_validation(
        app.json_request(
            reqwest::Method::POST,
            "/api/auth/email",
            &json!({"new_email": long, "password": user.password}),
            user.auth(),
        )
        .await,
        "new_email",
        message,
    )
    .await;
}
