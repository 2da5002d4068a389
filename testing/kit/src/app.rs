//! A server started in this process for one test, and the requests a test sends it.

use reqwest::{Client, Method, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};
use tessera::settings::Settings;
use tessera::startup::Application;
use tessera_postgres::testing::TestDatabase;
use tessera_sqlite::testing::TempDatabase;

use crate::http::{
    Reply, client, expect_status, send, string_at, task_path, tasks_path, unique_email,
    unique_password,
};
use crate::store::SharedStore;
use crate::token::ForgedToken;
use crate::{PASSWORD, SECRET};

/// Where a test server keeps its data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Storage {
    /// In the process (`STORAGE=memory`).
    Memory,
    /// A PostgreSQL database (`STORAGE=postgres`).
    Postgres,
    /// A SQLite file (`STORAGE=sqlite`).
    Sqlite,
}

impl Storage {
    /// The storage `TEST_STORAGE` names: `memory` (also when unset), `postgres` or `sqlite`.
    pub fn from_env() -> Self {
        match std::env::var("TEST_STORAGE").as_deref() {
            Err(_) | Ok("" | "memory") => Self::Memory,
            Ok("postgres") => Self::Postgres,
            Ok("sqlite") => Self::Sqlite,
            Ok(other) => panic!("TEST_STORAGE={other:?}: expected memory, postgres or sqlite"),
        }
    }

    /// The value of the `STORAGE` setting.
    pub fn setting(self) -> &'static str {
        match self {
            Self::Memory => "memory",
            Self::Postgres => "postgres",
            Self::Sqlite => "sqlite",
        }
    }
}

/// How a [`TestApp`] is set up: its storage and its settings.
#[must_use = "a builder does nothing until `start` is called"]
pub struct TestAppBuilder {
    storage: Storage,
    database_url: Option<String>,
    settings: Vec<(String, String)>,
}

impl TestAppBuilder {
    /// The storage, instead of the one `TEST_STORAGE` names.
    pub fn storage(mut self, storage: Storage) -> Self {
        self.storage = storage;
        self
    }

    /// Runs on `store`, beside every other server started on it.
    pub fn on(self, store: &SharedStore) -> Self {
        self.storage(store.storage()).database_url(store.url())
    }

    /// The database this server uses, instead of a fresh one of its own.
    pub fn database_url(mut self, url: &str) -> Self {
        self.database_url = Some(url.to_owned());
        self
    }

    /// Sets one setting, replacing the test default or an earlier value.
    pub fn setting(mut self, name: &str, value: &str) -> Self {
        self.settings.retain(|(other, _)| other != name);
        self.settings.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Sets each of `pairs`, as [`setting`](Self::setting) does.
    pub fn settings(self, pairs: &[(&str, &str)]) -> Self {
        pairs
            .iter()
            .fold(self, |builder, (name, value)| builder.setting(name, value))
    }

    /// Starts the server on port 0 of the loopback address, in the background of this
    /// test's runtime. Without a database URL, a PostgreSQL server gets a fresh, empty
    /// database (from `TEST_DATABASE_URL`; the application migrates it) and a SQLite
    /// server a fresh file, both removed with the app.
    pub async fn start(self) -> TestApp {
        let storage = self.storage;
        let mut builder = self.setting("STORAGE", storage.setting());
        let mut database = None;
        let mut sqlite = None;
        match (storage, builder.database_url.take()) {
            (_, Some(url)) => builder = builder.setting("DATABASE_URL", &url),
            (Storage::Postgres, None) => {
                let db = match TestDatabase::create_empty().await {
                    Ok(db) => db,
                    Err(e) => panic!("PostgreSQL storage needs a server at TEST_DATABASE_URL: {e}"),
                };
                builder = builder.setting("DATABASE_URL", db.url());
                database = Some(db);
            }
            (Storage::Sqlite, None) => {
                let file = TempDatabase::new();
                builder = builder.setting("DATABASE_URL", &file.url());
                sqlite = Some(file);
            }
            (Storage::Memory, None) => {}
        }
        let secret = builder
            .settings
            .iter()
            .find(|(name, _)| name == "JWT_SECRET")
            .map_or_else(|| SECRET.to_owned(), |(_, value)| value.clone());
        let settings = match Settings::from_pairs(builder.settings) {
            Ok(settings) => settings,
            Err(e) => panic!("the test settings are invalid: {e}"),
        };
        let app = match Application::build(settings).await {
            Ok(app) => app,
            Err(e) => panic!("the application does not start: {e:#}"),
        };
        let address = format!("http://127.0.0.1:{}", app.port());
        let running = tokio::spawn(app.run_until_stopped());
        TestApp {
            running,
            address,
            client: client(),
            secret,
            _database: database,
            _sqlite: sqlite,
        }
    }
}

/// A server started for one test, and a client to talk to it.
pub struct TestApp {
    /// The server's task: its background work (the mail sender among it) runs in it.
    running: tokio::task::JoinHandle<std::io::Result<()>>,
    /// Base URL of the server, `http://127.0.0.1:PORT`.
    pub address: String,
    /// HTTP client (no proxy, so requests go straight to the test server).
    pub client: Client,
    /// The server's JWT secret, for forging tokens.
    pub secret: String,
    /// The test database, dropped with the app (PostgreSQL runs only).
    _database: Option<TestDatabase>,
    /// The SQLite file, removed with the app (SQLite runs only).
    _sqlite: Option<TempDatabase>,
}

/// A user signed up through the API, with the token the signup returned.
pub struct TestUser {
    /// The user's id (a UUID string).
    pub id: String,
    /// The email as given at signup.
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

/// Starts a server with the test settings, on the storage `TEST_STORAGE` names.
pub async fn spawn_app() -> TestApp {
    TestApp::builder().start().await
}

/// [`spawn_app`], `extra` replacing or adding settings.
pub async fn spawn_app_with(extra: &[(&str, &str)]) -> TestApp {
    TestApp::builder().settings(extra).start().await
}

impl TestApp {
    /// A server on the storage `TEST_STORAGE` names, with the test settings: the test
    /// secret, loopback, port 0, bcrypt cost 4, and no address budget on the auth routes.
    pub fn builder() -> TestAppBuilder {
        TestAppBuilder {
            storage: Storage::from_env(),
            database_url: None,
            settings: Vec::new(),
        }
        .settings(&[
            ("JWT_SECRET", SECRET),
            ("HOST", "127.0.0.1"),
            ("PORT", "0"),
            ("BCRYPT_COST", "4"),
            ("AUTH_RATE_LIMIT_PER_MINUTE", "0"),
        ])
    }

