//! `GET /health`.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{expect_status, header, spawn_app};

#[tokio::test]
async fn health_returns_ok() {
    let app = spawn_app().await;
    let response = app.get("/health", None).await;
    let content_type = header(&response, "content-type").unwrap_or_default();
    assert!(
        content_type.starts_with("application/json"),
        "Content-Type is {content_type:?}"
    );
    assert_eq!(
        expect_status(response, StatusCode::OK).await,
        json!({"status": "ok"})
    );
}
