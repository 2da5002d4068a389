//! Tessera's HTTP layer on actix-web: the routes of the contract, the JWT guard, and the
//! mapping of every failure (including the framework's own) to the contract's JSON errors.

pub mod client;
pub mod connection;
pub mod dto;
pub mod error;
pub mod extract;
pub mod metrics;
mod middleware;
pub mod openapi;
mod openapi_responses;
pub mod ratelimit;
pub mod routes;
pub mod webapp;

use std::net::TcpListener;
use std::time::Duration;

use actix_cors::Cors;
use actix_web::dev::Server;
use actix_web::http::{Method, header};
use actix_web::{App, HttpResponse, web};
use std::sync::Arc;
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

use tessera_application::ports::Readiness;
use tessera_application::{AccountService, AuthService, RecoveryService, TaskService, Throttle};

pub use crate::client::Networks;
pub use crate::error::{ApiError, ErrorKind};
pub use crate::metrics::{GaugeSources, HashSample, Metrics, PoolSample, SigninOutcome};

/// What the HTTP layer needs besides the use cases.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Origins allowed by CORS (`scheme://host[:port]`).
    pub cors_origins: Vec<String>,
    /// How long in-flight requests may run after a shutdown signal.
    pub shutdown_timeout: Duration,
    /// Proxies trusted to tell the client address in `X-Forwarded-For`.
    pub trusted_proxies: Networks,
    /// Client addresses that may read `/metrics`.
    pub metrics_allow: Networks,
    /// How long a request body may take to arrive.
    pub body_timeout: Duration,
    /// Most connections open at once, all workers together.
    pub max_connections: usize,
    /// Longest time for any request head to arrive, from its first byte.
    pub head_timeout: Duration,
    /// How long an idle kept-alive connection stays open.
    pub keep_alive: Duration,
    /// Longest time a client may take to take an answer before its connection closes.
    pub send_timeout: Duration,
    /// Most connections one client address (IPv6: one /64) holds at once; 0: no cap.
    pub max_connections_per_address: usize,
    /// Host names (lower case) besides loopback ones and `localhost` that `/metrics`
    /// answers to: `PUBLIC_URL`'s host and `METRICS_HOSTS`.
    pub metrics_hosts: Vec<String>,
    /// Request-handling threads.
    pub workers: usize,
    /// `Strict-Transport-Security: max-age=<this>` on every answer, when set.
    pub hsts_max_age_seconds: Option<u64>,
}

/// The use cases the routes call.
#[derive(Clone)]
pub struct Services {
    /// Signup, signin, signout, the guard.
    pub auth: AuthService,
    /// The signed-in person's account.
    pub accounts: AccountService,
    /// The links of mail: reset, verification, change of address.
    pub recovery: RecoveryService,
    /// The limits on password attempts, counted per address before the routes run.
    pub throttle: Throttle,
    /// The task operations.
    pub tasks: TaskService,
    /// Whether the storage answers, for `/ready`.
    pub readiness: Arc<dyn Readiness>,
    /// The metrics registry.
    pub metrics: Metrics,
}

/// Declares the API routes once: registers them (each behind the panic guard, which runs
/// after routing so the request can be held for a 500 answer) and lists them in
/// [`ROUTES`], which a test holds the OpenAPI document to.
macro_rules! route_table {
    ($( $path:literal $( ( $guard:path ) )? => { $( $method:ident => $handler:path ),+ $(,)? } ),+ $(,)?) => {
        /// Every API route as (method, path template). `/openapi.json` and `/docs` (the
        /// document and its viewer) are served besides these.
        pub const ROUTES: &[(&str, &str)] = &[ $( $( (stringify!($method), $path) ),+ ),+ ];

        fn register_routes(cfg: &mut web::ServiceConfig) {
            $(
                cfg.service(
                    web::resource($path)
                        .wrap(actix_web::middleware::from_fn(middleware::catch_panic))
                        $( .wrap(actix_web::middleware::from_fn($guard)) )?
                        $( .route(web::$method().to($handler)) )+
                );
            )+
        }
    };
}

