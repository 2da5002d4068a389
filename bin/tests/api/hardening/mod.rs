//! Input and answer hardening: a key twice in a JSON object, media types, invisible and
//! control characters, look-alike emails, duplicate token members, security headers.

mod bodies;
mod emails;
mod headers;
mod text;
mod tokens;

const SIGNUP: &str = "/api/auth/signup";
const JSON: Option<&str> = Some("application/json");
