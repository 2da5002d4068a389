//! Black-box HTTP tests of the Tessera API, following `CONTRACT.md`.
//!
//! Each test starts its own server through the test kit (`tessera-test-kit`), on the
//! storage `TEST_STORAGE` names (`memory` unless set, `postgres` or `sqlite`), on a free
//! loopback port, and talks to it over HTTP, as a client would. One module per area, one
//! file per route or concern.
#![expect(
    clippy::expect_used,
    reason = "tests fail loudly, with a message, on unexpected errors"
)]

mod abuse;
mod account;
mod auth;
mod conventions;
mod hardening;
mod helpers;
mod isolation;
mod jwt;
mod mail;
mod observability;
mod races;
mod ratelimit;
mod tasks;
mod writes;
