//! `SMTP_URL`: which server, how its connection is secured, and the account to sign in
//! with.
//!
//! The contract's reading, not lettre's `from_url`: there `smtp://host` means port 25 with
//! no STARTTLS, `?tls=none` is refused and a user without a password is dropped silently.

use std::fmt;

use percent_encoding::percent_decode_str;
use secrecy::{ExposeSecret, SecretString};
use tessera_domain::REDACTED;
use thiserror::Error;
use url::{Host, Url};

/// How the connection to the mail server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// `smtp://`: STARTTLS when the server offers it, plain text when it does not.
    StartTlsIfOffered,
    /// `smtp://...?tls=required`: STARTTLS, or no mail at all.
    StartTlsRequired,
    /// `smtp://...?tls=none`: plain text, even when the server offers STARTTLS.
    Plain,
    /// `smtps://`: TLS from the first byte.
    ImplicitTls,
}

impl SmtpSecurity {
    /// The port used when the URL names none: submission (587) for `smtp://`, submissions
    /// (465) for `smtps://`.
    #[must_use]
    pub const fn default_port(self) -> u16 {
        match self {
            Self::ImplicitTls => 465,
            Self::StartTlsIfOffered | Self::StartTlsRequired | Self::Plain => 587,
        }
    }
}

/// Why an `SMTP_URL` was refused. Each message is one short clause that never repeats
/// the password (the caller puts the setting's name in front).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SmtpUrlError {
    /// Not a URL at all.
    #[error("not a URL")]
    NotUrl,
    /// A scheme other than `smtp` or `smtps`.
    #[error("use smtp:// or smtps://")]
    Scheme,
    /// No host, or an empty one.
    #[error("no host")]
    NoHost,
    /// A host that is neither a DNS name nor an IP address.
    #[error("the host must be a name or an IP address")]
    BadHost,
    /// A port outside 1 to 65535.
    #[error("the port must be 1 to 65535")]
    BadPort,
    /// A path after the host.
    #[error("no path is allowed")]
    Path,
    /// A `#fragment`.
    #[error("no fragment is allowed")]
    Fragment,
    /// A `tls` value other than `required` or `none`.
    #[error("tls must be required or none")]
    Tls,
    /// `tls` on `smtps://`, which is always TLS.
    #[error("tls is only for smtp:// (smtps:// is always TLS)")]
    TlsOnSmtps,
    /// `tls` given more than once.
    #[error("tls is given twice")]
    TlsTwice,
    /// A query option this reader does not know, named when its name is a plain word.
    #[error("unknown option {0}")]
    UnknownOption(String),
    /// A query option this reader does not know, whose name is not a plain word.
    #[error("tls is the only option")]
    OddOption,
    /// An `@` after the host: a user or password holding `/`, `?` or `#` that was not
    /// percent-encoded (so the URL cannot be read without guessing).
    #[error("percent-encode / ? # @ : in the user and password")]
    UnencodedCredentials,
    /// A user without a password.
    #[error("a user needs a password")]
    UserWithoutPassword,
    /// A password without a user.
    #[error("a password needs a user")]
    PasswordWithoutUser,
    /// A user or password whose percent-decoding is not UTF-8.
    #[error("the user and password must be UTF-8")]
    NotUtf8,
}

/// The account to sign in to the mail server with.
#[derive(Clone)]
pub(crate) struct SmtpCredentials {
    pub(crate) user: SecretString,
    pub(crate) password: SecretString,
}

/// A parsed `SMTP_URL`: `smtp://[user:password@]host[:port][?tls=required|none]` or
/// `smtps://[user:password@]host[:port]`. User and password are percent-decoded and kept
/// as secrets; neither `Debug` nor [`SmtpUrl::redacted`] shows them.
#[derive(Clone)]
pub struct SmtpUrl {
    security: SmtpSecurity,
    host: String,
    port: u16,
    credentials: Option<SmtpCredentials>,
}

