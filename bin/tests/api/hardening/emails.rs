//! Look-alike emails are one account.

use reqwest::StatusCode;
use uuid::Uuid;

use crate::helpers::{assert_error, assert_validation, expect_status, spawn_app, unique_password};

#[tokio::test]
async fn look_alike_emails_are_one_account() {
    let app = spawn_app().await;
    let id = Uuid::new_v4().simple().to_string();
    let password = unique_password();
    let body = expect_status(
        app.signup(
            "Alice",
            &format!("ALICE-{id}@ｅｘａｍｐｌｅ.com"),
            &password,
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(body["user"]["email"], format!("alice-{id}@example.com"));
    for twin in [
        format!("ａｌｉｃｅ-{id}@example.com"),
        format!("alice-{id}＠example.com"),
        format!("Alice-{id}@EXAMPLE.com"),
    ] {
        let response = app.signup("Twin", &twin, &unique_password()).await;
        assert_error(
            response,
            StatusCode::BAD_REQUEST,
            "email_taken",
            "Email already registered",
        )
        .await;
        expect_status(app.signin(&twin, &password).await, StatusCode::OK).await;
    }

    let body = expect_status(
        app.signup("Idn", &format!("idn-{id}@exämple.com"), &password)
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(
        body["user"]["email"],
        format!("idn-{id}@xn--exmple-cua.com")
    );
    let ascii = format!("idn-{id}@xn--exmple-cua.com");
    let response = app.signup("Idn", &ascii, &unique_password()).await;
    assert_error(
        response,
        StatusCode::BAD_REQUEST,
        "email_taken",
        "Email already registered",
    )
    .await;
    expect_status(app.signin(&ascii, &password).await, StatusCode::OK).await;
    expect_status(
        app.signin(&format!("IDN-{id}@EXÄMPLE.COM"), &password)
            .await,
        StatusCode::OK,
    )
    .await;

    // NFC and NFD spellings of one name.
    let nfc = format!("jos\u{e9}-{id}@example.com");
    let nfd = format!("jose\u{301}-{id}@example.com");
    expect_status(
        app.signup("José", &nfc, &password).await,
        StatusCode::CREATED,
    )
    .await;
    let response = app.signup("José", &nfd, &unique_password()).await;
    assert_error(
        response,
        StatusCode::BAD_REQUEST,
        "email_taken",
        "Email already registered",
    )
    .await;

    for invalid in [
        format!("al\u{200b}ice-{id}@example.com"),
        format!("alice-{id}\u{feff}@example.com"),
        format!("alice-{id}@exa\u{200d}mple.com"),
        format!("alice-{id}@example.com\u{202e}"),
        format!("al\u{378}ice-{id}@example.com"),
    ] {
        let response = app.signup("Ghost", &invalid, &unique_password()).await;
        assert_validation(response, "email", "Please enter a valid email").await;
    }
    let response = app.signup("Ghost", "\u{200b}", &unique_password()).await;
    assert_validation(response, "email", "Email is required").await;
}
