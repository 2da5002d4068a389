//! `POST /api/auth/email`, confirmed through `/api/auth/email/verify`.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{CHANGED, CONFIRM_CHANGE, VERIFY, app_and_catcher, verify};
use crate::helpers::{
    TestApp, TestUser, assert_error, assert_validation, event_types, expect_status, unique_email,
    unique_password,
};

async fn change(app: &TestApp, user: &TestUser, body: &Value) -> reqwest::Response {
    app.json_request(Method::POST, "/api/auth/email", body, user.auth())
        .await
}

#[tokio::test]
async fn an_email_change_takes_effect_when_the_new_address_confirms_it() {
    let (app, catcher) = app_and_catcher().await;
    let user = app.signed_up_user().await;
    let new_email = unique_email();
    let body = expect_status(
        change(
            &app,
            &user,
            &json!({"new_email": new_email.to_uppercase(), "password": user.password}),
        )
        .await,
        StatusCode::ACCEPTED,
    )
    .await;
    assert_eq!(
        body,
        json!({"message": "Check your new email to confirm the change"})
    );
    // Nothing changes until the link is opened.
    let me = expect_status(app.me(&user.token).await, StatusCode::OK).await;
    assert_eq!(me["user"]["email"], json!(user.email));
    let mail = catcher.wait_for(&new_email, CONFIRM_CHANGE).await;
    let token = mail.token("verify-email").expect("a confirmation link");
    let confirmed = expect_status(verify(&app, &token).await, StatusCode::OK).await;
    assert_eq!(confirmed["user"]["email"], json!(new_email));
    assert_eq!(confirmed["user"]["email_verified"], json!(true));
    // The session stays; the former address is told.
    let me = expect_status(app.me(&user.token).await, StatusCode::OK).await;
    assert_eq!(me["user"]["email"], json!(new_email));
    let notice = catcher.wait_for(&user.email, CHANGED).await;
    assert!(notice.token("verify-email").is_none());
    assert_eq!(
        app.signin_status(&new_email, &user.password).await,
        StatusCode::OK
    );
    assert_eq!(
        app.signin_status(&user.email, &user.password).await,
        StatusCode::BAD_REQUEST
    );
    let events = event_types(&app, &user.token).await;
    for kind in ["email_change_requested", "email_changed"] {
        assert!(events.contains(&kind.to_owned()), "{events:?}");
    }
    // The signup's verification link was of the former address: dead.
    let first = catcher.wait_for(&user.email, VERIFY).await;
    let stale = first.token("verify-email").expect("a link");
    assert_error(
        verify(&app, &stale).await,
        StatusCode::BAD_REQUEST,
        "invalid_link",
        "This link is invalid or has expired",
    )
    .await;
}

#[tokio::test]
async fn an_email_change_refuses_bad_fields_before_the_password_and_a_taken_address_after() {
    let (app, catcher) = app_and_catcher().await;
    let user = app.signed_up_user().await;
    let other = app.signed_up_user().await;
    for (body, field, message) in [
        (
            json!({"password": user.password}),
            "new_email",
            "Email is required",
        ),
        (
            json!({"new_email": "nope", "password": user.password}),
            "new_email",
            "Please enter a valid email",
        ),
        (
            json!({"new_email": user.email.to_uppercase(), "password": user.password}),
            "new_email",
            "New email must differ from the current one",
        ),
        (
            json!({"new_email": unique_email()}),
            "password",
            "Password is required",
        ),
    ] {
        assert_validation(change(&app, &user, &body).await, field, message).await;
    }
    // Every refused field is reported, in body order.
    let both = expect_status(
        change(
            &app,
            &user,
            &json!({"new_email": user.email, "password": ""}),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(
        both,
        json!({
            "error": "New email must differ from the current one",
            "code": "validation_failed",
            "fields": {
                "new_email": "New email must differ from the current one",
                "password": "Password is required",
            },
        })
    );
    assert_error(
        change(
            &app,
            &user,
            &json!({"new_email": unique_email(), "password": unique_password()}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_credentials",
        "Password is incorrect",
    )
    .await;
    assert_error(
        change(
            &app,
            &user,
            &json!({"new_email": other.email, "password": user.password}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "email_taken",
        "Email already registered",
    )
    .await;
    assert_eq!(
        catcher
            .count_after(&other.email, CONFIRM_CHANGE, Duration::from_secs(1))
            .await,
        0
    );
}

#[tokio::test]
async fn a_change_confirmed_after_the_address_was_taken_changes_nothing() {
    let (app, catcher) = app_and_catcher().await;
    let user = app.signed_up_user().await;
    let wanted = unique_email();
    expect_status(
        change(
            &app,
            &user,
            &json!({"new_email": wanted, "password": user.password}),
        )
        .await,
        StatusCode::ACCEPTED,
    )
    .await;
    let mail = catcher.wait_for(&wanted, CONFIRM_CHANGE).await;
    let token = mail.token("verify-email").expect("a link");
    app.signed_up_as(&wanted).await;
    assert_error(
        verify(&app, &token).await,
        StatusCode::BAD_REQUEST,
        "email_taken",
        "Email already registered",
    )
    .await;
    let me = expect_status(app.me(&user.token).await, StatusCode::OK).await;
    assert_eq!(me["user"]["email"], json!(user.email));
}

#[tokio::test]
async fn the_hourly_mail_quota_counts_every_kind_of_mail() {
    let catcher = tessera_test_kit::MailCatcher::start(tessera_test_kit::Answer::Accept).await;
    let app = super::sending_to(&catcher)
        .setting("MAIL_PER_ACCOUNT_PER_HOUR", "2")
        .start()
        .await;
    let user = app.signed_up_user().await;
    super::forgot(&app, &user.email).await;
    catcher.wait_for(&user.email, VERIFY).await;
    catcher.wait_for(&user.email, super::RESET).await;
    // Two mails this hour: a third, of a kind not sent yet, waits for the hour.
    let wait = crate::helpers::assert_rate_limited(
        change(
            &app,
            &user,
            &json!({"new_email": unique_email(), "password": user.password}),
        )
        .await,
    )
    .await;
    assert!((3000..=3600).contains(&wait), "{wait}");
}
