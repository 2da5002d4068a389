//! Extractors: the JWT guard, paths, and the JSON/query error mapping.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::error::{JsonPayloadError, QueryPayloadError};
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use tessera_application::{AuthService, Authenticated};
use tessera_domain::{AccessDenied, Principal, TaskId, UserId};

use crate::dto::Object;
use crate::error::{ApiError, ErrorKind};

/// Largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// What the `Authorization` header holds.
#[derive(PartialEq, Eq)]
pub enum Bearer<'a> {
    /// No header, another scheme, or an empty token.
    Missing,
    /// A bearer token, not yet checked.
    Token(&'a str),
}

/// Shows whether a token was sent, never the token.
impl std::fmt::Debug for Bearer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Missing => f.write_str("Missing"),
            Self::Token(_) => write!(f, "Token({})", tessera_domain::REDACTED),
        }
    }
}

/// Reads the bearer token of a request. The scheme is case-insensitive (RFC 7235).
#[must_use]
pub fn bearer(req: &HttpRequest) -> Bearer<'_> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Bearer::Missing;
    };
    let Ok(value) = value.to_str() else {
        // Bytes outside visible ASCII cannot be a JWT, but a credential was sent.
        return Bearer::Token("");
    };
    match value.trim().split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
            let token = token.trim();
            if token.is_empty() {
                Bearer::Missing
            } else {
                Bearer::Token(token)
            }
        }
        _ => Bearer::Missing,
    }
}

/// A caller whose bearer token passed the guard: valid signature, algorithm, issuer,
/// audience and claims, not expired, and its session not ended. A handler is protected
/// by taking this argument.
#[derive(Debug, Clone, Copy)]
pub struct AuthUser(pub Authenticated);

impl AuthUser {
    /// The caller.
    #[must_use]
    pub fn principal(&self) -> Principal {
        self.0.principal
    }

    /// The user whose resources the path names, if the caller may act as them.
    ///
    /// # Errors
    /// [`AccessDenied`] (403) for any other user.
    pub fn acting_as(&self, path_user: &str) -> Result<UserId, AccessDenied> {
        self.0.principal.acting_as(path_user)
    }
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = match bearer(req) {
            Bearer::Missing => None,
            Bearer::Token(token) => Some(token.to_owned()),
        };
        let auth = req.app_data::<web::Data<AuthService>>().cloned();
        Box::pin(async move {
            let token = token.ok_or(ErrorKind::MissingToken)?;
            let auth = auth.ok_or(ErrorKind::Internal)?;
            Ok(Self(auth.authenticate(&token).await?))
        })
    }
}

/// The `{user_id}` and optional `{task_id}` of a task route, as raw text. Reading them
/// never fails: a `user_id` that is not the caller's is a 403 and a `task_id` that is not
/// an id is a 404, both decided by the handler after the guard.
#[derive(Debug, Clone)]
pub struct TaskPath {
    /// The `{user_id}` segment.
    pub user_id: String,
    /// The `{task_id}` segment parsed, `None` when absent or not an id.
    task_id: Option<TaskId>,
}

impl TaskPath {
    /// The task named: a segment that is not a task id names no task (404).
    ///
    /// # Errors
    /// [`ErrorKind::TaskNotFound`] for such a segment.
    pub fn task_id(&self) -> Result<TaskId, ApiError> {
        self.task_id.ok_or_else(|| ErrorKind::TaskNotFound.into())
    }
}

impl FromRequest for TaskPath {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let info = req.match_info();
        ready(Ok(Self {
            user_id: info.get("user_id").unwrap_or_default().to_owned(),
            task_id: info.get("task_id").and_then(TaskId::parse),
        }))
    }
}

/// A JSON object body: `Content-Type` exactly `application/json` or
/// `application/<anything>+json` (415 otherwise), at most 64 KiB (413), a JSON object
/// with no key twice (400 `invalid_json`). actix's own `Json` also takes `text/json` or
/// `multipart/x+json` (any `json` subtype or suffix), so the media type is checked here
/// first.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T: serde::de::DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, actix_web::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        if !is_json(req) {
            let refused = ApiError::new(ErrorKind::UnsupportedMediaType).into();
            return Box::pin(ready(Err(refused)));
        }
        let body = web::Json::<Object<T>>::from_request(req, payload);
        Box::pin(async move { body.await.map(|json| Self(json.into_inner().0)) })
    }
}

/// JSON bodies: 64 KiB at most, `application/json` (or `+json`) only, and every failure
/// in the contract's shape.
#[must_use]
pub fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(MAX_BODY_BYTES)
        .error_handler(|error, _| {
            let kind = match &error {
                JsonPayloadError::OverflowKnownLength { .. }
                | JsonPayloadError::Overflow { .. } => ErrorKind::PayloadTooLarge,
                JsonPayloadError::ContentType => ErrorKind::UnsupportedMediaType,
                _ => ErrorKind::InvalidJson,
            };
            ApiError::new(kind).into()
        })
}

/// Query strings that cannot be read are a validation error of the query.
#[must_use]
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|_: QueryPayloadError, _| {
        ApiError::validation(tessera_application::ValidationErrors::single(
            "query",
            "Query string is not valid",
        ))
        .into()
    })
}

/// Raw bodies (read by handlers that accept an empty body) share the JSON limit.
#[must_use]
pub fn payload_config() -> web::PayloadConfig {
    web::PayloadConfig::new(MAX_BODY_BYTES)
}

/// Whether a request declares a JSON body.
#[must_use]
pub fn is_json(req: &HttpRequest) -> bool {
    req.mime_type()
        .ok()
        .flatten()
        .is_some_and(|mime| is_json_mime(&mime))
}

/// `application/json` or `application/<anything>+json`, parameters (charset) allowed.
fn is_json_mime(mime: &actix_web::mime::Mime) -> bool {
    use actix_web::mime;
    mime.type_() == mime::APPLICATION
        && (mime.subtype() == mime::JSON || mime.suffix() == Some(mime::JSON))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bearer_token_is_never_shown() {
        let token = "eyJhbGciOiJIUzI1NiJ9.secret-claims.signature";
        let shown = format!("{:?}", Bearer::Token(token));
        assert!(!shown.contains("secret-claims"), "{shown}");
        assert!(shown.contains(tessera_domain::REDACTED), "{shown}");
        assert_eq!(format!("{:?}", Bearer::Missing), "Missing");
    }
}