impl SmtpUrl {
    /// Reads an `SMTP_URL`.
    ///
    /// # Errors
    /// The [`SmtpUrlError`] of the first rule broken.
    pub fn parse(raw: &str) -> Result<Self, SmtpUrlError> {
        let raw = raw.trim();
        if has_unencoded_credentials(raw) {
            return Err(SmtpUrlError::UnencodedCredentials);
        }
        let url = Url::parse(raw).map_err(|error| match error {
            url::ParseError::RelativeUrlWithoutBase => SmtpUrlError::Scheme,
            url::ParseError::EmptyHost => SmtpUrlError::NoHost,
            url::ParseError::InvalidPort => SmtpUrlError::BadPort,
            url::ParseError::IdnaError
            | url::ParseError::InvalidIpv4Address
            | url::ParseError::InvalidIpv6Address
            | url::ParseError::InvalidDomainCharacter => SmtpUrlError::BadHost,
            _ => SmtpUrlError::NotUrl,
        })?;
        let security = match url.scheme() {
            "smtp" => SmtpSecurity::StartTlsIfOffered,
            "smtps" => SmtpSecurity::ImplicitTls,
            _ => return Err(SmtpUrlError::Scheme),
        };
        let host = match url.host() {
            None => return Err(SmtpUrlError::NoHost),
            Some(Host::Domain("")) => return Err(SmtpUrlError::NoHost),
            Some(Host::Domain(name)) => dns_name(name)?,
            Some(Host::Ipv4(ip)) => ip.to_string(),
            Some(Host::Ipv6(ip)) => ip.to_string(),
        };
        let port = match url.port() {
            Some(0) => return Err(SmtpUrlError::BadPort),
            Some(port) => port,
            None => security.default_port(),
        };
        if !matches!(url.path(), "" | "/") {
            return Err(SmtpUrlError::Path);
        }
        if url.fragment().is_some() {
            return Err(SmtpUrlError::Fragment);
        }
        let credentials = match (url.username(), url.password()) {
            ("", None) => None,
            ("", Some(_)) => return Err(SmtpUrlError::PasswordWithoutUser),
            (_, None) => return Err(SmtpUrlError::UserWithoutPassword),
            (user, Some(password)) => Some(SmtpCredentials {
                user: decoded(user)?,
                password: decoded(password)?,
            }),
        };
        let security = options(&url, security, credentials.as_ref())?;
        Ok(Self {
            security,
            host,
            port,
            credentials,
        })
    }

    /// How the connection is secured.
    #[must_use]
    pub fn security(&self) -> SmtpSecurity {
        self.security
    }

    /// The server's name or IP address (an IPv6 address without brackets), as connected
    /// to and as its certificate must name it.
    #[must_use]
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The server's port.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Whether the URL names an account to sign in with.
    #[must_use]
    pub fn has_credentials(&self) -> bool {
        self.credentials.is_some()
    }

    pub(crate) fn credentials(&self) -> Option<&SmtpCredentials> {
        self.credentials.as_ref()
    }

    /// The URL for a log line: scheme, host, port and `tls` option, with the account
    /// shown as `<redacted>`.
    #[must_use]
    pub fn redacted(&self) -> RedactedSmtpUrl<'_> {
        RedactedSmtpUrl(self)
    }
}

impl std::str::FromStr for SmtpUrl {
    type Err = SmtpUrlError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Debug for SmtpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpUrl")
            .field("security", &self.security)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("credentials", &self.credentials.as_ref().map(|_| REDACTED))
            .finish()
    }
}

/// An [`SmtpUrl`] as shown in logs: `smtp://<redacted>@mail.example.com:587?tls=required`.
#[derive(Debug, Clone, Copy)]
pub struct RedactedSmtpUrl<'a>(&'a SmtpUrl);

impl fmt::Display for RedactedSmtpUrl<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = self.0;
        let scheme = match url.security {
            SmtpSecurity::ImplicitTls => "smtps",
            SmtpSecurity::StartTlsIfOffered
            | SmtpSecurity::StartTlsRequired
            | SmtpSecurity::Plain => "smtp",
        };
        write!(f, "{scheme}://")?;
        if url.credentials.is_some() {
            write!(f, "{REDACTED}@")?;
        }
        if url.host.contains(':') {
            write!(f, "[{}]", url.host)?;
        } else {
            f.write_str(&url.host)?;
        }
        write!(f, ":{}", url.port)?;
        match url.security {
            SmtpSecurity::StartTlsRequired => f.write_str("?tls=required"),
            SmtpSecurity::Plain => f.write_str("?tls=none"),
            SmtpSecurity::StartTlsIfOffered | SmtpSecurity::ImplicitTls => Ok(()),
        }
    }
}

