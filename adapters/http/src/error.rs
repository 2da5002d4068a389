//! The one table that turns every failure into the contract's JSON error.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use serde::ser::SerializeMap;
use tessera_application::error::BoxError;
use tessera_application::{
    AccountError, AuthenticateError, Fault, ResetError, SignInError, SignUpError, TaskError,
    ValidationErrors, VerifyError,
};
use tessera_domain::AccessDenied;

/// Seconds a client is told to wait after a 503.
const UNAVAILABLE_RETRY_AFTER: &str = "5";

/// Declares the error table: each row a kind, its status, its code and its message, as
/// the contract's tables list them.
macro_rules! error_kinds {
    ($( $(#[$doc:meta])* $kind:ident => $status:ident, $code:literal, $message:literal; )+) => {
        /// Every kind of error response, one row of the contract's tables each.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ErrorKind {
            $( $(#[$doc])* $kind, )+
        }

        impl ErrorKind {
            /// The status, code and message of this row.
            #[must_use]
            pub fn parts(self) -> (StatusCode, &'static str, &'static str) {
                match self {
                    $( Self::$kind => (StatusCode::$status, $code, $message), )+
                }
            }
        }
    };
}

error_kinds! {
    /// Body not JSON, or a field of the wrong JSON type.
    InvalidJson => BAD_REQUEST, "invalid_json", "Request body must be valid JSON";
    /// Body not declared as JSON.
    UnsupportedMediaType => UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
        "Content-Type must be application/json";
    /// Body over 64 KiB.
    PayloadTooLarge => PAYLOAD_TOO_LARGE, "payload_too_large", "Request body is too large";
    /// No such route.
    RouteNotFound => NOT_FOUND, "not_found", "Not found";
    /// Route known, method not.
    MethodNotAllowed => METHOD_NOT_ALLOWED, "method_not_allowed", "Method not allowed";
    /// The body did not arrive in time.
    RequestTimeout => REQUEST_TIMEOUT, "request_timeout", "Request timed out";
    /// The request head is over its limit.
    HeadersTooLarge => REQUEST_HEADER_FIELDS_TOO_LARGE, "headers_too_large",
        "Request headers are too large";
    /// A request the server cannot read, not covered by a more precise row.
    BadRequest => BAD_REQUEST, "bad_request", "Bad request";
    /// Too many attempts.
    RateLimited => TOO_MANY_REQUESTS, "rate_limited", "Too many attempts, please try again later";
    /// Storage unreachable or saturated.
    Unavailable => SERVICE_UNAVAILABLE, "unavailable",
        "Service temporarily unavailable, please try again";
    /// Any other server fault.
    Internal => INTERNAL_SERVER_ERROR, "internal", "Something went wrong, please try again";
    /// Invalid fields; the message sent is that of the first one.
    Validation => BAD_REQUEST, "validation_failed", "Invalid input";
    /// Signup with a registered email.
    EmailTaken => BAD_REQUEST, "email_taken", "Email already registered";
    /// Signin failed.
    InvalidCredentials => BAD_REQUEST, "invalid_credentials", "Invalid email or password";
    /// No bearer token.
    MissingToken => UNAUTHORIZED, "missing_token", "Authentication required";
    /// A token that is not valid.
    InvalidToken => UNAUTHORIZED, "invalid_token", "Invalid or malformed token";
    /// An expired token.
    TokenExpired => UNAUTHORIZED, "token_expired", "Token expired, please log in again";
    /// A token whose session ended.
    TokenRevoked => UNAUTHORIZED, "token_revoked", "Session has ended, please log in again";
    /// Another user's path.
    Forbidden => FORBIDDEN, "forbidden", "Access denied to this resource";
    /// No such task for this user.
    TaskNotFound => NOT_FOUND, "not_found", "Task not found";
    /// A password change whose current password is wrong.
    CurrentPasswordIncorrect => BAD_REQUEST, "invalid_credentials", "Current password is incorrect";
    /// An account deletion whose password is wrong.
    PasswordIncorrect => BAD_REQUEST, "invalid_credentials", "Password is incorrect";
    /// No such live session of this user.
    SessionNotFound => NOT_FOUND, "not_found", "Session not found";
    /// A mail link that does not work.
    InvalidLink => BAD_REQUEST, "invalid_link", "This link is invalid or has expired";
    /// A verification asked for an address already proven.
    AlreadyVerified => CONFLICT, "already_verified", "Email is already verified";
    /// The right password, but signin waits for the address to be proven.
    EmailNotVerified => FORBIDDEN, "email_not_verified", "Please verify your email before signing in";
    /// The account holds `MAX_TASKS_PER_USER` tasks.
    QuotaExceeded => CONFLICT, "quota_exceeded", "You have reached the maximum number of tasks";
}

impl ErrorKind {
    /// The generic row for a status produced outside Tessera's handlers (the framework's
    /// own 404, 405, 413, ...).
    #[must_use]
    pub fn for_status(status: StatusCode) -> Self {
        match status {
            StatusCode::NOT_FOUND => Self::RouteNotFound,
            StatusCode::METHOD_NOT_ALLOWED => Self::MethodNotAllowed,
            StatusCode::PAYLOAD_TOO_LARGE => Self::PayloadTooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => Self::UnsupportedMediaType,
            StatusCode::REQUEST_TIMEOUT => Self::RequestTimeout,
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => Self::HeadersTooLarge,
            StatusCode::TOO_MANY_REQUESTS => Self::RateLimited,
            StatusCode::SERVICE_UNAVAILABLE => Self::Unavailable,
            StatusCode::UNAUTHORIZED => Self::MissingToken,
            StatusCode::FORBIDDEN => Self::Forbidden,
            s if s.is_server_error() => Self::Internal,
            _ => Self::BadRequest,
        }
    }
}

/// An error answered in the contract's shape.
#[derive(Debug)]
pub struct ApiError {
    kind: ErrorKind,
    fields: Option<ValidationErrors>,
    source: Option<BoxError>,
    retry_after: Option<u64>,
}

impl ApiError {
    /// An error of this kind.
    #[must_use]
    pub fn new(kind: ErrorKind) -> Self {
        Self {
            kind,
            fields: None,
            source: None,
            retry_after: None,
        }
    }

    /// A 429 telling the client to wait `wait` (in `Retry-After`, whole seconds).
    #[must_use]
    pub fn rate_limited(wait: std::time::Duration) -> Self {
        Self {
            retry_after: Some(crate::ratelimit::retry_after_seconds(wait)),
            ..Self::new(ErrorKind::RateLimited)
        }
    }

    /// A validation error listing its fields.
    #[must_use]
    pub fn validation(fields: ValidationErrors) -> Self {
        Self {
            fields: Some(fields),
            ..Self::new(ErrorKind::Validation)
        }
    }

    /// The kind of this error.
    #[must_use]
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    fn body(&self) -> ErrorBody<'_> {
        let (_, code, message) = self.kind.parts();
        let fields = self.fields.as_ref().filter(|f| !f.is_empty());
        let error = fields
            .and_then(|f| f.fields().first())
            .map_or(message, |first| first.message.as_str());
        ErrorBody {
            error,
            code,
            fields,
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.body().error)
    }
}

impl From<ErrorKind> for ApiError {
    fn from(kind: ErrorKind) -> Self {
        Self::new(kind)
    }
}

struct ErrorBody<'a> {
    error: &'a str,
    code: &'a str,
    fields: Option<&'a ValidationErrors>,
}

struct FieldsMap<'a>(&'a ValidationErrors);

