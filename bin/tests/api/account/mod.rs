//! Account and sessions: the name, the password, the sessions, the security events, the
//! deletion of an account, and the limits on what one account holds.

mod deletion;
mod events;
mod password;
mod profile;
mod quota;
mod sessions;

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{TestApp, expect_status};

const PASSWORD: &str = "/api/auth/password";
const SESSIONS: &str = "/api/auth/sessions";
const ME: &str = "/api/auth/me";

async fn list_sessions(app: &TestApp, token: &str) -> Vec<Value> {
    let body = expect_status(app.get(SESSIONS, Some(token)).await, StatusCode::OK).await;
    body["sessions"].as_array().cloned().unwrap_or_default()
}