route_table! {
    "/health" => { get => routes::ops::health },
    "/ready" => { get => routes::ops::ready },
    "/metrics" (middleware::metrics_allowed) => { get => metrics::metrics },
    "/api/auth/signup" (ratelimit::rate_limited) => { post => routes::auth::sign_up },
    "/api/auth/signin" (ratelimit::rate_limited) => { post => routes::auth::sign_in },
    "/api/auth/signout" => { post => routes::auth::sign_out },
    "/api/auth/me" (ratelimit::rate_limited) => {
        get => routes::auth::me,
        patch => routes::account::update_me,
        delete => routes::account::delete_me,
    },
    "/api/auth/password" (ratelimit::rate_limited) => { post => routes::account::change_password },
    "/api/auth/password/forgot" (ratelimit::rate_limited) => { post => routes::mail::forgot_password },
    "/api/auth/password/reset" => { post => routes::mail::reset_password },
    "/api/auth/email" (ratelimit::rate_limited) => { post => routes::mail::change_email },
    "/api/auth/email/verification" => { post => routes::mail::request_verification },
    "/api/auth/email/verify" => { post => routes::mail::verify_email },
    "/api/auth/sessions" => { get => routes::account::sessions },
    "/api/auth/sessions/{session_id}" => { delete => routes::account::end_session },
    "/api/auth/events" => { get => routes::account::events },
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
    let accounts = web::Data::new(services.accounts.clone());
    let recovery = web::Data::new(services.recovery.clone());
    let throttle = web::Data::new(services.throttle.clone());
    let tasks = web::Data::new(services.tasks.clone());
    let readiness = web::Data::from(services.readiness.clone());
    let metrics = web::Data::new(services.metrics.clone());
    move |cfg: &mut web::ServiceConfig| {
        use routes::ops;
        cfg.app_data(auth)
            .app_data(accounts)
            .app_data(recovery)
            .app_data(throttle)
            .app_data(tasks)
            .app_data(readiness)
            .app_data(metrics)
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
            // The web app, from the binary.
            .configure(webapp::routes)
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

/// How long a body may still arrive after its request's 408 deadline before the
/// connection is dropped: only bodies nobody reads (and so no 408 covers) get that far.
const BODY_GRACE: Duration = Duration::from_secs(2);

/// Starts serving on `listener`. The returned server runs until awaited to completion or
/// stopped through its handle; a graceful stop refuses new connections and gives
/// in-flight requests `shutdown_timeout`. OS signals are the caller's to handle.
///
/// Every accepted connection is counted against its client address
/// (`max_connections_per_address`) and wrapped in [`connection::Guarded`], which times
/// every request head, every body and every write.
///
/// # Errors
/// If the listener cannot be used.
pub fn serve(
    listener: TcpListener,
    services: Services,
    settings: HttpSettings,
) -> std::io::Result<Server> {
    use actix_http::{HttpService, KeepAlive, Protocol};
    use actix_service::{IntoServiceFactory, ServiceFactoryExt, fn_service, map_config};
    use actix_web::dev::AppConfig;

    let origins = settings.cors_origins.clone();
    let trusted = web::Data::new(client::TrustedProxies(settings.trusted_proxies.clone()));
    let metrics_allow = web::Data::new(client::MetricsAllow {
        networks: settings.metrics_allow.clone(),
        hosts: settings.metrics_hosts.clone(),
    });
    let body_timeout = web::Data::new(middleware::BodyTimeout(settings.body_timeout));
    let security = web::Data::new(middleware::SecurityHeaders::new(
        settings.hsts_max_age_seconds,
    ));
    let app = move || {
        App::new()
            .app_data(trusted.clone())
            .app_data(metrics_allow.clone())
            .app_data(body_timeout.clone())
            .app_data(security.clone())
            .configure(configure(&services))
            .wrap(actix_web::middleware::from_fn(middleware::body_deadline))
            .wrap(cors(&origins))
            // So that even the CORS layer's refusals are answered in JSON.
            .wrap(middleware::error_shape())
            .wrap(actix_web::middleware::from_fn(client::resolve_client))
            // Before anything reads the headers: a huge head is refused and emptied.
            .wrap(actix_web::middleware::from_fn(middleware::bound_head))
            // Outermost: every answer is logged, counted and carries its request id.
            .wrap(actix_web::middleware::from_fn(middleware::request_log))
            // Around everything, refusals included.
            .wrap(actix_web::middleware::from_fn(middleware::security_headers))
            // Before anything runs: a pipelined request waits for the answers before it.
            .wrap(actix_web::middleware::from_fn(
                connection::one_answer_at_a_time,
            ))
    };
    let workers = settings.workers.max(1);
    let local = listener.local_addr()?;
    let slots = connection::AddressSlots::new(settings.max_connections_per_address);
    let deadlines = connection::Deadlines {
        head: settings.head_timeout,
        body: settings.body_timeout + BODY_GRACE,
        send: settings.send_timeout,
    };
    let (head_timeout, keep_alive) = (settings.head_timeout, settings.keep_alive);
    let builder = actix_server::Server::build()
        .workers(workers)
        // Per worker: together, never more connections than the process has descriptors for.
        .max_concurrent_connections(settings.max_connections.div_ceil(workers).max(1))
        .disable_signals()
        .shutdown_timeout(settings.shutdown_timeout.as_secs());
    let stopping = builder.graceful_shutdown_signal();
    let builder = builder.listen("tessera", listener, move || {
        let stopping = stopping.clone();
        let http = HttpService::build()
            .keep_alive(KeepAlive::Timeout(keep_alive))
            // The first head of a connection, counted from the accept; later heads are
            // timed by the connection's stream.
            .client_request_timeout(head_timeout)
            .client_disconnect_timeout(Duration::from_secs(1))
            // A client that closes its connection cancels its request: whatever it was
            // waiting for (a pooled connection, a lock) is let go at once instead of held
            // for no one.
            .h1_allow_half_closed(false)
            .local_addr(local)
            .graceful_shutdown_signal(move || {
                let stopping = stopping.clone();
                async move { stopping.notified().await }
            })
            .on_connect_ext(|io: &connection::Guarded<tokio::net::TcpStream>, data| {
                data.insert(io.outbox());
            })
            .finish(map_config(
                app().into_factory().map_err(|error| error.error_response()),
                |()| AppConfig::default(),
            ));
        let slots = slots.clone();
        fn_service(move |stream: tokio::net::TcpStream| {
            let accepted = connection::accept(stream, &slots, deadlines);
            std::future::ready(
                accepted
                    .map(|(io, peer)| (io, Protocol::Http1, Some(peer)))
                    .ok_or(actix_http::error::DispatchError::Io(std::io::Error::other(
                        "connection refused: too many from one address",
                    ))),
            )
        })
        .and_then(http)
    })?;
    Ok(builder.run())
}
