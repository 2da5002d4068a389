//! Abuse resistance: the client address behind proxies, the per-address budget, the
//! per-account throttle, the bounded password hashing, the body deadline and the
//! `/metrics` allow-list. Many source addresses come from the loopback range (each
//! client binds its socket to a 127.0.0.x address); every loop is bounded.

use std::time::{Duration, Instant};

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::task::JoinSet;

use crate::helpers::{
    TestApp, assert_error, assert_rate_limited, client_from, event_types, expect_status, header,
    send, spawn_app_with, unique_email, unique_password,
};

/// `POST /api/auth/signin` from `client`, with `X-Forwarded-For` when given.
async fn signin_from(
    app: &TestApp,
    client: &Client,
    forwarded: Option<&str>,
    email: &str,
    password: &str,
) -> reqwest::Response {
    let mut request = client
        .post(format!("{}/api/auth/signin", app.address))
        .json(&json!({"email": email, "password": password}));
    if let Some(forwarded) = forwarded {
        request = request.header("X-Forwarded-For", forwarded);
    }
    send(request).await
}

/// Sends one signin per source address in `addresses`, all at once; returns the
/// statuses and `Retry-After` values.
async fn signins_from_many(
    app: &TestApp,
    addresses: std::ops::Range<u8>,
    email: &str,
    password: &str,
) -> Vec<(StatusCode, Option<u64>)> {
    let mut requests = JoinSet::new();
    for last in addresses {
        let url = format!("{}/api/auth/signin", app.address);
        let body = json!({"email": email, "password": password});
        requests.spawn(async move { send(client_from(last).post(url).json(&body)).await });
    }
    let mut outcomes = Vec::new();
    while let Some(joined) = requests.join_next().await {
        let response = joined.expect("the request task completes");
        let retry_after = header(&response, "retry-after").and_then(|v| v.parse().ok());
        outcomes.push((response.status(), retry_after));
    }
    outcomes
}

fn count(outcomes: &[(StatusCode, Option<u64>)], status: StatusCode) -> usize {
    outcomes.iter().filter(|(s, _)| *s == status).count()
}

