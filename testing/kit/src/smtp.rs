//! A mail catcher: an SMTP server on 127.0.0.1 in the test process, which keeps every
//! message it accepts and answers `RCPT TO` as the test tells it (accept, refuse for
//! now, refuse for good), and can be stopped and started again on its port.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use mail_parser::MessageParser;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// Lines one conversation may hold, DATA included: every loop here ends.
const MAX_LINES: usize = 20_000;
/// Connections one catcher accepts before it stops listening.
const MAX_CONNECTIONS: usize = 500;
/// Longest a test waits for a mail.
pub const MAIL_PATIENCE: Duration = Duration::from_secs(20);

/// How the catcher answers `RCPT TO`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// `250`: the mail is taken.
    Accept,
    /// `451` for the next `n` mails, then accept.
    RefuseForNow(u32),
    /// `550` to every mail.
    RefuseForGood,
}

/// One message the catcher accepted, read.
#[derive(Debug, Clone)]
pub struct CaughtMail {
    /// The envelope's recipient.
    pub to: String,
    /// `Subject`.
    pub subject: String,
    /// The text part.
    pub text: String,
    /// The HTML part.
    pub html: String,
    /// The message as it arrived.
    pub raw: String,
}

impl CaughtMail {
    /// The value of header `name` (first of that name), as it arrived.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.raw.split("\r\n\r\n").next().unwrap_or_default();
        let prefix = format!("{}:", name.to_ascii_lowercase());
        head.split("\r\n")
            .find(|line| line.to_ascii_lowercase().starts_with(&prefix))
            .map(|line| line[prefix.len()..].trim().to_owned())
    }

    /// The token of the link in the text part, after `page?token=`.
    #[must_use]
    pub fn token(&self, page: &str) -> Option<String> {
        token_after(&self.text, page)
    }

    /// The token of the link in the HTML part.
    #[must_use]
    pub fn html_token(&self, page: &str) -> Option<String> {
        token_after(&self.html, page)
    }
}

