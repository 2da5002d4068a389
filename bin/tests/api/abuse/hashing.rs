//! The bounded password hashing: a signin flood gets prompt 503s while guarded requests
//! stay fast.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::helpers::{header, send, spawn_app_with, unique_email};

#[tokio::test]
async fn a_signin_flood_gets_prompt_503s_while_guarded_requests_stay_fast() {
    // One hashing thread, two places in line, a one-second wait, a realistic cost.
    let app = spawn_app_with(&[
        ("BCRYPT_COST", "12"),
        ("HASH_CONCURRENCY", "1"),
        ("HASH_QUEUE", "2"),
        ("HASH_WAIT_SECONDS", "1"),
        ("ACCOUNT_FAILURE_LIMIT", "0"),
    ])
    .await;
    let user = app.signed_up_user().await;
    let mut flood = JoinSet::new();
    for _ in 0..30 {
        let request = app
            .client
            .post(app.url("/api/auth/signin"))
            .json(&json!({"email": unique_email(), "password": "flood-password-1"}));
        flood.spawn(async move {
            let started = Instant::now();
            let response = send(request).await;
            (response, started.elapsed())
        });
    }
    // While the flood lasts, the guarded route answers as usual.
    let mut slowest = Duration::ZERO;
    for _ in 0..10 {
        let started = Instant::now();
        let me = app.me(&user.token).await;
        assert_eq!(me.status(), StatusCode::OK);
        slowest = slowest.max(started.elapsed());
        let page = app
            .get("/metrics", None)
            .await
            .text()
            .await
            .unwrap_or_default();
        let running = page
            .lines()
            .find_map(|l| l.strip_prefix(r#"tessera_password_hashes{state="running"} "#))
            .and_then(|v| v.parse::<u32>().ok());
        assert!(running.is_some_and(|n| n <= 1), "{page}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(slowest < Duration::from_millis(750), "{slowest:?}");
    let mut refused = 0;
    while let Some(joined) = flood.join_next().await {
        let (response, elapsed) = joined.expect("the request task completes");
        if response.status() == StatusCode::SERVICE_UNAVAILABLE {
            refused += 1;
            // Refused at once (queue full) or after the one-second wait, never later.
            assert!(elapsed < Duration::from_millis(2_500), "{elapsed:?}");
            assert!(header(&response, "retry-after").is_some());
            let body: Value = response.json().await.expect("a JSON body");
            assert_eq!(body["code"], "unavailable");
        } else {
            assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        }
    }
    assert!(refused >= 20, "only {refused} of 30 were refused");
}
