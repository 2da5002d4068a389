//! The rules of the signup fields: name, email and password lengths, common passwords, several invalid fields at once, NUL characters.

use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

use super::{SIGNUP, assert_auth_body};
use crate::helpers::{
    assert_error, assert_error_in, assert_validation, expect_status, spawn_app, unique_email,
    unique_password,
};

#[tokio::test]
async fn signup_without_a_name_or_with_a_blank_one_returns_name_is_required() {
    let app = spawn_app().await;
    for name in [None, Some(""), Some("   ")] {
        let mut body = json!({"email": unique_email(), "password": unique_password()});
        if let Some(name) = name {
            body["name"] = json!(name);
        }
        let response = app.post_json(SIGNUP, &body, None).await;
        assert_validation(response, "name", "Name is required").await;
    }
}

#[tokio::test]
async fn signup_accepts_a_name_of_100_multibyte_characters() {
    let app = spawn_app().await;
    let name = "é".repeat(100);
    let email = unique_email();
    let padded = format!(" {name} ");
    let response = app.signup(&padded, &email, &unique_password()).await;
    let body = expect_status(response, StatusCode::CREATED).await;
    assert_auth_body(&body, &email, &name);
}

#[tokio::test]
async fn signup_with_a_name_of_101_characters_returns_name_too_long() {
    let app = spawn_app().await;
    let response = app
        .signup(&"é".repeat(101), &unique_email(), &unique_password())
        .await;
    assert_validation(response, "name", "Name must be 100 characters or less").await;
}

#[tokio::test]
async fn signup_without_an_email_or_with_a_blank_one_returns_email_is_required() {
    let app = spawn_app().await;
    for email in [None, Some(""), Some("   ")] {
        let mut body = json!({"name": "Alice", "password": unique_password()});
        if let Some(email) = email {
            body["email"] = json!(email);
        }
        let response = app.post_json(SIGNUP, &body, None).await;
        assert_validation(response, "email", "Email is required").await;
    }
}

#[tokio::test]
async fn signup_with_an_invalid_email_returns_please_enter_a_valid_email() {
    let app = spawn_app().await;
    for email in [
        "plainaddress",
        "a@b",
        "@example.com",
        "alice@",
        "alice@example",
    ] {
        let response = app.signup("Alice", email, &unique_password()).await;
        let body = assert_error_in(
            email,
            response,
            StatusCode::BAD_REQUEST,
            "validation_failed",
            "Please enter a valid email",
        )
        .await;
        assert_eq!(
            body["fields"]["email"], "Please enter a valid email",
            "{email}"
        );
    }
}

/// A valid, unique address of exactly `length` characters (labels of 60, local part
/// under 64).
fn email_of_length(length: usize) -> String {
    let domain = format!(
        "{}.{}.{}.example.com",
        "a".repeat(60),
        "b".repeat(60),
        "c".repeat(60)
    );
    let unique = Uuid::new_v4().simple().to_string();
    let local_length = length - domain.len() - 1;
    let local = format!("{unique}{}", "x".repeat(local_length - unique.len()));
    let email = format!("{local}@{domain}");
    assert_eq!(email.len(), length);
    email
}

#[tokio::test]
async fn signup_accepts_an_email_of_254_characters() {
    let app = spawn_app().await;
    let email = email_of_length(254);
    let response = app.signup("Long Email", &email, &unique_password()).await;
    let body = expect_status(response, StatusCode::CREATED).await;
    assert_eq!(body["user"]["email"], email.as_str());
}

#[tokio::test]
async fn signup_with_an_email_over_254_characters_returns_email_too_long() {
    let app = spawn_app().await;
    let response = app
        .signup("Long Email", &email_of_length(255), &unique_password())
        .await;
    assert_validation(response, "email", "Email must be 254 characters or less").await;
}

