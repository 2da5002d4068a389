//! Prometheus metrics: requests by route template and status, signin outcomes, ended
//! sessions, and gauges sampled at scrape time (pool state, hashes in flight).

use std::sync::Arc;

use actix_web::{HttpResponse, web};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

/// The database pool's state at one instant.
#[derive(Debug, Clone, Copy, Default)]
pub struct PoolSample {
    /// Most connections.
    pub max_size: usize,
    /// Connections open.
    pub size: usize,
    /// Open connections not in use.
    pub idle: usize,
    /// Requests waiting for a connection.
    pub waiting: usize,
}

/// Reads a value when `/metrics` is scraped.
pub type Sampler<T> = Arc<dyn Fn() -> T + Send + Sync>;

/// Password hashes at one instant.
#[derive(Debug, Clone, Copy, Default)]
pub struct HashSample {
    /// Being computed.
    pub running: usize,
    /// Waiting for a hashing thread.
    pub waiting: usize,
}

/// Where the scrape-time gauges come from.
#[derive(Clone)]
pub struct GaugeSources {
    /// The database pools by name, when there are any.
    pub pools: Option<Sampler<Vec<(&'static str, PoolSample)>>>,
    /// Password hashes running and waiting.
    pub hashes: Sampler<HashSample>,
}

/// Outcome label of a signin.
#[derive(Debug, Clone, Copy)]
pub enum SigninOutcome {
    /// A session was opened.
    Success,
    /// Unknown email or wrong password.
    InvalidCredentials,
    /// Refused by the rate limit.
    RateLimited,
    /// The right password, but the address is not verified yet
    /// (`EMAIL_VERIFICATION=required`).
    EmailNotVerified,
    /// Any other failure (validation, server fault).
    Error,
}

impl SigninOutcome {
    fn label(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::InvalidCredentials => "invalid_credentials",
            Self::RateLimited => "rate_limited",
            Self::EmailNotVerified => "email_not_verified",
            Self::Error => "error",
        }
    }
}

/// The service's metrics.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    signins: IntCounterVec,
    sessions_ended: IntCounter,
    retention_runs: IntCounterVec,
    retention_deleted: IntCounterVec,
    pool: IntGaugeVec,
    pool_waiting: IntGaugeVec,
    hashes_in_flight: IntGauge,
    hashes: IntGaugeVec,
    mail_sent: IntCounterVec,
    mail_failed: IntCounterVec,
    mail_queue: IntGauge,
    sources: GaugeSources,
}

