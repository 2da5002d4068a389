//! The message a mail becomes: its headers and its two bodies, the same for every
//! transport.

use std::fmt;
use std::time::SystemTime;

use lettre::Address;
use lettre::Message;
use lettre::message::header::{ContentTransferEncoding, HeaderName, HeaderValue};
use lettre::message::{Body, Mailbox, MultiPart};
use tessera_application::ports::{OutgoingMail, SendError};
use thiserror::Error;

use crate::templates::render;

/// `MAIL_FROM`: the sender every mail names, as `Name <address>` or a bare address.
#[derive(Clone, PartialEq, Eq)]
pub struct MailFrom(Mailbox);

/// Why a `MAIL_FROM` was refused: one short clause (the caller names the setting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum MailFromError {
    /// Empty or only white space.
    #[error("no address")]
    Empty,
    /// Not an address, nor a name and an address.
    #[error("write an address, or a name and an address as in Tessera <no-reply@example.com>")]
    Invalid,
}

/// Reads `MAIL_FROM` (the contract's default is `Tessera <no-reply@localhost>`).
///
/// # Errors
/// [`MailFromError`] when the text is empty or not a mailbox.
pub fn parse_from(raw: &str) -> Result<MailFrom, MailFromError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(MailFromError::Empty);
    }
    raw.parse::<Mailbox>()
        .map(MailFrom)
        .map_err(|_| MailFromError::Invalid)
}

impl std::str::FromStr for MailFrom {
    type Err = MailFromError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_from(s)
    }
}

impl fmt::Display for MailFrom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for MailFrom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("MailFrom")
            .field(&self.0.to_string())
            .finish()
    }
}

/// Why a transport could not be built.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SetupError {
    /// The host for `Message-ID`s is not a host name or an IP address.
    #[error("the Message-ID host must be a host name or an IP address")]
    MessageHost,
    /// The TLS configuration (root certificates, protocol versions) could not be made.
    #[error("TLS cannot be set up: {0}")]
    Tls(String),
    /// Built outside a Tokio runtime (the connection pool runs a task on it).
    #[error("the SMTP transport must be built inside a Tokio runtime")]
    NoRuntime,
}

/// Writes the messages: the sender, and the host that ends every `Message-ID`.
#[derive(Clone)]
pub(crate) struct Composer {
    from: Mailbox,
    host: String,
}

impl fmt::Debug for Composer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Composer")
            .field("from", &self.from.to_string())
            .field("host", &self.host)
            .finish()
    }
}

impl Composer {
    /// `host` is the right side of each `Message-ID` (`PUBLIC_URL`'s host): a DNS name,
    /// or an address literal in brackets.
    pub(crate) fn new(from: MailFrom, host: &str) -> Result<Self, SetupError> {
        if !is_message_id_host(host) {
            return Err(SetupError::MessageHost);
        }
        Ok(Self {
            from: from.0,
            host: host.to_ascii_lowercase(),
        })
    }

    /// The message of `mail`: `From`, `To`, `Subject`, `Date` (when it was queued), a
    /// `Message-ID` made from its id (so every try carries the same one),
    /// `Auto-Submitted: auto-generated`, and a `multipart/alternative` body whose text and
    /// HTML parts carry the same link.
    ///
    /// # Errors
    /// [`SendError::Invalid`] when the mail cannot be written: a recipient address that
    /// cannot be carried, or a link on a kind without one (or none on a kind with one).
    /// The message never holds the link or the address.
    pub(crate) fn compose(&self, mail: &OutgoingMail) -> Result<Message, SendError> {
        let kind = mail.kind;
        let link = match (kind.link_page(), &mail.link) {
            (Some(_), Some((link, lifetime))) => Some((link.as_str(), *lifetime)),
            (None, None) => None,
            (Some(_), None) => {
                return Err(SendError::Invalid(format!("a {kind} mail needs its link")));
            }
            (None, Some(_)) => {
                return Err(SendError::Invalid(format!("a {kind} mail carries no link")));
            }
        };
        let to: Address = mail.to.as_str().parse().map_err(|_| {
            SendError::Invalid("the recipient's address cannot be written in a mail".to_owned())
        })?;
        let bodies = render(kind, link, mail.queued_at);
        Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(None, to))
            .subject(kind.subject())
            .date(SystemTime::from(mail.queued_at))
            .message_id(Some(format!("<{}@{}>", mail.id, self.host)))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("Auto-Submitted"),
                "auto-generated".to_owned(),
            ))
            .multipart(MultiPart::alternative_plain_html(
                seven_bit(bodies.text),
                seven_bit(bodies.html),
            ))
            .map_err(|error| SendError::Invalid(format!("the message cannot be built: {error}")))
    }
}

/// Longest line SMTP carries, without its CRLF (RFC 5321, 4.5.3.1.6).
const MAX_LINE: usize = 998;

