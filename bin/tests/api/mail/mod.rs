//! Mail: password reset, email verification and change, against a mail catcher on
//! loopback (`tessera_test_kit::MailCatcher`), and the delivery behind them.

mod change;
mod delivery;
mod recovery;
mod verification;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tessera_test_kit::{Answer, MailCatcher, TestAppBuilder};

use crate::helpers::{TestApp, TestUser, expect_status};

pub(crate) const RESET: &str = "Reset your password";
pub(crate) const VERIFY: &str = "Verify your email";
pub(crate) const CONFIRM_CHANGE: &str = "Confirm your new email";
pub(crate) const CHANGED: &str = "Your email was changed";
pub(crate) const PASSWORD_CHANGED: &str = "Your password was changed";

/// The test settings, mail sent to `catcher`.
pub(crate) fn sending_to(catcher: &MailCatcher) -> TestAppBuilder {
    TestApp::builder().setting("SMTP_URL", &catcher.url())
}

/// A catcher that accepts, and a server sending to it.
pub(crate) async fn app_and_catcher() -> (TestApp, MailCatcher) {
    let catcher = MailCatcher::start(Answer::Accept).await;
    let app = sending_to(&catcher).start().await;
    (app, catcher)
}

/// Asks for a reset link for `email`: the 202 the contract gives every address.
pub(crate) async fn forgot(app: &TestApp, email: &str) -> Value {
    expect_status(
        app.post_json("/api/auth/password/forgot", &json!({"email": email}), None)
            .await,
        StatusCode::ACCEPTED,
    )
    .await
}

/// The token of the reset mail `user` is sent once they ask for one.
pub(crate) async fn reset_token(app: &TestApp, catcher: &MailCatcher, user: &TestUser) -> String {
    forgot(app, &user.email).await;
    let mail = catcher.wait_for(&user.email, RESET).await;
    mail.token("reset-password").expect("a reset link")
}

/// `POST /api/auth/password/reset`.
pub(crate) async fn reset(app: &TestApp, token: &str, password: &str) -> reqwest::Response {
    app.post_json(
        "/api/auth/password/reset",
        &json!({"token": token, "new_password": password}),
        None,
    )
    .await
}

/// `POST /api/auth/email/verify`.
pub(crate) async fn verify(app: &TestApp, token: &str) -> reqwest::Response {
    app.post_json("/api/auth/email/verify", &json!({"token": token}), None)
        .await
}
