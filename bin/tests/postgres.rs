//! What a shared PostgreSQL database shows: the scenarios of every shared store
//! ([`tessera_test_kit::two_instances`]), and what only PostgreSQL has: instances
//! migrating one empty database at once, the database going away under a running server,
//! the pool metrics, locked tables, statement timeouts, and a secret rotated over
//! instances. Each test gets its own database; without a server the tests are skipped,
//! unless `CI` is set.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::json;
use tessera_postgres::testing::{TestDatabase, lock_table, statements_waiting_on_locks};
use tessera_test_kit::http::client_timing_out_after;
use tessera_test_kit::{
    ForgedToken, PASSWORD, Reply, SECRET, SharedStore, Storage, TestApp, send, shared_store_tests,
};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast;

shared_store_tests!(SharedStore::postgres());

/// A server on the PostgreSQL database at `url`, with `settings`.
async fn start(url: &str, settings: &[(&str, &str)]) -> TestApp {
    TestApp::builder()
        .storage(Storage::Postgres)
        .database_url(url)
        .settings(settings)
        .start()
        .await
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
    let one = a.signed_up_as("one@example.com").await;
    let two = b.signed_up_as("two@example.com").await;
    assert_ne!(one.id, two.id);
    // Each sees the other's account: one schema, migrated once.
    let body = json!({"name": "Dup", "email": "TWO@example.com", "password": PASSWORD});
    let reply = a
        .exchange(Method::POST, "/api/auth/signup", None, Some(&body))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.body["code"], "email_taken");
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
    let app = start(
        &url,
        &[
            ("DATABASE_POOL_TIMEOUT_MS", "500"),
            ("DATABASE_CONNECT_TIMEOUT_MS", "500"),
        ],
    )
    .await;
    let user = app.signed_up_as("outage@example.com").await;
    let tasks = format!("/api/{}/tasks", user.id);
    let reply = app
        .exchange(
            Method::POST,
            &tasks,
            user.auth(),
            Some(&json!({"title": "Survive"})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);

    relay.down();
    let began = Instant::now();
    let reply = app.exchange(Method::GET, &tasks, user.auth(), None).await;
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        reply.body
    );
    assert_eq!(reply.body["code"], "unavailable");
    assert_eq!(
        reply.body["error"],
        "Service temporarily unavailable, please try again"
    );
    assert!(reply.headers.contains_key("retry-after"));
    assert!(
        began.elapsed() < Duration::from_secs(10),
        "the 503 took {:?}",
        began.elapsed()
    );
    let reply = app.exchange(Method::GET, "/ready", None, None).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    let reply = app.exchange(Method::GET, "/health", None, None).await;
    assert_eq!(
        (reply.status, reply.body),
        (StatusCode::OK, json!({"status": "ok"}))
    );

    relay.restore();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let reply = app.exchange(Method::GET, &tasks, user.auth(), None).await;
        if reply.status == StatusCode::OK {
            assert_eq!(reply.body[0]["title"], "Survive");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not recovered: {} {}",
            reply.status,
            reply.body
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let reply = app.exchange(Method::GET, "/ready", None, None).await;
    assert_eq!(
        (reply.status, reply.body),
        (StatusCode::OK, json!({"status": "ready"}))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_report_the_database_pool() {
    let Some(db) = TestDatabase::create_or_skip().await else {
        return;
    };
    let app = start(
        db.url(),
        &[
            ("DATABASE_POOL_SIZE", "7"),
            ("DATABASE_AUTH_POOL_SIZE", "3"),
        ],
    )
    .await;
    app.signed_up_as("pool@example.com").await;
    let page = app
        .get("/metrics", None)
        .await
        .text()
        .await
        .unwrap_or_default();
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_task_table_leaves_signin_me_and_ready_answering() {
    let Some(db) = TestDatabase::create_or_skip().await else {
        return;
    };
    let app = start(
        db.url(),
        &[("DB_LOCK_TIMEOUT_MS", "1500"), ("DATABASE_POOL_SIZE", "2")],
    )
    .await;
    let user = app.signed_up_as("locked@example.com").await;
    let tasks = format!("/api/{}/tasks", user.id);
    let lock = match lock_table(db.url(), "tasks").await {
        Ok(lock) => lock,
        Err(e) => panic!("lock: {e}"),
    };
    // More task requests than the task pool has connections, all stuck on the lock.
    let stuck: Vec<_> = (0..8)
        .map(|_| {
            let request = app.request(Method::GET, &tasks, user.auth());
            tokio::spawn(async move {
                let began = Instant::now();
                let reply = Reply::read(send(request).await).await;
                (reply, began.elapsed())
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let signin = json!({"email": "locked@example.com", "password": PASSWORD});
    let checks = [
        (Method::GET, "/api/auth/me", user.auth(), None),
        (Method::POST, "/api/auth/signin", None, Some(&signin)),
        (Method::GET, "/ready", None, None),
    ];
    for (method, path, token, body) in checks {
        let began = Instant::now();
        let reply = app.exchange(method, path, token, body).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.body);
        assert!(
            began.elapsed() < Duration::from_millis(1_000),
            "{path} waited {:?} behind the locked table",
            began.elapsed()
        );
    }
    for request in stuck {
        let (reply, elapsed) = match request.await {
            Ok(outcome) => outcome,
            Err(e) => panic!("join: {e}"),
        };
        assert_eq!(
            reply.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{}",
            reply.body
        );
        assert_eq!(reply.body["code"], "unavailable");
        assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
    }
    drop(lock);
    let reply = app.exchange(Method::GET, &tasks, user.auth(), None).await;
    assert_eq!(reply.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_over_its_timeout_is_a_503() {
    let Some(db) = TestDatabase::create_or_skip().await else {
        return;
    };
    // A lock wait longer than the statement timeout: the statement timeout ends it.
    let app = start(
        db.url(),
        &[
            ("DB_STATEMENT_TIMEOUT_MS", "500"),
            ("DB_LOCK_TIMEOUT_MS", "60000"),
        ],
    )
    .await;
    let user = app.signed_up_as("slow@example.com").await;
    let tasks = format!("/api/{}/tasks", user.id);
    let lock = match lock_table(db.url(), "tasks").await {
        Ok(lock) => lock,
        Err(e) => panic!("lock: {e}"),
    };
    let began = Instant::now();
    let reply = app
        .exchange(
            Method::POST,
            &tasks,
            user.auth(),
            Some(&json!({"title": "Never written"})),
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        reply.body
    );
    assert!(reply.headers.contains_key("retry-after"));
    assert!(
        began.elapsed() < Duration::from_secs(5),
        "{:?}",
        began.elapsed()
    );
    drop(lock);
    let reply = app.exchange(Method::GET, &tasks, user.auth(), None).await;
    assert_eq!((reply.status, reply.body), (StatusCode::OK, json!([])));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_hangs_up_stops_holding_its_statement_and_connection() {
    let Some(db) = TestDatabase::create_or_skip().await else {
        return;
    };
    let app = start(
        db.url(),
        &[
            ("DB_STATEMENT_TIMEOUT_MS", "60000"),
            ("DB_LOCK_TIMEOUT_MS", "60000"),
            ("DATABASE_POOL_SIZE", "1"),
        ],
    )
    .await;
    let user = app.signed_up_as("gone@example.com").await;
    let tasks = format!("/api/{}/tasks", user.id);
    let lock = match lock_table(db.url(), "tasks").await {
        Ok(lock) => lock,
        Err(e) => panic!("lock: {e}"),
    };
    let gave_up = client_timing_out_after(Duration::from_millis(500))
        .get(app.url(&tasks))
        .bearer_auth(&user.token)
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
    let reply = app.exchange(Method::GET, &tasks, user.auth(), None).await;
    assert_eq!(reply.status, StatusCode::OK);
}

const NEXT_SECRET: &str = "postgres-suite-next-secret-abcdef0123456789";

/// The `kid` header of a token.
fn kid(token: &str) -> String {
    ForgedToken::parse(token).header["kid"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
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
    let old_token = old.signed_up_as("rotate@example.com").await.token;
    let rotated = start(
        db.url(),
        &[("JWT_SECRET", NEXT_SECRET), ("JWT_SECRET_PREVIOUS", SECRET)],
    )
    .await;
    let me = async |app: &TestApp, token: &str| {
        app.exchange(Method::GET, "/api/auth/me", Some(token), None)
            .await
    };
    let reply = me(&rotated, &old_token).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let signin = json!({"email": "rotate@example.com", "password": PASSWORD});
    let reply = rotated
        .exchange(Method::POST, "/api/auth/signin", None, Some(&signin))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let new_token = reply.body["token"].as_str().unwrap_or_default().to_owned();
    assert!(!kid(&old_token).is_empty());
    assert_ne!(kid(&new_token), kid(&old_token));
    // The old instance does not know the new secret.
    let reply = me(&old, &new_token).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.body["code"], "invalid_token");

    let after = start(db.url(), &[("JWT_SECRET", NEXT_SECRET)]).await;
    let reply = me(&after, &new_token).await;
    assert_eq!(reply.status, StatusCode::OK);
    let reply = me(&after, &old_token).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.body["code"], "invalid_token");
}
