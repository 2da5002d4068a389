//! `SmtpTransport` against a scripted SMTP server on 127.0.0.1: what reaches the server,
//! and how each answer maps to `SendError`.

use std::net::SocketAddr;
use std::time::Duration;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use mail_parser::MessageParser;
use tessera_application::ports::{MailTransport, OutgoingMail, SendError};
use tessera_domain::{EmailAddress, LinkToken, MailId, MailKind};
use tessera_mail::{SmtpTransport, SmtpUrl, parse_from};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

const TOKEN: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ-_01234";
/// Lines one conversation may hold, DATA included: every loop here ends.
const MAX_LINES: usize = 10_000;
/// Connections one server accepts before it stops.
const MAX_CONNECTIONS: usize = 4;
/// Longest a test waits for a send.
const PATIENCE: Duration = Duration::from_secs(20);

/// How the server answers.
#[derive(Debug, Clone, Copy)]
struct Script {
    /// The reply to `RCPT TO`.
    rcpt: &'static str,
    /// Whether `EHLO` offers `AUTH PLAIN`.
    auth: bool,
    /// The reply to `AUTH`.
    auth_reply: &'static str,
}

const ACCEPT: Script = Script {
    rcpt: "250 2.1.5 ok",
    auth: false,
    auth_reply: "235 2.7.0 ok",
};

/// What the server saw.
#[derive(Debug)]
enum Seen {
    Command(String),
    Data(Vec<u8>),
}

/// A scripted server on 127.0.0.1, its address, and what it sees.
struct FakeSmtp {
    addr: SocketAddr,
    seen: mpsc::UnboundedReceiver<Seen>,
    task: JoinHandle<()>,
}

impl FakeSmtp {
    async fn start(script: Script) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("bind: {e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("local_addr: {e}"));
        let (tx, seen) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            for _ in 0..MAX_CONNECTIONS {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let tx = tx.clone();
                tokio::spawn(async move {
                    let _ = converse(stream, script, &tx).await;
                });
            }
        });
        Self { addr, seen, task }
    }

    fn seen(&mut self) -> (Vec<String>, Vec<Vec<u8>>) {
        let (mut commands, mut data) = (Vec::new(), Vec::new());
        while let Ok(seen) = self.seen.try_recv() {
            match seen {
                Seen::Command(command) => commands.push(command),
                Seen::Data(bytes) => data.push(bytes),
            }
        }
        (commands, data)
    }
}

