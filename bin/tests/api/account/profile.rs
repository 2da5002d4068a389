//! `PATCH /api/auth/me`: the name, and the tokens issued after a rename.

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::ME;
use crate::helpers::{ForgedToken, app_with_user, assert_validation, expect_status};

#[tokio::test]
async fn renaming_changes_the_name_and_later_tokens_carry_it() {
    let (app, user) = app_with_user().await;
    let body = json!({"name": "  Renamed Person ", "email": "ignored@example.com"});
    let renamed = expect_status(
        app.json_request(Method::PATCH, ME, &body, user.auth())
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(renamed["user"]["name"], "Renamed Person");
    assert_eq!(renamed["user"]["email"], user.email.as_str());
    let me = expect_status(app.me(&user.token).await, StatusCode::OK).await;
    assert_eq!(me["user"]["name"], "Renamed Person");
    let token = app.new_token(&user).await;
    assert_eq!(ForgedToken::parse(&token).claims["name"], "Renamed Person");

    for (body, message) in [
        (json!({}), "Name is required"),
        (json!({"name": "\u{200b}"}), "Name is required"),
        (
            json!({"name": "x".repeat(101)}),
            "Name must be 100 characters or less",
        ),
        (
            json!({"name": "a\u{202e}b"}),
            "Name contains an invalid character",
        ),
    ] {
        let response = app
            .json_request(Method::PATCH, ME, &body, user.auth())
            .await;
        assert_validation(response, "name", message).await;
    }
    let response = app
        .json_request(Method::PATCH, ME, &json!({"name": "X"}), None)
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}
