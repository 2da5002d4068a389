//! Verification: the mail signup queues, `POST /api/auth/email/verification` and
//! `/api/auth/email/verify`, and `EMAIL_VERIFICATION`.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use super::{VERIFY, app_and_catcher, sending_to, verify};
use crate::helpers::{
    assert_error, assert_rate_limited, event_types, expect_status, string_at, unique_email,
    unique_password,
};
use tessera_test_kit::{Answer, MailCatcher};

#[tokio::test]
async fn signup_mails_a_link_that_verifies_the_address_once_without_a_token() {
    let (app, catcher) = app_and_catcher().await;
    let user = app.signed_up_user().await;
    let me = expect_status(app.me(&user.token).await, StatusCode::OK).await;
    assert_eq!(me["user"]["email_verified"], json!(false));
    let mail = catcher.wait_for(&user.email, VERIFY).await;
    let token = mail.token("verify-email").expect("a verification link");
    assert_eq!(
        mail.html_token("verify-email").as_deref(),
        Some(token.as_str())
    );
    let body = expect_status(verify(&app, &token).await, StatusCode::OK).await;
    assert_eq!(body["user"]["email_verified"], json!(true));
    assert_eq!(body["user"]["email"], json!(user.email));
    let me = expect_status(app.me(&user.token).await, StatusCode::OK).await;
    assert_eq!(me["user"]["email_verified"], json!(true));
    assert_error(
        verify(&app, &token).await,
        StatusCode::BAD_REQUEST,
        "invalid_link",
        "This link is invalid or has expired",
    )
    .await;
    assert!(
        event_types(&app, &user.token)
            .await
            .contains(&"email_verified".to_owned())
    );
    // Verified: nothing more to send.
    assert_error(
        app.call(
            reqwest::Method::POST,
            "/api/auth/email/verification",
            user.auth(),
        )
        .await,
        StatusCode::CONFLICT,
        "already_verified",
        "Email is already verified",
    )
    .await;
}

#[tokio::test]
async fn a_resend_waits_a_minute_after_the_last_verification_mail() {
    let (app, catcher) = app_and_catcher().await;
    let user = app.signed_up_user().await;
    catcher.wait_for(&user.email, VERIFY).await;
    let wait = assert_rate_limited(
        app.call(
            reqwest::Method::POST,
            "/api/auth/email/verification",
            user.auth(),
        )
        .await,
    )
    .await;
    assert!((1..=60).contains(&wait), "{wait}");
    assert_eq!(
        catcher
            .count_after(&user.email, VERIFY, Duration::from_secs(1))
            .await,
        1
    );
}

#[tokio::test]
async fn a_resend_sends_a_new_link_when_signup_sent_none() {
    let catcher = MailCatcher::start(Answer::Accept).await;
    let app = sending_to(&catcher)
        .setting("EMAIL_VERIFICATION", "off")
        .start()
        .await;
    let user = app.signed_up_user().await;
    assert_eq!(
        catcher
            .count_after(&user.email, VERIFY, Duration::from_secs(2))
            .await,
        0
    );
    let body = expect_status(
        app.call(
            reqwest::Method::POST,
            "/api/auth/email/verification",
            user.auth(),
        )
        .await,
        StatusCode::ACCEPTED,
    )
    .await;
    assert_eq!(body, json!({"message": "Verification email sent"}));
    let mail = catcher.wait_for(&user.email, VERIFY).await;
    let token = mail.token("verify-email").expect("a link");
    expect_status(verify(&app, &token).await, StatusCode::OK).await;
}

#[tokio::test]
async fn a_bad_token_is_an_invalid_link() {
    let (app, _catcher) = app_and_catcher().await;
    for body in [
        json!({}),
        json!({"token": ""}),
        json!({"token": "x".repeat(43)}),
        json!({"token": "A".repeat(43)}),
    ] {
        assert_error(
            app.post_json("/api/auth/email/verify", &body, None).await,
            StatusCode::BAD_REQUEST,
            "invalid_link",
            "This link is invalid or has expired",
        )
        .await;
    }
}

#[tokio::test]
async fn with_verification_required_signin_waits_for_the_link() {
    let catcher = MailCatcher::start(Answer::Accept).await;
    let app = sending_to(&catcher)
        .setting("EMAIL_VERIFICATION", "required")
        .start()
        .await;
    let (email, password) = (unique_email(), unique_password());
    let body = expect_status(
        app.signup("Vera", &email, &password).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(body["verification_required"], json!(true));
    assert!(body.get("token").is_none(), "{body}");
    assert_eq!(body["user"]["email_verified"], json!(false));
    assert_error(
        app.signin(&email, &password).await,
        StatusCode::FORBIDDEN,
        "email_not_verified",
        "Please verify your email before signing in",
    )
    .await;
    // A wrong password says nothing about the address.
    assert_error(
        app.signin(&email, &unique_password()).await,
        StatusCode::BAD_REQUEST,
        "invalid_credentials",
        "Invalid email or password",
    )
    .await;
    let mail = catcher.wait_for(&email, VERIFY).await;
    let token = mail.token("verify-email").expect("a link");
    expect_status(verify(&app, &token).await, StatusCode::OK).await;
    let signed_in = expect_status(app.signin(&email, &password).await, StatusCode::OK).await;
    assert_eq!(signed_in["user"]["email_verified"], json!(true));
    assert!(!string_at(&signed_in, "/token").is_empty());
}