/// The security `url`'s options choose, from its scheme's. `tls` is the only option, once,
/// on `smtp://` only. An unknown option is named when that cannot show a secret.
fn options(
    url: &Url,
    mut security: SmtpSecurity,
    credentials: Option<&SmtpCredentials>,
) -> Result<SmtpSecurity, SmtpUrlError> {
    let mut tls_seen = false;
    for (key, value) in url.query_pairs() {
        if key != "tls" {
            let secret = credentials.is_some_and(|account| {
                let (user, password) = (
                    account.user.expose_secret(),
                    account.password.expose_secret(),
                );
                [user, password]
                    .iter()
                    .any(|s| s.contains(&*key) || key.contains(s))
            });
            return Err(if is_plain_word(&key) && !secret {
                SmtpUrlError::UnknownOption(key.into_owned())
            } else {
                SmtpUrlError::OddOption
            });
        }
        if security == SmtpSecurity::ImplicitTls {
            return Err(SmtpUrlError::TlsOnSmtps);
        }
        if tls_seen {
            return Err(SmtpUrlError::TlsTwice);
        }
        tls_seen = true;
        security = match &*value {
            "required" => SmtpSecurity::StartTlsRequired,
            "none" => SmtpSecurity::Plain,
            _ => return Err(SmtpUrlError::Tls),
        };
    }
    Ok(security)
}

/// A host name as DNS knows it: ASCII letters, digits, hyphens, underscores and inner
/// dots, lower-cased. (`url` leaves the hosts of `smtp:` URLs as written, percent-encoded.)
fn dns_name(name: &str) -> Result<String, SmtpUrlError> {
    let name = name.to_ascii_lowercase();
    let shaped = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && !name.starts_with(['.', '-'])
        && !name.ends_with('-')
        && !name.contains("..");
    if shaped {
        Ok(name)
    } else {
        Err(SmtpUrlError::BadHost)
    }
}

fn decoded(part: &str) -> Result<SecretString, SmtpUrlError> {
    percent_decode_str(part)
        .decode_utf8()
        .map(|text| SecretString::from(text.into_owned()))
        .map_err(|_| SmtpUrlError::NotUtf8)
}

/// Whether an option's name may be repeated in an error: 1 to 32 ASCII letters, digits,
/// `-` and `_` (and, checked by the caller, no part of the user or password). Anything
/// else may be a piece of a password that was not percent-encoded.
fn is_plain_word(key: &str) -> bool {
    (1..=32).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
}

