//! The client address: one budget per loopback address, forwarded addresses from trusted
//! proxies only, and the `/metrics` allow-list.

use reqwest::{Client, StatusCode};
use serde_json::json;

use super::signin_from;
use crate::helpers::{
    assert_error, assert_rate_limited, client_from, send, spawn_app_with, unique_email,
    unique_password,
};

#[tokio::test]
async fn each_loopback_address_has_its_own_budget() {
    let app = spawn_app_with(&[
        ("AUTH_RATE_LIMIT_PER_MINUTE", "2"),
        ("ACCOUNT_FAILURE_LIMIT", "0"),
    ])
    .await;
    let (first, second) = (client_from(20), client_from(21));
    for _ in 0..2 {
        let response = signin_from(&app, &first, None, &unique_email(), "pw-12345678").await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    }
    let limited = signin_from(&app, &first, None, &unique_email(), "pw-12345678").await;
    assert!((1..=60).contains(&assert_rate_limited(limited).await));
    // Signup counts against the same budget.
    let signup = first
        .post(app.url("/api/auth/signup"))
        .json(&json!({"name": "N", "email": unique_email(), "password": unique_password()}));
    assert_eq!(send(signup).await.status(), StatusCode::TOO_MANY_REQUESTS);
    let other = signin_from(&app, &second, None, &unique_email(), "pw-12345678").await;
    assert_eq!(other.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_rightmost_untrusted_forwarded_address_is_the_client() {
    let app = spawn_app_with(&[
        ("AUTH_RATE_LIMIT_PER_MINUTE", "2"),
        ("ACCOUNT_FAILURE_LIMIT", "0"),
        ("TRUSTED_PROXIES", "127.0.0.1/32, 10.0.0.0/8"),
    ])
    .await;
    let proxy = client_from(1);
    let attempt = |forwarded: &'static str| {
        let (app, proxy) = (&app, &proxy);
        async move {
            signin_from(app, proxy, Some(forwarded), &unique_email(), "pw-12345678")
                .await
                .status()
        }
    };
    assert_eq!(attempt("198.51.100.1").await, StatusCode::BAD_REQUEST);
    // The client's own (forged) entries on the left change nothing; a trusted hop on
    // the right is skipped.
    assert_eq!(
        attempt("203.0.113.9, 198.51.100.1, 10.1.1.1").await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        attempt("192.0.2.77, 198.51.100.1").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(attempt("198.51.100.2").await, StatusCode::BAD_REQUEST);
    // IPv6 clients count per /64.
    assert_eq!(attempt("2001:db8:1:2::1").await, StatusCode::BAD_REQUEST);
    assert_eq!(
        attempt("2001:db8:1:2:ffff::9").await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        attempt("[2001:db8:1:2:abcd::7]:443").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(attempt("2001:db8:1:3::1").await, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn forwarded_addresses_from_an_untrusted_peer_are_ignored() {
    let app = spawn_app_with(&[
        ("AUTH_RATE_LIMIT_PER_MINUTE", "2"),
        ("ACCOUNT_FAILURE_LIMIT", "0"),
    ])
    .await;
    let client = client_from(30);
    for (n, forwarded) in ["198.51.100.1", "198.51.100.2", "198.51.100.3"]
        .iter()
        .enumerate()
    {
        let response = signin_from(
            &app,
            &client,
            Some(forwarded),
            &unique_email(),
            "pw-12345678",
        )
        .await;
        let expected = if n < 2 {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::TOO_MANY_REQUESTS
        };
        assert_eq!(response.status(), expected, "attempt {n}");
    }
}

#[tokio::test]
async fn metrics_are_served_only_to_allowed_client_addresses() {
    let app = spawn_app_with(&[
        ("METRICS_ALLOW", "127.0.0.2/32"),
        ("TRUSTED_PROXIES", "127.0.0.3/32"),
    ])
    .await;
    let metrics = |client: Client, forwarded: Option<&'static str>| {
        let url = app.url("/metrics");
        async move {
            let mut request = client.get(url);
            if let Some(forwarded) = forwarded {
                request = request.header("X-Forwarded-For", forwarded);
            }
            send(request).await
        }
    };
    assert_error(
        metrics(client_from(1), None).await,
        StatusCode::NOT_FOUND,
        "not_found",
        "Not found",
    )
    .await;
    // An untrusted peer cannot claim an allowed address.
    let forged = metrics(client_from(1), Some("127.0.0.2")).await;
    assert_eq!(forged.status(), StatusCode::NOT_FOUND);
    let allowed = metrics(client_from(2), None).await;
    assert_eq!(allowed.status(), StatusCode::OK);
    // Behind a trusted proxy, the forwarded client is the one that must be allowed.
    let proxied = metrics(client_from(3), Some("127.0.0.2")).await;
    assert_eq!(proxied.status(), StatusCode::OK);
    let proxied_outsider = metrics(client_from(3), Some("198.51.100.4")).await;
    assert_eq!(proxied_outsider.status(), StatusCode::NOT_FOUND);
}