/// A body sent as it is (`7bit`) when it can be: ASCII, lines within SMTP's limit. Then
/// the raw message (an `.eml` file, what a server stores) shows the link whole. lettre would
/// choose quoted-printable for any line of 76 characters or more, which a link is.
/// Anything else is left to lettre's choice.
fn seven_bit(content: String) -> Body {
    let fits = content.is_ascii()
        && !content.contains('\r')
        && content.lines().all(|line| line.len() <= MAX_LINE);
    if fits {
        let crlf = content.replace('\n', "\r\n");
        Body::dangerous_pre_encoded(crlf.into_bytes(), ContentTransferEncoding::SevenBit)
    } else {
        Body::new(content)
    }
}

/// Whether `host` may end a `Message-ID` (RFC 5322's `id-right`): a DNS name, or an IP
/// address literal in brackets as `url` writes an IPv6 host.
fn is_message_id_host(host: &str) -> bool {
    if let Some(literal) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return !literal.is_empty()
            && literal
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || matches!(b, b':' | b'.'));
    }
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
        })
}

#[cfg(test)]
pub(crate) mod tests {
    use chrono::{DateTime, Duration, Utc};
    use mail_parser::{MessageParser, MimeHeaders};
    use tessera_domain::{EmailAddress, LinkToken, MailId, MailKind, MailLink};

    use super::*;

    pub(crate) const TOKEN: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ-_01234";

    pub(crate) fn queued_at() -> DateTime<Utc> {
        DateTime::from_timestamp(1_796_306_700, 0).unwrap_or_default()
    }

    pub(crate) fn link(kind: MailKind) -> Option<MailLink> {
        LinkToken::parse(TOKEN).and_then(|token| kind.link("https://tessera.example", &token))
    }

    /// A mail of `kind` to `bob@example.com`, with its link for the kinds with one.
    pub(crate) fn mail(kind: MailKind) -> OutgoingMail {
        OutgoingMail {
            id: MailId::new_random(),
            kind,
            to: EmailAddress::parse("bob@example.com").unwrap_or_else(|e| panic!("{e}")),
            link: link(kind).map(|link| (link, Duration::minutes(30))),
            queued_at: queued_at(),
        }
    }

    pub(crate) fn composer() -> Composer {
        let from = parse_from("Tessera <no-reply@localhost>").unwrap_or_else(|e| panic!("{e}"));
        Composer::new(from, "tessera.example").unwrap_or_else(|e| panic!("{e}"))
    }

    fn formatted(mail: &OutgoingMail) -> Vec<u8> {
        composer()
            .compose(mail)
            .map(|message| message.formatted())
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn mail_from_takes_a_mailbox_or_a_bare_address() {
        let shown = |raw: &str| parse_from(raw).map(|from| from.to_string());
        assert_eq!(
            shown("Tessera <no-reply@localhost>"),
            Ok("Tessera <no-reply@localhost>".into())
        );
        assert_eq!(
            shown("  no-reply@tessera.example "),
            Ok("no-reply@tessera.example".into())
        );
        assert_eq!(
            shown("\"Tessera, the app\" <a@b.example>"),
            Ok("\"Tessera, the app\" <a@b.example>".into())
        );
        assert_eq!(shown(""), Err(MailFromError::Empty));
        assert_eq!(shown("   "), Err(MailFromError::Empty));
        for bad in [
            "Tessera",
            "Tessera <>",
            "<@localhost>",
            "a@",
            "@b",
            "Tessera <a@b",
        ] {
            assert_eq!(shown(bad), Err(MailFromError::Invalid), "{bad}");
        }
    }

    #[test]
    fn message_id_hosts_are_names_or_bracketed_addresses() {
        for good in [
            "localhost",
            "tessera.example",
            "127.0.0.1",
            "[::1]",
            "a-b.c_d.example",
        ] {
            assert!(is_message_id_host(good), "{good}");
        }
        for bad in [
            "",
            "a b",
            "a>b",
            "a@b",
            "[]",
            "[::1",
            "-a.example",
            "a..b",
            "tessera.example.",
        ] {
            assert!(!is_message_id_host(bad), "{bad}");
        }
        let from = parse_from("a@b.example").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            Composer::new(from, "x>y").err(),
            Some(SetupError::MessageHost)
        );
    }

