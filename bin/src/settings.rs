//! Settings: built-in defaults, then an optional TOML file, then environment variables
//! (the contract's names), validated once into a typed [`Settings`].
//!
//! A file uses the environment names in lower case (`port = 8080`, `cors_origins = "..."`).

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use config::{Config, File, FileFormat};
use ipnet::IpNet;
use secrecy::SecretString;
use serde::Deserialize;
use thiserror::Error;

/// Where data is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    /// PostgreSQL at `DATABASE_URL`.
    Postgres,
    /// SQLite, in the file of `DATABASE_URL` (`sqlite://path/tessera.db`).
    Sqlite,
    /// In this process, lost on exit.
    Memory,
}

/// The validated settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where data is kept.
    pub storage: Storage,
    /// The Postgres URL.
    pub database_url: SecretString,
    /// Most pooled connections.
    pub database_pool_size: usize,
    /// Longest wait for a free pooled connection before a request gets 503.
    pub database_pool_timeout: Duration,
    /// Longest time to open one connection.
    pub database_connect_timeout: Duration,
    /// How long `serve` and `migrate` keep trying to reach the database at start.
    pub database_startup_timeout: Duration,
    /// Whether `serve` applies pending migrations before listening.
    pub migrate_on_start: bool,
    /// The HS256 secret; `None` only before [`Settings::require_secret`] or a dev default.
    pub jwt_secret: Option<SecretString>,
    /// A former secret whose tokens still verify until they expire.
    pub jwt_secret_previous: Option<SecretString>,
    /// `iss` of issued tokens, required of presented ones.
    pub jwt_issuer: String,
    /// `aud` of issued tokens, required of presented ones.
    pub jwt_audience: String,
    /// Listen address.
    pub host: IpAddr,
    /// Listen port (0 picks a free one).
    pub port: u16,
    /// Token lifetime in seconds.
    pub token_ttl_seconds: u32,
    /// bcrypt work factor.
    pub bcrypt_cost: u32,
    /// Password attempts per client address per minute; 0 turns the limit off.
    pub auth_rate_limit_per_minute: u32,
    /// Failed password checks on one account before it must wait; 0 turns it off.
    pub account_failure_limit: u32,
    /// Longest wait imposed on an account, in seconds.
    pub account_lock_max_seconds: u32,
    /// Password hashes running at once.
    pub hash_concurrency: usize,
    /// Requests that may wait for a hashing thread.
    pub hash_queue: usize,
    /// Longest wait for a hashing thread.
    pub hash_wait: Duration,
    /// Longest time for a request body to arrive.
    pub body_timeout: Duration,
    /// Most connections open at once (lowered at start to fit the open-file limit).
    pub max_connections: usize,
    /// Longest time for any request head to arrive, from its first byte.
    pub head_timeout: Duration,
    /// How long an idle kept-alive connection stays open.
    pub keep_alive: Duration,
    /// Longest time a client may take to take an answer before its connection closes.
    pub send_timeout: Duration,
    /// Most connections one client address (IPv6: one /64) holds at once; 0 turns it off.
    pub max_connections_per_address: usize,
    /// Task writes per account per minute; 0 turns the limit off.
    pub task_writes_per_minute: u32,
    /// Task writes per client address per minute; 0 turns the limit off.
    pub task_writes_per_minute_per_address: u32,
    /// Where people reach the service; its host is one `/metrics` answers to.
    pub public_url: url::Url,
    /// More host names `/metrics` answers to, lower case.
    pub metrics_hosts: Vec<String>,
    /// Longest a database statement may run.
    pub db_statement_timeout: Duration,
    /// Longest a database statement may wait for a lock.
    pub db_lock_timeout: Duration,
    /// Most pooled connections for accounts, sessions and limits (apart from tasks').
    pub database_auth_pool_size: usize,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpNet>,
    /// Client addresses that may read `/metrics`.
    pub metrics_allow: Vec<IpNet>,
    /// Allowed CORS origins.
    pub cors_origins: Vec<String>,
    /// Log lines as JSON instead of text.
    pub log_json: bool,
    /// `Strict-Transport-Security` max-age, when HSTS is on.
    pub hsts_max_age_seconds: Option<u64>,
    /// Most live sessions per account; a signin beyond it ends the oldest.
    pub max_sessions_per_user: u32,
    /// Most tasks per account.
    pub max_tasks_per_user: u32,
    /// Days ended and expired sessions, and events, are kept.
    pub retention_days: u32,
}