impl Serialize for FieldsMap<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Request-body order; a field is named once, with its first message.
        let mut seen: Vec<&str> = Vec::new();
        let mut map = serializer.serialize_map(None)?;
        for field in self.0.fields() {
            if !seen.contains(&field.field) {
                seen.push(field.field);
                map.serialize_entry(field.field, &field.message)?;
            }
        }
        map.end()
    }
}

impl Serialize for ErrorBody<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("error", self.error)?;
        map.serialize_entry("code", self.code)?;
        if let Some(fields) = self.fields {
            map.serialize_entry("fields", &FieldsMap(fields))?;
        }
        map.end()
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.kind.parts().0
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if status.is_server_error() {
            // The one place a server fault is logged; the client sees the fixed sentence.
            // A 503 is a refusal under load or an outage, not a bug: a warning, so that a
            // flood of refusals does not pass for a flood of faults.
            let code = self.kind.parts().1;
            match (&self.source, self.kind) {
                (Some(source), ErrorKind::Unavailable) => {
                    tracing::warn!(error = %ErrorChain(source.as_ref()), code, "request refused")
                }
                (None, ErrorKind::Unavailable) => tracing::warn!(code, "request refused"),
                (Some(source), _) => {
                    tracing::error!(error = %ErrorChain(source.as_ref()), code, "request failed")
                }
                (None, _) => tracing::error!(code, "request failed"),
            }
        }
        let mut response = HttpResponse::build(status);
        match self.kind {
            ErrorKind::MissingToken => {
                response
                    .insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
            }
            ErrorKind::InvalidToken | ErrorKind::TokenExpired | ErrorKind::TokenRevoked => {
                response.insert_header((
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(r#"Bearer error="invalid_token""#),
                ));
            }
            ErrorKind::Unavailable => {
                response.insert_header((header::RETRY_AFTER, UNAVAILABLE_RETRY_AFTER));
            }
            _ => {}
        }
        if let Some(seconds) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        response
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(self.body())
    }
}

