//! CORS: preflights and answers for allowed and unknown origins, and `CORS_ORIGINS`.

use reqwest::{Method, Response, StatusCode};
use serde_json::json;

use crate::helpers::{
    TestApp, app_with_user, expect_status, header, send, spawn_app, spawn_app_with, tasks_path,
};

const DEFAULT_ORIGIN: &str = "http://localhost:3000";
const EVIL_ORIGIN: &str = "http://evil.example";

/// A CORS preflight for `PATCH` with Authorization and Content-Type from `origin`.
async fn preflight(app: &TestApp, origin: &str) -> Response {
    let path = format!("/api/{}/tasks/1", uuid::Uuid::new_v4());
    let request = app
        .request(Method::OPTIONS, &path, None)
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "PATCH")
        .header(
            "Access-Control-Request-Headers",
            "authorization,content-type",
        );
    send(request).await
}

/// Asserts that a preflight from `origin` is allowed for PATCH with both headers.
async fn assert_preflight_allowed(app: &TestApp, origin: &str) {
    let response = preflight(app, origin).await;
    assert!(
        response.status().is_success(),
        "preflight from {origin}: status {}",
        response.status()
    );
    assert_eq!(
        header(&response, "access-control-allow-origin").as_deref(),
        Some(origin),
        "preflight from {origin}"
    );
    let methods = header(&response, "access-control-allow-methods")
        .unwrap_or_default()
        .to_ascii_uppercase();
    assert!(methods.contains("PATCH"), "allowed methods: {methods}");
    let headers = header(&response, "access-control-allow-headers")
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert!(
        headers.contains("authorization") && headers.contains("content-type"),
        "allowed headers: {headers}"
    );
}

/// Asserts that a preflight from `origin` is not granted.
async fn assert_preflight_refused(app: &TestApp, origin: &str) {
    let response = preflight(app, origin).await;
    let allowed = header(&response, "access-control-allow-origin");
    assert!(
        allowed.is_none(),
        "preflight from {origin} was granted: {allowed:?}"
    );
    // Even the CORS layer's refusal is answered in the contract's JSON shape.
    let content_type = header(&response, "content-type").unwrap_or_default();
    assert!(
        content_type.starts_with("application/json"),
        "refused preflight from {origin} answered {content_type:?}"
    );
    let body: serde_json::Value = response.json().await.expect("a JSON error body");
    assert!(
        body["code"].is_string() && body["error"].is_string(),
        "{body}"
    );
}

#[tokio::test]
async fn cors_preflight_from_the_default_allowed_origin_is_granted() {
    let app = spawn_app().await;
    assert_preflight_allowed(&app, DEFAULT_ORIGIN).await;
}

#[tokio::test]
async fn cors_requests_from_an_unknown_origin_get_no_allow_origin() {
    let app = spawn_app().await;
    assert_preflight_refused(&app, EVIL_ORIGIN).await;
    let request = app
        .request(Method::GET, "/health", None)
        .header("Origin", EVIL_ORIGIN);
    let response = send(request).await;
    let allowed = header(&response, "access-control-allow-origin");
    assert!(
        allowed.is_none(),
        "request from {EVIL_ORIGIN} was granted: {allowed:?}"
    );
}

#[tokio::test]
async fn cors_response_from_an_allowed_origin_exposes_the_total_count() {
    let (app, user) = app_with_user().await;
    let request = app
        .request(Method::GET, &tasks_path(&user.id), user.auth())
        .header("Origin", DEFAULT_ORIGIN);
    let response = send(request).await;
    assert_eq!(
        header(&response, "access-control-allow-origin").as_deref(),
        Some(DEFAULT_ORIGIN)
    );
    let exposed = header(&response, "access-control-expose-headers")
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert!(
        exposed.contains("x-total-count"),
        "exposed headers: {exposed:?}"
    );
    assert_eq!(header(&response, "x-total-count").as_deref(), Some("0"));
    assert_eq!(expect_status(response, StatusCode::OK).await, json!([]));
}

#[tokio::test]
async fn cors_origins_setting_allows_each_listed_origin_and_only_those() {
    let first = "https://app.example.com";
    let second = "http://localhost:5173";
    let origins = format!("{first},{second}");
    let app = spawn_app_with(&[("CORS_ORIGINS", origins.as_str())]).await;
    assert_preflight_allowed(&app, first).await;
    assert_preflight_allowed(&app, second).await;
    assert_preflight_refused(&app, DEFAULT_ORIGIN).await;
    assert_preflight_refused(&app, EVIL_ORIGIN).await;
}
