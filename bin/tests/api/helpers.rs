//! Starting one server per test and talking to it over HTTP, as a client would.

use std::fmt::Display;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey};
use reqwest::header::CONTENT_TYPE;
use reqwest::{Client, Method, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};
use tessera::settings::Settings;
use tessera::startup::Application;
use tessera_postgres::testing::TestDatabase;
use tessera_sqlite::testing::TempDatabase;
use uuid::Uuid;

/// The HS256 secret test servers sign with unless a test overrides `JWT_SECRET`.
const SECRET: &str = "tessera-test-secret-0123456789abcdef-0123456789abcdef";

/// The texts that betray internals (a panic, a crate path, a Rust type) in an error body.
const LEAKS: [&str; 3] = ["panicked", "tessera_", "::"];

/// A server started for one test, and a client to talk to it.
pub struct TestApp {
    /// Base URL of the server, `http://127.0.0.1:PORT`.
    pub address: String,
    /// HTTP client (no proxy, so requests go straight to the test server).
    pub client: Client,
    /// The server's JWT secret, for forging tokens.
    pub secret: String,
    /// The test database, dropped with the app (Postgres runs only).
    _database: Option<TestDatabase>,
    /// The SQLite file, removed with the app (SQLite runs only).
    _sqlite: Option<TempDatabase>,
}

/// A user signed up through the API, with the token the signup returned.
pub struct TestUser {
    /// The user's id (a UUID string).
    pub id: String,
    /// The email as the server stores it (lower case).
    pub email: String,
    /// The display name.
    pub name: String,
    /// The plain-text password.
    pub password: String,
    /// The bearer token issued at signup.
    pub token: String,
}

impl TestUser {
    /// The user's token, in the form the request helpers take.
    pub fn auth(&self) -> Option<&str> {
        Some(self.token.as_str())
    }
}

/// Starts a server on a free port with the test settings.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Starts a server with the test settings, `extra` replacing or adding settings.
///
/// Storage comes from `TEST_STORAGE` (`memory` unless set); with `postgres`, the
/// database URL comes from `TEST_DATABASE_URL`.
pub async fn spawn_app_with(extra: &[(&str, &str)]) -> TestApp {
    let storage = std::env::var("TEST_STORAGE").unwrap_or_else(|_| "memory".to_owned());
    let mut pairs: Vec<(String, String)> = [
        ("STORAGE", storage.as_str()),
        ("JWT_SECRET", SECRET),
        ("HOST", "127.0.0.1"),
        ("PORT", "0"),
        ("BCRYPT_COST", "4"),
        ("AUTH_RATE_LIMIT_PER_MINUTE", "0"),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value.to_owned()))
    .collect();
    // A fresh, empty database per server: the application applies the migrations itself.
    let database = if storage == "postgres" {
        let db = TestDatabase::create_empty()
            .await
            .expect("TEST_STORAGE=postgres needs a PostgreSQL server at TEST_DATABASE_URL");
        pairs.push(("DATABASE_URL".to_owned(), db.url().to_owned()));
        Some(db)
    } else {
        None
    };
    let sqlite = (storage == "sqlite").then(|| {
        let file = TempDatabase::new();
        pairs.push(("DATABASE_URL".to_owned(), file.url()));
        file
    });
    pairs.retain(|(name, _)| !extra.iter().any(|(other, _)| *other == name.as_str()));
    pairs.extend(
        extra
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned())),
    );
    let secret = pairs
        .iter()
        .find(|(name, _)| name.as_str() == "JWT_SECRET")
        .map_or_else(|| SECRET.to_owned(), |(_, value)| value.clone());

    let settings = Settings::from_pairs(pairs).expect("the test settings are valid");
    let app = Application::build(settings)
        .await
        .expect("the application starts");
    let port = app.port();
    tokio::spawn(app.run_until_stopped());

    let client = Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("the HTTP client builds");
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        client,
        secret,
        _database: database,
        _sqlite: sqlite,
    }
}

/// A client whose connections come from `127.0.0.{last}`.
pub fn client_from(last: u8) -> Client {
    Client::builder()
        .no_proxy()
        .local_address(std::net::IpAddr::from([127, 0, 0, last]))
        .timeout(Duration::from_secs(30))
        .build()
        .expect("the HTTP client builds")
}

/// Starts a server and signs up one user on it.
pub async fn app_with_user() -> (TestApp, TestUser) {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;
    (app, user)
}

