//! What only a shared SQLite file shows: several instances (each with its own
//! connection, as separate processes have) on one file, and a file locked by another
//! writer.

use std::time::Duration;

use futures_util::future::join_all;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use tessera::settings::Settings;
use tessera::startup::Application;
use tessera_sqlite::testing::TempDatabase;

const SECRET: &str = "sqlite-suite-secret-0123456789abcdef-0123";

async fn start(url: &str, extra: &[(&str, &str)]) -> String {
    let mut pairs = vec![
        ("STORAGE", "sqlite"),
        ("DATABASE_URL", url),
        ("JWT_SECRET", SECRET),
        ("PORT", "0"),
        ("BCRYPT_COST", "4"),
    ];
    pairs.extend_from_slice(extra);
    let settings = match Settings::from_pairs(pairs) {
        Ok(settings) => settings,
        Err(e) => panic!("settings: {e}"),
    };
    let app = match Application::build(settings).await {
        Ok(app) => app,
        Err(e) => panic!("start: {e:#}"),
    };
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    address
}

async fn call(
    method: reqwest::Method,
    url: String,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let client = match Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
    {
        Ok(client) => client,
        Err(e) => panic!("client: {e}"),
    };
    let mut request = client.request(method, url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = match request.send().await {
        Ok(response) => response,
        Err(e) => panic!("request failed: {e}"),
    };
    let status = response.status();
    (
        status,
        response.json::<Value>().await.unwrap_or(Value::Null),
    )
}

fn signup_body(email: &str) -> Value {
    json!({"name": "Sam", "email": email, "password": "securepassword123"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signout_on_one_instance_is_refused_at_once_by_another_on_the_same_file() {
    let db = TempDatabase::new();
    let first = start(&db.url(), &[]).await;
    let second = start(&db.url(), &[]).await;
    let (status, body) = call(
        reqwest::Method::POST,
        format!("{first}/api/auth/signup"),
        None,
        Some(signup_body("shared@example.com")),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let token = body["token"].as_str().unwrap_or_default().to_owned();
    let me = |base: &str| format!("{base}/api/auth/me");
    assert_eq!(
        call(reqwest::Method::GET, me(&second), Some(&token), None)
            .await
            .0,
        StatusCode::OK
    );
    let (status, _) = call(
        reqwest::Method::POST,
        format!("{second}/api/auth/signout"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = call(reqwest::Method::GET, me(&first), Some(&token), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "token_revoked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_concurrent_signups_with_one_email_on_two_instances_make_one_account() {
    let db = TempDatabase::new();
    let unlimited = [("AUTH_RATE_LIMIT_PER_MINUTE", "0"), ("HASH_QUEUE", "64")];
    let first = start(&db.url(), &unlimited).await;
    let second = start(&db.url(), &unlimited).await;
    let attempts = (0..30).map(|n| {
        let base = if n % 2 == 0 {
            first.clone()
        } else {
            second.clone()
        };
        let email = if n % 3 == 0 {
            "RACE@example.com"
        } else {
            "race@example.com"
        };
        call(
            reqwest::Method::POST,
            format!("{base}/api/auth/signup"),
            None,
            Some(signup_body(email)),
        )
    });
    let mut created = 0;
    for (status, body) in join_all(attempts).await {
        match status {
            StatusCode::CREATED => created += 1,
            StatusCode::BAD_REQUEST => assert_eq!(body["code"], "email_taken", "{body}"),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(created, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_file_share_the_address_budget_and_the_account_throttle() {
    let db = TempDatabase::new();
    let limits = [
        ("AUTH_RATE_LIMIT_PER_MINUTE", "4"),
        ("ACCOUNT_FAILURE_LIMIT", "2"),
    ];
    let first = start(&db.url(), &limits).await;
    let second = start(&db.url(), &limits).await;
    let signin = |base: &str, password: &str| {
        call(
            reqwest::Method::POST,
            format!("{base}/api/auth/signin"),
            None,
            Some(json!({"email": "nobody@example.com", "password": password})),
        )
    };
    // Two failures on one instance lock the account on the other.
    assert_eq!(
        signin(&first, "wrong-password-1").await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        signin(&first, "wrong-password-2").await.0,
        StatusCode::BAD_REQUEST
    );
    let (status, body) = signin(&second, "wrong-password-3").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    // Four attempts from this address in all: the fifth, on either, is over the budget.
    assert_eq!(
        signin(&second, "wrong-password-4").await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    let (status, body) = signin(&first, "wrong-password-5").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
}

async fn signin_status(base: &str, email: &str, password: &str) -> StatusCode {
    let (status, _) = call(
        reqwest::Method::POST,
        format!("{base}/api/auth/signin"),
        None,
        Some(json!({"email": email, "password": password})),
    )
    .await;
    status
}

async fn signup(base: &str, email: &str) {
    let (status, body) = call(
        reqwest::Method::POST,
        format!("{base}/api/auth/signup"),
        None,
        Some(signup_body(email)),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

/// Sixteen signins at once on one account, split over two instances: the outcome of each.
async fn concurrent_signins(bases: [&str; 2], email: &str, password: &str) -> Vec<StatusCode> {
    let attempts = (0..16).map(|i| {
        let (base, email, password) = (
            bases[i % 2].to_owned(),
            email.to_owned(),
            password.to_owned(),
        );
        async move { signin_status(&base, &email, &password).await }
    });
    join_all(attempts).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_file_let_concurrent_right_signins_through_and_stop_guesses_at_the_limit()
 {
    let db = TempDatabase::new();
    // A cost that makes checks overlap, and a hashing queue that holds them all.
    let limits = [
        ("AUTH_RATE_LIMIT_PER_MINUTE", "0"),
        ("ACCOUNT_FAILURE_LIMIT", "5"),
        ("HASH_QUEUE", "32"),
        ("BCRYPT_COST", "8"),
    ];
    let url = db.url();
    let (a, b) = tokio::join!(start(&url, &limits), start(&url, &limits));
    signup(&a, "owner@example.com").await;
    let right = concurrent_signins([&a, &b], "owner@example.com", "securepassword123").await;
    assert!(right.iter().all(|s| *s == StatusCode::OK), "{right:?}");

    signup(&b, "target@example.com").await;
    let wrong = concurrent_signins([&a, &b], "target@example.com", "wrong-password-1").await;
    let checked = wrong
        .iter()
        .filter(|s| **s == StatusCode::BAD_REQUEST)
        .count();
    let refused = wrong
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((checked, refused), (5, 11), "{wrong:?}");
    assert_eq!(
        signin_status(&a, "target@example.com", "securepassword123").await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_locked_by_another_writer_gives_503_after_the_busy_timeout_then_recovers() {
    use diesel::connection::SimpleConnection;
    use diesel::{Connection, sqlite::SqliteConnection};
    let db = TempDatabase::new();
    let base = start(&db.url(), &[("DB_LOCK_TIMEOUT_MS", "300")]).await;
    let (status, body) = call(
        reqwest::Method::POST,
        format!("{base}/api/auth/signup"),
        None,
        Some(signup_body("locked@example.com")),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let token = body["token"].as_str().unwrap_or_default().to_owned();
    let id = body["user"]["id"].as_str().unwrap_or_default().to_owned();

    // Another process takes the write lock and keeps it.
    let path = db.path().display().to_string();
    let mut other = match SqliteConnection::establish(&path) {
        Ok(conn) => conn,
        Err(e) => panic!("second connection: {e}"),
    };
    if let Err(e) = other.batch_execute("BEGIN IMMEDIATE") {
        panic!("taking the write lock: {e}");
    }
    let tasks = format!("{base}/api/{id}/tasks");
    let (status, body) = call(
        reqwest::Method::POST,
        tasks.clone(),
        Some(&token),
        Some(json!({"title": "blocked"})),
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["code"], "unavailable");
    // Reads still answer while the other writer holds the lock (WAL).
    assert_eq!(
        call(reqwest::Method::GET, tasks.clone(), Some(&token), None)
            .await
            .0,
        StatusCode::OK
    );
    if let Err(e) = other.batch_execute("ROLLBACK") {
        panic!("releasing the write lock: {e}");
    }
    let (status, body) = call(
        reqwest::Method::POST,
        tasks,
        Some(&token),
        Some(json!({"title": "free"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}
