//! `POST /api/auth/signout`: its scopes, and the sessions each one ends.

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::assert_active;
use crate::helpers::{
    ForgedToken, app_with_user, assert_revoked, assert_unauthorized, assert_validation,
    expect_status, now, spawn_app, tasks_path,
};

const SIGNOUT: &str = "/api/auth/signout";
const SIGNED_OUT: &str = "Signed out successfully";

async fn assert_signed_out(response: reqwest::Response) {
    let body = expect_status(response, StatusCode::OK).await;
    assert_eq!(body, json!({"message": SIGNED_OUT}));
}

#[tokio::test]
async fn signout_without_a_token_returns_200() {
    let app = spawn_app().await;
    assert_signed_out(app.signout(None, &json!({})).await).await;
    assert_signed_out(app.raw(Method::POST, SIGNOUT, "", None, None).await).await;
}

#[tokio::test]
async fn signout_with_a_garbage_token_returns_200() {
    let app = spawn_app().await;
    let response = app
        .signout(Some("not.a.token"), &json!({"scope": "global"}))
        .await;
    assert_signed_out(response).await;
}

#[tokio::test]
async fn signout_with_an_expired_token_returns_200() {
    let (app, user) = app_with_user().await;
    let mut forged = ForgedToken::parse(&user.token);
    forged.claims["iat"] = json!(now() - 3_600);
    forged.claims["exp"] = json!(now() - 120);
    let expired = app.sign(&forged);
    assert_signed_out(app.signout(Some(&expired), &json!({})).await).await;
    assert_active(&app, &user.token).await;
}

#[tokio::test]
async fn signout_twice_returns_200_both_times() {
    let (app, user) = app_with_user().await;
    assert_signed_out(app.signout(user.auth(), &json!({})).await).await;
    assert_signed_out(app.signout(user.auth(), &json!({})).await).await;
    assert_revoked(app.me(&user.token).await).await;
}

#[tokio::test]
async fn signout_with_an_empty_body_and_no_content_type_ends_this_session() {
    let (app, user) = app_with_user().await;
    let other = app.new_token(&user).await;
    let response = app.raw(Method::POST, SIGNOUT, "", None, user.auth()).await;
    assert_signed_out(response).await;
    assert_revoked(app.me(&user.token).await).await;
    assert_active(&app, &other).await;
}

#[tokio::test]
async fn signout_with_an_empty_object_ends_this_session() {
    let (app, user) = app_with_user().await;
    let other = app.new_token(&user).await;
    assert_signed_out(app.signout(user.auth(), &json!({})).await).await;
    assert_revoked(app.me(&user.token).await).await;
    assert_active(&app, &other).await;
}

#[tokio::test]
async fn signout_local_ends_only_this_token() {
    let (app, user) = app_with_user().await;
    let other = app.new_token(&user).await;
    let response = app.signout(user.auth(), &json!({"scope": "local"})).await;
    assert_signed_out(response).await;
    assert_revoked(app.me(&user.token).await).await;
    assert_active(&app, &other).await;
}

#[tokio::test]
async fn signout_global_ends_every_session_of_the_user() {
    let (app, user) = app_with_user().await;
    let other = app.new_token(&user).await;
    let stranger = app.signed_up_user().await;
    let response = app.signout(user.auth(), &json!({"scope": "global"})).await;
    assert_signed_out(response).await;
    assert_revoked(app.me(&user.token).await).await;
    assert_revoked(app.me(&other).await).await;
    assert_active(&app, &stranger.token).await;
}

#[tokio::test]
async fn signout_others_ends_every_session_but_this_one() {
    let (app, user) = app_with_user().await;
    let second = app.new_token(&user).await;
    let third = app.new_token(&user).await;
    let response = app.signout(user.auth(), &json!({"scope": "others"})).await;
    assert_signed_out(response).await;
    assert_active(&app, &user.token).await;
    assert_revoked(app.me(&second).await).await;
    assert_revoked(app.me(&third).await).await;
}

#[tokio::test]
async fn signed_out_token_returns_token_revoked_on_every_protected_route() {
    let (app, user) = app_with_user().await;
    assert_signed_out(app.signout(user.auth(), &json!({})).await).await;
    assert_revoked(app.me(&user.token).await).await;
    let response = app.get(&tasks_path(&user.id), user.auth()).await;
    assert_unauthorized(
        response,
        "token_revoked",
        "Session has ended, please log in again",
    )
    .await;
}

#[tokio::test]
async fn signout_with_an_unknown_scope_returns_a_validation_error_and_ends_nothing() {
    let (app, user) = app_with_user().await;
    let response = app.signout(user.auth(), &json!({"scope": "bogus"})).await;
    assert_validation(
        response,
        "scope",
        "Scope must be one of local, global, others",
    )
    .await;
    assert_active(&app, &user.token).await;
}
