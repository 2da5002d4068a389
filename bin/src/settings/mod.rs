//! Settings: built-in defaults, then an optional TOML file, then environment variables
//! (the contract's names), read into sections that each validate themselves and convert
//! into the options of the adapter or use case they configure.
//!
//! A file uses the environment names in lower case (`port = 8080`, `cors_origins = "..."`).
//! A new numeric setting is one line in [`read`]'s table, its field in a section, and its
//! row in `docs/configuration.md`.

mod auth;
mod hashing;
mod http;
mod limits;
mod mail;
mod read;
mod storage;

use std::collections::HashMap;
use std::path::Path;

use config::{Config, File, FileFormat};
use thiserror::Error;

pub use auth::{AuthSection, MIN_SECRET_BYTES};
pub use hashing::HashingSection;
pub use http::HttpSection;
pub use limits::LimitsSection;
pub use mail::{DEFAULT_MAIL_FROM, DEV_MAIL_DIR, Delivery, MailSection};
pub use storage::{
    DEFAULT_DATABASE_URL, DEFAULT_SQLITE_URL, DatabaseSection, Storage, StorageSection,
};

use read::Raw;

/// The validated settings, by section.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where data is kept.
    pub storage: StorageSection,
    /// The database's pools and time limits.
    pub database: DatabaseSection,
    /// Token secrets and claims.
    pub auth: AuthSection,
    /// Budgets, quotas and retention.
    pub limits: LimitsSection,
    /// Password hashing.
    pub hashing: HashingSection,
    /// The HTTP server.
    pub http: HttpSection,
    /// Mail.
    pub mail: MailSection,
    /// Log lines as JSON instead of text.
    pub log_json: bool,
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

impl Settings {
    /// Reads the settings from the process environment and, if given, a config file.
    ///
    /// # Errors
    /// [`SettingsError`] naming the first unusable setting.
    pub fn load(file: Option<&Path>) -> Result<Self, SettingsError> {
        let env = read::TEXTS
            .iter()
            .chain(read::NUMBERS)
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
        Self::read(&Self::raw(file, env)?)
    }

    fn raw<K, V>(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Raw, SettingsError>
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
        let values: HashMap<String, String> = builder
            .build()
            .and_then(Config::try_deserialize)
            .map_err(|e| SettingsError::new("--config", e.to_string()))?;
        Ok(Raw::new(values))
    }

    fn read(raw: &Raw) -> Result<Self, SettingsError> {
        Ok(Self {
            storage: StorageSection::read(raw)?,
            database: DatabaseSection::read(raw)?,
            auth: AuthSection::read(raw)?,
            limits: LimitsSection::read(raw)?,
            hashing: HashingSection::read(raw)?,
            http: HttpSection::read(raw)?,
            mail: MailSection::read(raw)?,
            log_json: match raw.text("LOG_FORMAT").as_deref() {
                None | Some("text") => false,
                Some("json") => true,
                Some(_) => return Err(SettingsError::new("LOG_FORMAT", "use text or json")),
            },
        })
    }
}

#[cfg(test)]
mod tests;
