//! The security headers on every answer, and HSTS when configured.

use reqwest::{Method, Response, StatusCode};

use super::{JSON, SIGNUP};
use crate::helpers::{app_with_user, header, spawn_app_with, task_path, tasks_path};

fn assert_common_headers(context: &str, response: &Response) {
    assert_eq!(
        header(response, "x-content-type-options").as_deref(),
        Some("nosniff"),
        "{context}"
    );
    assert_eq!(
        header(response, "referrer-policy").as_deref(),
        Some("no-referrer"),
        "{context}"
    );
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let (app, user) = app_with_user().await;
    let answers = [
        ("health", app.get("/health", None).await),
        ("unknown route", app.get("/nowhere", None).await),
        (
            "task list",
            app.get(&tasks_path(&user.id), user.auth()).await,
        ),
        (
            "unknown task",
            app.get(&task_path(&user.id, 999_999), user.auth()).await,
        ),
        ("no token", app.get("/api/auth/me", None).await),
        (
            "bad json",
            app.raw(Method::POST, SIGNUP, "{", JSON, None).await,
        ),
        (
            "unknown api route",
            app.get("/api/nothing/here/at/all", None).await,
        ),
    ];
    for (context, response) in &answers {
        assert_common_headers(context, response);
        assert_eq!(
            header(response, "strict-transport-security"),
            None,
            "{context}: no HSTS unless set"
        );
        if response.url().path().starts_with("/api/") {
            assert_eq!(
                header(response, "cache-control").as_deref(),
                Some("no-store"),
                "{context}"
            );
        }
        let policy = header(response, "content-security-policy").unwrap_or_default();
        assert!(
            policy.contains("frame-ancestors 'none'"),
            "{context}: {policy}"
        );
    }

    let docs = app.get("/docs/", None).await;
    assert_eq!(docs.status(), StatusCode::OK);
    assert!(
        header(&docs, "content-type")
            .unwrap_or_default()
            .starts_with("text/html")
    );
    assert_common_headers("docs", &docs);
    let policy = header(&docs, "content-security-policy").unwrap_or_default();
    let directives: Vec<&str> = policy.split(';').map(str::trim).collect();
    assert!(directives.contains(&"frame-ancestors 'none'"), "{policy}");
    assert!(directives.contains(&"default-src 'self'"), "{policy}");
    assert!(directives.contains(&"script-src 'self'"), "{policy}");
    assert!(
        !policy.contains("unsafe-inline") && !policy.contains("unsafe-eval"),
        "{policy}"
    );
    assert!(
        !policy.contains("http:") && !policy.contains("https:") && !policy.contains('*'),
        "{policy}"
    );
    // The page itself holds no inline script for the policy to block.
    let page = docs.text().await.unwrap_or_default();
    for script in page.split("<script").skip(1) {
        let tag = script.split('>').next().unwrap_or_default();
        assert!(
            tag.contains("src="),
            "an inline script in /docs/: <script{tag}>"
        );
    }
}

#[tokio::test]
async fn hsts_is_sent_on_every_answer_when_configured() {
    let app = spawn_app_with(&[("HSTS_MAX_AGE_SECONDS", "31536000")]).await;
    for (context, response) in [
        ("health", app.get("/health", None).await),
        ("not found", app.get("/nowhere", None).await),
        ("no token", app.get("/api/auth/me", None).await),
        ("docs", app.get("/docs/", None).await),
    ] {
        assert_eq!(
            header(&response, "strict-transport-security").as_deref(),
            Some("max-age=31536000"),
            "{context}"
        );
    }
}