#[tokio::test]
async fn signup_without_a_password_or_with_one_under_8_characters_returns_too_short() {
    let app = spawn_app().await;
    // "é" x 7 is 14 bytes but 7 characters: the minimum counts characters.
    let seven_multibyte = "é".repeat(7);
    for password in [
        None,
        Some(""),
        Some("abcdefg"),
        Some(seven_multibyte.as_str()),
    ] {
        let mut body = json!({"name": "Alice", "email": unique_email()});
        if let Some(password) = password {
            body["password"] = json!(password);
        }
        let response = app.post_json(SIGNUP, &body, None).await;
        assert_validation(
            response,
            "password",
            "Password must be at least 8 characters",
        )
        .await;
    }
}

#[tokio::test]
async fn signup_accepts_a_password_of_exactly_8_characters() {
    let app = spawn_app().await;
    for password in ["Tz9#kq2!", "ééééééé€"] {
        let response = app.signup("Alice", &unique_email(), password).await;
        expect_status(response, StatusCode::CREATED).await;
    }
}

#[tokio::test]
async fn signup_with_a_password_over_72_bytes_returns_password_too_long() {
    let app = spawn_app().await;
    let multibyte = format!("{}a", "é".repeat(36));
    assert_eq!(multibyte.len(), 73);
    for password in [multibyte, "x".repeat(73)] {
        let response = app.signup("Alice", &unique_email(), &password).await;
        assert_validation(response, "password", "Password must be at most 72 bytes").await;
    }
}

#[tokio::test]
async fn password_of_exactly_72_bytes_is_accepted_and_every_byte_counts() {
    let app = spawn_app().await;
    let password = "é".repeat(36);
    assert_eq!(password.len(), 72);
    let email = unique_email();
    let response = app.signup("Byte Counter", &email, &password).await;
    expect_status(response, StatusCode::CREATED).await;

    let response = app.signin(&email, &password).await;
    assert_auth_body(
        &expect_status(response, StatusCode::OK).await,
        &email,
        "Byte Counter",
    );

    let shorter = "é".repeat(35);
    let response = app.signin(&email, &shorter).await;
    assert_error(
        response,
        StatusCode::BAD_REQUEST,
        "invalid_credentials",
        "Invalid email or password",
    )
    .await;
}

#[tokio::test]
async fn signup_with_a_common_password_returns_too_common_whatever_its_case() {
    let app = spawn_app().await;
    for password in ["password123", "PASSWORD123", "Password123"] {
        let response = app.signup("Alice", &unique_email(), password).await;
        assert_validation(
            response,
            "password",
            "This password is too common, please choose another",
        )
        .await;
    }
}

#[tokio::test]
async fn signup_with_several_invalid_fields_reports_the_first_and_lists_them_all() {
    let app = spawn_app().await;
    let body = json!({"name": "", "email": "not-an-email", "password": "short"});
    let response = app.post_json(SIGNUP, &body, None).await;
    let error = assert_error(
        response,
        StatusCode::BAD_REQUEST,
        "validation_failed",
        "Name is required",
    )
    .await;
    assert_eq!(
        error["fields"],
        json!({
            "name": "Name is required",
            "email": "Please enter a valid email",
            "password": "Password must be at least 8 characters",
        })
    );

    let body = json!({"name": "Alice", "email": "", "password": "short"});
    let response = app.post_json(SIGNUP, &body, None).await;
    let error = assert_error(
        response,
        StatusCode::BAD_REQUEST,
        "validation_failed",
        "Email is required",
    )
    .await;
    assert_eq!(
        error["fields"],
        json!({
            "email": "Email is required",
            "password": "Password must be at least 8 characters",
        })
    );
}

#[tokio::test]
async fn signup_with_a_nul_character_returns_a_validation_error_naming_the_field() {
    let app = spawn_app().await;
    let cases = [
        (
            json!({"name": "Ali\u{0}ce", "email": unique_email(), "password": unique_password()}),
            "name",
            "Name contains an invalid character",
        ),
        (
            json!({"name": "Alice", "email": format!("ali\u{0}{}", unique_email()), "password": unique_password()}),
            "email",
            "Please enter a valid email",
        ),
        (
            json!({"name": "Alice", "email": unique_email(), "password": format!("{}\u{0}x", unique_password())}),
            "password",
            "Password contains an invalid character",
        ),
    ];
    for (body, field, message) in cases {
        let response = app.post_json(SIGNUP, &body, None).await;
        assert_validation(response, field, message).await;
    }
}
