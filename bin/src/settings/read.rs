//! Settings as text, by name, and the rules that turn that text into values.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::ops::RangeInclusive;
use std::time::Duration;

use super::SettingsError;

/// A numeric setting: its name, its default (none when it has no fixed one) and the
/// values it accepts.
pub(super) struct Number<T: 'static> {
    pub(super) name: &'static str,
    pub(super) default: Option<T>,
    pub(super) range: RangeInclusive<T>,
}

/// Every setting given, as text, by its name in lower case. It holds the secrets and the
/// database URL in the clear, so it has no `Debug`: nothing can print it.
pub(super) struct Raw {
    values: HashMap<String, String>,
    /// The names looked up, so that a test can hold them to the names read from the
    /// environment.
    asked: RefCell<BTreeSet<&'static str>>,
}

impl Raw {
    pub(super) fn new(values: HashMap<String, String>) -> Self {
        Self {
            values,
            asked: RefCell::default(),
        }
    }

    /// The value as given, untrimmed; `None` when the setting is absent.
    pub(super) fn given(&self, name: &'static str) -> Option<&str> {
        self.asked.borrow_mut().insert(name);
        self.values
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// Every name looked up so far.
    #[cfg(test)]
    pub(super) fn asked(&self) -> BTreeSet<&'static str> {
        self.asked.borrow().clone()
    }

    /// The trimmed value; `None` when absent or blank.
    pub(super) fn text(&self, name: &'static str) -> Option<String> {
        self.given(name)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    }

    /// The number, or its default when absent or blank.
    pub(super) fn number<T>(&self, setting: &Number<T>) -> Result<T, SettingsError>
    where
        T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
    {
        match (self.optional(setting)?, setting.default) {
            (Some(value), _) | (None, Some(value)) => Ok(value),
            (None, None) => Err(SettingsError::new(setting.name, "must be set")),
        }
    }

    /// The number, or `default` when absent or blank (for defaults known only at start).
    pub(super) fn number_or<T>(&self, setting: &Number<T>, default: T) -> Result<T, SettingsError>
    where
        T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
    {
        Ok(self.optional(setting)?.unwrap_or(default))
    }

    /// The number when given; `None` when absent or blank.
    pub(super) fn optional<T>(&self, setting: &Number<T>) -> Result<Option<T>, SettingsError>
    where
        T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
    {
        let Some(raw) = self.text(setting.name) else {
            return Ok(None);
        };
        raw.parse::<T>()
            .ok()
            .filter(|n| setting.range.contains(n))
            .map(Some)
            .ok_or_else(|| {
                SettingsError::new(
                    setting.name,
                    format!(
                        "{raw:?} is not a whole number from {} to {}",
                        setting.range.start(),
                        setting.range.end()
                    ),
                )
            })
    }

    /// A number of seconds.
    pub(super) fn seconds(&self, setting: &Number<u64>) -> Result<Duration, SettingsError> {
        self.number(setting).map(Duration::from_secs)
    }

    /// A number of milliseconds.
    pub(super) fn millis(&self, setting: &Number<u64>) -> Result<Duration, SettingsError> {
        self.number(setting).map(Duration::from_millis)
    }
}

/// The numeric settings, one line each: name, type, default (when it has a fixed one)
/// and the values accepted. Their names are read from the environment; their rows are in
/// `docs/configuration.md`.
macro_rules! numbers {
    (@default) => { None };
    (@default $default:expr) => { Some($default) };
    ($($name:ident: $t:ty $(= $default:expr)?, $range:expr;)*) => {
        $(
            pub(super) const $name: Number<$t> = Number {
                name: stringify!($name),
                default: numbers!(@default $($default)?),
                range: $range,
            };
        )*
        /// The name of every numeric setting.
        pub(super) const NUMBERS: &[&str] = &[$(stringify!($name)),*];
    };
}

numbers! {
    PORT: u16 = 8080, 0..=u16::MAX;
    DATABASE_POOL_SIZE: usize = 10, 1..=1000;
    DATABASE_AUTH_POOL_SIZE: usize = 10, 1..=1000;
    DATABASE_POOL_TIMEOUT_MS: u64 = 2000, 1..=60_000;
    DATABASE_CONNECT_TIMEOUT_MS: u64 = 3000, 1..=60_000;
    DATABASE_STARTUP_TIMEOUT_SECONDS: u64 = 10, 0..=600;
    DB_STATEMENT_TIMEOUT_MS: u64 = 5000, 1..=3_600_000;
    DB_LOCK_TIMEOUT_MS: u64 = 2000, 1..=3_600_000;
    TOKEN_TTL_SECONDS: u32 = 604_800, 60..=31_536_000;
    BCRYPT_COST: u32 = 12, 4..=31;
    HASH_CONCURRENCY: usize, 1..=1024;
    HASH_QUEUE: usize, 0..=1_000_000;
    HASH_WAIT_SECONDS: u64 = 3, 1..=600;
    AUTH_RATE_LIMIT_PER_MINUTE: u32 = 10, 0..=1_000_000;
    ACCOUNT_FAILURE_LIMIT: u32 = 5, 0..=1_000_000;
    ACCOUNT_LOCK_MAX_SECONDS: u32 = 900, 1..=86_400;
    TASK_WRITES_PER_MINUTE: u32 = 600, 0..=1_000_000;
    TASK_WRITES_PER_MINUTE_PER_ADDRESS: u32 = 1200, 0..=1_000_000;
    MAX_SESSIONS_PER_USER: u32 = 50, 1..=100_000;
    MAX_TASKS_PER_USER: u32 = 10_000, 1..=1_000_000;
    RETENTION_DAYS: u32 = 30, 1..=3650;
    BODY_TIMEOUT_SECONDS: u64 = 10, 1..=3600;
    MAX_CONNECTIONS: usize = 10_000, 1..=1_000_000;
    HEAD_TIMEOUT_SECONDS: u64 = 5, 1..=3600;
    KEEP_ALIVE_SECONDS: u64 = 5, 1..=3600;
    SEND_TIMEOUT_SECONDS: u64 = 30, 1..=3600;
    MAX_CONNECTIONS_PER_ADDRESS: usize = 256, 0..=1_000_000;
    HSTS_MAX_AGE_SECONDS: u64, 0..=315_360_000;
    MAIL_RETRY_HOURS: u32 = 24, 1..=168;
    MAIL_PER_ACCOUNT_PER_HOUR: u32 = 5, 1..=100;
    RESET_TOKEN_TTL_SECONDS: u32 = 1800, 60..=86_400;
    VERIFY_TOKEN_TTL_SECONDS: u32 = 86_400, 60..=604_800;
}

/// The settings that are not numbers.
pub(super) const TEXTS: &[&str] = &[
    "STORAGE",
    "DATABASE_URL",
    "BETTER_AUTH_SECRET",
    "JWT_SECRET",
    "JWT_SECRET_PREVIOUS",
    "JWT_ISSUER",
    "JWT_AUDIENCE",
    "HOST",
    "PUBLIC_URL",
    "METRICS_HOSTS",
    "TRUSTED_PROXIES",
    "METRICS_ALLOW",
    "CORS_ORIGINS",
    "LOG_FORMAT",
    "SMTP_URL",
    "MAIL_FROM",
    "EMAIL_VERIFICATION",
];
