//! Mail: where it goes (`SMTP_URL`, or `.eml` files in development, or nowhere), who
//! sends it, how long delivery is retried, how much one account may be sent, how long
//! its links work, and whether signin waits for a proven address.

use std::path::PathBuf;

use tessera_application::MailSettings;
use tessera_domain::{EmailVerification, MailQuota, MailRetry};
use tessera_mail::{MailFrom, SmtpUrl};

use super::SettingsError;
use super::read::{
    MAIL_PER_ACCOUNT_PER_HOUR, MAIL_RETRY_HOURS, RESET_TOKEN_TTL_SECONDS, Raw,
    VERIFY_TOKEN_TTL_SECONDS,
};

/// The sender when `MAIL_FROM` is not set.
pub const DEFAULT_MAIL_FROM: &str = "Tessera <no-reply@localhost>";

/// Where development mode writes mail when no `SMTP_URL` is set (git-ignored).
pub const DEV_MAIL_DIR: &str = ".tessera/mail";

/// Where mail goes.
#[derive(Debug, Clone)]
pub enum Delivery {
    /// To the SMTP server of `SMTP_URL`.
    Smtp(SmtpUrl),
    /// As `.eml` files into this directory (development mode without `SMTP_URL`).
    Files(PathBuf),
    /// Nowhere: no `SMTP_URL`, not in development mode.
    Off,
}

/// The mail settings.
#[derive(Debug, Clone)]
pub struct MailSection {
    /// Where mail goes.
    pub delivery: Delivery,
    /// The sender (`MAIL_FROM`).
    pub from: MailFrom,
    /// How long delivery is retried (`MAIL_RETRY_HOURS`).
    pub retry: MailRetry,
    /// Quota, link lifetimes and `EMAIL_VERIFICATION`.
    pub accounts: MailSettings,
}

impl MailSection {
    pub(super) fn read(raw: &Raw) -> Result<Self, SettingsError> {
        let delivery = match raw.text("SMTP_URL") {
            Some(text) => Delivery::Smtp(
                SmtpUrl::parse(&text).map_err(|e| SettingsError::new("SMTP_URL", e.to_string()))?,
            ),
            None => Delivery::Off,
        };
        let from = tessera_mail::parse_from(
            raw.text("MAIL_FROM")
                .as_deref()
                .unwrap_or(DEFAULT_MAIL_FROM),
        )
        .map_err(|e| SettingsError::new("MAIL_FROM", e.to_string()))?;
        let verification = match raw.text("EMAIL_VERIFICATION").as_deref() {
            None | Some("optional") => EmailVerification::Optional,
            Some("required") => EmailVerification::Required,
            Some("off") => EmailVerification::Off,
            Some(other) => {
                return Err(SettingsError::new(
                    "EMAIL_VERIFICATION",
                    format!("{other:?} is not one of optional, required, off"),
                ));
            }
        };
        let hours = raw.number(&MAIL_RETRY_HOURS)?;
        let seconds = |setting| {
            raw.number(setting)
                .map(|n: u32| chrono::Duration::seconds(i64::from(n)))
        };
        Ok(Self {
            delivery,
            from,
            retry: MailRetry {
                window: chrono::Duration::hours(i64::from(hours)),
            },
            accounts: MailSettings {
                quota: MailQuota {
                    per_hour: raw.number(&MAIL_PER_ACCOUNT_PER_HOUR)?,
                },
                reset_ttl: seconds(&RESET_TOKEN_TTL_SECONDS)?,
                verify_ttl: seconds(&VERIFY_TOKEN_TTL_SECONDS)?,
                verification,
            },
        })
    }
}
