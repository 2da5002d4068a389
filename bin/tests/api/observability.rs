//! Operations endpoints and request metadata: `/ready`, `/metrics`, `X-Request-Id`.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{app_with_user, client_from, expect_status, header, spawn_app, tasks_path};

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

/// Every `src="..."` and `href="..."` of a page.
fn references(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for marker in ["src=\"", "href=\""] {
        let mut rest = html;
        while let Some(at) = rest.find(marker) {
            rest = &rest[at + marker.len()..];
            if let Some(end) = rest.find('"') {
                found.push(rest[..end].to_owned());
                rest = &rest[end..];
            }
        }
    }
    found
}

#[tokio::test]
async fn the_docs_page_and_every_asset_it_references_are_served_by_tessera() {
    let app = spawn_app().await;
    let page = app.get("/docs/", None).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("the docs page");
    let assets = references(&html);
    assert!(assets.len() >= 4, "{assets:?}");
    for asset in &assets {
        assert!(
            !asset.starts_with("http://")
                && !asset.starts_with("https://")
                && !asset.starts_with("//"),
            "the docs page loads {asset} from elsewhere"
        );
        let path = format!("/docs/{}", asset.trim_start_matches("./"));
        let response = app.get(&path, None).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let bytes = response.bytes().await.expect("the asset");
        assert!(!bytes.is_empty(), "{path} is empty");
    }
    let initializer = app.get("/docs/swagger-initializer.js", None).await;
    let script = initializer.text().await.expect("the initializer");
    assert!(script.contains("/openapi.json"), "{script}");
    // Without the trailing slash, the page is one redirect away.
    let bare = app.get("/docs", None).await;
    assert_eq!(bare.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_openapi_document_lists_every_contract_route() {
    let app = spawn_app().await;
    let doc = expect_status(app.get("/openapi.json", None).await, StatusCode::OK).await;
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1"))
    );
    for (path, method) in [
        ("/api/auth/signup", "post"),
        ("/api/auth/signin", "post"),
        ("/api/auth/signout", "post"),
        ("/api/auth/me", "get"),
        ("/api/{user_id}/tasks", "get"),
        ("/api/{user_id}/tasks", "post"),
        ("/api/{user_id}/tasks/{task_id}", "get"),
        ("/api/{user_id}/tasks/{task_id}", "put"),
        ("/api/{user_id}/tasks/{task_id}", "patch"),
        ("/api/{user_id}/tasks/{task_id}", "delete"),
        ("/api/{user_id}/tasks/{task_id}/complete", "patch"),
        ("/api/{user_id}/tasks/{task_id}/complete", "post"),
        ("/health", "get"),
        ("/ready", "get"),
        ("/metrics", "get"),
    ] {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} is not documented"
        );
    }
}

#[tokio::test]
async fn the_document_and_docs_paths_answer_other_methods_with_405() {
    let app = spawn_app().await;
    for (method, path) in [
        (reqwest::Method::POST, "/openapi.json"),
        (reqwest::Method::DELETE, "/docs/"),
        (reqwest::Method::PUT, "/docs/index.css"),
        (reqwest::Method::POST, "/docs"),
    ] {
        let response = app.call(method.clone(), path, None).await;
        assert_eq!(
            header(&response, "allow").as_deref(),
            Some("GET"),
            "{method} {path}"
        );
        crate::helpers::assert_error(
            response,
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "Method not allowed",
        )
        .await;
    }
    expect_status(app.get("/openapi.json", None).await, StatusCode::OK).await;
}

#[tokio::test]
async fn metrics_answer_only_to_known_host_names() {
    let app = crate::helpers::spawn_app_with(&[("METRICS_HOSTS", "metrics.internal")]).await;
    let url = app.url("/metrics");
    let with_host = |host: &'static str| {
        let request = app.client.get(&url).header("Host", host);
        async move { request.send().await.expect("the server answers").status() }
    };
    for host in [
        "localhost:8080",
        "127.0.0.1",
        "[::1]:80",
        "metrics.internal",
        "127.0.0.1:8080",
    ] {
        assert_eq!(with_host(host).await, StatusCode::OK, "Host: {host}");
    }
    // A page that rebinds its own name to the visitor's loopback sends its own name.
    for host in [
        "rebind.attacker.example",
        "attacker.example:8080",
        "localhost.attacker.example",
    ] {
        assert_eq!(with_host(host).await, StatusCode::NOT_FOUND, "Host: {host}");
    }
    // PUBLIC_URL's host is one of the names.
    let app = crate::helpers::spawn_app_with(&[("PUBLIC_URL", "https://tasks.example.com")]).await;
    let response = app
        .client
        .get(app.url("/metrics"))
        .header("Host", "tasks.example.com")
        .send()
        .await
        .expect("the server answers");
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn metrics_refuse_a_client_address_that_cannot_be_read() {
    let app = crate::helpers::spawn_app_with(&[
        ("METRICS_ALLOW", "127.0.0.0/8"),
        ("TRUSTED_PROXIES", "127.0.0.3/32"),
    ])
    .await;
    let url = app.url("/metrics");
    for forwarded in ["unknown", "garbage", "127.0.0.2, unknown", "_hidden"] {
        let response = client_from(3)
            .get(&url)
            .header("X-Forwarded-For", forwarded)
            .send()
            .await
            .expect("the server answers");
        assert_eq!(
            response.status(),
            StatusCode::NOT_FOUND,
            "X-Forwarded-For: {forwarded}"
        );
    }
    let readable = client_from(3)
        .get(&url)
        .header("X-Forwarded-For", "127.0.0.2")
        .send()
        .await
        .expect("the server answers");
    assert_eq!(readable.status(), StatusCode::OK);
}
