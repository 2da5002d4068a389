//! The per-account throttle: failed checks counted, attempts held while checks are pending,
//! one event per lock.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use tokio::task::JoinSet;

use super::{count, signin_from};
use crate::helpers::{
    TestApp, assert_rate_limited, client_from, event_types, expect_status, header, send,
    spawn_app_with, unique_email,
};

/// Sends one signin per source address in `addresses`, all at once; returns the
/// statuses and `Retry-After` values.
async fn signins_from_many(
    app: &TestApp,
    addresses: std::ops::Range<u8>,
    email: &str,
    password: &str,
) -> Vec<(StatusCode, Option<u64>)> {
    let mut requests = JoinSet::new();
    for last in addresses {
        let url = app.url("/api/auth/signin");
        let body = json!({"email": email, "password": password});
        requests.spawn(async move { send(client_from(last).post(url).json(&body)).await });
    }
    let mut outcomes = Vec::new();
    while let Some(joined) = requests.join_next().await {
        let response = joined.expect("the request task completes");
        let retry_after = header(&response, "retry-after").and_then(|v| v.parse().ok());
        outcomes.push((response.status(), retry_after));
    }
    outcomes
}

#[tokio::test]
async fn fifty_addresses_guessing_one_account_get_five_checks_and_then_429() {
    let app = spawn_app_with(&[("AUTH_RATE_LIMIT_PER_MINUTE", "10")]).await;
    let user = app.signed_up_user().await;
    let outcomes = signins_from_many(&app, 10..60, &user.email, "wrong-password-1").await;
    assert_eq!(count(&outcomes, StatusCode::BAD_REQUEST), 5, "{outcomes:?}");
    assert_eq!(
        count(&outcomes, StatusCode::TOO_MANY_REQUESTS),
        45,
        "{outcomes:?}"
    );
    for (status, retry_after) in &outcomes {
        if *status == StatusCode::TOO_MANY_REQUESTS {
            assert!(
                retry_after.is_some_and(|s| (1..=900).contains(&s)),
                "{outcomes:?}"
            );
        }
    }
    // Locked: the right password from yet another address is refused too.
    let right = signin_from(&app, &client_from(60), None, &user.email, &user.password).await;
    let wait = assert_rate_limited(right).await;
    assert!((1..=900).contains(&wait), "{wait}");
    let page = app
        .get("/metrics", None)
        .await
        .text()
        .await
        .unwrap_or_default();
    assert!(
        page.lines()
            .any(|l| l == r#"tessera_signins_total{outcome="rate_limited"} 46"#),
        "{page}"
    );
}

#[tokio::test]
async fn an_unknown_email_is_throttled_exactly_like_a_known_one() {
    let app = spawn_app_with(&[]).await;
    let known = app.signed_up_user().await;
    let unknown = unique_email();
    for email in [&known.email, &unknown] {
        let outcomes = signins_from_many(&app, 70..90, email, "wrong-password-1").await;
        assert_eq!(count(&outcomes, StatusCode::BAD_REQUEST), 5, "{outcomes:?}");
        assert_eq!(
            count(&outcomes, StatusCode::TOO_MANY_REQUESTS),
            15,
            "{outcomes:?}"
        );
    }
}

#[tokio::test]
async fn the_wait_is_announced_doubles_and_a_right_password_works_once_it_has_passed() {
    let app = spawn_app_with(&[
        ("ACCOUNT_FAILURE_LIMIT", "3"),
        ("ACCOUNT_LOCK_MAX_SECONDS", "2"),
    ])
    .await;
    let user = app.signed_up_user().await;
    for _ in 0..3 {
        let wrong = app.signin(&user.email, "wrong-password-1").await;
        assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    }
    // Locked whatever the password; the first wait is one second.
    let refused = app.signin(&user.email, &user.password).await;
    assert_eq!(assert_rate_limited(refused).await, 1);
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    // Another failure doubles it (capped at ACCOUNT_LOCK_MAX_SECONDS).
    let wrong = app.signin(&user.email, "wrong-password-1").await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    let refused = app.signin(&user.email, &user.password).await;
    assert_eq!(assert_rate_limited(refused).await, 2);
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    expect_status(
        app.signin(&user.email, &user.password).await,
        StatusCode::OK,
    )
    .await;
    // The success reset the count: three more failures before the next lock.
    for _ in 0..3 {
        let wrong = app.signin(&user.email, "wrong-password-1").await;
        assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    }
    assert_rate_limited(app.signin(&user.email, &user.password).await).await;
}

#[tokio::test]
async fn sixteen_right_password_signins_at_once_on_one_account_all_succeed() {
    // A hashing queue that holds them all: only the account throttle could refuse.
    let app = spawn_app_with(&[("HASH_QUEUE", "32")]).await;
    let user = app.signed_up_user().await;
    let outcomes = signins_from_many(&app, 100..116, &user.email, &user.password).await;
    assert_eq!(count(&outcomes, StatusCode::OK), 16, "{outcomes:?}");
    let page = app
        .get("/metrics", None)
        .await
        .text()
        .await
        .unwrap_or_default();
    assert!(
        !page.lines().any(
            |l| l.starts_with(r#"tessera_signins_total{outcome="rate_limited"}"#)
                && !l.ends_with(" 0")
        ),
        "{page}"
    );
    // Nothing was counted against the account: the limit of failures is still whole.
    for attempt in 0..5 {
        let wrong = app.signin(&user.email, "wrong-password-1").await;
        assert_eq!(wrong.status(), StatusCode::BAD_REQUEST, "failure {attempt}");
    }
    assert_rate_limited(app.signin(&user.email, &user.password).await).await;
}

#[tokio::test]
async fn sixteen_wrong_guesses_at_once_on_one_account_get_five_checks_and_then_429() {
    let app = spawn_app_with(&[("HASH_QUEUE", "32")]).await;
    let user = app.signed_up_user().await;
    let outcomes = signins_from_many(&app, 120..136, &user.email, "wrong-password-1").await;
    assert_eq!(count(&outcomes, StatusCode::BAD_REQUEST), 5, "{outcomes:?}");
    assert_eq!(
        count(&outcomes, StatusCode::TOO_MANY_REQUESTS),
        11,
        "{outcomes:?}"
    );
    let right = signin_from(&app, &client_from(136), None, &user.email, &user.password).await;
    assert_rate_limited(right).await;
}

#[tokio::test]
async fn a_lock_records_one_rate_limited_event_however_many_attempts_it_refuses() {
    let app = spawn_app_with(&[
        ("ACCOUNT_FAILURE_LIMIT", "2"),
        ("AUTH_RATE_LIMIT_PER_MINUTE", "0"),
        ("HASH_QUEUE", "32"),
    ])
    .await;
    let user = app.signed_up_user().await;
    for _ in 0..2 {
        let wrong = app.signin(&user.email, "wrong-password-1").await;
        assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    }
    // The first lock (one second) refuses twenty attempts, one after another and at once.
    for _ in 0..10 {
        assert_rate_limited(app.signin(&user.email, &user.password).await).await;
    }
    let outcomes = signins_from_many(&app, 140..150, &user.email, &user.password).await;
    assert_eq!(
        count(&outcomes, StatusCode::TOO_MANY_REQUESTS),
        10,
        "{outcomes:?}"
    );
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    // A further failure is a new lock (two seconds): one more event, whatever it refuses.
    let wrong = app.signin(&user.email, "wrong-password-1").await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    for _ in 0..5 {
        assert_rate_limited(app.signin(&user.email, &user.password).await).await;
    }
    let types = event_types(&app, &user.token).await;
    assert_eq!(
        types,
        [
            "rate_limited",
            "signin_failed",
            "rate_limited",
            "signin_failed",
            "signin_failed",
            "signup",
        ]
    );
}

#[tokio::test]
async fn an_account_failure_limit_of_zero_turns_the_throttle_off() {
    let app = spawn_app_with(&[("ACCOUNT_FAILURE_LIMIT", "0")]).await;
    let user = app.signed_up_user().await;
    for _ in 0..12 {
        let wrong = app.signin(&user.email, "wrong-password-1").await;
        assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    }
    expect_status(
        app.signin(&user.email, &user.password).await,
        StatusCode::OK,
    )
    .await;
}