/// Displays an error with its sources, for logs.
struct ErrorChain<'a>(&'a (dyn std::error::Error + 'static));

impl std::fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

impl From<Fault> for ApiError {
    fn from(fault: Fault) -> Self {
        let kind = match fault {
            Fault::Unavailable(_) => ErrorKind::Unavailable,
            Fault::Internal(_) => ErrorKind::Internal,
        };
        Self {
            source: Some(Box::new(fault)),
            ..Self::new(kind)
        }
    }
}

impl From<SignUpError> for ApiError {
    fn from(error: SignUpError) -> Self {
        match error {
            SignUpError::EmailTaken => ErrorKind::EmailTaken.into(),
            SignUpError::Fault(fault) => fault.into(),
        }
    }
}

impl From<SignInError> for ApiError {
    fn from(error: SignInError) -> Self {
        match error {
            SignInError::InvalidCredentials => ErrorKind::InvalidCredentials.into(),
            SignInError::Throttled(wait) => Self::rate_limited(wait),
            SignInError::EmailNotVerified => ErrorKind::EmailNotVerified.into(),
            SignInError::Fault(fault) => fault.into(),
        }
    }
}

/// Fields refused at the edge, before any use case runs.
impl From<ResetError> for ApiError {
    fn from(error: ResetError) -> Self {
        match error {
            ResetError::InvalidLink => ErrorKind::InvalidLink.into(),
            ResetError::Fault(fault) => fault.into(),
        }
    }
}

impl From<VerifyError> for ApiError {
    fn from(error: VerifyError) -> Self {
        match error {
            VerifyError::InvalidLink => ErrorKind::InvalidLink.into(),
            VerifyError::EmailTaken => ErrorKind::EmailTaken.into(),
            VerifyError::Fault(fault) => fault.into(),
        }
    }
}

impl From<ValidationErrors> for ApiError {
    fn from(fields: ValidationErrors) -> Self {
        Self::validation(fields)
    }
}

impl From<AuthenticateError> for ApiError {
    fn from(error: AuthenticateError) -> Self {
        match error {
            AuthenticateError::Invalid => ErrorKind::InvalidToken.into(),
            AuthenticateError::Expired => ErrorKind::TokenExpired.into(),
            AuthenticateError::Revoked => ErrorKind::TokenRevoked.into(),
            AuthenticateError::Fault(fault) => fault.into(),
        }
    }
}

impl From<TaskError> for ApiError {
    fn from(error: TaskError) -> Self {
        match error {
            TaskError::NotFound => ErrorKind::TaskNotFound.into(),
            TaskError::QuotaExceeded => ErrorKind::QuotaExceeded.into(),
            TaskError::RateLimited(wait) => Self::rate_limited(wait),
            TaskError::OwnerGone => ErrorKind::TokenRevoked.into(),
            TaskError::Fault(fault) => fault.into(),
        }
    }
}

/// An account operation's failure. A wrong password is the deletion's row; the password
/// change answers its own (`CurrentPasswordIncorrect`) before converting.
impl From<AccountError> for ApiError {
    fn from(error: AccountError) -> Self {
        match error {
            AccountError::WrongPassword => ErrorKind::PasswordIncorrect.into(),
            AccountError::Throttled(wait) => Self::rate_limited(wait),
            AccountError::SessionNotFound => ErrorKind::SessionNotFound.into(),
            // Deleted since the token was issued: its sessions went with it.
            AccountError::Gone => ErrorKind::TokenRevoked.into(),
            AccountError::AlreadyVerified => ErrorKind::AlreadyVerified.into(),
            AccountError::SameEmail => Self::validation(ValidationErrors::single(
                "new_email",
                crate::dto::SAME_EMAIL,
            )),
            AccountError::EmailTaken => ErrorKind::EmailTaken.into(),
            AccountError::MailLimited(wait) => Self::rate_limited(wait),
            AccountError::Fault(fault) => fault.into(),
        }
    }
}

/// Extractor errors built by this crate's handlers (`json_config`, `query_config`) come
/// back wrapped in `actix_web::Error`; unwrap them, or classify a foreign one by status.
impl From<actix_web::Error> for ApiError {
    fn from(error: actix_web::Error) -> Self {
        match error.as_error::<Self>() {
            Some(own) => Self {
                fields: own.fields.clone(),
                retry_after: own.retry_after,
                ..Self::new(own.kind)
            },
            None => Self::new(ErrorKind::for_status(
                error.as_response_error().status_code(),
            )),
        }
    }
}

impl From<AccessDenied> for ApiError {
    fn from(_: AccessDenied) -> Self {
        ErrorKind::Forbidden.into()
    }
}