/// Whether an `@` follows the first `/`, `?` or `#` after `scheme://`: then the user
/// information held one of those unencoded, and part of a password would be read as a
/// host, port, path or option.
fn has_unencoded_credentials(raw: &str) -> bool {
    let Some((_, rest)) = raw.split_once("://") else {
        return false;
    };
    match (rest.find(['/', '?', '#']), rest.rfind('@')) {
        (Some(end_of_authority), Some(at)) => at > end_of_authority,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(raw: &str) -> Result<(SmtpSecurity, String, u16), SmtpUrlError> {
        SmtpUrl::parse(raw).map(|url| (url.security(), url.host().to_owned(), url.port()))
    }

    #[test]
    fn schemes_options_and_ports_choose_the_security_and_port() {
        use SmtpSecurity::{ImplicitTls, Plain, StartTlsIfOffered, StartTlsRequired};
        let cases = [
            (
                "smtp://mail.example.com",
                StartTlsIfOffered,
                "mail.example.com",
                587,
            ),
            (
                "smtp://mail.example.com:25",
                StartTlsIfOffered,
                "mail.example.com",
                25,
            ),
            (
                "smtp://mail.example.com/",
                StartTlsIfOffered,
                "mail.example.com",
                587,
            ),
            (
                "SMTP://Mail.Example.COM:2525",
                StartTlsIfOffered,
                "mail.example.com",
                2525,
            ),
            (
                "smtp://mail.example.com?tls=required",
                StartTlsRequired,
                "mail.example.com",
                587,
            ),
            (
                "smtp://mail.example.com:587/?tls=required",
                StartTlsRequired,
                "mail.example.com",
                587,
            ),
            ("smtp://localhost:1025?tls=none", Plain, "localhost", 1025),
            ("smtp://127.0.0.1:1025?tls=none", Plain, "127.0.0.1", 1025),
            ("smtp://[::1]:1025", StartTlsIfOffered, "::1", 1025),
            (
                "smtp://mail_relay.internal",
                StartTlsIfOffered,
                "mail_relay.internal",
                587,
            ),
            (
                "smtps://mail.example.com",
                ImplicitTls,
                "mail.example.com",
                465,
            ),
            (
                "smtps://mail.example.com:2465",
                ImplicitTls,
                "mail.example.com",
                2465,
            ),
            (
                "smtp://mail.example.com?",
                StartTlsIfOffered,
                "mail.example.com",
                587,
            ),
            (
                "  smtp://mail.example.com  ",
                StartTlsIfOffered,
                "mail.example.com",
                587,
            ),
        ];
        for (raw, security, host, port) in cases {
            assert_eq!(parsed(raw), Ok((security, host.to_owned(), port)), "{raw}");
        }
    }

    #[test]
    fn bad_urls_are_refused_with_their_reason() {
        use SmtpUrlError as E;
        let cases = [
            ("", E::Scheme),
            ("mail.example.com:587", E::Scheme),
            ("http://mail.example.com", E::Scheme),
            ("smtp+tls://mail.example.com", E::Scheme),
            ("smtp://", E::NoHost),
            ("smtp:mail.example.com", E::NoHost),
            ("smtp://user:secret@", E::NoHost),
            ("smtp://mail.example.com:0", E::BadPort),
            ("smtp://mail.example.com:65536", E::BadPort),
            ("smtp://mail.example.com:port", E::BadPort),
            ("smtp://mail%20example.com", E::BadHost),
            ("smtp://exämple.com", E::BadHost),
            ("smtp://-mail.example.com", E::BadHost),
            ("smtp://mail..example.com", E::BadHost),
            ("smtp://[::1", E::BadHost),
            ("smtp://mail.example.com/inbox", E::Path),
            ("smtp://mail.example.com#top", E::Fragment),
            ("smtp://mail.example.com?tls=opportunistic", E::Tls),
            ("smtp://mail.example.com?tls=", E::Tls),
            ("smtp://mail.example.com?tls=REQUIRED", E::Tls),
            ("smtps://mail.example.com?tls=required", E::TlsOnSmtps),
            ("smtps://mail.example.com?tls=none", E::TlsOnSmtps),
            ("smtp://mail.example.com?tls=none&tls=required", E::TlsTwice),
            (
                "smtp://mail.example.com?timeout=5",
                E::UnknownOption("timeout".to_owned()),
            ),
            ("smtp://mail.example.com?tls", E::Tls),
            ("smtp://user@mail.example.com", E::UserWithoutPassword),
            ("smtp://user:@mail.example.com", E::UserWithoutPassword),
            ("smtp://:secret@mail.example.com", E::PasswordWithoutUser),
            ("smtp://user:%FF%FE@mail.example.com", E::NotUtf8),
        ];
        for (raw, error) in cases {
            assert_eq!(parsed(raw), Err(error), "{raw}");
        }
    }

    #[test]
    fn user_and_password_are_percent_decoded() {
        let url = SmtpUrl::parse("smtps://me%40example.com:p%40ss%3Aw%2Frd%20%25@mail.example.com");
        let credentials = url.as_ref().ok().and_then(SmtpUrl::credentials);
        assert_eq!(
            credentials.map(|c| (c.user.expose_secret(), c.password.expose_secret())),
            Some(("me@example.com", "p@ss:w/rd %"))
        );
        // A plus sign is a plus sign in user information, not a space.
        let plus = SmtpUrl::parse("smtp://apikey:a+b@mail.example.com");
        let credentials = plus.as_ref().ok().and_then(SmtpUrl::credentials);
        assert_eq!(credentials.map(|c| c.password.expose_secret()), Some("a+b"));
        assert!(!SmtpUrl::parse("smtp://mail.example.com").is_ok_and(|url| url.has_credentials()));
    }

    #[test]
    fn the_password_is_never_shown() {
        let secret = "s3cr3t-Pa55";
        let raw = format!("smtp://alice:{secret}@mail.example.com?tls=required");
        let Ok(url) = SmtpUrl::parse(&raw) else {
            panic!("{raw} should parse");
        };
        for shown in [format!("{url:?}"), url.redacted().to_string()] {
            assert!(!shown.contains(secret), "{shown}");
            assert!(!shown.contains("alice"), "{shown}");
            assert!(shown.contains("mail.example.com"), "{shown}");
        }
        // Nor does any refusal, whatever follows the password.
        for raw in [
            format!("smtp://alice:{secret}@mail.example.com?tls=maybe"),
            format!("smtp://alice:{secret}@mail.example.com/x"),
            format!("smtp://alice:{secret}@mail.example.com:99999"),
            format!("smtp://alice:{secret}@"),
            format!("smtp://alice:{secret}@host?{secret}=1"),
            format!("smtp://alice:12?{secret}=1@mail.example.com"),
            format!("smtp://alice:12/{secret}@mail.example.com"),
            format!("smtp://alice:{secret}#x@mail.example.com"),
            format!("ftp://alice:{secret}@mail.example.com"),
        ] {
            let error = SmtpUrl::parse(&raw).err().map(|e| e.to_string());
            assert!(error.is_some(), "{raw}");
            assert!(!error.unwrap_or_default().contains("s3cr3t"), "{raw}");
        }
    }

    #[test]
    fn redacted_urls_show_scheme_host_port_and_option() {
        let shown = |raw: &str| SmtpUrl::parse(raw).map(|url| url.redacted().to_string());
        assert_eq!(
            shown("smtp://mail.example.com"),
            Ok("smtp://mail.example.com:587".into())
        );
        assert_eq!(
            shown("smtp://u:p@mail.example.com?tls=required"),
            Ok("smtp://<redacted>@mail.example.com:587?tls=required".into())
        );
        assert_eq!(
            shown("smtp://[::1]:25?tls=none"),
            Ok("smtp://[::1]:25?tls=none".into())
        );
        assert_eq!(
            shown("smtps://u:p@mail.example.com"),
            Ok("smtps://<redacted>@mail.example.com:465".into())
        );
    }

    #[test]
    fn unknown_options_are_named_only_when_plain_words() {
        let error = |raw: &str| SmtpUrl::parse(raw).err().map(|e| e.to_string());
        assert_eq!(error("smtp://h?x=1").as_deref(), Some("unknown option x"));
        assert_eq!(
            error("smtp://h?tls=none&auth_mech=plain").as_deref(),
            Some("unknown option auth_mech")
        );
        let long = "x".repeat(33);
        assert_eq!(
            error(&format!("smtp://h?{long}=1")).as_deref(),
            Some("tls is the only option")
        );
        assert_eq!(
            error("smtp://h?a%0Ab=1").as_deref(),
            Some("tls is the only option")
        );
        assert_eq!(
            error("smtp://h?p%40ss=1").as_deref(),
            Some("tls is the only option")
        );
        // Nor when the name is, or holds, the user or the password.
        assert_eq!(
            error("smtp://alice:hunter2@h?user=1").as_deref(),
            Some("unknown option user")
        );
        for raw in [
            "smtp://alice:hunter2@h?hunter2=1",
            "smtp://alice:hunter2@h?hunter=1",
            "smtp://alice:pw@h?alice2=1",
        ] {
            assert_eq!(
                error(raw).as_deref(),
                Some("tls is the only option"),
                "{raw}"
            );
        }
    }

    #[test]
    fn unencoded_separators_in_credentials_are_named() {
        for raw in [
            "smtp://alice:pa?ss@mail.example.com",
            "smtp://alice:pa/ss@mail.example.com",
            "smtp://alice:pa#ss@mail.example.com",
            "smtp://al/ice:pass@mail.example.com",
            "smtp://mail.example.com?tls=none@x",
        ] {
            assert_eq!(
                parsed(raw),
                Err(SmtpUrlError::UnencodedCredentials),
                "{raw}"
            );
        }
        // Encoded, they are fine; so is an `@` inside the user information.
        assert!(parsed("smtp://alice:pa%3Fss%2F%23@mail.example.com").is_ok());
        assert!(parsed("smtp://me@example.com:pass@mail.example.com").is_ok());
    }
}
