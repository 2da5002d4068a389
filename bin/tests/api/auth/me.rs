//! `GET /api/auth/me`: the caller, and how a missing token is challenged.

use reqwest::{Method, StatusCode};

use super::assert_no_store;
use crate::helpers::{
    ForgedToken, app_with_user, assert_error, assert_keys, assert_missing_token, expect_status,
    header, send, spawn_app, timestamp,
};

#[tokio::test]
async fn me_returns_the_user_and_expiry_with_no_store() {
    let (app, user) = app_with_user().await;
    let response = app.me(&user.token).await;
    assert_no_store(&response);
    let body = expect_status(response, StatusCode::OK).await;
    assert_keys(&body, &["expires_at", "user"]);
    assert_keys(
        &body["user"],
        &["created_at", "email", "email_verified", "id", "name"],
    );
    assert_eq!(
        body["user"]["email_verified"], false,
        "no address is proven at signup"
    );
    assert_eq!(body["user"]["id"], user.id.as_str());
    assert_eq!(body["user"]["email"], user.email.as_str());
    assert_eq!(body["user"]["name"], user.name.as_str());
    timestamp(&body["user"]["created_at"]);
    let exp = ForgedToken::parse(&user.token).claims["exp"]
        .as_i64()
        .expect("exp is a number");
    assert!(
        (timestamp(&body["expires_at"]) - exp).abs() <= 1,
        "expires_at is the token's exp: {body}"
    );
}

#[tokio::test]
async fn me_without_a_token_returns_missing_token_with_a_bare_bearer_challenge() {
    let app = spawn_app().await;
    let response = app.get("/api/auth/me", None).await;
    assert_missing_token("GET /api/auth/me", response).await;
}

#[tokio::test]
async fn me_with_a_non_bearer_authorization_returns_missing_token() {
    let (app, user) = app_with_user().await;
    let basic = app
        .request(Method::GET, "/api/auth/me", None)
        .header("Authorization", "Basic xyz");
    assert_missing_token_challenged(send(basic).await).await;
    // A real token under another scheme is still not a bearer token.
    let token_scheme = app
        .request(Method::GET, "/api/auth/me", None)
        .header("Authorization", format!("Token {}", user.token));
    assert_missing_token_challenged(send(token_scheme).await).await;
}

#[tokio::test]
async fn me_with_an_empty_bearer_token_returns_missing_token() {
    let app = spawn_app().await;
    for value in ["Bearer", "Bearer "] {
        let request = app
            .request(Method::GET, "/api/auth/me", None)
            .header("Authorization", value);
        assert_missing_token_challenged(send(request).await).await;
    }
}

/// The `missing_token` 401 to a request that sent an Authorization header: the
/// challenge is a Bearer one (whether it carries an error parameter is not fixed).
async fn assert_missing_token_challenged(response: reqwest::Response) {
    let challenge = header(&response, "www-authenticate").unwrap_or_default();
    assert_error(
        response,
        StatusCode::UNAUTHORIZED,
        "missing_token",
        "Authentication required",
    )
    .await;
    assert!(
        challenge.starts_with("Bearer"),
        "WWW-Authenticate is {challenge:?}"
    );
}
