//! What only a shared PostgreSQL database shows: several instances on one database, and
//! the database going away under a running server. Each test gets its own database;
//! without a server the tests are skipped, unless `CI` is set.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use tessera::settings::Settings;
use tessera::startup::Application;
use tessera_postgres::testing::{TestDatabase, lock_table, statements_waiting_on_locks};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast;

const SECRET: &str = "postgres-suite-secret-0123456789abcdef";

async fn start(database_url: &str, extra: &[(&str, &str)]) -> String {
    let mut pairs = vec![
        ("STORAGE", "postgres"),
        ("DATABASE_URL", database_url),
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

fn client() -> Client {
    match Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
    {
        Ok(client) => client,
        Err(e) => panic!("client: {e}"),
    }
}

async fn call(
    method: reqwest::Method,
    url: String,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value, reqwest::header::HeaderMap) {
    let mut request = client().request(method, url);
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
    let headers = response.headers().clone();
    let body = response.json::<Value>().await.unwrap_or(Value::Null);
    (status, body, headers)
}

async fn signup(base: &str, email: &str) -> (String, String) {
    let (status, body, _) = call(
        reqwest::Method::POST,
        format!("{base}/api/auth/signup"),
        None,
        Some(json!({"name": "Pat", "email": email, "password": "securepassword123"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let token = body["token"].as_str().unwrap_or_default().to_owned();
    let id = body["user"]["id"].as_str().unwrap_or_default().to_owned();
    (token, id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signout_on_one_instance_is_refused_at_once_by_another() {
    let Some(db) = TestDatabase::create_or_skip().await else {
        return;
    };
    let first = start(db.url(), &[]).await;
    let second = start(db.url(), &[]).await;
    let (token, _) = signup(&first, "shared@example.com").await;
    let (status, _, _) = call(
        reqwest::Method::GET,
        format!("{second}/api/auth/me"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    let (status, _, _) = call(
        reqwest::Method::POST,
        format!("{second}/api/auth/signout"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body, _) = call(
        reqwest::Method::GET,
        format!("{first}/api/auth/me"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "token_revoked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_starting_at_once_on_an_empty_database_both_come_up() {
    let Some(probe) = TestDatabase::create_or_skip().await else {
        return;
    };
    drop(probe);
    let db = match TestDatabase::create_empty().await {
        Ok(db) => db,
        Err(e) => panic!("{e}"),
    };
    let (a, b) = tokio::join!(start(db.url(), &[]), start(db.url(), &[]));
    let (_, id_a) = signup(&a, "one@example.com").await;
    let (_, id_b) = signup(&b, "two@example.com").await;
    assert_ne!(id_a, id_b);
    // Each sees the other's account: one schema, migrated once.
    let (status, body, _) = call(
        reqwest::Method::POST,
        format!("{a}/api/auth/signup"),
        None,
        Some(json!({"name": "Dup", "email": "TWO@example.com", "password": "securepassword123"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], "email_taken");
}

/// A TCP relay to the database that can be cut and restored, standing in for a database
/// that goes down and comes back.
struct Relay {
    address: SocketAddr,
    up: Arc<AtomicBool>,
    cut: broadcast::Sender<()>,
}

impl Relay {
    async fn start(upstream: String) -> Self {
        let listener = match TcpListener::bind("127.0.0.1:0").await {
            Ok(listener) => listener,
            Err(e) => panic!("relay: {e}"),
        };
        let address = match listener.local_addr() {
            Ok(address) => address,
            Err(e) => panic!("relay: {e}"),
        };
        let up = Arc::new(AtomicBool::new(true));
        let (cut, _) = broadcast::channel(4);
        let (flag, signal) = (up.clone(), cut.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !flag.load(Ordering::SeqCst) {
                    continue; // dropped: the connection is refused
                }
                let upstream = upstream.clone();
                let mut cut = signal.subscribe();
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = cut.recv() => {}
                    }
                });
            }
        });
        Self { address, up, cut }
    }

    fn down(&self) {
        self.up.store(false, Ordering::SeqCst);
        let _ = self.cut.send(());
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

/// Splits `scheme://user@host:port/db` into (`scheme://user@`, `host:port`, `/db`).
fn split_url(url: &str) -> (String, String, String) {
    let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
    let (credentials, rest) = rest.rsplit_once('@').unwrap_or(("", rest));
    let (host_port, path) = rest.split_once('/').unwrap_or((rest, ""));
    let at = if credentials.is_empty() {
        String::new()
    } else {
        format!("{credentials}@")
    };
    (
        format!("{scheme}://{at}"),
        host_port.to_owned(),
        format!("/{path}"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_gives_503_and_the_service_recovers_by_itself() {
    let Some(db) = TestDatabase::create_or_skip().await else {
        return;
    };
    let (prefix, upstream, path) = split_url(db.url());
    let relay = Relay::start(upstream).await;
    let url = format!("{prefix}{}{path}", relay.address);
    let base = start(
        &url,
        &[
            ("DATABASE_POOL_TIMEOUT_MS", "500"),
            ("DATABASE_CONNECT_TIMEOUT_MS", "500"),
        ],
    )
    .await;
    let (token, id) = signup(&base, "outage@example.com").await;
    let tasks = format!("{base}/api/{id}/tasks");
    let (status, _, _) = call(
        reqwest::Method::POST,
        tasks.clone(),
        Some(&token),
        Some(json!({"title": "Survive"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);

    relay.down();
    let began = Instant::now();
    let (status, body, headers) =
        call(reqwest::Method::GET, tasks.clone(), Some(&token), None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["code"], "unavailable");
    assert_eq!(
        body["error"],
        "Service temporarily unavailable, please try again"
    );
    assert!(headers.contains_key("retry-after"));
    assert!(
        began.elapsed() < Duration::from_secs(10),
        "the 503 took {:?}",
        began.elapsed()
    );
    let (status, _, _) = call(reqwest::Method::GET, format!("{base}/ready"), None, None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let (status, body, _) = call(reqwest::Method::GET, format!("{base}/health"), None, None).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"status": "ok"})));

    relay.restore();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (status, body, _) = call(reqwest::Method::GET, tasks.clone(), Some(&token), None).await;
        if status == StatusCode::OK {
            assert_eq!(body[0]["title"], "Survive");
            break;
        }
        assert!(Instant::now() < deadline, "not recovered: {status} {body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (status, body, _) = call(reqwest::Method::GET, format!("{base}/ready"), None, None).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"status": "ready"})));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_report_the_database_pool() {
    let Some(db) = TestDatabase::create_or_skip().await else {
        return;
    };
    let base = start(
        db.url(),
        &[
            ("DATABASE_POOL_SIZE", "7"),
            ("DATABASE_AUTH_POOL_SIZE", "3"),
        ],
    )
    .await;
    signup(&base, "pool@example.com").await;
    let page = match client().get(format!("{base}/metrics")).send().await {
        Ok(response) => response.text().await.unwrap_or_default(),
        Err(e) => panic!("metrics: {e}"),
    };
    assert!(
        page.lines()
            .any(|l| l == r#"tessera_db_pool_connections{pool="tasks",state="max"} 7"#),
        "{page}"
    );
    assert!(
        page.lines()
            .any(|l| l == r#"tessera_db_pool_connections{pool="auth",state="max"} 3"#),
        "{page}"
    );
    assert!(page.contains(r#"tessera_db_pool_connections{pool="auth",state="open"}"#));
    assert!(page.contains(r#"tessera_db_pool_waiting{pool="tasks"} 0"#));
}

async fn signin_status(base: &str, email: &str, password: &str) -> StatusCode {
    let (status, _, _) = call(
        reqwest::Method::POST,
        format!("{base}/api/auth/signin"),
        None,
        Some(json!({"email": email, "password": password})),
    )
    .await;
    status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_database_share_the_address_budget_and_the_account_throttle() {
    let Some(db) = TestDatabase::create_or_skip().await else {
        return;
    };
    let by_address = [
        ("AUTH_RATE_LIMIT_PER_MINUTE", "3"),
        ("ACCOUNT_FAILURE_LIMIT", "0"),
    ];
    let (a, b) = tokio::join!(start(db.url(), &by_address), start(db.url(), &by_address));
    for base in [&a, &a, &b] {
        let status = signin_status(base, "nobody@example.com", "wrong-password-1").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
    for base in [&b, &a] {
        let status = signin_status(base, "nobody@example.com", "wrong-password-1").await;
        assert_eq!(
            status,
            StatusCode::TOO_MANY_REQUESTS,
            "the budget is shared"
        );
    }

    let by_account = [
        ("AUTH_RATE_LIMIT_PER_MINUTE", "0"),
        ("ACCOUNT_FAILURE_LIMIT", "2"),
    ];
    let (c, d) = tokio::join!(start(db.url(), &by_account), start(db.url(), &by_account));
    signup(&c, "guarded@example.com").await;
    for base in [&c, &d] {
        let status = signin_status(base, "guarded@example.com", "wrong-password-1").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
    let status = signin_status(&c, "GUARDED@example.com", "securepassword123").await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "the throttle is shared"
    );
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
    futures_util::future::join_all(attempts).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_database_let_concurrent_right_signins_through_and_stop_guesses_at_the_limit()
 {
    let Some(db) = TestDatabase::create_or_skip().await else {
        return;
    };
    // A cost that makes checks overlap, and a hashing queue that holds them all.
    let limits = [
        ("AUTH_RATE_LIMIT_PER_MINUTE", "0"),
        ("ACCOUNT_FAILURE_LIMIT", "5"),
        ("HASH_QUEUE", "32"),
        ("BCRYPT_COST", "8"),
    ];
    let (a, b) = tokio::join!(start(db.url(), &limits), start(db.url(), &limits));
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
async fn a_locked_task_table_leaves_signin_me_and_ready_answering() {
    let Some(db) = TestDatabase::create_or_skip().await else {
        return;
    };
    let base = start(
        db.url(),
        &[("DB_LOCK_TIMEOUT_MS", "1500"), ("DATABASE_POOL_SIZE", "2")],
    )
    .await;
    let (token, id) = signup(&base, "locked@example.com").await;
    let tasks = format!("{base}/api/{id}/tasks");
    let lock = match lock_table(db.url(), "tasks").await {
        Ok(lock) => lock,
        Err(e) => panic!("lock: {e}"),
    };
    // More task requests than the task pool has connections, all stuck on the lock.
    let stuck: Vec<_> = (0..8)
        .map(|_| {
            let (tasks, token) = (tasks.clone(), token.clone());
            tokio::spawn(async move {
                let began = Instant::now();
                let (status, body, _) = call(reqwest::Method::GET, tasks, Some(&token), None).await;
                (status, body, began.elapsed())
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let checks = [
        (
            reqwest::Method::GET,
            format!("{base}/api/auth/me"),
            Some(token.as_str()),
            None,
        ),
        (
            reqwest::Method::POST,
            format!("{base}/api/auth/signin"),
            None,
            Some(json!({"email": "locked@example.com", "password": "securepassword123"})),
        ),
        (reqwest::Method::GET, format!("{base}/ready"), None, None),
    ];
    for (method, url, token, body) in checks {
        let began = Instant::now();
        let (status, answer, _) = call(method, url.clone(), token, body).await;
        assert_eq!(status, StatusCode::OK, "{url}: {answer}");
        assert!(
            began.elapsed() < Duration::from_millis(1_000),
            "{url} waited {:?} behind the locked table",
            began.elapsed()
        );
    }
    for request in stuck {
        let (status, body, elapsed) = match request.await {
            Ok(outcome) => outcome,
            Err(e) => panic!("join: {e}"),
        };
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert_eq!(body["code"], "unavailable");
        assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
    }
    drop(lock);
    let (status, _, _) = call(reqwest::Method::GET, tasks, Some(&token), None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_over_its_timeout_is_a_503() {
    let Some(db) = TestDatabase::create_or_skip().await else {
        return;
    };
    // A lock wait longer than the statement timeout: the statement timeout ends it.
    let base = start(
        db.url(),
        &[
            ("DB_STATEMENT_TIMEOUT_MS", "500"),
            ("DB_LOCK_TIMEOUT_MS", "60000"),
        ],
    )
    .await;
    let (token, id) = signup(&base, "slow@example.com").await;
    let lock = match lock_table(db.url(), "tasks").await {
        Ok(lock) => lock,
        Err(e) => panic!("lock: {e}"),
    };
    let began = Instant::now();
    let (status, body, headers) = call(
        reqwest::Method::POST,
        format!("{base}/api/{id}/tasks"),
        Some(&token),
        Some(json!({"title": "Never written"})),
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(headers.contains_key("retry-after"));
    assert!(
        began.elapsed() < Duration::from_secs(5),
        "{:?}",
        began.elapsed()
    );
    drop(lock);
    let (status, body, _) = call(
        reqwest::Method::GET,
        format!("{base}/api/{id}/tasks"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!((status, body), (StatusCode::OK, json!([])));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_hangs_up_stops_holding_its_statement_and_connection() {
    let Some(db) = TestDatabase::create_or_skip().await else {
        return;
    };
    let base = start(
        db.url(),
        &[
            ("DB_STATEMENT_TIMEOUT_MS", "60000"),
            ("DB_LOCK_TIMEOUT_MS", "60000"),
            ("DATABASE_POOL_SIZE", "1"),
        ],
    )
    .await;
    let (token, id) = signup(&base, "gone@example.com").await;
    let lock = match lock_table(db.url(), "tasks").await {
        Ok(lock) => lock,
        Err(e) => panic!("lock: {e}"),
    };
    let impatient = match Client::builder()
        .no_proxy()
        .timeout(Duration::from_millis(500))
        .build()
    {
        Ok(client) => client,
        Err(e) => panic!("client: {e}"),
    };
    let gave_up = impatient
        .get(format!("{base}/api/{id}/tasks"))
        .bearer_auth(&token)
        .send()
        .await;
    assert!(
        gave_up.is_err(),
        "the request should have been waiting on the lock"
    );
    // Its statement no longer waits on the lock for a client that is gone.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match statements_waiting_on_locks(db.url()).await {
            Ok(0) => break,
            Ok(n) => assert!(Instant::now() < deadline, "{n} statements still waiting"),
            Err(e) => panic!("pg_stat_activity: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(lock);
    // And the one pooled connection serves the next request.
    let (status, _, _) = call(
        reqwest::Method::GET,
        format!("{base}/api/{id}/tasks"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

const NEXT_SECRET: &str = "postgres-suite-next-secret-abcdef0123456789";

/// The `kid` header of a token.
fn kid(token: &str) -> String {
    use base64::Engine as _;
    let header = token.split('.').next().unwrap_or_default();
    let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .unwrap_or_default();
    let header: Value = serde_json::from_slice(&decoded).unwrap_or(Value::Null);
    header["kid"].as_str().unwrap_or_default().to_owned()
}

/// The rotation of `docs/operations.md`: an instance with a new secret and the old one as
/// `JWT_SECRET_PREVIOUS` accepts the tokens the old secret signed and signs new ones with
/// the new secret, named by another `kid`; once the previous secret is dropped, the old
/// tokens are refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_secret_keeps_old_tokens_valid_until_the_previous_one_is_dropped() {
    let Some(db) = TestDatabase::create_or_skip().await else {
        return;
    };
    let old = start(db.url(), &[]).await;
    let (old_token, _) = signup(&old, "rotate@example.com").await;
    let rotated = start(
        db.url(),
        &[("JWT_SECRET", NEXT_SECRET), ("JWT_SECRET_PREVIOUS", SECRET)],
    )
    .await;
    let me = async |base: &str, token: &str| {
        call(
            reqwest::Method::GET,
            format!("{base}/api/auth/me"),
            Some(token),
            None,
        )
        .await
    };
    let (status, body, _) = me(&rotated, &old_token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body, _) = call(
        reqwest::Method::POST,
        format!("{rotated}/api/auth/signin"),
        None,
        Some(json!({"email": "rotate@example.com", "password": "securepassword123"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let new_token = body["token"].as_str().unwrap_or_default().to_owned();
    assert!(!kid(&old_token).is_empty());
    assert_ne!(kid(&new_token), kid(&old_token));
    // The old instance does not know the new secret.
    let (status, body, _) = me(&old, &new_token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "invalid_token");

    let after = start(db.url(), &[("JWT_SECRET", NEXT_SECRET)]).await;
    let (status, _, _) = me(&after, &new_token).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body, _) = me(&after, &old_token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "invalid_token");
}
