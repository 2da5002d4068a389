//! Account and sessions: the name, the password, the sessions, the security events, the
//! deletion of an account, and the limits on what one account holds.

use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{
    ForgedToken, TestApp, TestUser, app_with_user, assert_error, assert_unauthorized,
    assert_validation, event_types, expect_status, spawn_app_with, string_at, task_path,
    tasks_path, unique_password,
};

const PASSWORD: &str = "/api/auth/password";
const SESSIONS: &str = "/api/auth/sessions";
const EVENTS: &str = "/api/auth/events";
const ME: &str = "/api/auth/me";

async fn assert_revoked(response: Response) {
    assert_unauthorized(
        response,
        "token_revoked",
        "Session has ended, please log in again",
    )
    .await;
}

async fn change_password(app: &TestApp, token: &str, current: &str, new: &str) -> Response {
    let body = json!({"current_password": current, "new_password": new});
    app.post_json(PASSWORD, &body, Some(token)).await
}

async fn list_sessions(app: &TestApp, token: &str) -> Vec<Value> {
    let body = expect_status(app.get(SESSIONS, Some(token)).await, StatusCode::OK).await;
    body["sessions"].as_array().cloned().unwrap_or_default()
}

fn jti(token: &str) -> String {
    ForgedToken::parse(token).claims["jti"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

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

#[tokio::test]
async fn a_password_change_ends_every_session_and_the_new_token_works() {
    let (app, user) = app_with_user().await;
    let other = app.new_token(&user).await;
    let new_password = unique_password();

    let response = change_password(&app, &user.token, "wrong-password-1", &new_password).await;
    assert_error(
        response,
        StatusCode::BAD_REQUEST,
        "invalid_credentials",
        "Current password is incorrect",
    )
    .await;
    // Nothing changed: both sessions still work.
    expect_status(app.me(&other).await, StatusCode::OK).await;

    let body = expect_status(
        change_password(&app, &user.token, &user.password, &new_password).await,
        StatusCode::OK,
    )
    .await;
    let fresh = string_at(&body, "/token");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["user"]["id"], user.id.as_str());
    assert_revoked(app.me(&user.token).await).await;
    assert_revoked(app.me(&other).await).await;
    expect_status(app.me(&fresh).await, StatusCode::OK).await;
    let sessions = list_sessions(&app, &fresh).await;
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    assert_eq!(sessions[0]["current"], true);

    let old = app.signin(&user.email, &user.password).await;
    assert_error(
        old,
        StatusCode::BAD_REQUEST,
        "invalid_credentials",
        "Invalid email or password",
    )
    .await;
    expect_status(app.signin(&user.email, &new_password).await, StatusCode::OK).await;
}

#[tokio::test]
async fn password_change_fields_are_checked_before_the_password() {
    let (app, user) = app_with_user().await;
    let response = app
        .post_json(
            PASSWORD,
            &json!({"new_password": unique_password()}),
            user.auth(),
        )
        .await;
    assert_validation(response, "current_password", "Current password is required").await;
    for (new, message) in [
        ("short", "Password must be at least 8 characters"),
        (
            "password123",
            "This password is too common, please choose another",
        ),
        (&"é".repeat(37), "Password must be at most 72 bytes"),
    ] {
        // A wrong current password is not even checked when the new one is invalid.
        let response = change_password(&app, &user.token, "not-the-password", new).await;
        assert_validation(response, "new_password", message).await;
    }
    let response = app.post_json(PASSWORD, &json!({}), user.auth()).await;
    let body =
        assert_validation(response, "current_password", "Current password is required").await;
    assert_eq!(
        body["fields"]["new_password"],
        "Password must be at least 8 characters"
    );
    expect_status(app.me(&user.token).await, StatusCode::OK).await;
}

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
        change_password(&app, &fresh, &user.password, &new_password).await,
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
async fn deleting_the_account_removes_its_tasks_and_sessions_and_frees_the_email() {
    let (app, user) = app_with_user().await;
    let other = app.new_token(&user).await;
    let task = app.create_task(&user, "Gone soon").await;
    let response = app
        .json_request(Method::DELETE, ME, &json!({}), user.auth())
        .await;
    assert_validation(response, "password", "Password is required").await;
    let response = app
        .json_request(
            Method::DELETE,
            ME,
            &json!({"password": "wrong-password-1"}),
            user.auth(),
        )
        .await;
    assert_error(
        response,
        StatusCode::BAD_REQUEST,
        "invalid_credentials",
        "Password is incorrect",
    )
    .await;
    // Nothing was deleted.
    app.get_task(&user, task["id"].as_i64().unwrap_or_default())
        .await;

    let body = json!({"password": user.password});
    let deleted = expect_status(
        app.json_request(Method::DELETE, ME, &body, user.auth())
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(deleted, json!({"message": "Account deleted"}));
    assert_revoked(app.me(&user.token).await).await;
    assert_revoked(app.me(&other).await).await;
    let response = app.get(&tasks_path(&user.id), Some(&other)).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let signin = app.signin(&user.email, &user.password).await;
    assert_eq!(signin.status(), StatusCode::BAD_REQUEST);
    // The email signs up again, as a new account with no tasks.
    let again = expect_status(
        app.signup("Again", &user.email, &unique_password()).await,
        StatusCode::CREATED,
    )
    .await;
    assert_ne!(again["user"]["id"], user.id.as_str());
    let id = string_at(&again, "/user/id");
    let token = string_at(&again, "/token");
    let tasks = expect_status(
        app.get(&tasks_path(&id), Some(&token)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(tasks, json!([]));
    let old_task = app
        .get(
            &task_path(&id, task["id"].as_i64().unwrap_or_default()),
            Some(&token),
        )
        .await;
    assert_eq!(old_task.status(), StatusCode::NOT_FOUND);
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

#[tokio::test]
async fn the_task_quota_refuses_one_task_more_and_bounds_the_offset() {
    let app = spawn_app_with(&[("MAX_TASKS_PER_USER", "3")]).await;
    let user = app.signed_up_user().await;
    let mut ids = Vec::new();
    for n in 0..3 {
        ids.push(app.create_task(&user, &format!("task {n}")).await["id"].clone());
    }
    let response = app
        .post_json(
            &tasks_path(&user.id),
            &json!({"title": "one too many"}),
            user.auth(),
        )
        .await;
    assert_error(
        response,
        StatusCode::CONFLICT,
        "quota_exceeded",
        "You have reached the maximum number of tasks",
    )
    .await;
    assert_eq!(
        app.list_tasks(&user).await.as_array().map(Vec::len),
        Some(3)
    );
    let first = ids[0].as_i64().unwrap_or_default();
    expect_status(
        app.call(Method::DELETE, &task_path(&user.id, first), user.auth())
            .await,
        StatusCode::OK,
    )
    .await;
    app.create_task(&user, "room again").await;
    // Another user's quota is their own.
    let other = app.signed_up_user().await;
    app.create_task(&other, "mine").await;

    let at_limit = app
        .get(&format!("{}?offset=3", tasks_path(&user.id)), user.auth())
        .await;
    expect_status(at_limit, StatusCode::OK).await;
    let beyond = app
        .get(&format!("{}?offset=4", tasks_path(&user.id)), user.auth())
        .await;
    assert_eq!(beyond.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn password_routes_count_against_the_address_budget() {
    let app = spawn_app_with(&[("AUTH_RATE_LIMIT_PER_MINUTE", "3")]).await;
    let user = app.signed_up_user().await;
    // The signup took one attempt; two more are allowed.
    for _ in 0..2 {
        let response =
            change_password(&app, &user.token, "wrong-password-1", &unique_password()).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    }
    let response = app
        .json_request(
            Method::DELETE,
            ME,
            &json!({"password": user.password}),
            user.auth(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key("retry-after"));
    // Routes that check no password are not counted.
    expect_status(app.me(&user.token).await, StatusCode::OK).await;
    let renamed = app
        .json_request(
            Method::PATCH,
            ME,
            &json!({"name": "Still Here"}),
            user.auth(),
        )
        .await;
    expect_status(renamed, StatusCode::OK).await;
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