impl TestApp {
    /// A request to `path` (which starts with `/`), with the bearer token if one is given.
    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let url = format!("{}{path}", self.address);
        let builder = self.client.request(method, url);
        match token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    }

    /// A request without a body.
    pub async fn call(&self, method: Method, path: &str, token: Option<&str>) -> Response {
        send(self.request(method, path, token)).await
    }

    /// `GET path`.
    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        self.call(Method::GET, path, token).await
    }

    /// A request with `body` as JSON (`Content-Type: application/json`).
    pub async fn json_request(
        &self,
        method: Method,
        path: &str,
        body: &Value,
        token: Option<&str>,
    ) -> Response {
        send(self.request(method, path, token).json(body)).await
    }

    /// `POST path` with `body` as JSON.
    pub async fn post_json(&self, path: &str, body: &Value, token: Option<&str>) -> Response {
        self.json_request(Method::POST, path, body, token).await
    }

    /// A request with exactly these body bytes and this Content-Type (none if `None`).
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        body: impl Into<Vec<u8>>,
        content_type: Option<&str>,
        token: Option<&str>,
    ) -> Response {
        let bytes: Vec<u8> = body.into();
        let mut builder = self.request(method, path, token).body(bytes);
        if let Some(content_type) = content_type {
            builder = builder.header(CONTENT_TYPE, content_type);
        }
        send(builder).await
    }

    /// `POST /api/auth/signup`.
    pub async fn signup(&self, name: &str, email: &str, password: &str) -> Response {
        let body = json!({"name": name, "email": email, "password": password});
        self.post_json("/api/auth/signup", &body, None).await
    }

    /// `POST /api/auth/signin`.
    pub async fn signin(&self, email: &str, password: &str) -> Response {
        let body = json!({"email": email, "password": password});
        self.post_json("/api/auth/signin", &body, None).await
    }

    /// `POST /api/auth/signout` with a JSON body.
    pub async fn signout(&self, token: Option<&str>, body: &Value) -> Response {
        self.post_json("/api/auth/signout", body, token).await
    }

    /// `GET /api/auth/me` with a bearer token.
    pub async fn me(&self, token: &str) -> Response {
        self.get("/api/auth/me", Some(token)).await
    }

    /// Signs up a new user with a unique email and password.
    pub async fn signed_up_user(&self) -> TestUser {
        let name = "Test User".to_owned();
        let email = unique_email();
        let password = unique_password();
        let body = expect_status(
            self.signup(&name, &email, &password).await,
            StatusCode::CREATED,
        )
        .await;
        TestUser {
            id: string_at(&body, "/user/id"),
            email,
            name,
            password,
            token: string_at(&body, "/token"),
        }
    }

    /// Signs `user` in again: a new token for a new session.
    pub async fn new_token(&self, user: &TestUser) -> String {
        let body = expect_status(
            self.signin(&user.email, &user.password).await,
            StatusCode::OK,
        )
        .await;
        string_at(&body, "/token")
    }

    /// Creates a task for `user` and returns it.
    pub async fn create_task(&self, user: &TestUser, title: &str) -> Value {
        let body = json!({"title": title});
        let response = self
            .post_json(&tasks_path(&user.id), &body, user.auth())
            .await;
        expect_status(response, StatusCode::CREATED).await
    }

    /// `user`'s task list (the default query), as its owner sees it.
    pub async fn list_tasks(&self, user: &TestUser) -> Value {
        let response = self.get(&tasks_path(&user.id), user.auth()).await;
        expect_status(response, StatusCode::OK).await
    }

    /// `user`'s task `id`, as its owner sees it.
    pub async fn get_task(&self, user: &TestUser, id: i64) -> Value {
        let response = self.get(&task_path(&user.id, id), user.auth()).await;
        expect_status(response, StatusCode::OK).await
    }

    /// Signs `forged` with the server's secret and HS256: a token the server should trust.
    pub fn sign(&self, forged: &ForgedToken) -> String {
        forged.signed_with(self.secret.as_bytes(), Algorithm::HS256)
    }
}

/// Sends a request, failing the test if the server cannot be reached.
pub async fn send(builder: RequestBuilder) -> Response {
    builder
        .send()
        .await
        .expect("the request reaches the server")
}

/// `/api/{user_id}/tasks`.
pub fn tasks_path(user_id: &str) -> String {
    format!("/api/{user_id}/tasks")
}

/// `/api/{user_id}/tasks/{task_id}`.
pub fn task_path(user_id: &str, task_id: impl Display) -> String {
    format!("/api/{user_id}/tasks/{task_id}")
}

