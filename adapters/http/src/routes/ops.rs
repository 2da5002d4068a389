//! Operational endpoints.

use actix_web::HttpResponse;

use crate::dto::StatusResponse;
use crate::error::{ApiError, ErrorKind};

/// `GET /health`: the process is up. Touches nothing else.
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(StatusResponse { status: "ok" })
}

/// Any unknown route.
///
/// # Errors
/// Always 404.
pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ErrorKind::RouteNotFound.into())
}