#[tokio::test]
async fn fifty_addresses_guessing_one_account_get_five_checks_and_then_429() {
    let app = spawn_app_with(&[("AUTH_RATE_LIMIT_PER_MINUTE", "10")]).await;
    let user = app.signed_up_user().await;
    let outcomes = signins_from_many(&app, 10..60, &user.email, "wrong-password-1").await;
    assert_eq!(count(&outcomes, StatusCode::BAD_REQUEST), 5, "{outcomes:?}");
    assert_eq!(
        count(&outcomes, StatusCode::TOO_MANY_REQUESTS),
        45,
        "{outcomes:?}"
    );
    for (status, retry_after) in &outcomes {
        if *status == StatusCode::TOO_MANY_REQUESTS {
            assert!(
                retry_after.is_some_and(|s| (1..=900).contains(&s)),
                "{outcomes:?}"
            );
        }
    }
    // Locked: the right password from yet another address is refused too.
    let right = signin_from(&app, &client_from(60), None, &user.email, &user.password).await;
    let wait = assert_rate_limited(right).await;
    assert!((1..=900).contains(&wait), "{wait}");
    let page = app
        .get("/metrics", None)
        .await
        .text()
        .await
        .unwrap_or_default();
    assert!(
        page.lines()
            .any(|l| l == r#"tessera_signins_total{outcome="rate_limited"} 46"#),
        "{page}"
    );
}

#[tokio::test]
async fn an_unknown_email_is_throttled_exactly_like_a_known_one() {
    let app = spawn_app_with(&[]).await;
    let known = app.signed_up_user().await;
    let unknown = unique_email();
    for email in [&known.email, &unknown] {
        let outcomes = signins_from_many(&app, 70..90, email, "wrong-password-1").await;
        assert_eq!(count(&outcomes, StatusCode::BAD_REQUEST), 5, "{outcomes:?}");
        assert_eq!(
            count(&outcomes, StatusCode::TOO_MANY_REQUESTS),
            15,
            "{outcomes:?}"
        );
    }
}

#[tokio::test]
async fn the_wait_is_announced_doubles_and_a_right_password_works_once_it_has_passed() {
    let app = spawn_app_with(&[
        ("ACCOUNT_FAILURE_LIMIT", "3"),
        ("ACCOUNT_LOCK_MAX_SECONDS", "2"),
    ])
    .await;
    let user = app.signed_up_user().await;
    for _ in 0..3 {
        let wrong = app.signin(&user.email, "wrong-password-1").await;
        assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    }
    // Locked whatever the password; the first wait is one second.
    let refused = app.signin(&user.email, &user.password).await;
    assert_eq!(assert_rate_limited(refused).await, 1);
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    // Another failure doubles it (capped at ACCOUNT_LOCK_MAX_SECONDS).
    let wrong = app.signin(&user.email, "wrong-password-1").await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    let refused = app.signin(&user.email, &user.password).await;
    assert_eq!(assert_rate_limited(refused).await, 2);
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    expect_status(
        app.signin(&user.email, &user.password).await,
        StatusCode::OK,
    )
    .await;
    // The success reset the count: three more failures before the next lock.
    for _ in 0..3 {
        let wrong = app.signin(&user.email, "wrong-password-1").await;
        assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    }
    assert_rate_limited(app.signin(&user.email, &user.password).await).await;
}

#[tokio::test]
async fn sixteen_right_password_signins_at_once_on_one_account_all_succeed() {
    // A hashing queue that holds them all: only the account throttle could refuse.
    let app = spawn_app_with(&[("HASH_QUEUE", "32")]).await;
    let user = app.signed_up_user().await;
    let outcomes = signins_from_many(&app, 100..116, &user.email, &user.password).await;
    assert_eq!(count(&outcomes, StatusCode::OK), 16, "{outcomes:?}");
    let page = app
        .get("/metrics", None)
        .await
        .text()
        .await
        .unwrap_or_default();
    assert!(
        !page.lines().any(
            |l| l.starts_with(r#"tessera_signins_total{outcome="rate_limited"}"#)
                && !l.ends_with(" 0")
        ),
        "{page}"
    );
    // Nothing was counted against the account: the limit of failures is still whole.
    for attempt in 0..5 {
        let wrong = app.signin(&user.email, "wrong-password-1").await;
        assert_eq!(wrong.status(), StatusCode::BAD_REQUEST, "failure {attempt}");
    }
    assert_rate_limited(app.signin(&user.email, &user.password).await).await;
}

#[tokio::test]
async fn sixteen_wrong_guesses_at_once_on_one_account_get_five_checks_and_then_429() {
    let app = spawn_app_with(&[("HASH_QUEUE", "32")]).await;
    let user = app.signed_up_user().await;
    let outcomes = signins_from_many(&app, 120..136, &user.email, "wrong-password-1").await;
    assert_eq!(count(&outcomes, StatusCode::BAD_REQUEST), 5, "{outcomes:?}");
    assert_eq!(
        count(&outcomes, StatusCode::TOO_MANY_REQUESTS),
        11,
        "{outcomes:?}"
    );
    let right = signin_from(&app, &client_from(136), None, &user.email, &user.password).await;
    assert_rate_limited(right).await;
}

#[tokio::test]
async fn a_lock_records_one_rate_limited_event_however_many_attempts_it_refuses() {
    let app = spawn_app_with(&[
        ("ACCOUNT_FAILURE_LIMIT", "2"),
        ("AUTH_RATE_LIMIT_PER_MINUTE", "0"),
        ("HASH_QUEUE", "32"),
    ])
    .await;
    let user = app.signed_up_user().await;
    for _ in 0..2 {
        let wrong = app.signin(&user.email, "wrong-password-1").await;
        assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    }
    // The first lock (one second) refuses twenty attempts, one after another and at once.
    for _ in 0..10 {
        assert_rate_limited(app.signin(&user.email, &user.password).await).await;
    }
    let outcomes = signins_from_many(&app, 140..150, &user.email, &user.password).await;
    assert_eq!(
        count(&outcomes, StatusCode::TOO_MANY_REQUESTS),
        10,
        "{outcomes:?}"
    );
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    // A further failure is a new lock (two seconds): one more event, whatever it refuses.
    let wrong = app.signin(&user.email, "wrong-password-1").await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    for _ in 0..5 {
        assert_rate_limited(app.signin(&user.email, &user.password).await).await;
    }
    let types = event_types(&app, &user.token).await;
    assert_eq!(
        types,
        [
            "rate_limited",
            "signin_failed",
            "rate_limited",
            "signin_failed",
            "signin_failed",
            "signup",
        ]
    );
}

#[tokio::test]
async fn an_account_failure_limit_of_zero_turns_the_throttle_off() {
    let app = spawn_app_with(&[("ACCOUNT_FAILURE_LIMIT", "0")]).await;
    let user = app.signed_up_user().await;
    for _ in 0..12 {
        let wrong = app.signin(&user.email, "wrong-password-1").await;
        assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    }
    expect_status(
        app.signin(&user.email, &user.password).await,
        StatusCode::OK,
    )
    .await;
}

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
        .post(format!("{}/api/auth/signup", app.address))
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
        let url = format!("{}/metrics", app.address);
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
            .post(format!("{}/api/auth/signin", app.address))
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