    /// Stops this instance's background work (the mail sender, pruning) as a crash
    /// would: nothing it had not stored yet is kept. Its listener may still answer.
    pub fn halt(&self) {
        self.running.abort();
    }

    /// The URL of `path` (which starts with `/`) on this server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// A request to `path`, with the bearer token if one is given.
    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let builder = self.client.request(method, self.url(path));
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

    /// A request with `body` as JSON when given, read whole: status, headers and JSON body.
    pub async fn exchange(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Reply {
        let request = self.request(method, path, token);
        let request = match body {
            Some(body) => request.json(body),
            None => request,
        };
        Reply::read(send(request).await).await
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
            builder = builder.header(reqwest::header::CONTENT_TYPE, content_type);
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

    /// The status of `POST /api/auth/signin`.
    pub async fn signin_status(&self, email: &str, password: &str) -> StatusCode {
        self.signin(email, password).await.status()
    }

    /// `POST /api/auth/signout` with a JSON body.
    pub async fn signout(&self, token: Option<&str>, body: &Value) -> Response {
        self.post_json("/api/auth/signout", body, token).await
    }

    /// `POST /api/auth/password`: changes the token's user's password from `current` to `new`.
    pub async fn change_password(&self, token: &str, current: &str, new: &str) -> Response {
        let body = json!({"current_password": current, "new_password": new});
        self.post_json("/api/auth/password", &body, Some(token))
            .await
    }

    /// `GET /api/auth/me` with a bearer token.
    pub async fn me(&self, token: &str) -> Response {
        self.get("/api/auth/me", Some(token)).await
    }

    /// Signs up a new user with a unique email and password.
    pub async fn signed_up_user(&self) -> TestUser {
        self.signed_up(&unique_email(), &unique_password()).await
    }

    /// Signs up a user with this email and [`PASSWORD`].
    pub async fn signed_up_as(&self, email: &str) -> TestUser {
        self.signed_up(email, PASSWORD).await
    }

    async fn signed_up(&self, email: &str, password: &str) -> TestUser {
        let name = "Test User".to_owned();
        let body = expect_status(
            self.signup(&name, email, password).await,
            StatusCode::CREATED,
        )
        .await;
        TestUser {
            id: string_at(&body, "/user/id"),
            email: email.to_owned(),
            name,
            password: password.to_owned(),
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
        forged.signed_with(self.secret.as_bytes(), jsonwebtoken::Algorithm::HS256)
    }
}
