//! What every test binary of the `tessera` package shares, written once.
//!
//! - [`TestApp`]: a server started in this process for one test, on port 0 of the
//!   loopback address, with its storage (from `TEST_STORAGE`, or chosen), settings
//!   pairs, base URL, HTTP client and request helpers. [`TestApp::builder`] sets it up.
//! - [`http`]: the client (and one bound to a `127.0.0.x` source address), sending,
//!   reading answers, paths and unique credentials.
//! - [`SharedStore`]: a PostgreSQL database or SQLite file that several servers use at
//!   once, and [`shared_store_tests!`], which runs the [`two_instances`] scenarios on one.
//! - [`MailCatcher`]: an SMTP server on loopback that keeps what it is sent and answers
//!   as told (accept, 451, 550, down).
//! - [`ForgedToken`]: a JWT taken apart to be changed and signed again.
//! - [`process`]: the `tessera` binary as a child process, for what only a real process
//!   shows (signals, sockets, memory, its log on standard error).

pub mod app;
pub mod http;
pub mod process;
pub mod smtp;
pub mod store;
pub mod token;
pub mod two_instances;

pub use app::{Storage, TestApp, TestAppBuilder, TestUser, spawn_app, spawn_app_with};
pub use http::{
    Reply, client, client_from, expect_status, header, send, string_at, task_path, tasks_path,
    unique_email, unique_password,
};
pub use smtp::{Answer, CaughtMail, MailCatcher};
pub use store::SharedStore;
pub use token::ForgedToken;

/// The HS256 secret test servers sign with unless a test sets `JWT_SECRET`.
pub const SECRET: &str = "tessera-test-secret-0123456789abcdef-0123456789abcdef";

/// The password of the accounts a test names by email ([`TestApp::signed_up_as`]).
pub const PASSWORD: &str = "securepassword123";