/// A setting that cannot be used. Its display is the one line the service prints.
#[derive(Debug, Error)]
#[error("invalid setting {name}: {reason}")]
pub struct SettingsError {
    /// The environment variable (or file key in upper case) at fault.
    pub name: &'static str,
    /// What is wrong, without the value when it may be secret.
    pub reason: String,
}

impl SettingsError {
    fn new(name: &'static str, reason: impl Into<String>) -> Self {
        Self {
            name,
            reason: reason.into(),
        }
    }
}

/// The environment variables read, with their file keys.
const VARIABLES: &[&str] = &[
    "STORAGE",
    "DATABASE_URL",
    "DATABASE_POOL_SIZE",
    "DATABASE_POOL_TIMEOUT_MS",
    "DATABASE_CONNECT_TIMEOUT_MS",
    "DATABASE_STARTUP_TIMEOUT_SECONDS",
    "BETTER_AUTH_SECRET",
    "JWT_SECRET",
    "JWT_SECRET_PREVIOUS",
    "JWT_ISSUER",
    "JWT_AUDIENCE",
    "HOST",
    "PORT",
    "TOKEN_TTL_SECONDS",
    "BCRYPT_COST",
    "AUTH_RATE_LIMIT_PER_MINUTE",
    "ACCOUNT_FAILURE_LIMIT",
    "ACCOUNT_LOCK_MAX_SECONDS",
    "HASH_CONCURRENCY",
    "HASH_QUEUE",
    "HASH_WAIT_SECONDS",
    "BODY_TIMEOUT_SECONDS",
    "MAX_CONNECTIONS",
    "HEAD_TIMEOUT_SECONDS",
    "KEEP_ALIVE_SECONDS",
    "SEND_TIMEOUT_SECONDS",
    "MAX_CONNECTIONS_PER_ADDRESS",
    "TASK_WRITES_PER_MINUTE",
    "TASK_WRITES_PER_MINUTE_PER_ADDRESS",
    "PUBLIC_URL",
    "METRICS_HOSTS",
    "DB_STATEMENT_TIMEOUT_MS",
    "DB_LOCK_TIMEOUT_MS",
    "DATABASE_AUTH_POOL_SIZE",
    "TRUSTED_PROXIES",
    "METRICS_ALLOW",
    "CORS_ORIGINS",
    "LOG_FORMAT",
    "HSTS_MAX_AGE_SECONDS",
    "MAX_SESSIONS_PER_USER",
    "MAX_TASKS_PER_USER",
    "RETENTION_DAYS",
];

/// The database used when `DATABASE_URL` is not set: a local server's `tessera` database.
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/tessera";

/// The file used with `STORAGE=sqlite` when `DATABASE_URL` is not set.
pub const DEFAULT_SQLITE_URL: &str = "sqlite://.tessera/tessera.db";

/// Shortest secret accepted, in bytes.
pub const MIN_SECRET_BYTES: usize = 32;

/// Every setting as text, before validation. It holds the secrets and the database URL
/// in the clear, so it has no `Debug`: nothing can print it.
#[derive(Default, Deserialize)]
struct Raw {
    storage: Option<String>,
    database_url: Option<String>,
    database_pool_size: Option<String>,
    database_pool_timeout_ms: Option<String>,
    database_connect_timeout_ms: Option<String>,
    database_startup_timeout_seconds: Option<String>,
    better_auth_secret: Option<String>,
    jwt_secret: Option<String>,
    jwt_secret_previous: Option<String>,
    jwt_issuer: Option<String>,
    jwt_audience: Option<String>,
    host: Option<String>,
    port: Option<String>,
    token_ttl_seconds: Option<String>,
    bcrypt_cost: Option<String>,
    auth_rate_limit_per_minute: Option<String>,
    account_failure_limit: Option<String>,
    account_lock_max_seconds: Option<String>,
    hash_concurrency: Option<String>,
    hash_queue: Option<String>,
    hash_wait_seconds: Option<String>,
    body_timeout_seconds: Option<String>,
    max_connections: Option<String>,
    head_timeout_seconds: Option<String>,
    keep_alive_seconds: Option<String>,
    send_timeout_seconds: Option<String>,
    max_connections_per_address: Option<String>,
    task_writes_per_minute: Option<String>,
    task_writes_per_minute_per_address: Option<String>,
    public_url: Option<String>,
    metrics_hosts: Option<String>,
    db_statement_timeout_ms: Option<String>,
    db_lock_timeout_ms: Option<String>,
    database_auth_pool_size: Option<String>,
    trusted_proxies: Option<String>,
    metrics_allow: Option<String>,
    cors_origins: Option<String>,
    log_format: Option<String>,
    hsts_max_age_seconds: Option<String>,
    max_sessions_per_user: Option<String>,
    max_tasks_per_user: Option<String>,
    retention_days: Option<String>,
}

