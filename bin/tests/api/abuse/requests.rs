//! Slow and oversized requests: the body deadline and the head size limit.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{assert_error, send, spawn_app_with};

#[tokio::test]
async fn a_stalled_body_gets_408_within_the_deadline_and_the_connection_closes() {
    let app = spawn_app_with(&[("BODY_TIMEOUT_SECONDS", "1")]).await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address)
        .await
        .expect("connect");
    let head = "POST /api/auth/signout HTTP/1.1\r\nHost: 127.0.0.1\r\n\
                Content-Type: application/json\r\nContent-Length: 65536\r\n\r\n{\"sco";
    let started = Instant::now();
    stream.write_all(head.as_bytes()).await.expect("send");
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    let elapsed = started.elapsed();
    assert!(
        read.is_ok(),
        "the connection was neither answered nor closed"
    );
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.contains(r#"{"error":"Request timed out","code":"request_timeout"}"#),
        "{answer}"
    );
    assert!(
        elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(5),
        "{elapsed:?}"
    );
    // A body that arrives in time is served as usual.
    let fine = app.signout(None, &json!({"scope": "local"})).await;
    assert_eq!(fine.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_request_head_over_32_kib_is_refused_with_431() {
    let app = spawn_app_with(&[]).await;
    let (app, user) = (&app, app.signed_up_user().await);
    let huge = app
        .request(reqwest::Method::GET, "/api/auth/me", user.auth())
        .header("X-Padding", "x".repeat(33 * 1024));
    assert_error(
        send(huge).await,
        StatusCode::from_u16(431).expect("a status"),
        "headers_too_large",
        "Request headers are too large",
    )
    .await;
    // Under the limit, served as usual.
    let large = app
        .request(reqwest::Method::GET, "/api/auth/me", user.auth())
        .header("X-Padding", "x".repeat(30 * 1024));
    assert_eq!(send(large).await.status(), StatusCode::OK);
}
