//! Middleware that keeps every answer in the contract's shape.

use std::panic::AssertUnwindSafe;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers, Next};
use actix_web::{Error, ResponseError};
use futures_util::FutureExt;

use crate::error::{ApiError, ErrorKind};

/// Turns a panic in a handler into the contract's 500, logged, instead of a dropped
/// connection.
pub async fn catch_panic(
    req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let request = req.request().clone();
    match AssertUnwindSafe(next.call(req)).catch_unwind().await {
        Ok(result) => result,
        Err(_) => {
            tracing::error!(path = %request.match_pattern().unwrap_or_default(), "handler panicked");
            let response = ApiError::new(ErrorKind::Internal).error_response();
            Ok(ServiceResponse::new(request, response))
        }
    }
}

/// Rewrites error answers that the framework produced itself (unknown method, oversized
/// raw body, ...) into the contract's JSON shape. Answers that are already JSON pass.
pub fn error_shape<B: MessageBody + 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new().default_handler(|res: ServiceResponse<B>| {
        let is_json = res
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if is_json {
            return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
        }
        let kind = ErrorKind::for_status(res.status());
        let (req, _) = res.into_parts();
        let response = ApiError::new(kind).error_response();
        Ok(ErrorHandlerResponse::Response(
            ServiceResponse::new(req, response).map_into_right_body(),
        ))
    })
}