impl Settings {
    /// Reads the settings from the process environment and, if given, a config file.
    ///
    /// # Errors
    /// [`SettingsError`] naming the first unusable setting.
    pub fn load(file: Option<&Path>) -> Result<Self, SettingsError> {
        let env = VARIABLES
            .iter()
            .filter_map(|name| std::env::var(name).ok().map(|value| (*name, value)));
        Self::from_sources(file, env)
    }

    /// Builds settings from environment-style pairs only (as the test harness does).
    ///
    /// # Errors
    /// [`SettingsError`] naming the first unusable setting.
    pub fn from_pairs<K, V>(pairs: impl IntoIterator<Item = (K, V)>) -> Result<Self, SettingsError>
    where
        K: Into<String>,
        V: Into<String>,
    {
        Self::from_sources(None, pairs)
    }

    fn from_sources<K, V>(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Self, SettingsError>
    where
        K: Into<String>,
        V: Into<String>,
    {
        let mut builder = Config::builder();
        if let Some(path) = file {
            let path = path
                .to_str()
                .ok_or_else(|| SettingsError::new("--config", "the path is not valid UTF-8"))?;
            builder = builder.add_source(File::new(path, FileFormat::Toml).required(true));
        }
        let env: HashMap<String, String> = env
            .into_iter()
            .map(|(k, v)| (k.into().to_ascii_lowercase(), v.into()))
            .collect();
        for (key, value) in env {
            builder = builder
                .set_override(key, value)
                .map_err(|e| SettingsError::new("environment", e.to_string()))?;
        }
        let raw: Raw = builder
            .build()
            .and_then(Config::try_deserialize)
            .map_err(|e| SettingsError::new("--config", e.to_string()))?;
        Self::validate(raw)
    }

    fn validate(raw: Raw) -> Result<Self, SettingsError> {
        let storage = match non_empty(raw.storage).as_deref() {
            None | Some("postgres") => Storage::Postgres,
            Some("memory") => Storage::Memory,
            Some("sqlite") => Storage::Sqlite,
            Some(other) => {
                return Err(SettingsError::new(
                    "STORAGE",
                    format!("{other:?} is not a storage; use postgres, sqlite or memory"),
                ));
            }
        };
        let database_url = non_empty(raw.database_url).unwrap_or_else(|| {
            if storage == Storage::Sqlite {
                DEFAULT_SQLITE_URL.to_owned()
            } else {
                DEFAULT_DATABASE_URL.to_owned()
            }
        });
        let postgres_url =
            database_url.starts_with("postgres://") || database_url.starts_with("postgresql://");
        if storage == Storage::Sqlite {
            if !database_url.starts_with("sqlite://") || database_url.len() <= "sqlite://".len() {
                return Err(SettingsError::new(
                    "DATABASE_URL",
                    "with STORAGE=sqlite, must be a sqlite://path/file.db URL",
                ));
            }
        } else if !postgres_url {
            return Err(SettingsError::new(
                "DATABASE_URL",
                "must be a postgres:// or postgresql:// URL",
            ));
        }
        let database_url = SecretString::from(database_url);
        let jwt_secret = secret(non_empty(raw.better_auth_secret), non_empty(raw.jwt_secret))?;
        let jwt_secret_previous = previous_secret(non_empty(raw.jwt_secret_previous), &jwt_secret)?;
        let hsts_max_age_seconds = non_empty(raw.hsts_max_age_seconds)
            .map(|age| number("HSTS_MAX_AGE_SECONDS", Some(age), 0, 0..=315_360_000))
            .transpose()?;
        let host = match non_empty(raw.host) {
            None => IpAddr::from([127, 0, 0, 1]),
            Some(host) if host == "localhost" => IpAddr::from([127, 0, 0, 1]),
            Some(host) => host.parse().map_err(|_| {
                SettingsError::new("HOST", format!("{host:?} is not an IP address"))
            })?,
        };
        let port = number("PORT", raw.port, 8080, 0..=u16::MAX)?;
        let public_url = public_url(raw.public_url, host, port)?;
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        let hash_concurrency = number("HASH_CONCURRENCY", raw.hash_concurrency, cores, 1..=1024)?;
        Ok(Self {
            storage,
            database_url,
            jwt_secret,
            jwt_secret_previous,
            jwt_issuer: non_empty(raw.jwt_issuer).unwrap_or_else(|| "tessera".to_owned()),
            jwt_audience: non_empty(raw.jwt_audience).unwrap_or_else(|| "tessera".to_owned()),
            host,
            port,
            database_pool_size: number("DATABASE_POOL_SIZE", raw.database_pool_size, 10, 1..=1000)?,
            database_pool_timeout: Duration::from_millis(number(
                "DATABASE_POOL_TIMEOUT_MS",
                raw.database_pool_timeout_ms,
                2000,
                1..=60_000,
            )?),
            database_connect_timeout: Duration::from_millis(number(
                "DATABASE_CONNECT_TIMEOUT_MS",
                raw.database_connect_timeout_ms,
                3000,
                1..=60_000,
            )?),
            database_startup_timeout: Duration::from_secs(number(
                "DATABASE_STARTUP_TIMEOUT_SECONDS",
                raw.database_startup_timeout_seconds,
                10,
                0..=600,
            )?),
            migrate_on_start: true,
            token_ttl_seconds: number(
                "TOKEN_TTL_SECONDS",
                raw.token_ttl_seconds,
                604_800,
                60..=31_536_000,
            )?,
            bcrypt_cost: number("BCRYPT_COST", raw.bcrypt_cost, 12, 4..=31)?,
            auth_rate_limit_per_minute: number(
                "AUTH_RATE_LIMIT_PER_MINUTE",
                raw.auth_rate_limit_per_minute,
                10,
                0..=1_000_000,
            )?,
            account_failure_limit: number(
                "ACCOUNT_FAILURE_LIMIT",
                raw.account_failure_limit,
                5,
                0..=1_000_000,
            )?,
            account_lock_max_seconds: number(
                "ACCOUNT_LOCK_MAX_SECONDS",
                raw.account_lock_max_seconds,
                900,
                1..=86_400,
            )?,
            hash_concurrency,
            hash_queue: number(
                "HASH_QUEUE",
                raw.hash_queue,
                4 * hash_concurrency,
                0..=1_000_000,
            )?,
            hash_wait: Duration::from_secs(number(
                "HASH_WAIT_SECONDS",
                raw.hash_wait_seconds,
                3,
                1..=600,
            )?),
            body_timeout: Duration::from_secs(number(
                "BODY_TIMEOUT_SECONDS",
                raw.body_timeout_seconds,
                10,
                1..=3600,
            )?),
            max_connections: number(
                "MAX_CONNECTIONS",
                raw.max_connections,
                10_000,
                1..=1_000_000,
            )?,
            head_timeout: Duration::from_secs(number(
                "HEAD_TIMEOUT_SECONDS",
                raw.head_timeout_seconds,
                5,
                1..=3600,
            )?),
            keep_alive: Duration::from_secs(number(
                "KEEP_ALIVE_SECONDS",
                raw.keep_alive_seconds,
                5,
                1..=3600,
            )?),
            send_timeout: Duration::from_secs(number(
                "SEND_TIMEOUT_SECONDS",
                raw.send_timeout_seconds,
                30,
                1..=3600,
            )?),
            max_connections_per_address: number(
                "MAX_CONNECTIONS_PER_ADDRESS",
                raw.max_connections_per_address,
                256,
                0..=1_000_000,
            )?,
            task_writes_per_minute: number(
                "TASK_WRITES_PER_MINUTE",
                raw.task_writes_per_minute,
                600,
                0..=1_000_000,
            )?,
            task_writes_per_minute_per_address: number(
                "TASK_WRITES_PER_MINUTE_PER_ADDRESS",
                raw.task_writes_per_minute_per_address,
                1200,
                0..=1_000_000,
            )?,
            public_url,
            metrics_hosts: host_names("METRICS_HOSTS", raw.metrics_hosts)?,
            db_statement_timeout: Duration::from_millis(number(
                "DB_STATEMENT_TIMEOUT_MS",
                raw.db_statement_timeout_ms,
                5000,
                1..=3_600_000,
            )?),
            db_lock_timeout: Duration::from_millis(number(
                "DB_LOCK_TIMEOUT_MS",
                raw.db_lock_timeout_ms,
                2000,
                1..=3_600_000,
            )?),
            database_auth_pool_size: number(
                "DATABASE_AUTH_POOL_SIZE",
                raw.database_auth_pool_size,
                10,
                1..=1000,
            )?,
            trusted_proxies: networks("TRUSTED_PROXIES", raw.trusted_proxies, "")?,
            metrics_allow: networks("METRICS_ALLOW", raw.metrics_allow, "127.0.0.1/32,::1/128")?,
            cors_origins: origins(raw.cors_origins)?,
            log_json: match non_empty(raw.log_format).as_deref() {
                None | Some("text") => false,
                Some("json") => true,
                Some(_) => return Err(SettingsError::new("LOG_FORMAT", "use text or json")),
            },
            hsts_max_age_seconds,
            max_sessions_per_user: number(
                "MAX_SESSIONS_PER_USER",
                raw.max_sessions_per_user,
                50,
                1..=100_000,
            )?,
            max_tasks_per_user: number(
                "MAX_TASKS_PER_USER",
                raw.max_tasks_per_user,
                10_000,
                1..=1_000_000,
            )?,
            retention_days: number("RETENTION_DAYS", raw.retention_days, 30, 1..=3650)?,
        })
    }

    /// The secret, or the error that stops a start without one.
    ///
    /// # Errors
    /// When neither `BETTER_AUTH_SECRET` nor `JWT_SECRET` is set.
    pub fn require_secret(&self) -> Result<&SecretString, SettingsError> {
        self.jwt_secret.as_ref().ok_or_else(|| {
            SettingsError::new(
                "JWT_SECRET",
                format!(
                    "not set; set BETTER_AUTH_SECRET or JWT_SECRET to a secret of {MIN_SECRET_BYTES} bytes or more"
                ),
            )
        })
    }
}

/// `PUBLIC_URL`: an `http` or `https` URL with a host; by default `http://{HOST}:{PORT}`.
fn public_url(raw: Option<String>, host: IpAddr, port: u16) -> Result<url::Url, SettingsError> {
    let text = non_empty(raw).unwrap_or_else(|| match host {
        IpAddr::V6(v6) => format!("http://[{v6}]:{port}"),
        IpAddr::V4(v4) => format!("http://{v4}:{port}"),
    });
    let parsed = url::Url::parse(&text)
        .map_err(|e| SettingsError::new("PUBLIC_URL", format!("{text:?} is not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(SettingsError::new(
            "PUBLIC_URL",
            format!("{text:?} must be an http:// or https:// URL with a host"),
        ));
    }
    Ok(parsed)
}

/// A comma-separated list of host names (`METRICS_HOSTS`), lower case, each one a valid
/// name or address.
fn host_names(name: &'static str, raw: Option<String>) -> Result<Vec<String>, SettingsError> {
    non_empty(raw)
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            let valid = entry.len() <= 253
                && entry
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
            if valid {
                Ok(entry.to_ascii_lowercase())
            } else {
                Err(SettingsError::new(
                    name,
                    format!("{entry:?} is not a host name"),
                ))
            }
        })
        .collect()
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// `JWT_SECRET_PREVIOUS`: as long as a current secret must be, and not the current one.
fn previous_secret(
    previous: Option<String>,
    current: &Option<SecretString>,
) -> Result<Option<SecretString>, SettingsError> {
    use secrecy::ExposeSecret;
    let Some(previous) = previous else {
        return Ok(None);
    };
    if previous.len() < MIN_SECRET_BYTES {
        return Err(SettingsError::new(
            "JWT_SECRET_PREVIOUS",
            format!(
                "the secret is {} bytes; it must be at least {MIN_SECRET_BYTES}",
                previous.len()
            ),
        ));
    }
    if current
        .as_ref()
        .is_some_and(|current| current.expose_secret() == previous)
    {
        return Err(SettingsError::new(
            "JWT_SECRET_PREVIOUS",
            "is the current secret; set it to the secret being replaced",
        ));
    }
    Ok(Some(SecretString::from(previous)))
}

