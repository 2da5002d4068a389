//! The error answers shared by many operations, declared once for the OpenAPI document.

use std::collections::BTreeMap;

use utoipa::IntoResponses;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};

fn error(description: &str) -> ResponseBuilder {
    ResponseBuilder::new().description(description).content(
        "application/json",
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("ErrorResponse")))
            .build(),
    )
}

fn with_header(
    builder: ResponseBuilder,
    name: &str,
    kind: Type,
    description: &str,
) -> ResponseBuilder {
    builder.header(
        name,
        HeaderBuilder::new()
            .schema(Some(ObjectBuilder::new().schema_type(kind)))
            .description(Some(description))
            .build(),
    )
}

fn responses(rows: Vec<(&str, ResponseBuilder)>) -> BTreeMap<String, RefOr<Response>> {
    rows.into_iter()
        .map(|(status, builder)| (status.to_owned(), RefOr::T(builder.build())))
        .collect()
}

fn retry_after(builder: ResponseBuilder) -> ResponseBuilder {
    with_header(builder, "Retry-After", Type::Integer, "Seconds to wait")
}

/// 400, 413 and 415: a body that cannot be read, or invalid fields.
pub struct BodyErrors;

impl IntoResponses for BodyErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let mut all = responses(vec![(
            "400",
            error("Invalid JSON, or invalid fields (`invalid_json`, `validation_failed`)"),
        )]);
        all.extend(BodyTooLargeOrNotJson::responses());
        all
    }
}

/// 408, 413 and 415, for routes that describe their own 400.
pub struct BodyTooLargeOrNotJson;

impl IntoResponses for BodyTooLargeOrNotJson {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        responses(vec![
            (
                "408",
                error("Body not received within `BODY_TIMEOUT_SECONDS` (`request_timeout`)"),
            ),
            ("413", error("Body over 64 KiB (`payload_too_large`)")),
            (
                "415",
                error("Content-Type is not JSON (`unsupported_media_type`)"),
            ),
        ])
    }
}

/// 401: the guard refused the token.
pub struct Unauthenticated;

impl IntoResponses for Unauthenticated {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        responses(vec![(
            "401",
            with_header(
                error(
                    "No, invalid, expired or ended token (`missing_token`, `invalid_token`, `token_expired`, `token_revoked`)",
                ),
                "WWW-Authenticate",
                Type::String,
                "`Bearer`, with `error=\"invalid_token\"` when a token was sent",
            ),
        )])
    }
}

/// 400 of the listing: a bad query value.
pub struct QueryError;

impl IntoResponses for QueryError {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        responses(vec![(
            "400",
            error("A bad query value (`validation_failed`)"),
        )])
    }
}

/// 403: `{user_id}` is another user.
pub struct Forbidden;

impl IntoResponses for Forbidden {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        responses(vec![(
            "403",
            error("`{user_id}` is not the caller (`forbidden`)"),
        )])
    }
}

/// 404: no such task for this user.
pub struct TaskNotFound;

impl IntoResponses for TaskNotFound {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        responses(vec![(
            "404",
            error("No such task for this user (`not_found`)"),
        )])
    }
}

/// 429: too many attempts from this address, or on this account.
pub struct RateLimited;

impl IntoResponses for RateLimited {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        responses(vec![(
            "429",
            retry_after(error(
                "Too many attempts from this address or on this account (`rate_limited`)",
            )),
        )])
    }
}

/// 429 of a task write: over the account's or the address's write budget.
pub struct WriteLimited;

impl IntoResponses for WriteLimited {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        responses(vec![(
            "429",
            retry_after(error(
                "Over `TASK_WRITES_PER_MINUTE` for this account or `TASK_WRITES_PER_MINUTE_PER_ADDRESS` for this address (`rate_limited`)",
            )),
        )])
    }
}

/// 409 of a task creation: the owner holds `MAX_TASKS_PER_USER` tasks.
pub struct QuotaExceeded;

impl IntoResponses for QuotaExceeded {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        responses(vec![(
            "409",
            error("The account holds `MAX_TASKS_PER_USER` tasks (`quota_exceeded`)"),
        )])
    }
}

/// 500 and 503: the server or its database failed.
pub struct ServerErrors;

impl IntoResponses for ServerErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        responses(vec![
            ("500", error("Server fault (`internal`)")),
            (
                "503",
                retry_after(error(
                    "Database unreachable, saturated or over a timeout, or password hashing saturated (`unavailable`)",
                )),
            ),
        ])
    }
}
