//! Abuse resistance: the client address behind proxies, the per-address budget, the
//! per-account throttle, the bounded password hashing, the body deadline and the
//! `/metrics` allow-list. Many source addresses come from the loopback range (each
//! client binds its socket to a 127.0.0.x address); every loop is bounded.

mod addresses;
mod hashing;
mod requests;
mod throttle;

use reqwest::{Client, StatusCode};
use serde_json::json;

use crate::helpers::{TestApp, send};

/// `POST /api/auth/signin` from `client`, with `X-Forwarded-For` when given.
async fn signin_from(
    app: &TestApp,
    client: &Client,
    forwarded: Option<&str>,
    email: &str,
    password: &str,
) -> reqwest::Response {
    let mut request = client
        .post(app.url("/api/auth/signin"))
        .json(&json!({"email": email, "password": password}));
    if let Some(forwarded) = forwarded {
        request = request.header("X-Forwarded-For", forwarded);
    }
    send(request).await
}

fn count(outcomes: &[(StatusCode, Option<u64>)], status: StatusCode) -> usize {
    outcomes.iter().filter(|(s, _)| *s == status).count()
}
