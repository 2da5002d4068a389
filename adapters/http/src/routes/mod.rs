//! Handlers: parse, call one use case, map the result.

pub mod account;
pub mod auth;
pub mod mail;
pub mod ops;
pub mod tasks;
