//! `GET /api/auth/events`: what is recorded, and the retention that prunes it.

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{ME, SESSIONS};
use crate::helpers::{
    assert_validation, event_types, expect_status, jti, spawn_app_with, string_at, unique_password,
};

const EVENTS: &str = "/api/auth/events";

#[tokio::test]
async fn security_events_are_recorded_newest_first_and_hold_no_secret() {
    let app = spawn_app_with(&[("ACCOUNT_FAILURE_LIMIT", "2")]).await;
    let user = app.signed_up_user().await;
    let second = app.new_token(&user).await;
    for _ in 0..2 {
        let wrong = app.signin(&user.email, "wrong-password-1").await;
        assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    }
    // The second failure set a one-second wait: even the right password is refused.
    let refused = app.signin(&user.email, &user.password).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let renamed = app
        .json_request(
            Method::PATCH,
            ME,
            &json!({"name": "New Name"}),
            Some(&second),
        )
        .await;
    expect_status(renamed, StatusCode::OK).await;
    let path = format!("{SESSIONS}/{}", jti(&user.token));
    expect_status(
        app.call(Method::DELETE, &path, Some(&second)).await,
        StatusCode::OK,
    )
    .await;
    expect_status(app.signout(Some(&second), &json!({})).await, StatusCode::OK).await;
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    let fresh = string_at(
        &expect_status(
            app.signin(&user.email, &user.password).await,
            StatusCode::OK,
        )
        .await,
        "/token",
    );
    let new_password = unique_password();
    let body = expect_status(
        app.change_password(&fresh, &user.password, &new_password)
            .await,
        StatusCode::OK,
    )
    .await;
    let token = string_at(&body, "/token");
    let types = event_types(&app, &token).await;
    assert_eq!(
        types,
        [
            "password_changed",
            "signin",
            "signout",
            "session_ended",
            "name_changed",
            "rate_limited",
            "signin_failed",
            "signin_failed",
            "signin",
            "signup",
        ]
    );

    let limited = app.get(&format!("{EVENTS}?limit=2"), Some(&token)).await;
    let body = expect_status(limited, StatusCode::OK).await;
    let events = body["events"].as_array().cloned().unwrap_or_default();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["type"], "password_changed");
    assert_eq!(events[0]["ip"], "127.0.0.1");
    assert!(events[0]["at"].as_str().is_some_and(|t| t.ends_with('Z')));
    let text = body.to_string();
    for secret in [
        user.password.as_str(),
        new_password.as_str(),
        token.as_str(),
    ] {
        assert!(!text.contains(secret), "{text}");
    }
    for bad in ["0", "101", "ten", "-1"] {
        let response = app
            .get(&format!("{EVENTS}?limit={bad}"), Some(&token))
            .await;
        assert_validation(
            response,
            "limit",
            "Limit must be a whole number from 1 to 100",
        )
        .await;
    }
}

#[tokio::test]
async fn retention_runs_are_counted_in_the_metrics() {
    let app = spawn_app_with(&[]).await;
    let mut counted = false;
    for _ in 0..40 {
        let text = app
            .get("/metrics", None)
            .await
            .text()
            .await
            .unwrap_or_default();
        if text.lines().any(|l| {
            l.starts_with("tessera_retention_runs_total{outcome=\"ok\"} ") && !l.ends_with(" 0")
        }) {
            assert!(text.contains("tessera_retention_deleted_total{kind=\"sessions\"}"));
            counted = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(counted, "the first retention run at start must be counted");
}
