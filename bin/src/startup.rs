//! Wiring: the one place that picks adapters and hands them to the use cases.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::dev::Server;
use anyhow::Context;
use secrecy::ExposeSecret;
use tessera_application::ports::{
    Readiness, SessionRepository, SystemClock, TaskRepository, UserRepository,
};
use tessera_application::{AuthService, AuthSettings, TaskService};
use tessera_crypto::{BcryptHasher, JwtConfig, JwtTokens};
use tessera_http::metrics::Sampler;
use tessera_http::{AuthRateLimit, GaugeSources, HttpSettings, Metrics, PoolSample, Services};
use tessera_memory::{
    AlwaysReady, InMemorySessionRepository, InMemoryTaskRepository, InMemoryUserRepository,
};
use tessera_postgres::{PgStore, PoolSettings, redact};
use tokio::signal::unix::{Signal, SignalKind, signal};

use crate::settings::{Settings, Storage};

/// How long in-flight requests may finish after SIGTERM or SIGINT.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// A bound, ready-to-run server.
pub struct Application {
    address: SocketAddr,
    server: Server,
    shutdown: ShutdownSignals,
}

/// SIGTERM and SIGINT listeners, registered when the application is built: a signal that
/// arrives once the service has said it is listening is always a graceful stop, never
/// the default "terminate at once".
struct ShutdownSignals {
    terminate: Signal,
    interrupt: Signal,
}

impl ShutdownSignals {
    fn register() -> std::io::Result<Self> {
        Ok(Self {
            terminate: signal(SignalKind::terminate())?,
            interrupt: signal(SignalKind::interrupt())?,
        })
    }

    async fn received(&mut self) -> &'static str {
        tokio::select! {
            _ = self.terminate.recv() => "SIGTERM",
            _ = self.interrupt.recv() => "SIGINT",
        }
    }
}

struct Repositories {
    users: Arc<dyn UserRepository>,
    sessions: Arc<dyn SessionRepository>,
    tasks: Arc<dyn TaskRepository>,
    readiness: Arc<dyn Readiness>,
    pool: Option<Sampler<PoolSample>>,
}

async fn repositories(settings: &Settings) -> anyhow::Result<Repositories> {
    match settings.storage {
        Storage::Memory => Ok(Repositories {
            users: Arc::new(InMemoryUserRepository::new()),
            sessions: Arc::new(InMemorySessionRepository::new()),
            tasks: Arc::new(InMemoryTaskRepository::new()),
            readiness: Arc::new(AlwaysReady),
            pool: None,
        }),
        Storage::Postgres => {
            let store = Arc::new(connect(settings).await?);
            if settings.migrate_on_start {
                apply_migrations(settings).await?;
            }
            let sampled = store.clone();
            let pool: Sampler<PoolSample> = Arc::new(move || {
                let status = sampled.status();
                PoolSample {
                    max_size: status.max_size,
                    size: status.size,
                    idle: status.available,
                    waiting: status.waiting,
                }
            });
            Ok(Repositories {
                users: store.clone(),
                sessions: store.clone(),
                tasks: store.clone(),
                readiness: store,
                pool: Some(pool),
            })
        }
    }
}

