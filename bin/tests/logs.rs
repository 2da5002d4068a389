//! What the logs say, and what they never say: one line per request with its route
//! template, and no password, token, link, secret or email, whatever happens (mail
//! delivered, refused and retried included).

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use reqwest::StatusCode;
use serde_json::json;
use tessera_test_kit::{Answer, MailCatcher, Storage, TestApp, expect_status, string_at};

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

    let catcher = MailCatcher::start(Answer::RefuseForNow(1)).await;
    let app = TestApp::builder()
        .storage(Storage::Memory)
        .setting("JWT_SECRET", SECRET)
        .setting("SMTP_URL", &catcher.url())
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

    // Mail, a refusal and a retry among it: its links' tokens are in the mails only.
    let verification = catcher.wait_for(EMAIL, "Verify your email").await;
    let verify_token = verification.token("verify-email").unwrap_or_default();
    expect_status(
        app.post_json(
            "/api/auth/email/verify",
            &json!({"token": verify_token}),
            None,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    expect_status(
        app.post_json("/api/auth/password/forgot", &json!({"email": EMAIL}), None)
            .await,
        StatusCode::ACCEPTED,
    )
    .await;
    let reset = catcher.wait_for(EMAIL, "Reset your password").await;
    let reset_token = reset.token("reset-password").unwrap_or_default();
    let new_password = "another-private-password-77";
    let body = expect_status(
        app.post_json(
            "/api/auth/password/reset",
            &json!({"token": reset_token, "new_password": new_password}),
            None,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let reset_session = string_at(&body, "/token");
    catcher.wait_for(EMAIL, "Your password was changed").await;

    let logs = captured.text();
    assert!(
        logs.lines().any(|l| l.contains("mail delivered")),
        "no line for a delivered mail:\n{logs}"
    );
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
        verify_token.as_str(),
        reset_token.as_str(),
        new_password,
        reset_session.as_str(),
    ] {
        assert!(!private.is_empty());
        assert!(
            !logs.contains(private),
            "{private:?} appears in the logs:\n{logs}"
        );
    }
}
