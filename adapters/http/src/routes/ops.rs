//! Operational endpoints.

use actix_web::{HttpResponse, ResponseError, web};
use tessera_application::Fault;
use tessera_application::ports::Readiness;

use crate::dto::StatusResponse;
use crate::error::{ApiError, ErrorKind};
use crate::openapi_responses::ServerErrors;

#[utoipa::path(get, path = "/health", tag = "operations",
    responses((status = 200, description = "The process runs", body = StatusResponse))
)]
/// Liveness: the process runs (no database call).
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(StatusResponse { status: "ok" })
}

#[utoipa::path(get, path = "/ready", tag = "operations",
    responses(
        (status = 200, description = "The database answers", body = StatusResponse),
        ServerErrors
    )
)]
/// Readiness: the database answers.
///
/// # Errors
/// 503 `unavailable` when it does not.
pub async fn ready(readiness: web::Data<dyn Readiness>) -> Result<HttpResponse, ApiError> {
    // Whatever the failure, the answer to "can you serve?" is no: 503, never 500.
    readiness
        .check()
        .await
        .map_err(|e| Fault::Unavailable(Some(Box::new(e))))?;
    Ok(HttpResponse::Ok().json(StatusResponse { status: "ready" }))
}

/// A known route that answers GET only, asked with another method.
pub async fn only_get() -> HttpResponse {
    let mut response = ApiError::new(ErrorKind::MethodNotAllowed).error_response();
    response.headers_mut().insert(
        actix_web::http::header::ALLOW,
        actix_web::http::header::HeaderValue::from_static("GET"),
    );
    response
}

/// Any unknown route.
///
/// # Errors
/// Always 404.
pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ErrorKind::RouteNotFound.into())
}
