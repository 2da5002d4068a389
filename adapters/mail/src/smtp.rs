//! Delivery to an SMTP server, through lettre over rustls.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use secrecy::ExposeSecret;
use tessera_application::ports::{MailTransport, OutgoingMail, SendError};

use crate::message::{Composer, MailFrom, SetupError};
use crate::smtp_url::{SmtpSecurity, SmtpUrl};

/// How long one step of a conversation with the server (connecting, a reply, sending the
/// message) may take before the try counts as unreachable.
pub const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// Longest time one whole try may take, every step together: well within the sender's
/// 90-second claim, so that no other instance takes the mail over while it is sent.
pub const TRY_TIMEOUT: Duration = Duration::from_secs(45);

/// Sends each mail to the server `SMTP_URL` names, over a connection of its own (no pool:
/// a try cut off at [`TRY_TIMEOUT`] takes its connection with it).
#[derive(Clone)]
pub struct SmtpTransport {
    smtp: AsyncSmtpTransport<Tokio1Executor>,
    composer: Composer,
    server: String,
}

impl fmt::Debug for SmtpTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpTransport")
            .field("server", &self.server)
            .field("composer", &self.composer)
            .finish_non_exhaustive()
    }
}

impl SmtpTransport {
    /// A transport to `url`'s server, sending as `from`, ending each `Message-ID` with
    /// `message_host` (`PUBLIC_URL`'s host). Nothing is connected until the first mail,
    /// so a server that is down does not stop the start.
    ///
    /// # Errors
    /// [`SetupError`]: a `message_host` that cannot end a `Message-ID`, a TLS
    /// configuration that cannot be made, or no Tokio runtime to send on.
    pub fn new(url: &SmtpUrl, from: MailFrom, message_host: &str) -> Result<Self, SetupError> {
        let composer = Composer::new(from, message_host)?;
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(SetupError::NoRuntime);
        }
        let tls = match url.security() {
            SmtpSecurity::Plain => Tls::None,
            SmtpSecurity::StartTlsIfOffered => Tls::Opportunistic(tls_parameters(url)?),
            SmtpSecurity::StartTlsRequired => Tls::Required(tls_parameters(url)?),
            SmtpSecurity::ImplicitTls => Tls::Wrapper(tls_parameters(url)?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(url.host())
            .port(url.port())
            .tls(tls)
            .timeout(Some(SMTP_TIMEOUT));
        if let Some(account) = url.credentials() {
            builder = builder.credentials(Credentials::new(
                account.user.expose_secret().to_owned(),
                account.password.expose_secret().to_owned(),
            ));
        }
        Ok(Self {
            smtp: builder.build(),
            composer,
            server: url.redacted().to_string(),
        })
    }
}

/// The server's certificate must name the host the URL gives; the roots are the system's.
fn tls_parameters(url: &SmtpUrl) -> Result<TlsParameters, SetupError> {
    TlsParameters::new(url.host().to_owned()).map_err(|error| SetupError::Tls(error.to_string()))
}

#[async_trait]
impl MailTransport for SmtpTransport {
    async fn send(&self, mail: &OutgoingMail) -> Result<(), SendError> {
        let message = self.composer.compose(mail)?;
        let envelope = message.envelope();
        let international = envelope
            .to()
            .iter()
            .chain(envelope.from())
            .any(|address| !AsRef::<str>::as_ref(address).is_ascii());
        match tokio::time::timeout(TRY_TIMEOUT, self.smtp.send(message)).await {
            Ok(sent) => sent
                .map(drop)
                .map_err(|error| classify(&error, international)),
            Err(_) => Err(SendError::Unreachable(format!(
                "the try took over {} s",
                TRY_TIMEOUT.as_secs()
            ))),
        }
    }
}

/// What the sender should do after `error`. `international`: the envelope holds an
/// address that needs SMTPUTF8.
///
/// A 4xx reply to the mail is temporary, a 5xx one permanent. Timeouts, refused connections, TLS
/// failures, unreadable replies and a server that cannot be used as configured (no
/// STARTTLS under `tls=required`, no usable sign-in mechanism) are unreachable: retried,
/// as the mail is fine and the server or its configuration may be mended. A client-side
/// refusal of the mail itself (the message is 7-bit, so that means an address needing
/// SMTPUTF8 on a server without it) is invalid: dropped.
///
/// A refusal to sign in (530, 534, 535, 538) refuses the account, not the mail: it is
/// unreachable too, so a wrong password in `SMTP_URL` holds mail back instead of dropping
/// it.
///
/// The server's reply text is left out: a server may quote the recipient's address back.
fn classify(error: &lettre::transport::smtp::Error, international: bool) -> SendError {
    let code = error.status().map(u16::from);
    let shown = code.map(|code| code.to_string()).unwrap_or_default();
    if matches!(code, Some(530 | 534 | 535 | 538)) {
        SendError::Unreachable(format!("the server refused to sign in ({shown})"))
    } else if error.is_permanent() {
        SendError::Permanent(format!("the server refused the mail ({shown})"))
    } else if error.is_transient() {
        SendError::Temporary(format!("the server refused the mail for now ({shown})"))
    } else if error.is_client() && international {
        SendError::Invalid(
            "the recipient's address needs SMTPUTF8, which the server does not offer".to_owned(),
        )
    } else if error.is_timeout() {
        SendError::Unreachable(format!("no answer within {} s", SMTP_TIMEOUT.as_secs()))
    } else if error.is_tls() {
        SendError::Unreachable(error.to_string())
    } else if error.is_response() {
        SendError::Unreachable("the server's reply could not be read".to_owned())
    } else if error.is_client() {
        SendError::Unreachable(format!("the server cannot be used: {error}"))
    } else {
        // Connection and network errors, and a pool already shut down: their text is the
        // operating system's.
        SendError::Unreachable(error.to_string())
    }
}
