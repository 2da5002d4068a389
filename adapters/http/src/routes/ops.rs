//! Operational endpoints.

use actix_web::{HttpResponse, web};
use tessera_application::Fault;
use tessera_application::ports::Readiness;

use crate::dto::StatusResponse;
use crate::error::{ApiError, ErrorKind};

/// `GET /health`: the process is up. Touches nothing else.
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(StatusResponse { status: "ok" })
}

/// `GET /ready`: the storage answers.
///
/// # Errors
/// 503 `unavailable` when it does not.
pub async fn ready(readiness: web::Data<dyn Readiness>) -> Result<HttpResponse, ApiError> {
    readiness.check().await.map_err(Fault::from)?;
    Ok(HttpResponse::Ok().json(StatusResponse { status: "ready" }))
}

/// Any unknown route.
///
/// # Errors
/// Always 404.
pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ErrorKind::RouteNotFound.into())
}