fn secret(
    better_auth: Option<String>,
    jwt: Option<String>,
) -> Result<Option<SecretString>, SettingsError> {
    let chosen = match (better_auth, jwt) {
        (Some(a), Some(b)) if a != b => {
            return Err(SettingsError::new(
                "JWT_SECRET",
                "BETTER_AUTH_SECRET and JWT_SECRET are both set and differ; set one",
            ));
        }
        (Some(a), _) => Some(("BETTER_AUTH_SECRET", a)),
        (None, Some(b)) => Some(("JWT_SECRET", b)),
        (None, None) => None,
    };
    match chosen {
        Some((name, value)) if value.len() < MIN_SECRET_BYTES => Err(SettingsError::new(
            name,
            format!(
                "the secret is {} bytes; it must be at least {MIN_SECRET_BYTES}",
                value.len()
            ),
        )),
        Some((_, value)) => Ok(Some(SecretString::from(value))),
        None => Ok(None),
    }
}

fn number<T>(
    name: &'static str,
    raw: Option<String>,
    default: T,
    range: std::ops::RangeInclusive<T>,
) -> Result<T, SettingsError>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
{
    let Some(raw) = non_empty(raw) else {
        return Ok(default);
    };
    raw.parse::<T>()
        .ok()
        .filter(|n| range.contains(n))
        .ok_or_else(|| {
            SettingsError::new(
                name,
                format!(
                    "{raw:?} is not a whole number from {} to {}",
                    range.start(),
                    range.end()
                ),
            )
        })
}

