//! Operations endpoints and request metadata: `/ready`, `/metrics`, `X-Request-Id`.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{app_with_user, expect_status, header, spawn_app, tasks_path};

/// The value of the sample `name{labels}` in a Prometheus text page, if present.
fn sample(page: &str, name_and_labels: &str) -> Option<f64> {
    page.lines()
        .find_map(|line| line.strip_prefix(name_and_labels)?.trim().parse().ok())
}

async fn metrics_page(app: &crate::helpers::TestApp) -> String {
    let response = app.get("/metrics", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = header(&response, "content-type").unwrap_or_default();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    response.text().await.expect("a text body")
}

#[tokio::test]
async fn ready_answers_ready_when_storage_answers() {
    let app = spawn_app().await;
    let body = expect_status(app.get("/ready", None).await, StatusCode::OK).await;
    assert_eq!(body, json!({"status": "ready"}));
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_never_by_raw_path() {
    let (app, user) = app_with_user().await;
    for _ in 0..3 {
        expect_status(
            app.get(&tasks_path(&user.id), user.auth()).await,
            StatusCode::OK,
        )
        .await;
    }
    let page = metrics_page(&app).await;
    let listed = sample(
        &page,
        r#"http_requests_total{method="GET",route="/api/{user_id}/tasks",status="200"}"#,
    );
    assert_eq!(listed, Some(3.0), "{page}");
    assert!(page.contains("http_request_duration_seconds_bucket"));
    assert!(
        !page.contains(&user.id),
        "a user id leaked into the metrics"
    );
    assert!(
        !page.contains(&user.email),
        "an email leaked into the metrics"
    );
}

#[tokio::test]
async fn metrics_count_signin_outcomes_and_ended_sessions() {
    let (app, user) = app_with_user().await;
    app.new_token(&user).await;
    let wrong = app.signin(&user.email, "not the password at all").await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    expect_status(app.signout(user.auth(), &json!({})).await, StatusCode::OK).await;

    let page = metrics_page(&app).await;
    assert_eq!(
        sample(&page, r#"tessera_signins_total{outcome="success"}"#),
        Some(1.0),
        "{page}"
    );
    assert_eq!(
        sample(
            &page,
            r#"tessera_signins_total{outcome="invalid_credentials"}"#
        ),
        Some(1.0)
    );
    assert_eq!(sample(&page, "tessera_sessions_ended_total"), Some(1.0));
    assert_eq!(
        sample(&page, "tessera_password_hashes_in_flight"),
        Some(0.0)
    );
}

#[tokio::test]
async fn every_response_carries_a_request_id_echoing_a_sane_one() {
    let app = spawn_app().await;
    let generated = app.get("/health", None).await;
    let id = header(&generated, "x-request-id").expect("a generated request id");
    assert_eq!(id.len(), 36, "{id}");

    let echoed = app
        .request(reqwest::Method::GET, "/nope", None)
        .header("X-Request-Id", "client-abc.123")
        .send()
        .await
        .expect("the server answers");
    assert_eq!(echoed.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        header(&echoed, "x-request-id").as_deref(),
        Some("client-abc.123")
    );

    let replaced = app
        .request(reqwest::Method::GET, "/health", None)
        .header("X-Request-Id", "has spaces and \"quotes\"")
        .send()
        .await
        .expect("the server answers");
    let id = header(&replaced, "x-request-id").unwrap_or_default();
    assert_eq!(id.len(), 36, "{id}");
}
