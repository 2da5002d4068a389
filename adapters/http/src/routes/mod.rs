//! Handlers: parse, call one use case, map the result.

pub mod auth;
pub mod ops;
pub mod tasks;
