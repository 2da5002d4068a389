//! `/api/auth/sessions`: the list, ending one by id, and the cap on live sessions.

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{SESSIONS, list_sessions};
use crate::helpers::{
    TestApp, TestUser, app_with_user, assert_error, assert_revoked, expect_status, jti,
    spawn_app_with, string_at,
};

#[tokio::test]
async fn sessions_are_listed_newest_first_with_the_current_one_marked() {
    let (app, user) = app_with_user().await;
    let second = app.new_token(&user).await;
    let agent = "Mozilla/5.0 (Tessera test)";
    let third = send_signin_with_agent(&app, &user, agent).await;
    let sessions = list_sessions(&app, &second).await;
    let ids: Vec<&str> = sessions
        .iter()
        .map(|s| s["id"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(ids, [jti(&third), jti(&second), jti(&user.token)]);
    let current: Vec<bool> = sessions.iter().map(|s| s["current"] == true).collect();
    assert_eq!(current, [false, true, false]);
    assert_eq!(sessions[0]["user_agent"], agent);
    for session in &sessions {
        assert_eq!(session["ip"], "127.0.0.1");
        for key in ["created_at", "expires_at"] {
            assert!(
                session[key].as_str().is_some_and(|t| t.ends_with('Z')),
                "{session}"
            );
        }
    }
    // An ended session is not listed.
    let signout = app.signout(Some(&third), &json!({})).await;
    expect_status(signout, StatusCode::OK).await;
    assert_eq!(list_sessions(&app, &second).await.len(), 2);
}

async fn send_signin_with_agent(app: &TestApp, user: &TestUser, agent: &str) -> String {
    let body = json!({"email": user.email, "password": user.password});
    let response = app
        .request(Method::POST, "/api/auth/signin", None)
        .header("User-Agent", agent)
        .json(&body)
        .send()
        .await
        .expect("the server answers");
    string_at(&expect_status(response, StatusCode::OK).await, "/token")
}

#[tokio::test]
async fn ending_a_session_by_id_refuses_its_token_and_only_the_callers_own() {
    let (app, user) = app_with_user().await;
    let other = app.new_token(&user).await;
    let path = format!("{SESSIONS}/{}", jti(&other));
    let ended = expect_status(
        app.call(Method::DELETE, &path, user.auth()).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ended, json!({"message": "Session ended"}));
    assert_revoked(app.me(&other).await).await;
    expect_status(app.me(&user.token).await, StatusCode::OK).await;

    let stranger = app.signed_up_user().await;
    let theirs = format!("{SESSIONS}/{}", jti(&stranger.token));
    for path in [
        path.clone(),
        theirs,
        format!("{SESSIONS}/not-a-uuid"),
        format!("{SESSIONS}/{}", uuid::Uuid::new_v4()),
    ] {
        let response = app.call(Method::DELETE, &path, user.auth()).await;
        assert_error(
            response,
            StatusCode::NOT_FOUND,
            "not_found",
            "Session not found",
        )
        .await;
    }
    expect_status(app.me(&stranger.token).await, StatusCode::OK).await;
    // The caller's own session can be ended too.
    let own = format!("{SESSIONS}/{}", jti(&user.token));
    expect_status(
        app.call(Method::DELETE, &own, user.auth()).await,
        StatusCode::OK,
    )
    .await;
    assert_revoked(app.me(&user.token).await).await;
}

#[tokio::test]
async fn a_signin_beyond_the_session_cap_ends_the_oldest_session() {
    let app = spawn_app_with(&[("MAX_SESSIONS_PER_USER", "3")]).await;
    let user = app.signed_up_user().await;
    let second = app.new_token(&user).await;
    let third = app.new_token(&user).await;
    expect_status(app.me(&user.token).await, StatusCode::OK).await;
    let fourth = app.new_token(&user).await;
    assert_revoked(app.me(&user.token).await).await;
    for token in [&second, &third, &fourth] {
        expect_status(app.me(token).await, StatusCode::OK).await;
    }
    let ids: Vec<String> = list_sessions(&app, &fourth)
        .await
        .iter()
        .map(|s| s["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(ids, [jti(&fourth), jti(&third), jti(&second)]);
}
