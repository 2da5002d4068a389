//! What the logs say, and what they never say: one line per request with its route
//! template, and no password, token, secret or email, whatever happens.

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use tessera::settings::Settings;
use tessera::startup::Application;

const SECRET: &str = "log-test-secret-that-must-never-be-logged-0123";
const PASSWORD: &str = "correct-horse-battery-staple-42";
const EMAIL: &str = "private.person@example.com";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }
}

async fn post(client: &Client, url: String, body: Value) -> (StatusCode, Value) {
    let response = match client.post(url).json(&body).send().await {
        Ok(response) => response,
        Err(e) => panic!("request: {e}"),
    };
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_name_routes_but_never_secrets_passwords_tokens_or_emails() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter("debug")
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    if tracing::subscriber::set_global_default(subscriber).is_err() {
        panic!("this test binary must own the global subscriber");
    }

    let settings = match Settings::from_pairs([
        ("STORAGE", "memory"),
        ("JWT_SECRET", SECRET),
        ("PORT", "0"),
        ("BCRYPT_COST", "4"),
    ]) {
        Ok(settings) => settings,
        Err(e) => panic!("{e}"),
    };
    let app = match Application::build(settings).await {
        Ok(app) => app,
        Err(e) => panic!("{e:#}"),
    };
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let client = Client::new();

    let (status, body) = post(
        &client,
        format!("{base}/api/auth/signup"),
        json!({"name": "Private Person", "email": EMAIL, "password": PASSWORD}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let token = body["token"].as_str().unwrap_or_default().to_owned();
    let (status, _) = post(
        &client,
        format!("{base}/api/auth/signin"),
        json!({"email": EMAIL, "password": PASSWORD}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = post(
        &client,
        format!("{base}/api/auth/signin"),
        json!({"email": EMAIL, "password": "wrong-password-also-private"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let logs = captured.text();
    assert!(
        logs.lines()
            .any(|l| l.contains("route=/api/auth/signin") && l.contains("status=400")),
        "no request line for the failed signin:\n{logs}"
    );
    for private in [
        SECRET,
        PASSWORD,
        "wrong-password-also-private",
        EMAIL,
        "private.person",
        token.as_str(),
    ] {
        assert!(!private.is_empty());
        assert!(
            !logs.contains(private),
            "{private:?} appears in the logs:\n{logs}"
        );
    }
}
