//! Framework-level errors, content types, body limits, routing, health and CORS.

mod bodies;
mod cors;
mod health;
mod routing;

const SIGNUP: &str = "/api/auth/signup";
