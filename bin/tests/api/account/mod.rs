//! Account and sessions: the name, the password, the sessions, the security events, the
//! deletion of an account, and the limits on what one account holds.

mod deletion;
mod events;
mod password;
mod profile;
mod quota;
mod sessions;

use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{ForgedToken, TestApp, assert_unauthorized, expect_status};

const PASSWORD: &str = "/api/auth/password";
const SESSIONS: &str = "/api/auth/sessions";

const ME: &str = "/api/auth/me";

async fn assert_revoked(response: Response) {
    assert_unauthorized(
        response,
        "token_revoked",
        "Session has ended, please log in again",
    )
    .await;
}

async fn change_password(app: &TestApp, token: &str, current: &str, new: &str) -> Response {
    let body = json!({"current_password": current, "new_password": new});
    app.post_json(PASSWORD, &body, Some(token)).await
}

async fn list_sessions(app: &TestApp, token: &str) -> Vec<Value> {
    let body = expect_status(app.get(SESSIONS, Some(token)).await, StatusCode::OK).await;
    body["sessions"].as_array().cloned().unwrap_or_default()
}

fn jti(token: &str) -> String {
    ForgedToken::parse(token).claims["jti"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}