fn token_after(text: &str, page: &str) -> Option<String> {
    let marker = format!("/#/{page}?token=");
    let at = text.find(&marker)? + marker.len();
    let token: String = text[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    Some(token)
}

#[derive(Default)]
struct State {
    answer: Option<Answer>,
    caught: Vec<CaughtMail>,
    /// `RCPT TO` refused, by the code sent.
    refused: Vec<u16>,
}

/// An SMTP server on a loopback port.
pub struct MailCatcher {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: Option<JoinHandle<()>>,
}

impl MailCatcher {
    /// A catcher on a free port, answering `answer`.
    pub async fn start(answer: Answer) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("binding the mail catcher: {e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("the mail catcher's address: {e}"));
        let mut catcher = Self {
            addr,
            state: Arc::new(Mutex::new(State {
                answer: Some(answer),
                ..State::default()
            })),
            task: None,
        };
        catcher.listen(listener);
        catcher
    }

    /// A catcher that is not listening yet: its port refuses connections until
    /// [`resume`](Self::resume).
    pub async fn stopped() -> Self {
        let mut catcher = Self::start(Answer::Accept).await;
        catcher.stop();
        catcher
    }

    /// `SMTP_URL` for a server to send here, in plain text.
    #[must_use]
    pub fn url(&self) -> String {
        format!("smtp://{}?tls=none", self.addr)
    }

    /// Stops listening: connections to the port are refused.
    pub fn stop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }

    /// Listens again on the same port.
    pub async fn resume(&mut self) {
        let mut tries = 0;
        let listener = loop {
            match TcpListener::bind(self.addr).await {
                Ok(listener) => break listener,
                Err(e) if tries < 50 => {
                    tries += 1;
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("listening again on {}: {e}", self.addr),
            }
        };
        self.listen(listener);
    }

    /// Answers `answer` from now on.
    pub fn answer(&self, answer: Answer) {
        self.lock().answer = Some(answer);
    }

    /// Every mail caught so far.
    #[must_use]
    pub fn caught(&self) -> Vec<CaughtMail> {
        self.lock().caught.clone()
    }

    /// The codes of every refused `RCPT TO` so far.
    #[must_use]
    pub fn refused(&self) -> Vec<u16> {
        self.lock().refused.clone()
    }

    /// Waits (at most [`MAIL_PATIENCE`]) for a mail to `to` with `subject`, and returns
    /// it.
    pub async fn wait_for(&self, to: &str, subject: &str) -> CaughtMail {
        let deadline = Instant::now() + MAIL_PATIENCE;
        loop {
            if let Some(mail) = self
                .caught()
                .into_iter()
                .find(|mail| mail.to == to && mail.subject == subject)
            {
                return mail;
            }
            assert!(
                Instant::now() < deadline,
                "no mail {subject:?} to {to} within {MAIL_PATIENCE:?}; caught: {:?}",
                self.caught()
                    .iter()
                    .map(|m| (&m.to, &m.subject))
                    .collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The mails to `to` with `subject` caught within `wait` (for mail that must not
    /// come, or must come once).
    pub async fn count_after(&self, to: &str, subject: &str, wait: Duration) -> usize {
        tokio::time::sleep(wait).await;
        self.caught()
            .iter()
            .filter(|mail| mail.to == to && mail.subject == subject)
            .count()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn listen(&mut self, listener: TcpListener) {
        let state = self.state.clone();
        self.task = Some(tokio::spawn(async move {
            let mut conversations = Vec::new();
            for _ in 0..MAX_CONNECTIONS {
                let Ok((stream, _)) = listener.accept().await else {
                    break;
                };
                let state = state.clone();
                conversations.push(tokio::spawn(async move {
                    let _ = converse(stream, &state).await;
                }));
            }
            // Aborted with the listener: the conversations go too.
            for conversation in conversations {
                conversation.abort();
            }
        }));
    }
}

impl Drop for MailCatcher {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn converse(stream: TcpStream, state: &Mutex<State>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    write.write_all(b"220 catcher.test ESMTP\r\n").await?;
    let mut recipient = String::new();
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
        let reply = match verb.as_str() {
            "EHLO" => "250-catcher.test\r\n250 8BITMIME".to_owned(),
            "MAIL" | "RSET" | "NOOP" | "HELO" => "250 2.0.0 ok".to_owned(),
            "RCPT" => {
                recipient = command
                    .split_once('<')
                    .and_then(|(_, rest)| rest.split_once('>'))
                    .map(|(address, _)| address.to_owned())
                    .unwrap_or_default();
                let mut state = state.lock().unwrap_or_else(PoisonError::into_inner);
                match state.answer {
                    Some(Answer::RefuseForNow(n)) if n > 0 => {
                        state.answer = Some(Answer::RefuseForNow(n - 1));
                        state.refused.push(451);
                        "451 4.3.0 try again later".to_owned()
                    }
                    Some(Answer::RefuseForGood) => {
                        state.refused.push(550);
                        "550 5.1.1 no such mailbox".to_owned()
                    }
                    _ => "250 2.1.5 ok".to_owned(),
                }
            }
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
                let mail = read_mail(&recipient, &data);
                state
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .caught
                    .push(mail);
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

fn read_mail(to: &str, data: &[u8]) -> CaughtMail {
    let parsed = MessageParser::default().parse(data);
    let part = |html: bool| {
        parsed
            .as_ref()
            .and_then(|message| {
                if html {
                    message.body_html(0)
                } else {
                    message.body_text(0)
                }
            })
            .map(|body| body.into_owned())
            .unwrap_or_default()
    };
    CaughtMail {
        to: to.to_owned(),
        subject: parsed
            .as_ref()
            .and_then(|message| message.subject())
            .unwrap_or_default()
            .to_owned(),
        text: part(false),
        html: part(true),
        raw: String::from_utf8_lossy(data).into_owned(),
    }
}
