//! The HTTP client of the tests, and reading what the server answers.

use std::fmt::Display;
use std::net::IpAddr;
use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::{Client, ClientBuilder, RequestBuilder, Response, StatusCode};
use serde_json::Value;
use uuid::Uuid;

/// How long a test waits for any one answer.
const TIMEOUT: Duration = Duration::from_secs(30);

fn build(builder: ClientBuilder) -> Client {
    match builder.no_proxy().build() {
        Ok(client) => client,
        Err(e) => panic!("the HTTP client does not build: {e}"),
    }
}

/// A client that goes straight to the test server (no proxy) and gives up after 30 s.
pub fn client() -> Client {
    build(Client::builder().timeout(TIMEOUT))
}

/// A client that gives up on an answer after `timeout`.
pub fn client_timing_out_after(timeout: Duration) -> Client {
    build(Client::builder().timeout(timeout))
}

/// A client whose connections come from `127.0.0.{last}`.
pub fn client_from(last: u8) -> Client {
    build(
        Client::builder()
            .local_address(IpAddr::from([127, 0, 0, last]))
            .timeout(TIMEOUT),
    )
}

/// Sends a request, failing the test if the server cannot be reached.
pub async fn send(builder: RequestBuilder) -> Response {
    match builder.send().await {
        Ok(response) => response,
        Err(e) => panic!("the request does not reach the server: {e}"),
    }
}

/// An answer read whole.
pub struct Reply {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body as JSON; `null` if it is not JSON.
    pub body: Value,
}

impl Reply {
    /// Reads `response` to its end.
    pub async fn read(response: Response) -> Self {
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.json::<Value>().await.unwrap_or(Value::Null);
        Self {
            status,
            headers,
            body,
        }
    }
}

/// Asserts the status and returns the JSON body, showing the body if the status is wrong.
pub async fn expect_status(response: Response, status: StatusCode) -> Value {
    let actual = response.status();
    let text = match response.text().await {
        Ok(text) => text,
        Err(e) => panic!("the body is not readable: {e}"),
    };
    assert_eq!(actual, status, "unexpected status; body: {text}");
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("body is not JSON ({error}): {text}"))
}

/// A response header as text.
pub fn header(response: &Response, name: &str) -> Option<String> {
    response.headers().get(name).map(|value| {
        value
            .to_str()
            .unwrap_or_else(|error| panic!("header {name} is not text: {error}"))
            .to_owned()
    })
}

/// The string at a JSON pointer, failing the test if there is none.
pub fn string_at(value: &Value, pointer: &str) -> String {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no string at {pointer} in {value}"))
        .to_owned()
}

/// `/api/{user_id}/tasks`.
pub fn tasks_path(user_id: &str) -> String {
    format!("/api/{user_id}/tasks")
}

/// `/api/{user_id}/tasks/{task_id}`.
pub fn task_path(user_id: &str, task_id: impl Display) -> String {
    format!("/api/{user_id}/tasks/{task_id}")
}

/// An email no other test uses.
pub fn unique_email() -> String {
    format!("user-{}@example.com", Uuid::new_v4().simple())
}

/// A password that is valid and on no common-password list.
pub fn unique_password() -> String {
    format!("pw-{}", Uuid::new_v4().simple())
}
