//! What the logs say, and what they never say: one line per request with its route
//! template, and no password, token, secret or email, whatever happens.

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use reqwest::StatusCode;
use tessera_test_kit::{Storage, TestApp, expect_status, string_at};

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

    let app = TestApp::builder()
        .storage(Storage::Memory)
        .setting("JWT_SECRET", SECRET)
        .start()
        .await;

    let body = expect_status(
        app.signup("Private Person", EMAIL, PASSWORD).await,
        StatusCode::CREATED,
    )
    .await;
    let token = string_at(&body, "/token");
    assert_eq!(app.signin_status(EMAIL, PASSWORD).await, StatusCode::OK);
    assert_eq!(
        app.signin_status(EMAIL, "wrong-password-also-private")
            .await,
        StatusCode::BAD_REQUEST
    );

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
