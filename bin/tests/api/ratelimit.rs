//! The signup and signin rate limit (`AUTH_RATE_LIMIT_PER_MINUTE`, per client IP).

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{assert_error, expect_status, header, spawn_app_with, unique_email};

#[tokio::test]
async fn signin_and_signup_attempts_over_the_limit_get_429_with_retry_after() {
    let app = spawn_app_with(&[("AUTH_RATE_LIMIT_PER_MINUTE", "10")]).await;
    let email = unique_email();
    // Signups and signins share one budget per client.
    expect_status(
        app.signup("Limited", &email, "securepassword123").await,
        StatusCode::CREATED,
    )
    .await;
    // Each on another (unknown) account, so that only the address budget counts them.
    for _ in 0..9 {
        let response = app.signin(&unique_email(), "not-the-password-1").await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    }
    let limited = app.signin(&email, "securepassword123").await;
    let retry_after = header(&limited, "retry-after").expect("a Retry-After header");
    let seconds: u64 = retry_after.parse().expect("whole seconds");
    assert!((1..=60).contains(&seconds), "{seconds}");
    assert_error(
        limited,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        "Too many attempts, please try again later",
    )
    .await;
    let signup = app
        .signup("Other", &unique_email(), "securepassword123")
        .await;
    assert_eq!(signup.status(), StatusCode::TOO_MANY_REQUESTS);

    // Other routes are not limited.
    expect_status(app.get("/health", None).await, StatusCode::OK).await;
    let page = app
        .get("/metrics", None)
        .await
        .text()
        .await
        .expect("metrics");
    assert!(
        page.lines()
            .any(|l| l == r#"tessera_signins_total{outcome="rate_limited"} 1"#),
        "{page}"
    );
}

#[tokio::test]
async fn a_limit_of_zero_turns_the_limit_off() {
    let app = spawn_app_with(&[("AUTH_RATE_LIMIT_PER_MINUTE", "0")]).await;
    for _ in 0..30 {
        let response = app
            .post_json(
                "/api/auth/signin",
                &json!({"email": unique_email(), "password": "whatever-it-is"}),
                None,
            )
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    }
}
