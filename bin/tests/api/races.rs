//! Two requests at once: a password change against signins and against another change,
//! and the deletion of an account against its signins and task writes. Whatever order
//! they land in, the answers are the contract's and no old-password session survives.

use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, TestUser, assert_error, expect_status, spawn_app_with, string_at, tasks_path,
    unique_password,
};

const ME: &str = "/api/auth/me";

/// A server whose hashing queue holds every request these tests send at once.
async fn app() -> TestApp {
    spawn_app_with(&[("HASH_QUEUE", "64"), ("ACCOUNT_FAILURE_LIMIT", "0")]).await
}

/// Runs `signins` signins of `user`'s current password at the same time as `during`,
/// and returns each signin's status and body.
async fn signins_during<F: Future>(
    app: &TestApp,
    user: &TestUser,
    signins: usize,
    during: F,
) -> (Vec<(StatusCode, Value)>, F::Output) {
    let attempts = (0..signins).map(|_| async {
        let response = app.signin(&user.email, &user.password).await;
        let status = response.status();
        (
            status,
            response.json::<Value>().await.unwrap_or(Value::Null),
        )
    });
    tokio::join!(join_all(attempts), during)
}

#[tokio::test]
async fn no_session_of_the_old_password_outlives_a_password_change() {
    let app = app().await;
    for round in 0..5 {
        let user = app.signed_up_user().await;
        let new_password = unique_password();
        let (signins, changed) = signins_during(
            &app,
            &user,
            12,
            app.change_password(&user.token, &user.password, &new_password),
        )
        .await;
        let changed = expect_status(changed, StatusCode::OK).await;
        let new_token = string_at(&changed, "/token");
        for (status, body) in signins {
            match status {
                StatusCode::OK => {
                    // Stored before the change committed, so ended by it.
                    let token = string_at(&body, "/token");
                    let me = app.me(&token).await;
                    assert_eq!(
                        me.status(),
                        StatusCode::UNAUTHORIZED,
                        "round {round}: a session of the old password is live"
                    );
                }
                StatusCode::BAD_REQUEST => {
                    assert_eq!(body["code"], "invalid_credentials", "round {round}: {body}");
                }
                other => panic!("round {round}: a signin racing a change answered {other}: {body}"),
            }
        }
        expect_status(app.me(&new_token).await, StatusCode::OK).await;
        let old = app.signin(&user.email, &user.password).await;
        assert_eq!(old.status(), StatusCode::BAD_REQUEST);
        let sessions = expect_status(
            app.get("/api/auth/sessions", Some(&new_token)).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(
            sessions["sessions"].as_array().map(Vec::len),
            Some(1),
            "round {round}: only the change's own session is live: {sessions}"
        );
    }
}

#[tokio::test]
async fn of_two_changes_with_the_same_current_password_one_wins() {
    let app = app().await;
    for round in 0..5 {
        let user = app.signed_up_user().await;
        let second_token = app.new_token(&user).await;
        let (first, second) = (unique_password(), unique_password());
        let (a, b) = tokio::join!(
            app.change_password(&user.token, &user.password, &first),
            app.change_password(&second_token, &user.password, &second),
        );
        let results = [(a, first), (b, second)];
        let mut won = None;
        let mut lost = None;
        for (response, password) in results {
            match response.status() {
                StatusCode::OK => {
                    let body: Value = response.json().await.unwrap_or(Value::Null);
                    assert!(won.is_none(), "round {round}: both changes succeeded");
                    won = Some((password, string_at(&body, "/token")));
                }
                // A loser whose guard ran after the winner committed finds its session
                // ended with the others: 401, the password unchanged all the same.
                StatusCode::UNAUTHORIZED => {
                    assert_error(
                        response,
                        StatusCode::UNAUTHORIZED,
                        "token_revoked",
                        "Session has ended, please log in again",
                    )
                    .await;
                    lost = Some(password);
                }
                _ => {
                    assert_error(
                        response,
                        StatusCode::BAD_REQUEST,
                        "invalid_credentials",
                        "Current password is incorrect",
                    )
                    .await;
                    lost = Some(password);
                }
            }
        }
        let (Some((winner, token)), Some(loser)) = (won, lost) else {
            panic!("round {round}: exactly one change must win");
        };
        expect_status(app.me(&token).await, StatusCode::OK).await;
        expect_status(app.signin(&user.email, &winner).await, StatusCode::OK).await;
        for refused in [loser.as_str(), user.password.as_str()] {
            let response = app.signin(&user.email, refused).await;
            assert_eq!(response.status(), StatusCode::BAD_REQUEST, "round {round}");
        }
    }
}

#[tokio::test]
async fn signins_racing_the_deletion_of_their_account_are_refused_as_credentials() {
    let app = app().await;
    for round in 0..5 {
        let user = app.signed_up_user().await;
        let body = json!({"password": user.password});
        let deletion = app.json_request(Method::DELETE, ME, &body, user.auth());
        let (signins, deleted) = signins_during(&app, &user, 12, deletion).await;
        expect_status(deleted, StatusCode::OK).await;
        for (status, body) in signins {
            match status {
                StatusCode::OK => {
                    let me = app.me(&string_at(&body, "/token")).await;
                    assert_eq!(me.status(), StatusCode::UNAUTHORIZED, "round {round}");
                }
                StatusCode::BAD_REQUEST => {
                    assert_eq!(body["code"], "invalid_credentials", "round {round}: {body}");
                    assert_eq!(body["error"], "Invalid email or password", "round {round}");
                }
                other => {
                    panic!("round {round}: a signin racing a deletion answered {other}: {body}")
                }
            }
        }
    }
}

#[tokio::test]
async fn task_writes_racing_the_deletion_of_their_account_are_token_revoked() {
    let app = spawn_app_with(&[("MAX_TASKS_PER_USER", "1000")]).await;
    for round in 0..5 {
        let user = app.signed_up_user().await;
        let task = app.create_task(&user, "kept until the end").await;
        let id = task["id"].as_i64().unwrap_or_default();
        let writes = (0..16).map(|n| {
            let (app, user) = (&app, &user);
            async move {
                let response = if n % 2 == 0 {
                    app.post_json(
                        &tasks_path(&user.id),
                        &json!({"title": "racing"}),
                        user.auth(),
                    )
                    .await
                } else {
                    app.json_request(
                        Method::PATCH,
                        &format!("{}/{id}", tasks_path(&user.id)),
                        &json!({"title": "racing"}),
                        user.auth(),
                    )
                    .await
                };
                let status = response.status();
                (
                    status,
                    response.json::<Value>().await.unwrap_or(Value::Null),
                )
            }
        });
        let body = json!({"password": user.password});
        let (writes, deleted) = tokio::join!(
            join_all(writes),
            app.json_request(Method::DELETE, ME, &body, user.auth())
        );
        expect_status(deleted, StatusCode::OK).await;
        for (status, body) in writes {
            match status {
                StatusCode::OK | StatusCode::CREATED => {}
                StatusCode::UNAUTHORIZED => {
                    assert_eq!(body["code"], "token_revoked", "round {round}: {body}");
                }
                other => {
                    panic!("round {round}: a task write racing a deletion answered {other}: {body}")
                }
            }
        }
    }
}
