//! Black-box HTTP tests of the Tessera API, following `CONTRACT.md`.
//!
//! Each test starts its own server (memory storage unless `TEST_STORAGE=postgres`) on a
//! free port and talks to it over HTTP, as a client would.
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
mod observability;
mod races;
mod ratelimit;
mod tasks;
mod writes;
