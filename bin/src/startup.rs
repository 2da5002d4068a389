//! Wiring: the one place that picks adapters and hands them to the use cases.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::dev::Server;
use anyhow::Context;
use secrecy::ExposeSecret;

use tessera_application::ports::{
    Clock, MailStore, MailTransport, MailWake, Pause, SystemClock, ThrottleStore,
};
use tessera_application::{
    AuthService, AuthSettings, MailSender, Mailing, Retention, Stores, TaskService, Throttle,
    WriteBudget,
};
use tessera_crypto::{BcryptHasher, JwtTokens, LinkTokens};
use tessera_http::metrics::Sampler;
use tessera_http::{GaugeSources, HashSample, Metrics, PoolSample, Services};
use tessera_memory::MemoryStore;
use tessera_postgres::{PgStore, redact};
use tessera_sqlite::SqliteStore;
use tokio::signal::unix::{Signal, SignalKind, signal};

use crate::settings::{Delivery, HashingSection, Settings, Storage};

/// How long in-flight requests may finish after SIGTERM or SIGINT.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// A bound, ready-to-run server.
pub struct Application {
    address: SocketAddr,
    server: Server,
    shutdown: ShutdownSignals,
    pruning: std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>,
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

/// The stores of the chosen storage, and the pools' status with PostgreSQL.
struct Opened {
    stores: Stores,
    pools: Option<Sampler<Vec<(&'static str, PoolSample)>>>,
}

async fn open_storage(settings: &Settings) -> anyhow::Result<Opened> {
    match settings.storage.kind {
        Storage::Memory => Ok(Opened {
            stores: MemoryStore::new().stores(),
            pools: None,
        }),
        Storage::Sqlite => {
            let url = settings.storage.url.expose_secret();
            create_parent_directory(url)?;
            if settings.storage.migrate_on_start {
                apply_migrations(settings).await?;
            }
            let store = SqliteStore::open(url, &settings.database.sqlite())
                .with_context(|| format!("opening the SQLite database at {url}"))?;
            Ok(Opened {
                stores: Stores::of(Arc::new(store)),
                pools: None,
            })
        }
        Storage::Postgres => {
            let store = Arc::new(connect(settings).await?);
            if settings.storage.migrate_on_start {
                apply_migrations(settings).await?;
            }
            let sampled = store.clone();
            let pools: Sampler<Vec<(&'static str, PoolSample)>> = Arc::new(move || {
                let [tasks, auth] = sampled.status().map(|status| PoolSample {
                    max_size: status.max_size,
                    size: status.size,
                    idle: status.available,
                    waiting: status.waiting,
                });
                vec![("tasks", tasks), ("auth", auth)]
            });
            Ok(Opened {
                stores: Stores::of(store),
                pools: Some(pools),
            })
        }
    }
}

/// Creates the directory of a `sqlite://dir/file.db` URL, so that a first start works.
fn create_parent_directory(url: &str) -> anyhow::Result<()> {
    let path = std::path::Path::new(tessera_sqlite::path_of(url));
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating the directory {}", parent.display()))?;
    }
    Ok(())
}