/// The integer id of a task.
pub fn task_id(task: &Value) -> i64 {
    task["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("task id is not an integer: {task}"))
}

/// An email no other test uses.
pub fn unique_email() -> String {
    format!("user-{}@example.com", Uuid::new_v4().simple())
}

/// A password that is valid and on no common-password list.
pub fn unique_password() -> String {
    format!("pw-{}", Uuid::new_v4().simple())
}

/// The current Unix time in seconds.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The string at a JSON pointer, failing the test if there is none.
pub fn string_at(value: &Value, pointer: &str) -> String {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no string at {pointer} in {value}"))
        .to_owned()
}

/// Parses an RFC 3339 UTC timestamp (ending in `Z`) into Unix seconds.
pub fn timestamp(value: &Value) -> i64 {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("timestamp is not a string: {value}"));
    assert!(text.ends_with('Z'), "timestamp is not UTC with a Z: {text}");
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|error| panic!("timestamp {text} is not RFC 3339: {error}"))
        .timestamp()
}

/// Waits long enough that a timestamp written now differs from `previous`, at the
/// precision the server writes (sub-second if `previous` has a fraction, else seconds).
pub async fn wait_for_new_timestamp(previous: &Value) {
    let text = previous.as_str().unwrap_or_default();
    let pause = if text.contains('.') {
        Duration::from_millis(15)
    } else {
        Duration::from_millis(1_100)
    };
    tokio::time::sleep(pause).await;
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

/// Asserts that `value` is an object with exactly these keys.
pub fn assert_keys(value: &Value, expected: &[&str]) {
    let object = value
        .as_object()
        .unwrap_or_else(|| panic!("not a JSON object: {value}"));
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    let mut expected = expected.to_vec();
    expected.sort_unstable();
    assert_eq!(keys, expected, "keys of {value}");
}

/// Asserts the status and returns the JSON body, showing the body if the status is wrong.
pub async fn expect_status(response: Response, status: StatusCode) -> Value {
    let actual = response.status();
    let text = response.text().await.expect("the body is readable");
    assert_eq!(actual, status, "unexpected status; body: {text}");
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("body is not JSON ({error}): {text}"))
}

/// Asserts an error response: status, JSON Content-Type, exactly `error` and `code` (plus
/// `fields` for `validation_failed`), no internals; returns the body. `context` names the
/// request in failure messages.
pub async fn assert_error_in(
    context: &str,
    response: Response,
    status: StatusCode,
    code: &str,
    message: &str,
) -> Value {
    let body = check_error_shape(context, response, status, code).await;
    assert_eq!(
        body["error"], message,
        "{context}: error message; body: {body}"
    );
    body
}

/// [`assert_error_in`] without a context.
pub async fn assert_error(
    response: Response,
    status: StatusCode,
    code: &str,
    message: &str,
) -> Value {
    assert_error_in("", response, status, code, message).await
}

/// Asserts a 400 `validation_failed` whose `error` is `message` and whose `fields` has
/// `message` for `field`.
pub async fn assert_validation(response: Response, field: &str, message: &str) -> Value {
    let body = assert_error(
        response,
        StatusCode::BAD_REQUEST,
        "validation_failed",
        message,
    )
    .await;
    assert_eq!(
        body["fields"][field], message,
        "fields.{field}; body: {body}"
    );
    body
}

/// Asserts the contract's 400 `invalid_json`.
pub async fn assert_invalid_json(context: &str, response: Response) {
    assert_error_in(
        context,
        response,
        StatusCode::BAD_REQUEST,
        "invalid_json",
        "Request body must be valid JSON",
    )
    .await;
}

/// Asserts a 400 `validation_failed` naming `field`, whatever its wording.
pub async fn assert_validation_of(context: &str, response: Response, field: &str) -> Value {
    let body = check_error_shape(
        context,
        response,
        StatusCode::BAD_REQUEST,
        "validation_failed",
    )
    .await;
    assert!(
        body["fields"][field].is_string(),
        "{context}: fields.{field} is missing; body: {body}"
    );
    assert_eq!(
        body["error"], body["fields"][field],
        "{context}: error is the field's message; body: {body}"
    );
    body
}