    /// The text and HTML bodies of a formatted message, decoded.
    pub(crate) fn bodies(raw: &[u8]) -> (Vec<String>, Vec<String>) {
        let message = MessageParser::new()
            .parse(raw)
            .unwrap_or_else(|| panic!("unparsable"));
        let decoded = |parts: Vec<&mail_parser::MessagePart<'_>>| -> Vec<String> {
            parts
                .into_iter()
                .filter_map(|p| p.text_contents().map(str::to_owned))
                .collect()
        };
        (
            decoded(message.text_bodies().collect()),
            decoded(message.html_bodies().collect()),
        )
    }

    #[test]
    fn the_message_has_the_contract_headers() {
        let mail = mail(MailKind::ResetPassword);
        let raw = formatted(&mail);
        let message = MessageParser::new()
            .parse(&raw)
            .unwrap_or_else(|| panic!("unparsable"));
        assert_eq!(message.subject(), Some("Reset your password"));
        let from = message
            .from()
            .and_then(|list| list.first())
            .map(|a| (a.name(), a.address()));
        assert_eq!(from, Some((Some("Tessera"), Some("no-reply@localhost"))));
        let to = message
            .to()
            .and_then(|list| list.first())
            .and_then(|a| a.address());
        assert_eq!(to, Some("bob@example.com"));
        assert_eq!(
            message.date().map(|d| d.to_timestamp()),
            Some(queued_at().timestamp())
        );
        assert_eq!(
            message.message_id(),
            Some(format!("{}@tessera.example", mail.id).as_str())
        );
        let auto = message
            .header("Auto-Submitted")
            .and_then(|value| value.as_text());
        assert_eq!(auto, Some("auto-generated"));
        let content_type = message.content_type().map(|c| (c.ctype(), c.subtype()));
        assert_eq!(content_type, Some(("multipart", Some("alternative"))));
        let text = String::from_utf8_lossy(&raw);
        assert!(
            text.contains("\r\nAuto-Submitted: auto-generated\r\n"),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "\r\nMessage-ID: <{}@tessera.example>\r\n",
                mail.id
            )),
            "{text}"
        );
        assert!(
            raw.is_ascii(),
            "the message is 7-bit: no server needs 8BITMIME for it"
        );
        // Both parts as they are, so the raw message shows the link whole.
        assert_eq!(
            text.matches("Content-Transfer-Encoding: 7bit\r\n").count(),
            2,
            "{text}"
        );
        let link = link(MailKind::ResetPassword)
            .map(|l| l.as_str().to_owned())
            .unwrap_or_default();
        assert_eq!(
            text.matches(&link).count(),
            4,
            "text once, HTML three times: {text}"
        );
        assert!(
            !text.replace("\r\n", "").contains(['\r', '\n']),
            "CRLF only"
        );
    }

    #[test]
    fn bodies_that_cannot_go_as_they_are_are_encoded() {
        let cases = [
            ("plain\nlines\n".to_owned(), true),
            (format!("{}\n", "x".repeat(MAX_LINE)), true),
            (format!("{}\n", "x".repeat(MAX_LINE + 1)), false),
            ("caf\u{e9}\n".to_owned(), false),
        ];
        for (content, as_it_is) in cases {
            let encoding = seven_bit(content.clone()).encoding();
            assert_eq!(
                encoding == ContentTransferEncoding::SevenBit,
                as_it_is,
                "{content:?}: {encoding:?}"
            );
        }
        assert_eq!(seven_bit("a\nb".to_owned()).as_ref(), b"a\r\nb");
    }

    #[test]
    fn both_parts_carry_the_same_link() {
        for kind in MailKind::ALL {
            let (text, html) = bodies(&formatted(&mail(kind)));
            assert_eq!((text.len(), html.len()), (1, 1), "{kind}");
            assert!(text[0].contains(kind.subject()), "{kind}");
            assert!(
                !text[0].contains('<'),
                "{kind}: the text part is not markup"
            );
            assert!(html[0].contains("<table"), "{kind}");
            match link(kind) {
                Some(link) => {
                    assert!(text[0].contains(link.as_str()), "{kind}: {}", text[0]);
                    assert!(
                        html[0].contains(&format!("href=\"{}\"", link.as_str())),
                        "{kind}"
                    );
                }
                None => {
                    assert!(
                        !text[0].contains(TOKEN) && !html[0].contains(TOKEN),
                        "{kind}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_retry_writes_the_same_message_id_and_date() {
        let mail = mail(MailKind::VerifyEmail);
        let ids: Vec<Option<String>> = (0..2)
            .map(|_| {
                let raw = formatted(&mail);
                MessageParser::new()
                    .parse(&raw)
                    .and_then(|m| m.message_id().map(str::to_owned))
            })
            .collect();
        assert!(ids[0].is_some());
        assert_eq!(ids[0], ids[1]);
    }

    #[test]
    fn a_link_mismatched_with_its_kind_is_invalid_and_never_shown() {
        let mut missing = mail(MailKind::VerifyEmail);
        missing.link = None;
        let mut extra = mail(MailKind::PasswordChanged);
        extra.link = link(MailKind::VerifyEmail).map(|l| (l, Duration::hours(1)));
        for mail in [missing, extra] {
            match composer().compose(&mail) {
                Err(SendError::Invalid(why)) => {
                    assert!(!why.contains(TOKEN), "{why}");
                    assert!(!why.contains("bob@"), "{why}");
                }
                other => panic!("{:?}", other.map(|_| ())),
            }
        }
    }
}
