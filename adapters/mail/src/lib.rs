//! Mail delivery: the `MailTransport` port over SMTP ([`SmtpTransport`], from an
//! `SMTP_URL` read by [`SmtpUrl`]) or into a directory of `.eml` files
//! ([`EmlDirectory`], for development), and the messages both write: the contract's
//! headers and a text and an HTML part from the templates in `templates/`.
//!
//! This is the only crate that knows lettre; its types do not leave it.

mod eml;
mod message;
mod off;
mod smtp;
mod smtp_url;
mod templates;

pub use eml::EmlDirectory;
pub use message::{MailFrom, MailFromError, SetupError, parse_from};
pub use off::MailOff;
pub use smtp::{SMTP_TIMEOUT, SmtpTransport, TRY_TIMEOUT};
pub use smtp_url::{RedactedSmtpUrl, SmtpSecurity, SmtpUrl, SmtpUrlError};
