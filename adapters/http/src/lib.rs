//! Tessera's HTTP layer on actix-web: the routes of the contract, the JWT guard, and the
//! mapping of every failure (including the framework's own) to the contract's JSON errors.

pub mod dto;
pub mod error;
pub mod extract;
pub mod metrics;
mod middleware;
pub mod openapi;
mod openapi_responses;
pub mod ratelimit;
pub mod routes;

use std::net::TcpListener;
use std::time::Duration;

use actix_cors::Cors;
use actix_web::dev::Server;
use actix_web::http::{Method, header};
use actix_web::{App, HttpResponse, HttpServer, web};
use std::sync::Arc;
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

use tessera_application::ports::Readiness;
use tessera_application::{AuthService, TaskService};

pub use crate::error::{ApiError, ErrorKind};
pub use crate::metrics::{GaugeSources, Metrics, PoolSample, SigninOutcome};
pub use crate::ratelimit::AuthRateLimit;

/// What the HTTP layer needs besides the use cases.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Origins allowed by CORS (`scheme://host[:port]`).
    pub cors_origins: Vec<String>,
    /// How long in-flight requests may run after a shutdown signal.
    pub shutdown_timeout: Duration,
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
    /// The signup and signin rate limit, shared by every worker.
    pub auth_rate_limit: AuthRateLimit,
}

/// Declares the API routes once: registers them (each behind the panic guard, which runs
/// after routing so the request can be held for a 500 answer) and lists them in
/// [`ROUTES`], which a test holds the OpenAPI document to.
macro_rules! route_table {
    ($( $path:literal $( ( $guard:ident ) )? => { $( $method:ident => $handler:path ),+ $(,)? } ),+ $(,)?) => {
        /// Every API route as (method, path template). `/openapi.json` and `/docs` (the
        /// document and its viewer) are served besides these.
        pub const ROUTES: &[(&str, &str)] = &[ $( $( (stringify!($method), $path) ),+ ),+ ];

        fn register_routes(cfg: &mut web::ServiceConfig) {
            $(
                cfg.service(
                    web::resource($path)
                        .wrap(actix_web::middleware::from_fn(middleware::catch_panic))
                        $( .wrap(actix_web::middleware::from_fn(middleware::$guard)) )?
                        $( .route(web::$method().to($handler)) )+
                );
            )+
        }
    };
}

route_table! {
    "/health" => { get => routes::ops::health },
    "/ready" => { get => routes::ops::ready },
    "/metrics" => { get => metrics::metrics },
    "/api/auth/signup" (rate_limited) => { post => routes::auth::sign_up },
    "/api/auth/signin" (rate_limited) => { post => routes::auth::sign_in },
    "/api/auth/signout" => { post => routes::auth::sign_out },
    "/api/auth/me" => { get => routes::auth::me },
    "/api/{user_id}/tasks" => { get => routes::tasks::list, post => routes::tasks::create },
    "/api/{user_id}/tasks/{task_id}" => {
        get => routes::tasks::get,
        put => routes::tasks::replace,
        patch => routes::tasks::patch,
        delete => routes::tasks::delete,
    },
    "/api/{user_id}/tasks/{task_id}/complete" => {
        patch => routes::tasks::toggle,
        post => routes::tasks::toggle_post,
    },
}

/// Registers every route, the extractor settings, the OpenAPI document and its viewer,
/// and the unknown-route answer.
pub fn configure(services: &Services) -> impl FnOnce(&mut web::ServiceConfig) + use<> {
    let auth = web::Data::new(services.auth.clone());
    let tasks = web::Data::new(services.tasks.clone());
    let readiness = web::Data::from(services.readiness.clone());
    let metrics = web::Data::new(services.metrics.clone());
    let auth_rate_limit = web::Data::new(services.auth_rate_limit.clone());
    move |cfg: &mut web::ServiceConfig| {
        use routes::ops;
        cfg.app_data(auth)
            .app_data(tasks)
            .app_data(readiness)
            .app_data(metrics)
            .app_data(auth_rate_limit)
            .app_data(extract::json_config())
            .app_data(extract::query_config())
            .app_data(extract::payload_config())
            .configure(register_routes)
            .service(
                SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", openapi::ApiDoc::openapi()),
            )
            .service(
                web::resource("/docs")
                    .route(web::get().to(|| async {
                        HttpResponse::PermanentRedirect()
                            .insert_header((header::LOCATION, "/docs/"))
                            .finish()
                    }))
                    .default_service(web::to(ops::only_get)),
            )
            // The viewer above answers GET only; any other method on its paths is a 405.
            .service(
                web::resource(["/openapi.json", "/docs/{_:.*}"])
                    .default_service(web::to(ops::only_get)),
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
    let server = HttpServer::new(move || {
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
    Ok(server.run())
}
