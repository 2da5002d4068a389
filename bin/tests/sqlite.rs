//! What a shared SQLite file shows: the scenarios of every shared store
//! ([`tessera_test_kit::two_instances`]), several instances (each with its own
//! connection, as separate processes have) with both limits at once, and what only
//! SQLite has: a file locked by another writer.

use diesel::connection::SimpleConnection;
use diesel::{Connection, sqlite::SqliteConnection};
use reqwest::{Method, StatusCode};
use serde_json::json;
use tessera_sqlite::testing::TempDatabase;
use tessera_test_kit::{SharedStore, Storage, TestApp, shared_store_tests};

shared_store_tests!(async { Some(SharedStore::sqlite()) });

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_file_share_the_address_budget_and_the_account_throttle() {
    let store = SharedStore::sqlite();
    let limits = [
        ("AUTH_RATE_LIMIT_PER_MINUTE", "4"),
        ("ACCOUNT_FAILURE_LIMIT", "2"),
    ];
    let first = store.app().settings(&limits).start().await;
    let second = store.app().settings(&limits).start().await;
    let signin = async |app: &TestApp, password: &str| {
        let body = json!({"email": "nobody@example.com", "password": password});
        app.exchange(Method::POST, "/api/auth/signin", None, Some(&body))
            .await
    };
    // Two failures on one instance lock the account on the other.
    assert_eq!(
        signin(&first, "wrong-password-1").await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        signin(&first, "wrong-password-2").await.status,
        StatusCode::BAD_REQUEST
    );
    let reply = signin(&second, "wrong-password-3").await;
    assert_eq!(
        reply.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        reply.body
    );
    // Four attempts from this address in all: the fifth, on either, is over the budget.
    assert_eq!(
        signin(&second, "wrong-password-4").await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    let reply = signin(&first, "wrong-password-5").await;
    assert_eq!(
        reply.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        reply.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_locked_by_another_writer_gives_503_after_the_busy_timeout_then_recovers() {
    let db = TempDatabase::new();
    let app = TestApp::builder()
        .storage(Storage::Sqlite)
        .database_url(&db.url())
        .setting("DB_LOCK_TIMEOUT_MS", "300")
        .start()
        .await;
    let user = app.signed_up_as("locked@example.com").await;

    // Another process takes the write lock and keeps it.
    let path = db.path().display().to_string();
    let mut other = match SqliteConnection::establish(&path) {
        Ok(conn) => conn,
        Err(e) => panic!("second connection: {e}"),
    };
    if let Err(e) = other.batch_execute("BEGIN IMMEDIATE") {
        panic!("taking the write lock: {e}");
    }
    let tasks = format!("/api/{}/tasks", user.id);
    let reply = app
        .exchange(
            Method::POST,
            &tasks,
            user.auth(),
            Some(&json!({"title": "blocked"})),
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        reply.body
    );
    assert_eq!(reply.body["code"], "unavailable");
    // Reads still answer while the other writer holds the lock (WAL).
    assert_eq!(
        app.exchange(Method::GET, &tasks, user.auth(), None)
            .await
            .status,
        StatusCode::OK
    );
    if let Err(e) = other.batch_execute("ROLLBACK") {
        panic!("releasing the write lock: {e}");
    }
    let reply = app
        .exchange(
            Method::POST,
            &tasks,
            user.auth(),
            Some(&json!({"title": "free"})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
}