/// Comma-separated networks (`10.0.0.0/8`, `2001:db8::/32`); a bare address is a
/// network of one.
fn networks(
    name: &'static str,
    raw: Option<String>,
    default: &str,
) -> Result<Vec<IpNet>, SettingsError> {
    let raw = raw.map_or_else(|| default.to_owned(), |v| v.trim().to_owned());
    raw.split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|text| {
            text.parse::<IpNet>()
                .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
                .map(|net| net.trunc())
                .map_err(|_| {
                    SettingsError::new(
                        name,
                        format!("{text:?} is not a network like 10.0.0.0/8 or an IP address"),
                    )
                })
        })
        .collect()
}

fn origins(raw: Option<String>) -> Result<Vec<String>, SettingsError> {
    let raw = non_empty(raw).unwrap_or_else(|| "http://localhost:3000".to_owned());
    raw.split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(|origin| origin.trim_end_matches('/'))
        .map(|origin| {
            let rest = origin
                .strip_prefix("http://")
                .or_else(|| origin.strip_prefix("https://"));
            match rest {
                Some(host) if !host.is_empty() && !host.contains('/') && !host.contains(' ') => {
                    Ok(origin.to_owned())
                }
                _ => Err(SettingsError::new(
                    "CORS_ORIGINS",
                    format!("{origin:?} is not an origin like https://app.example.com"),
                )),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    impl Settings {
        fn secret_is(&self, candidate: &str) -> bool {
            use secrecy::ExposeSecret;
            self.jwt_secret
                .as_ref()
                .is_some_and(|s| s.expose_secret() == candidate)
        }
    }

    fn load(pairs: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        Settings::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn defaults_follow_the_contract() -> Result<(), SettingsError> {
        let s = load(&[])?;
        assert_eq!(s.storage, Storage::Postgres);
        assert_eq!(s.host.to_string(), "127.0.0.1");
        assert_eq!(s.port, 8080);
        assert_eq!(s.token_ttl_seconds, 604_800);
        assert_eq!(s.bcrypt_cost, 12);
        assert_eq!(s.auth_rate_limit_per_minute, 10);
        assert_eq!(s.cors_origins, vec!["http://localhost:3000".to_owned()]);
        assert!(s.jwt_secret.is_none());
        assert_eq!(
            secrecy::ExposeSecret::expose_secret(&s.database_url),
            DEFAULT_DATABASE_URL
        );
        assert_eq!(s.database_pool_size, 10);
        assert_eq!(s.database_auth_pool_size, 10);
        assert_eq!(s.account_failure_limit, 5);
        assert_eq!(s.account_lock_max_seconds, 900);
        assert!(s.hash_concurrency >= 1);
        assert_eq!(s.hash_queue, 4 * s.hash_concurrency);
        assert_eq!(s.hash_wait, Duration::from_secs(3));
        assert_eq!(s.body_timeout, Duration::from_secs(10));
        assert_eq!(s.max_connections, 10_000);
        assert_eq!(s.db_statement_timeout, Duration::from_millis(5000));
        assert_eq!(s.db_lock_timeout, Duration::from_millis(2000));
        assert!(s.trusted_proxies.is_empty());
        assert_eq!(
            s.metrics_allow,
            ["127.0.0.1/32".parse::<IpNet>().ok(), "::1/128".parse().ok()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
        );
        assert!(s.migrate_on_start);
        assert!(s.require_secret().is_err());
        assert!(s.jwt_secret_previous.is_none());
        assert_eq!(s.hsts_max_age_seconds, None);
        assert_eq!(s.max_sessions_per_user, 50);
        assert_eq!(s.max_tasks_per_user, 10_000);
        assert_eq!(s.retention_days, 30);
        Ok(())
    }

    #[test]
    fn a_previous_secret_and_hsts_are_read() -> Result<(), SettingsError> {
        let previous = "the-secret-being-replaced-0123456789abcdef";
        let s = load(&[
            ("JWT_SECRET", SECRET),
            ("JWT_SECRET_PREVIOUS", previous),
            ("HSTS_MAX_AGE_SECONDS", "31536000"),
        ])?;
        let kept = s
            .jwt_secret_previous
            .as_ref()
            .map(|secret| secrecy::ExposeSecret::expose_secret(secret).to_owned());
        assert_eq!(kept.as_deref(), Some(previous));
        assert_eq!(s.hsts_max_age_seconds, Some(31_536_000));
        let refused = load(&[("JWT_SECRET", SECRET), ("JWT_SECRET_PREVIOUS", SECRET)]);
        let message = refused.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(!message.contains(SECRET), "{message}");
        Ok(())
    }

    #[test]
    fn environment_values_are_parsed() -> Result<(), SettingsError> {
        let s = load(&[
            ("STORAGE", "memory"),
            ("JWT_SECRET", SECRET),
            ("PORT", "0"),
            ("HOST", "0.0.0.0"),
            ("BCRYPT_COST", "4"),
            ("CORS_ORIGINS", "https://a.example/, http://b.example:8080"),
        ])?;
        assert_eq!(s.storage, Storage::Memory);
        assert!(s.secret_is(SECRET));
        assert_eq!(s.port, 0);
        assert_eq!(s.bcrypt_cost, 4);
        assert_eq!(
            s.cors_origins,
            ["https://a.example", "http://b.example:8080"]
        );
        Ok(())
    }

    #[test]
    fn networks_accept_cidrs_and_bare_addresses() -> Result<(), SettingsError> {
        let s = load(&[
            ("TRUSTED_PROXIES", " 10.1.2.3/8, 192.0.2.1 ,2001:db8::/32"),
            ("METRICS_ALLOW", ""),
        ])?;
        let shown: Vec<String> = s.trusted_proxies.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["10.0.0.0/8", "192.0.2.1/32", "2001:db8::/32"]);
        assert!(s.metrics_allow.is_empty(), "an empty list allows no one");
        Ok(())
    }

    #[test]
    fn either_secret_variable_is_honoured() -> Result<(), SettingsError> {
        assert!(load(&[("BETTER_AUTH_SECRET", SECRET)])?.secret_is(SECRET));
        assert!(load(&[("BETTER_AUTH_SECRET", SECRET), ("JWT_SECRET", SECRET)])?.secret_is(SECRET));
        Ok(())
    }

    #[test]
    fn invalid_settings_name_the_variable() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("JWT_SECRET", "short")], "JWT_SECRET"),
            (&[("BETTER_AUTH_SECRET", "short")], "BETTER_AUTH_SECRET"),
            (
                &[
                    ("BETTER_AUTH_SECRET", SECRET),
                    ("JWT_SECRET", "another-secret-of-32-bytes-or-more"),
                ],
                "JWT_SECRET",
            ),
            (&[("STORAGE", "mysql")], "STORAGE"),
            (
                &[("STORAGE", "sqlite"), ("DATABASE_URL", "postgres://x")],
                "DATABASE_URL",
            ),
            (&[("DATABASE_URL", "mysql://x")], "DATABASE_URL"),
            (&[("PORT", "80000")], "PORT"),
            (&[("PORT", "eighty")], "PORT"),
            (&[("HOST", "not a host")], "HOST"),
            (&[("BCRYPT_COST", "3")], "BCRYPT_COST"),
            (&[("BCRYPT_COST", "32")], "BCRYPT_COST"),
            (&[("TOKEN_TTL_SECONDS", "-5")], "TOKEN_TTL_SECONDS"),
            (
                &[("AUTH_RATE_LIMIT_PER_MINUTE", "many")],
                "AUTH_RATE_LIMIT_PER_MINUTE",
            ),
            (&[("CORS_ORIGINS", "localhost:3000")], "CORS_ORIGINS"),
            (&[("LOG_FORMAT", "xml")], "LOG_FORMAT"),
            (&[("JWT_SECRET_PREVIOUS", "short")], "JWT_SECRET_PREVIOUS"),
            (
                &[("JWT_SECRET", SECRET), ("JWT_SECRET_PREVIOUS", SECRET)],
                "JWT_SECRET_PREVIOUS",
            ),
            (&[("HSTS_MAX_AGE_SECONDS", "-1")], "HSTS_MAX_AGE_SECONDS"),
            (
                &[("HSTS_MAX_AGE_SECONDS", "a year")],
                "HSTS_MAX_AGE_SECONDS",
            ),
            (&[("MAX_SESSIONS_PER_USER", "0")], "MAX_SESSIONS_PER_USER"),
            (&[("MAX_TASKS_PER_USER", "0")], "MAX_TASKS_PER_USER"),
            (&[("RETENTION_DAYS", "0")], "RETENTION_DAYS"),
            (&[("TRUSTED_PROXIES", "10.0.0.0/33")], "TRUSTED_PROXIES"),
            (&[("METRICS_ALLOW", "localhost")], "METRICS_ALLOW"),
            (&[("HASH_CONCURRENCY", "0")], "HASH_CONCURRENCY"),
            (&[("HASH_WAIT_SECONDS", "0")], "HASH_WAIT_SECONDS"),
            (&[("BODY_TIMEOUT_SECONDS", "0")], "BODY_TIMEOUT_SECONDS"),
            (&[("MAX_CONNECTIONS", "0")], "MAX_CONNECTIONS"),
            (
                &[("DB_STATEMENT_TIMEOUT_MS", "0")],
                "DB_STATEMENT_TIMEOUT_MS",
            ),
            (&[("DB_LOCK_TIMEOUT_MS", "x")], "DB_LOCK_TIMEOUT_MS"),
            (
                &[("ACCOUNT_LOCK_MAX_SECONDS", "0")],
                "ACCOUNT_LOCK_MAX_SECONDS",
            ),
            (&[("DATABASE_POOL_SIZE", "0")], "DATABASE_POOL_SIZE"),
            (
                &[("DATABASE_POOL_TIMEOUT_MS", "soon")],
                "DATABASE_POOL_TIMEOUT_MS",
            ),
            (
                &[("DATABASE_CONNECT_TIMEOUT_MS", "0")],
                "DATABASE_CONNECT_TIMEOUT_MS",
            ),
            (
                &[("DATABASE_STARTUP_TIMEOUT_SECONDS", "-1")],
                "DATABASE_STARTUP_TIMEOUT_SECONDS",
            ),
        ];
        for (pairs, name) in cases {
            match load(pairs) {
                Err(e) => assert_eq!(e.name, *name, "{pairs:?}"),
                Ok(_) => panic!("{pairs:?} must be refused"),
            }
        }
    }

    #[test]
    fn a_short_secret_error_does_not_show_the_secret() {
        match load(&[("JWT_SECRET", "hunter2-is-short")]) {
            Err(e) => assert!(!e.to_string().contains("hunter2")),
            Ok(_) => panic!("short secret must be refused"),
        }
    }

    #[test]
    fn a_config_file_is_read_and_the_environment_wins() -> Result<(), Box<dyn std::error::Error>> {
        let dir = std::env::temp_dir().join(format!("tessera-settings-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let path = dir.join("tessera.toml");
        std::fs::write(
            &path,
            "port = 9000\nbcrypt_cost = 10\nstorage = \"memory\"\n",
        )?;
        let s = Settings::from_sources(Some(&path), [("PORT", "9001")])?;
        assert_eq!(s.port, 9001);
        assert_eq!(s.bcrypt_cost, 10);
        assert_eq!(s.storage, Storage::Memory);
        std::fs::remove_dir_all(&dir)?;
        Ok(())
    }
}