/// Opens the pool and waits, within `DATABASE_STARTUP_TIMEOUT_SECONDS`, for the database
/// to answer.
///
/// # Errors
/// One line naming the URL (without its password) when it never answers.
pub async fn connect(settings: &Settings) -> anyhow::Result<PgStore> {
    let url = settings.storage.url.expose_secret();
    let store = PgStore::new(url, settings.database.postgres(workers()))?;
    let deadline = Instant::now() + settings.database.startup_timeout;
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
    let url = settings.storage.url.expose_secret();
    let applied = if settings.storage.kind == Storage::Sqlite {
        let (owned, sqlite) = (url.to_owned(), settings.database.sqlite());
        create_parent_directory(url)?;
        tokio::task::spawn_blocking(move || tessera_sqlite::migrate(&owned, &sqlite))
            .await?
            .with_context(|| format!("migrating the SQLite database at {url}"))?
    } else {
        tessera_postgres::migrate(url, settings.database.pool.connect_timeout)
            .await
            .with_context(|| format!("migrating the database at {}", redact(url)))?
    };
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
        let jwt = settings.auth.jwt()?;
        let links = Arc::new(LinkTokens::new(&jwt.secret, jwt.previous.as_ref()));
        let Opened { stores, pools } = open_storage(&settings).await?;
        let hasher = Arc::new(hasher(&settings.hashing).await?);
        let metrics = metrics(pools, hasher.clone())?;
        let tokens = Arc::new(JwtTokens::new(&jwt));
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let limits = settings.limits.account();
        let throttle = Throttle::new(
            stores.throttle.clone(),
            clock.clone(),
            Arc::new(TokioPause),
            settings.limits.throttle(settings.hashing.limits.wait),
        );
        let retention = Retention::new(
            stores.sessions.clone(),
            stores.events.clone(),
            clock.clone(),
            limits,
        );
        let wake = Arc::new(SenderWake::default());
        let auth = AuthService::new(
            &stores,
            hasher,
            (tokens.clone(), tokens),
            clock.clone(),
            (
                AuthSettings {
                    token_ttl: settings.auth.token_ttl(),
                    limits,
                },
                Mailing {
                    secrets: links.clone(),
                    settings: settings.mail.accounts,
                    wake: wake.clone(),
                },
            ),
        )
        .with_throttle(throttle.clone());
        let write_budget = WriteBudget::new(
            stores.throttle.clone(),
            clock.clone(),
            settings.limits.write_budget(),
        );
        let tasks = TaskService::new(&stores, clock.clone(), limits.max_tasks)
            .with_write_budget(write_budget);

        let requested = SocketAddr::new(settings.http.host, settings.http.port);
        let listener = TcpListener::bind(requested)
            .with_context(|| format!("cannot listen on {requested}"))?;
        let address = listener.local_addr().context("reading the bound address")?;
        let mut public_url = settings.http.public_url.clone();
        if public_url.port() == Some(0) {
            // `PORT=0` and no `PUBLIC_URL`: the links name the port picked.
            let _ = public_url.set_port(Some(address.port()));
        }
        let sender = MailSender::new(
            stores.mail.clone(),
            transport(&settings, &public_url)?,
            links,
            clock.clone(),
            (settings.mail.accounts, settings.mail.retry),
            public_url.as_str().trim_end_matches('/'),
        );
        let server = tessera_http::serve(
            listener,
            Services {
                accounts: auth.accounts(),
                recovery: auth.recovery(),
                auth,
                throttle,
                tasks,
                readiness: stores.readiness.clone(),
                metrics: metrics.clone(),
            },
            settings
                .http
                .server(fit_connections(&settings), workers(), SHUTDOWN_GRACE),
        )
        .context("starting the HTTP server")?;
        let shutdown = ShutdownSignals::register().context("listening for shutdown signals")?;
        Ok(Self {
            address,
            server,
            shutdown,
            pruning: Box::pin(async move {
                tokio::join!(
                    upkeep(
                        stores.throttle,
                        stores.mail,
                        clock,
                        retention,
                        metrics.clone()
                    ),
                    deliver_mail(sender, wake, metrics),
                );
            }),
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
            pruning,
            ..
        } = self;
        let handle = server.handle();
        let signal = tokio::select! {
            result = &mut server => return result,
            signal = shutdown.received() => signal,
            () = pruning => return server.await,
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

/// The bcrypt hasher and its bounded pool, built on a blocking thread (it times a hash).
async fn hasher(hashing: &HashingSection) -> anyhow::Result<BcryptHasher> {
    if hashing.bcrypt_cost < 10 {
        tracing::warn!(
            cost = hashing.bcrypt_cost,
            "BCRYPT_COST is below 10: fine for tests, too weak for real passwords"
        );
    }
    let (cost, limits) = (hashing.bcrypt_cost, hashing.limits);
    tokio::task::spawn_blocking(move || BcryptHasher::with_limits(cost, limits))
        .await
        .context("preparing the password hasher")?
        .map_err(Into::into)
}

/// The metrics registry, sampling the database pools and the hashing pool.
fn metrics(
    pools: Option<Sampler<Vec<(&'static str, PoolSample)>>>,
    hasher: Arc<BcryptHasher>,
) -> anyhow::Result<Metrics> {
    Metrics::new(GaugeSources {
        pools,
        hashes: Arc::new(move || {
            let load = hasher.load();
            HashSample {
                running: load.running,
                waiting: load.waiting,
            }
        }),
    })
    .context("registering metrics")
}

/// Request-handling threads: one per CPU.
fn workers() -> usize {
    std::thread::available_parallelism().map_or(2, std::num::NonZero::get)
}

/// Descriptors kept for everything but client connections: the pools, the listener,
/// standard streams, log files, migrations.
const RESERVED_DESCRIPTORS: u64 = 64;

/// `MAX_CONNECTIONS`, lowered to what the open-file limit allows once its soft value is
/// raised to the hard one: a connection flood then waits in the accept queue instead of
/// making every `accept`, `connect` and `open` fail with "too many open files".
fn fit_connections(settings: &Settings) -> usize {
    let limit = match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => limit,
        Err(error) => {
            tracing::warn!(%error, "could not read or raise the open-file limit");
            return settings.http.options.max_connections;
        }
    };
    let pools = settings.database.connections() as u64;
    let room = limit.saturating_sub(RESERVED_DESCRIPTORS + pools).max(1);
    let fitted = usize::try_from(room)
        .unwrap_or(usize::MAX)
        .min(settings.http.options.max_connections);
    if fitted < settings.http.options.max_connections {
        tracing::warn!(
            max_connections = fitted,
            configured = settings.http.options.max_connections,
            open_file_limit = limit,
            "MAX_CONNECTIONS lowered to fit the open-file limit"
        );
    }
    fitted
}

/// How often expired rate-limit and throttle counts are deleted, and how many at a time.
const PRUNE_EVERY: Duration = Duration::from_secs(60);
const PRUNE_BATCH: u32 = 1000;

/// Deletes counts that no longer limit anything, in small batches, for as long as the
/// server runs. Several instances may do it at once: each batch skips rows another holds.
/// The background work of one instance: every minute, the limit counts that limit
/// nothing any more are pruned, and retention runs (its runs counted in `/metrics`).
/// Both start at once, then repeat.
async fn upkeep(
    store: Arc<dyn ThrottleStore>,
    mail: Arc<dyn MailStore>,
    clock: Arc<dyn Clock>,
    retention: Retention,
    metrics: Metrics,
) {
    let mut ticks = tokio::time::interval(PRUNE_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match retention.run().await {
            Ok(pruned) => {
                metrics.observe_retention(Some((pruned.sessions, pruned.events)));
                if pruned.sessions + pruned.events > 0 {
                    tracing::info!(
                        sessions = pruned.sessions,
                        events = pruned.events,
                        "retention deleted old sessions and events"
                    );
                }
            }
            Err(error) => {
                metrics.observe_retention(None);
                tracing::warn!(error = %error, "retention run failed");
            }
        }
        loop {
            match store.prune(clock.now(), PRUNE_BATCH).await {
                Ok(pruned) if pruned >= u64::from(PRUNE_BATCH) => {}
                Ok(_) => break,
                Err(error) => {
                    tracing::warn!(error = %error, "pruning rate-limit counts failed");
                    break;
                }
            }
        }
        loop {
            match mail.prune(clock.now(), PRUNE_BATCH).await {
                Ok(pruned) if pruned >= u64::from(PRUNE_BATCH) => {}
                Ok(_) => break,
                Err(error) => {
                    tracing::warn!(error = %error, "pruning mail links and quota records failed");
                    break;
                }
            }
        }
    }
}

/// Where this instance's mail goes, from `SMTP_URL` (or development mode's directory).
fn transport(settings: &Settings, public_url: &url::Url) -> anyhow::Result<Arc<dyn MailTransport>> {
    let host = public_url.host_str().unwrap_or("localhost");
    let from = settings.mail.from.clone();
    Ok(match &settings.mail.delivery {
        Delivery::Smtp(url) => {
            tracing::info!(server = %url.redacted(), "mail goes to the SMTP server of SMTP_URL");
            Arc::new(
                tessera_mail::SmtpTransport::new(url, from, host)
                    .context("invalid setting SMTP_URL")?,
            )
        }
        Delivery::Files(dir) => {
            tracing::info!(directory = %dir.display(), "development mode: no SMTP_URL, so each mail is written as an .eml file");
            Arc::new(
                tessera_mail::EmlDirectory::new(dir.clone(), from, host)
                    .context("preparing the mail directory")?,
            )
        }
        Delivery::Off => {
            tracing::warn!(
                "mail is off: SMTP_URL is not set, so no mail is sent (verification, password reset and email change links never arrive)"
            );
            Arc::new(tessera_mail::MailOff)
        }
    })
}

/// How long the sender waits between passes when nothing wakes it: retries fall due,
/// and other instances queue mail, without telling this one.
const MAIL_POLL: Duration = Duration::from_secs(1);

/// Delivers the mail queue for as long as the server runs: a pass as soon as this
/// instance queues mail, and otherwise every [`MAIL_POLL`].
async fn deliver_mail(sender: MailSender, wake: Arc<SenderWake>, metrics: Metrics) {
    // One warning per outage, not one per poll.
    let mut failing = false;
    loop {
        let full = match sender.pass().await {
            Ok(report) => {
                if failing {
                    tracing::info!("claiming mail to send works again");
                    failing = false;
                }
                metrics.observe_mail(&report);
                report.handled() >= MailSender::BATCH as usize
            }
            Err(error) => {
                if !failing {
                    tracing::warn!(error = %error, "claiming mail to send failed; mail waits until the database answers");
                    failing = true;
                }
                false
            }
        };
        if let Ok(waiting) = sender.queued().await {
            metrics.set_mail_queue(waiting);
        }
        if !full {
            tokio::select! {
                () = wake.0.notified() => {}
                () = tokio::time::sleep(MAIL_POLL) => {}
            }
        }
    }
}

/// Wakes this instance's sender (a permit is kept if it is busy, so no wake is lost).
#[derive(Default)]
struct SenderWake(tokio::sync::Notify);

impl MailWake for SenderWake {
    fn wake(&self) {
        self.0.notify_one();
    }
}

/// Held attempts wait on the runtime's timer.
struct TokioPause;

#[async_trait::async_trait]
impl Pause for TokioPause {
    async fn pause(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}
