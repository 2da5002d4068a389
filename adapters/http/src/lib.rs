//! Tessera's HTTP layer on actix-web: the routes of the contract, the JWT guard, and the
//! mapping of every failure (including the framework's own) to the contract's JSON errors.

pub mod dto;
pub mod error;
pub mod extract;
pub mod metrics;
mod middleware;
pub mod routes;

use std::net::TcpListener;
use std::time::Duration;

use actix_cors::Cors;
use actix_web::dev::Server;
use actix_web::http::{Method, header};
use actix_web::{App, HttpServer, web};
use std::sync::Arc;

use tessera_application::ports::Readiness;
use tessera_application::{AuthService, TaskService};

pub use crate::error::{ApiError, ErrorKind};
pub use crate::metrics::{GaugeSources, Metrics, PoolSample, SigninOutcome};

/// What the HTTP layer needs besides the use cases.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Origins allowed by CORS (`scheme://host[:port]`).
    pub cors_origins: Vec<String>,
    /// How long in-flight requests may run after a shutdown signal.
    pub shutdown_timeout: Duration,
    /// Worker threads; `None` for one per core.
    pub workers: Option<usize>,
}

/// The use cases the routes call.
#[derive(Clone)]
pub struct Services {
    /// Signup, signin, signout, the guard.
    pub auth: AuthService,
    /// The task operations.
    pub tasks: TaskService,
    /// Whether the storage answers, for `/ready`.
    pub readiness: Arc<dyn Readiness>,
    /// The metrics registry.
    pub metrics: Metrics,
}

/// Registers every route, the extractor settings and the unknown-route answer.
pub fn configure(services: &Services) -> impl FnOnce(&mut web::ServiceConfig) + use<> {
    let auth = web::Data::new(services.auth.clone());
    let tasks = web::Data::new(services.tasks.clone());
    let readiness = web::Data::from(services.readiness.clone());
    let metrics = web::Data::new(services.metrics.clone());
    move |cfg: &mut web::ServiceConfig| {
        use routes::{auth as a, ops, tasks as t};
        // Panics are caught per resource, after routing: the request can then be held
        // for the 500 answer without getting in the router's way.
        let guarded = |path: &str| {
            web::resource(path).wrap(actix_web::middleware::from_fn(middleware::catch_panic))
        };
        cfg.app_data(auth)
            .app_data(tasks)
            .app_data(readiness)
            .app_data(metrics)
            .app_data(extract::json_config())
            .app_data(extract::query_config())
            .app_data(extract::payload_config())
            .service(guarded("/health").route(web::get().to(ops::health)))
            .service(guarded("/ready").route(web::get().to(ops::ready)))
            .service(guarded("/metrics").route(web::get().to(metrics::metrics)))
            .service(guarded("/api/auth/signup").route(web::post().to(a::sign_up)))
            .service(guarded("/api/auth/signin").route(web::post().to(a::sign_in)))
            .service(guarded("/api/auth/signout").route(web::post().to(a::sign_out)))
            .service(guarded("/api/auth/me").route(web::get().to(a::me)))
            .service(
                guarded("/api/{user_id}/tasks")
                    .route(web::get().to(t::list))
                    .route(web::post().to(t::create)),
            )
            .service(
                guarded("/api/{user_id}/tasks/{task_id}")
                    .route(web::get().to(t::get))
                    .route(web::put().to(t::replace))
                    .route(web::patch().to(t::patch))
                    .route(web::delete().to(t::delete)),
            )
            .service(
                guarded("/api/{user_id}/tasks/{task_id}/complete")
                    .route(web::patch().to(t::toggle))
                    .route(web::post().to(t::toggle)),
            )
            .default_service(web::to(ops::not_found));
    }
}

fn cors(origins: &[String]) -> Cors {
    origins
        .iter()
        .fold(Cors::default(), |cors, origin| cors.allowed_origin(origin))
        .allowed_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .expose_headers(["X-Total-Count", "X-Request-Id"])
        .max_age(3600)
}

/// Starts serving on `listener`. The returned server runs until awaited to completion or
/// stopped through its handle; a graceful stop refuses new connections and gives
/// in-flight requests `shutdown_timeout`. OS signals are the caller's to handle.
///
/// # Errors
/// If the listener cannot be used.
pub fn serve(
    listener: TcpListener,
    services: Services,
    settings: HttpSettings,
) -> std::io::Result<Server> {
    let origins = settings.cors_origins.clone();
    let mut server = HttpServer::new(move || {
        App::new()
            .configure(configure(&services))
            .wrap(cors(&origins))
            // So that even the CORS layer's refusals are answered in JSON.
            .wrap(middleware::error_shape())
            // Outermost: every answer is logged, counted and carries its request id.
            .wrap(actix_web::middleware::from_fn(middleware::request_log))
    })
    .disable_signals()
    .shutdown_timeout(settings.shutdown_timeout.as_secs())
    .listen(listener)?;
    if let Some(workers) = settings.workers {
        server = server.workers(workers);
    }
    Ok(server.run())
}