/// Asserts a 401 with `code` and `message`, whose challenge names `invalid_token` (a token
/// was sent).
pub async fn assert_unauthorized(response: Response, code: &str, message: &str) -> Value {
    let challenge = header(&response, "www-authenticate").unwrap_or_default();
    let body = assert_error(response, StatusCode::UNAUTHORIZED, code, message).await;
    assert!(
        challenge.starts_with("Bearer") && challenge.contains(r#"error="invalid_token""#),
        "WWW-Authenticate is {challenge:?}"
    );
    body
}

/// Asserts the 401 `invalid_token` response.
pub async fn assert_invalid_token(context: &str, response: Response) -> Value {
    let challenge = header(&response, "www-authenticate").unwrap_or_default();
    let body = assert_error_in(
        context,
        response,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
        "Invalid or malformed token",
    )
    .await;
    assert!(
        challenge.starts_with("Bearer") && challenge.contains(r#"error="invalid_token""#),
        "{context}: WWW-Authenticate is {challenge:?}"
    );
    body
}

/// Asserts the 401 `missing_token` response to a request that sent no bearer token: the
/// challenge is exactly `Bearer`.
pub async fn assert_missing_token(context: &str, response: Response) -> Value {
    let challenge = header(&response, "www-authenticate");
    let body = assert_error_in(
        context,
        response,
        StatusCode::UNAUTHORIZED,
        "missing_token",
        "Authentication required",
    )
    .await;
    assert_eq!(
        challenge.as_deref(),
        Some("Bearer"),
        "{context}: WWW-Authenticate"
    );
    body
}

/// Asserts the 404 for a task that is absent, not an integer or someone else's.
pub async fn assert_task_not_found(context: &str, response: Response) -> Value {
    assert_error_in(
        context,
        response,
        StatusCode::NOT_FOUND,
        "not_found",
        "Task not found",
    )
    .await
}

async fn check_error_shape(
    context: &str,
    response: Response,
    status: StatusCode,
    code: &str,
) -> Value {
    let actual = response.status();
    let content_type = header(&response, "content-type").unwrap_or_default();
    let text = response.text().await.expect("the body is readable");
    assert_eq!(actual, status, "{context}: unexpected status; body: {text}");
    assert!(
        content_type.starts_with("application/json"),
        "{context}: error Content-Type is {content_type:?}; body: {text}"
    );
    for leak in LEAKS {
        assert!(
            !text.contains(leak),
            "{context}: error body leaks {leak:?}: {text}"
        );
    }
    let body: Value = serde_json::from_str(&text)
        .unwrap_or_else(|error| panic!("{context}: error body is not JSON ({error}): {text}"));
    if code == "validation_failed" {
        assert_keys(&body, &["code", "error", "fields"]);
        let fields = body["fields"]
            .as_object()
            .unwrap_or_else(|| panic!("{context}: fields is not an object: {text}"));
        assert!(
            !fields.is_empty() && fields.values().all(Value::is_string),
            "{context}: fields must hold one message per field: {text}"
        );
    } else {
        assert_keys(&body, &["code", "error"]);
    }
    assert_eq!(body["code"], code, "{context}: error code; body: {text}");
    body
}

/// A JWT taken apart so that a test can change its header or claims and sign it again.
pub struct ForgedToken {
    /// The JOSE header.
    pub header: Value,
    /// The claims.
    pub claims: Value,
    /// The original signature (base64url).
    signature: String,
}

impl ForgedToken {
    /// Decodes a token's header and claims without verifying anything.
    pub fn parse(token: &str) -> Self {
        let parts: Vec<&str> = token.split('.').collect();
        let [header, claims, signature] = parts.as_slice() else {
            panic!("a JWT has three parts: {token}");
        };
        Self {
            header: decode_part(header),
            claims: decode_part(claims),
            signature: (*signature).to_owned(),
        }
    }

    /// Removes a claim.
    pub fn remove_claim(&mut self, name: &str) {
        self.claims
            .as_object_mut()
            .expect("the claims are a JSON object")
            .remove(name);
    }

    /// `base64url(header).base64url(claims)`: the signed part.
    pub fn message(&self) -> String {
        format!(
            "{}.{}",
            encode_part(&self.header),
            encode_part(&self.claims)
        )
    }

    /// The token signed with `secret` by HMAC `algorithm`, whatever the header says.
    pub fn signed_with(&self, secret: &[u8], algorithm: Algorithm) -> String {
        let message = self.message();
        let signature = jsonwebtoken::crypto::sign(
            message.as_bytes(),
            &EncodingKey::from_secret(secret),
            algorithm,
        )
        .expect("HMAC signing works");
        format!("{message}.{signature}")
    }

    /// The token with the original signature, whatever was changed.
    pub fn with_original_signature(&self) -> String {
        format!("{}.{}", self.message(), self.signature)
    }

    /// The token with an empty signature, as `alg: none` tokens are.
    pub fn unsigned(&self) -> String {
        format!("{}.", self.message())
    }
}

fn decode_part(part: &str) -> Value {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .unwrap_or_else(|error| panic!("JWT part {part} is not base64url: {error}"));
    serde_json::from_slice(&bytes).unwrap_or_else(|error| panic!("JWT part is not JSON: {error}"))
}

fn encode_part(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}