impl Drop for FakeSmtp {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn converse(
    stream: TcpStream,
    script: Script,
    seen: &mpsc::UnboundedSender<Seen>,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    write.write_all(b"220 fake.test ESMTP\r\n").await?;
    let mut lines = 0;
    while lines < MAX_LINES {
        lines += 1;
        let mut line = String::new();
        if read.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_owned();
        let verb = command
            .split(' ')
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        let _ = seen.send(Seen::Command(command));
        let reply = match verb.as_str() {
            "EHLO" if script.auth => "250-fake.test\r\n250-AUTH PLAIN\r\n250 8BITMIME".to_owned(),
            "EHLO" => "250-fake.test\r\n250 8BITMIME".to_owned(),
            "AUTH" => script.auth_reply.to_owned(),
            "MAIL" | "RSET" | "NOOP" | "HELO" => "250 2.0.0 ok".to_owned(),
            "RCPT" => script.rcpt.to_owned(),
            "DATA" => {
                write.write_all(b"354 go ahead\r\n").await?;
                let mut data = Vec::new();
                loop {
                    lines += 1;
                    if lines >= MAX_LINES {
                        return Ok(());
                    }
                    let mut part = Vec::new();
                    if read.read_until(b'\n', &mut part).await? == 0 {
                        return Ok(());
                    }
                    if part == b".\r\n" {
                        break;
                    }
                    // Undo the client's dot-stuffing.
                    let line = part
                        .strip_prefix(b".")
                        .filter(|rest| rest.starts_with(b"."))
                        .unwrap_or(&part);
                    data.extend_from_slice(line);
                }
                let _ = seen.send(Seen::Data(data));
                "250 2.0.0 queued".to_owned()
            }
            "QUIT" => {
                write.write_all(b"221 2.0.0 bye\r\n").await?;
                return Ok(());
            }
            _ => "502 5.5.2 unknown command".to_owned(),
        };
        write.write_all(reply.as_bytes()).await?;
        write.write_all(b"\r\n").await?;
    }
    Ok(())
}

fn queued_at() -> DateTime<Utc> {
    DateTime::from_timestamp(1_796_306_700, 0).unwrap_or_default()
}

fn reset_mail() -> OutgoingMail {
    let link = LinkToken::parse(TOKEN)
        .and_then(|token| MailKind::ResetPassword.link("https://tessera.example", &token));
    OutgoingMail {
        id: MailId::new_random(),
        kind: MailKind::ResetPassword,
        to: EmailAddress::parse("bob@example.com").unwrap_or_else(|e| panic!("{e}")),
        link: link.map(|link| (link, chrono::Duration::minutes(30))),
        queued_at: queued_at(),
    }
}

fn transport(url: &str) -> SmtpTransport {
    let url = SmtpUrl::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
    let from = parse_from("Tessera <no-reply@localhost>").unwrap_or_else(|e| panic!("{e}"));
    SmtpTransport::new(&url, from, "tessera.example").unwrap_or_else(|e| panic!("{e}"))
}

async fn send(transport: &SmtpTransport, mail: &OutgoingMail) -> Result<(), SendError> {
    tokio::time::timeout(PATIENCE, transport.send(mail))
        .await
        .unwrap_or_else(|_| panic!("no result within {PATIENCE:?}"))
}

/// A refusal never shows the link, the token or the recipient.
fn assert_quiet(error: &SendError) {
    let shown = format!("{error} {error:?}");
    for secret in [TOKEN, "reset-password", "bob@example.com"] {
        assert!(!shown.contains(secret), "{shown}");
    }
}

#[tokio::test]
async fn an_accepted_mail_reaches_the_server_whole() {
    let mut server = FakeSmtp::start(ACCEPT).await;
    // No STARTTLS on offer: the default (STARTTLS when offered) goes on in plain text.
    let transport = transport(&format!("smtp://{}", server.addr));
    let mail = reset_mail();
    assert!(send(&transport, &mail).await.is_ok());
    let (commands, data) = server.seen();
    assert!(
        commands.iter().any(|c| c.starts_with("EHLO ")),
        "{commands:?}"
    );
    assert!(
        commands.contains(&"MAIL FROM:<no-reply@localhost>".to_owned()),
        "{commands:?}"
    );
    assert!(
        commands.contains(&"RCPT TO:<bob@example.com>".to_owned()),
        "{commands:?}"
    );
    assert!(
        !commands.iter().any(|c| c.starts_with("STARTTLS")),
        "{commands:?}"
    );
    assert_eq!(data.len(), 1);
    let message = MessageParser::new()
        .parse(&data[0])
        .unwrap_or_else(|| panic!("unparsable"));
    assert_eq!(message.subject(), Some("Reset your password"));
    assert_eq!(
        message.message_id(),
        Some(format!("{}@tessera.example", mail.id).as_str())
    );
    let link = format!("https://tessera.example/#/reset-password?token={TOKEN}");
    let text: Vec<&str> = message
        .text_bodies()
        .filter_map(|p| p.text_contents())
        .collect();
    let html: Vec<&str> = message
        .html_bodies()
        .filter_map(|p| p.text_contents())
        .collect();
    assert!(text.iter().any(|t| t.contains(&link)), "{text:?}");
    assert!(html.iter().any(|h| h.contains(&link)), "{html:?}");
    // A second mail goes over the pooled connection.
    assert!(send(&transport, &reset_mail()).await.is_ok());
    assert_eq!(server.seen().1.len(), 1);
}

#[tokio::test]
async fn a_4xx_on_rcpt_is_temporary() {
    let server = FakeSmtp::start(Script {
        rcpt: "451 4.7.1 greylisted <bob@example.com>, try later",
        ..ACCEPT
    })
    .await;
    let transport = transport(&format!("smtp://{}", server.addr));
    match send(&transport, &reset_mail()).await {
        Err(error @ SendError::Temporary(_)) => {
            assert!(error.is_retried());
            assert!(error.to_string().contains("451"), "{error}");
            assert_quiet(&error);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_5xx_on_rcpt_is_permanent() {
    let server = FakeSmtp::start(Script {
        rcpt: "550 5.1.1 <bob@example.com>: no such user",
        ..ACCEPT
    })
    .await;
    let transport = transport(&format!("smtp://{}", server.addr));
    match send(&transport, &reset_mail()).await {
        Err(error @ SendError::Permanent(_)) => {
            assert!(!error.is_retried());
            assert!(error.to_string().contains("550"), "{error}");
            assert_quiet(&error);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_closed_port_is_unreachable() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("bind: {e}"));
        listener
            .local_addr()
            .unwrap_or_else(|e| panic!("local_addr: {e}"))
            .port()
    };
    let transport = transport(&format!("smtp://127.0.0.1:{port}"));
    match send(&transport, &reset_mail()).await {
        Err(error @ SendError::Unreachable(_)) => {
            assert!(error.is_retried());
            assert_quiet(&error);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn tls_required_sends_nothing_to_a_server_without_starttls() {
    let mut server = FakeSmtp::start(ACCEPT).await;
    let transport = transport(&format!("smtp://{}?tls=required", server.addr));
    match send(&transport, &reset_mail()).await {
        Err(error @ SendError::Unreachable(_)) => assert_quiet(&error),
        other => panic!("{other:?}"),
    }
    let (commands, data) = server.seen();
    assert!(
        !commands.iter().any(|c| c.starts_with("MAIL")),
        "{commands:?}"
    );
    assert!(data.is_empty());
}

#[tokio::test]
async fn the_decoded_account_signs_in() {
    let mut server = FakeSmtp::start(Script {
        auth: true,
        ..ACCEPT
    })
    .await;
    let transport = transport(&format!(
        "smtp://me%40example.com:p%40ss%3Aw%2Frd@{}?tls=none",
        server.addr
    ));
    assert!(send(&transport, &reset_mail()).await.is_ok());
    let (commands, _) = server.seen();
    let auth = commands
        .iter()
        .find_map(|c| c.strip_prefix("AUTH PLAIN "))
        .unwrap_or_else(|| panic!("no AUTH PLAIN in {commands:?}"));
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(auth)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(decoded, b"\0me@example.com\0p@ss:w/rd");
}

#[tokio::test]
async fn a_refused_sign_in_holds_the_mail_back() {
    let mut server = FakeSmtp::start(Script {
        auth: true,
        auth_reply: "535 5.7.8 authentication credentials invalid",
        ..ACCEPT
    })
    .await;
    let transport = transport(&format!("smtp://user:wrong@{}?tls=none", server.addr));
    match send(&transport, &reset_mail()).await {
        Err(error @ SendError::Unreachable(_)) => {
            assert!(error.to_string().contains("535"), "{error}");
            assert!(!error.to_string().contains("wrong"), "{error}");
        }
        other => panic!("{other:?}"),
    }
    assert!(!server.seen().0.iter().any(|c| c.starts_with("MAIL")));
}

#[tokio::test]
async fn the_transport_needs_a_runtime_and_never_shows_the_password() {
    let url =
        SmtpUrl::parse("smtps://user:hunter2@mail.example.com").unwrap_or_else(|e| panic!("{e}"));
    let from = parse_from("no-reply@tessera.example").unwrap_or_else(|e| panic!("{e}"));
    let built = SmtpTransport::new(&url, from, "tessera.example");
    let shown = format!("{built:?}");
    assert!(built.is_ok(), "{shown}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(!shown.contains("user"), "{shown}");
    let from = parse_from("no-reply@tessera.example").unwrap_or_else(|e| panic!("{e}"));
    let outside = std::thread::spawn(move || {
        SmtpTransport::new(&url, from, "tessera.example")
            .err()
            .map(|e| e.to_string())
    })
    .join()
    .ok()
    .flatten();
    assert_eq!(
        outside.as_deref(),
        Some("the SMTP transport must be built inside a Tokio runtime")
    );
}