/// Opens the pool and waits, within `DATABASE_STARTUP_TIMEOUT_SECONDS`, for the database
/// to answer.
///
/// # Errors
/// One line naming the URL (without its password) when it never answers.
pub async fn connect(settings: &Settings) -> anyhow::Result<PgStore> {
    let url = settings.database_url.expose_secret();
    let store = PgStore::new(
        url,
        PoolSettings {
            max_size: settings.database_pool_size,
            wait_timeout: settings.database_pool_timeout,
            connect_timeout: settings.database_connect_timeout,
        },
    )?;
    let deadline = Instant::now() + settings.database_startup_timeout;
    let mut attempt = 0_u32;
    loop {
        attempt += 1;
        match store.ping().await {
            Ok(()) => return Ok(store),
            Err(error) if Instant::now() >= deadline => {
                return Err(anyhow::Error::new(error)).with_context(|| {
                    format!(
                        "cannot reach the database at {} (DATABASE_URL)",
                        redact(url)
                    )
                });
            }
            Err(error) => {
                if attempt == 1 {
                    tracing::warn!(%error, database = %redact(url), "database not reachable yet, retrying");
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}

/// Applies pending migrations (serialised across instances by an advisory lock).
///
/// # Errors
/// When a migration fails or the database cannot be reached.
pub async fn apply_migrations(settings: &Settings) -> anyhow::Result<Vec<String>> {
    let url = settings.database_url.expose_secret();
    let applied = tessera_postgres::migrate(url, settings.database_connect_timeout)
        .await
        .with_context(|| format!("migrating the database at {}", redact(url)))?;
    if applied.is_empty() {
        tracing::info!("database schema is up to date");
    } else {
        tracing::info!(migrations = ?applied, "applied migrations");
    }
    Ok(applied)
}

impl Application {
    /// Builds the adapters and use cases from `settings` and binds the listener.
    ///
    /// # Errors
    /// An unusable setting, or an address that cannot be bound.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let secret = settings.require_secret()?.clone();
        let repositories = repositories(&settings).await?;
        if settings.bcrypt_cost < 10 {
            tracing::warn!(
                cost = settings.bcrypt_cost,
                "BCRYPT_COST is below 10: fine for tests, too weak for real passwords"
            );
        }
        let cost = settings.bcrypt_cost;
        let hasher = tokio::task::spawn_blocking(move || BcryptHasher::new(cost))
            .await
            .context("preparing the password hasher")??;
        let hasher = Arc::new(hasher);
        let counted = hasher.clone();
        let metrics = Metrics::new(GaugeSources {
            pool: repositories.pool.clone(),
            hashes_in_flight: Arc::new(move || counted.in_flight()),
        })
        .context("registering metrics")?;
        let tokens = Arc::new(JwtTokens::new(&JwtConfig {
            secret,
            issuer: settings.jwt_issuer.clone(),
            audience: settings.jwt_audience.clone(),
        }));
        let clock = Arc::new(SystemClock);
        let auth = AuthService::new(
            repositories.users,
            repositories.sessions,
            hasher,
            (tokens.clone(), tokens),
            clock.clone(),
            AuthSettings {
                token_ttl: chrono::Duration::seconds(i64::from(settings.token_ttl_seconds)),
            },
        );
        let tasks = TaskService::new(repositories.tasks, clock);

        let requested = SocketAddr::new(settings.host, settings.port);
        let listener = TcpListener::bind(requested)
            .with_context(|| format!("cannot listen on {requested}"))?;
        let address = listener.local_addr().context("reading the bound address")?;
        let server = tessera_http::serve(
            listener,
            Services {
                auth,
                tasks,
                readiness: repositories.readiness,
                metrics,
                auth_rate_limit: AuthRateLimit::per_minute(settings.auth_rate_limit_per_minute),
            },
            HttpSettings {
                cors_origins: settings.cors_origins.clone(),
                shutdown_timeout: SHUTDOWN_GRACE,
            },
        )
        .context("starting the HTTP server")?;
        let shutdown = ShutdownSignals::register().context("listening for shutdown signals")?;
        Ok(Self {
            address,
            server,
            shutdown,
        })
    }

    /// The bound address.
    #[must_use]
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The bound port (useful with `PORT=0`).
    #[must_use]
    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// Serves until SIGTERM or SIGINT, then lets in-flight requests finish.
    ///
    /// # Errors
    /// If the server fails.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let Self {
            mut server,
            mut shutdown,
            ..
        } = self;
        let handle = server.handle();
        let signal = tokio::select! {
            result = &mut server => return result,
            signal = shutdown.received() => signal,
        };
        tracing::info!(
            signal,
            grace_seconds = SHUTDOWN_GRACE.as_secs(),
            "shutting down: no new connections, finishing requests in flight"
        );
        // The server future must keep running to carry out the stop.
        let ((), result) = tokio::join!(handle.stop(true), server);
        result
    }
}