impl Metrics {
    /// Registers every metric.
    ///
    /// # Errors
    /// Only on a programming error (two metrics with one name).
    pub fn new(sources: GaugeSources) -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests answered"),
            &["method", "route", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time from request to response",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ]),
            &["method", "route", "status"],
        )?;
        let signins = IntCounterVec::new(
            Opts::new("tessera_signins_total", "Signin attempts by outcome"),
            &["outcome"],
        )?;
        let sessions_ended =
            IntCounter::new("tessera_sessions_ended_total", "Sessions ended by signout")?;
        let retention_runs = IntCounterVec::new(
            Opts::new(
                "tessera_retention_runs_total",
                "Retention runs by outcome (ok, failed)",
            ),
            &["outcome"],
        )?;
        let retention_deleted = IntCounterVec::new(
            Opts::new(
                "tessera_retention_deleted_total",
                "Rows deleted by retention, by kind (sessions, events)",
            ),
            &["kind"],
        )?;
        let pool = IntGaugeVec::new(
            Opts::new(
                "tessera_db_pool_connections",
                "Database pool connections by pool (tasks, auth) and state (max, open, idle)",
            ),
            &["pool", "state"],
        )?;
        let pool_waiting = IntGaugeVec::new(
            Opts::new(
                "tessera_db_pool_waiting",
                "Requests waiting for a database connection, by pool",
            ),
            &["pool"],
        )?;
        let hashes_in_flight = IntGauge::new(
            "tessera_password_hashes_in_flight",
            "Password hashes or verifications running or waiting",
        )?;
        let hashes = IntGaugeVec::new(
            Opts::new(
                "tessera_password_hashes",
                "Password hashes or verifications by state (running, waiting)",
            ),
            &["state"],
        )?;
        let mail_sent = IntCounterVec::new(
            Opts::new("tessera_mail_sent_total", "Mails delivered, by kind"),
            &["kind"],
        )?;
        let mail_failed = IntCounterVec::new(
            Opts::new(
                "tessera_mail_failed_total",
                "Failed mail deliveries, by kind and reason (temporary, unreachable: retried; permanent, invalid, expired, sealed, off: dropped; unrecorded: the outcome could not be stored, tried again)",
            ),
            &["kind", "reason"],
        )?;
        let mail_queue = IntGauge::new(
            "tessera_mail_queue",
            "Mails waiting to be delivered (all instances), as of this instance's last send",
        )?;
        registry.register(Box::new(mail_sent.clone()))?;
        registry.register(Box::new(mail_failed.clone()))?;
        registry.register(Box::new(mail_queue.clone()))?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(signins.clone()))?;
        registry.register(Box::new(sessions_ended.clone()))?;
        registry.register(Box::new(retention_runs.clone()))?;
        registry.register(Box::new(retention_deleted.clone()))?;
        for outcome in ["ok", "failed"] {
            retention_runs.with_label_values(&[outcome]);
        }
        for kind in ["sessions", "events"] {
            retention_deleted.with_label_values(&[kind]);
        }
        registry.register(Box::new(pool.clone()))?;
        registry.register(Box::new(pool_waiting.clone()))?;
        registry.register(Box::new(hashes_in_flight.clone()))?;
        registry.register(Box::new(hashes.clone()))?;
        for outcome in [
            "success",
            "invalid_credentials",
            "rate_limited",
            "email_not_verified",
            "error",
        ] {
            signins.with_label_values(&[outcome]);
        }
        Ok(Self {
            registry,
            requests,
            latency,
            signins,
            sessions_ended,
            retention_runs,
            retention_deleted,
            pool,
            pool_waiting,
            hashes_in_flight,
            hashes,
            mail_sent,
            mail_failed,
            mail_queue,
            sources,
        })
    }

    /// Counts what one pass of the mail sender did.
    pub fn observe_mail(&self, report: &tessera_application::PassReport) {
        for kind in &report.sent {
            self.mail_sent.with_label_values(&[kind.as_str()]).inc();
        }
        for (kind, reason) in &report.failed {
            self.mail_failed
                .with_label_values(&[kind.as_str(), reason])
                .inc();
        }
    }

    /// Sets how many mails wait.
    pub fn set_mail_queue(&self, waiting: u64) {
        self.mail_queue
            .set(i64::try_from(waiting).unwrap_or(i64::MAX));
    }

    /// Counts one answered request. `route` is the route template, never the raw path.
    pub fn observe_request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let status = status.to_string();
        let labels = [method, route, status.as_str()];
        self.requests.with_label_values(&labels).inc();
        self.latency.with_label_values(&labels).observe(seconds);
    }

    /// Counts one signin.
    pub fn observe_signin(&self, outcome: SigninOutcome) {
        self.signins.with_label_values(&[outcome.label()]).inc();
    }

    /// Counts sessions ended by a signout.
    pub fn observe_sessions_ended(&self, count: u64) {
        self.sessions_ended.inc_by(count);
    }

    /// Counts one retention run: what it deleted, or that it failed.
    pub fn observe_retention(&self, deleted: Option<(u64, u64)>) {
        match deleted {
            Some((sessions, events)) => {
                self.retention_runs.with_label_values(&["ok"]).inc();
                self.retention_deleted
                    .with_label_values(&["sessions"])
                    .inc_by(sessions);
                self.retention_deleted
                    .with_label_values(&["events"])
                    .inc_by(events);
            }
            None => self.retention_runs.with_label_values(&["failed"]).inc(),
        }
    }

    fn sample(&self) {
        let to_i64 = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        if let Some(pools) = &self.sources.pools {
            for (name, sample) in pools() {
                for (state, value) in [
                    ("max", sample.max_size),
                    ("open", sample.size),
                    ("idle", sample.idle),
                ] {
                    self.pool
                        .with_label_values(&[name, state])
                        .set(to_i64(value));
                }
                self.pool_waiting
                    .with_label_values(&[name])
                    .set(to_i64(sample.waiting));
            }
        }
        let hashes = (self.sources.hashes)();
        self.hashes_in_flight
            .set(to_i64(hashes.running + hashes.waiting));
        self.hashes
            .with_label_values(&["running"])
            .set(to_i64(hashes.running));
        self.hashes
            .with_label_values(&["waiting"])
            .set(to_i64(hashes.waiting));
    }

    /// The Prometheus text exposition of every metric.
    #[must_use]
    pub fn render(&self) -> String {
        self.sample();
        let mut buffer = Vec::new();
        if TextEncoder::new()
            .encode(&self.registry.gather(), &mut buffer)
            .is_err()
        {
            tracing::error!("metrics could not be encoded");
        }
        String::from_utf8(buffer).unwrap_or_default()
    }
}

#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses(
        (status = 200, description = "Prometheus text exposition", body = String, content_type = "text/plain"),
        (status = 404, description = "Not an address in `METRICS_ALLOW`, or a `Host` that is not loopback, `localhost`, `PUBLIC_URL`'s host or in `METRICS_HOSTS` (`not_found`)", body = crate::dto::ErrorResponse)
    )
)]
/// Prometheus metrics.
pub async fn metrics(metrics: web::Data<Metrics>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(metrics.render())
}
