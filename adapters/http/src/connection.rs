//! Deadlines on every connection, and the cap on connections per client address.
//!
//! actix-http times only the first request head of a connection (see
//! `docs/decisions/0010-connection-deadlines.md`), never a write, and keeps working on
//! pipelined requests while earlier answers are still unsent. [`Guarded`] wraps each
//! accepted stream below actix and enforces what the contract asks of every connection:
//!
//! - **Heads.** Every request head must be complete `head` after its first byte arrived.
//!   The stream follows the HTTP/1.1 framing of what it reads (heads up to their empty
//!   line, `Content-Length` and chunked bodies) to know where each head begins.
//! - **Bodies.** A body must be complete `body` after its head; the request's own 408
//!   (`BODY_TIMEOUT_SECONDS`) comes first, this only ends bodies nobody reads.
//! - **Writes.** A write that makes no progress for `send` fails the connection.
//! - **One answer at a time.** While a write is blocked nothing more is read, and
//!   [`one_answer_at_a_time`] holds a pipelined request back until every byte of the
//!   answers before it has been taken by the socket.
//!
//! A deadline that passes fails the read or write with `TimedOut`, and actix drops the
//! connection. [`AddressSlots`] counts the connections of each client address across all
//! workers; a connection beyond the cap is refused before anything is read.

use std::cell::Cell;
use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

use tessera_domain::ClientAddress;

/// The deadlines a [`Guarded`] stream enforces.
#[derive(Debug, Clone, Copy)]
pub struct Deadlines {
    /// From the first byte of a request head to its end.
    pub head: Duration,
    /// From the end of a request head to the end of its body.
    pub body: Duration,
    /// Longest a write may make no progress.
    pub send: Duration,
}

/// The longest header line examined for the framing; longer lines are skipped (a
/// `Content-Length` or `Transfer-Encoding` line that long is refused by actix anyway).
const LINE_CAP: usize = 256;

/// What the next byte read belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Between requests: no byte of the next head yet.
    Idle,
    /// Inside a request head.
    Head,
    /// Inside a request body.
    Body,
}

/// Where a body stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Body {
    /// This many bytes still to come.
    Length(u64),
    /// In a chunk-size line (value so far; after an extension, digits are ignored).
    ChunkSize { value: u64, extension: bool },
    /// This many bytes of chunk data still to come.
    ChunkData(u64),
    /// The line end after a chunk's data.
    ChunkEnd,
    /// The trailer section: `empty` while the current line has nothing on it.
    Trailer { empty: bool },
}

/// Follows the HTTP/1.1 framing of the bytes a connection reads: where heads begin and
/// end, and bodies. Only as much as the deadlines need; actix parses for real, and a
/// request it refuses closes the connection whatever this thinks.
#[derive(Debug)]
struct Framing {
    phase: Phase,
    /// Whether the current phase was entered during the last [`Framing::feed`].
    entered: bool,
    line: [u8; LINE_CAP],
    line_len: usize,
    /// Non-empty lines of the current head so far (empty lines before the request line
    /// do not end a head).
    lines: usize,
    content_length: Option<u64>,
    chunked: bool,
    body: Body,
}

impl Framing {
    fn new() -> Self {
        Self {
            phase: Phase::Idle,
            entered: false,
            line: [0; LINE_CAP],
            line_len: 0,
            lines: 0,
            content_length: None,
            chunked: false,
            body: Body::Length(0),
        }
    }

    fn enter(&mut self, phase: Phase) {
        self.phase = phase;
        self.entered = true;
    }

    /// Follows `bytes`; afterwards `phase` is where the last of them left the connection
    /// and `entered` says whether that phase began among them.
    fn feed(&mut self, bytes: &[u8]) {
        self.entered = false;
        let mut rest = bytes;
        while let Some((&byte, tail)) = rest.split_first() {
            match self.phase {
                Phase::Idle => {
                    self.start_head();
                    self.head_byte(byte);
                    rest = tail;
                }
                Phase::Head => {
                    self.head_byte(byte);
                    rest = tail;
                }
                Phase::Body => rest = self.body_bytes(rest),
            }
        }
    }

    fn start_head(&mut self) {
        self.enter(Phase::Head);
        self.line_len = 0;
        self.lines = 0;
        self.content_length = None;
        self.chunked = false;
    }

    fn head_byte(&mut self, byte: u8) {
        if byte != b'\n' {
            if let Some(slot) = self.line.get_mut(self.line_len) {
                *slot = byte;
            }
            self.line_len = self.line_len.saturating_add(1);
            return;
        }
        let full = self.line_len;
        self.line_len = 0;
        if full == 0 || (full == 1 && self.line[0] == b'\r') {
            // An empty line before the request line is still part of the same head,
            // still timed; after it, the head is complete.
            if self.lines > 0 {
                self.end_head();
            }
            return;
        }
        // Lines longer than the cap are not examined.
        if self.lines > 0
            && let Some(line) = self.line.get(..full)
        {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            match framing_header(line) {
                Some(HeaderFraming::Length(length)) => self.content_length = length,
                Some(HeaderFraming::Chunked(chunked)) => self.chunked = chunked,
                None => {}
            }
        }
        self.lines += 1;
    }

    fn end_head(&mut self) {
        if self.chunked {
            self.body = Body::ChunkSize {
                value: 0,
                extension: false,
            };
            self.enter(Phase::Body);
        } else if let Some(length) = self.content_length.filter(|&n| n > 0) {
            self.body = Body::Length(length);
            self.enter(Phase::Body);
        } else {
            self.enter(Phase::Idle);
        }
    }

    /// Consumes what of `bytes` belongs to the body; returns the rest.
    fn body_bytes<'a>(&mut self, bytes: &'a [u8]) -> &'a [u8] {
        let Some((&byte, tail)) = bytes.split_first() else {
            return bytes;
        };
        match self.body {
            Body::Length(left) | Body::ChunkData(left) => {
                let taken = usize::try_from(left).map_or(bytes.len(), |l| l.min(bytes.len()));
                let left = left.saturating_sub(u64::try_from(taken).unwrap_or(u64::MAX));
                self.body = match self.body {
                    Body::Length(_) if left == 0 => {
                        self.enter(Phase::Idle);
                        Body::Length(0)
                    }
                    Body::Length(_) => Body::Length(left),
                    _ if left == 0 => Body::ChunkEnd,
                    _ => Body::ChunkData(left),
                };
                return bytes.get(taken..).unwrap_or_default();
            }
            Body::ChunkSize { value, extension } => {
                self.body = match byte {
                    b'\n' if value == 0 => Body::Trailer { empty: true },
                    b'\n' => Body::ChunkData(value),
                    b'\r' => self.body,
                    _ if extension => self.body,
                    _ => match (byte as char).to_digit(16) {
                        Some(digit) => match value.checked_mul(16) {
                            Some(v) => Body::ChunkSize {
                                value: v + u64::from(digit),
                                extension: false,
                            },
                            // Not a size actix accepts: the connection ends there anyway.
                            None => {
                                self.enter(Phase::Idle);
                                Body::Length(0)
                            }
                        },
                        None => Body::ChunkSize {
                            value,
                            extension: true,
                        },
                    },
                };
            }
            Body::ChunkEnd => {
                if byte == b'\n' {
                    self.body = Body::ChunkSize {
                        value: 0,
                        extension: false,
                    };
                }
            }
            Body::Trailer { empty } => match byte {
                b'\n' if empty => self.enter(Phase::Idle),
                b'\n' => self.body = Body::Trailer { empty: true },
                b'\r' => {}
                _ => self.body = Body::Trailer { empty: false },
            },
        }
        tail
    }
}

/// A header line that frames the body.
enum HeaderFraming {
    /// `Content-Length`, if its value is a number.
    Length(Option<u64>),
    /// `Transfer-Encoding`: whether its last coding is `chunked`.
    Chunked(bool),
}

fn framing_header(line: &[u8]) -> Option<HeaderFraming> {
    let colon = line.iter().position(|&b| b == b':')?;
    let (name, value) = (&line[..colon], line[colon + 1..].trim_ascii());
    if name.eq_ignore_ascii_case(b"content-length") {
        let length = std::str::from_utf8(value).ok().and_then(|v| v.parse().ok());
        Some(HeaderFraming::Length(length))
    } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
        Some(HeaderFraming::Chunked(
            value.to_ascii_lowercase().ends_with(b"chunked"),
        ))
    } else {
        None
    }
}

/// What a connection's stream and its requests share: whether bytes of an answer are
/// still waiting for the socket, and who waits for them to go.
#[derive(Default)]
pub struct Outbox {
    unsent: Cell<bool>,
    waiting: Cell<Option<Waker>>,
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox")
            .field("unsent", &self.unsent.get())
            .finish_non_exhaustive()
    }
}

impl Outbox {
    fn set_unsent(&self, unsent: bool) {
        self.unsent.set(unsent);
        if !unsent && let Some(waker) = self.waiting.take() {
            waker.wake();
        }
    }

    /// Resolves once every byte written so far has been taken by the socket.
    pub fn sent(self: Rc<Self>) -> impl Future<Output = ()> {
        std::future::poll_fn(move |cx| {
            if self.unsent.get() {
                self.waiting.set(Some(cx.waker().clone()));
                Poll::Pending
            } else {
                Poll::Ready(())
            }
        })
    }
}

/// A connection's stream under the deadlines of [`Deadlines`], holding its address slot
/// for as long as it lives.
pub struct Guarded<S> {
    io: S,
    deadlines: Deadlines,
    framing: Framing,
    /// The head or body deadline, while one runs.
    read_deadline: Pin<Box<Sleep>>,
    reading_timed: bool,
    /// Since when a write has made no progress, while one is blocked.
    send_deadline: Pin<Box<Sleep>>,
    sending_blocked: bool,
    outbox: Rc<Outbox>,
    _slot: Option<AddressSlot>,
}

/// A stream that can be made to close abortively.
pub trait Abort {
    /// When the stream is dropped, reset the connection (TCP RST) instead of closing it:
    /// what the kernel still holds to send is thrown away, not delivered for minutes to a
    /// client that does not read it.
    fn abort_on_close(&self);
}

impl Abort for tokio::net::TcpStream {
    fn abort_on_close(&self) {
        // Only fails on a socket that is gone already.
        let _ = self.set_zero_linger();
    }
}

impl<S: Abort> Guarded<S> {
    /// Wraps `io`; `slot` is released when the connection ends.
    pub fn new(io: S, deadlines: Deadlines, slot: Option<AddressSlot>) -> Self {
        let now = Instant::now();
        Self {
            io,
            deadlines,
            framing: Framing::new(),
            read_deadline: Box::pin(tokio::time::sleep_until(now)),
            reading_timed: false,
            send_deadline: Box::pin(tokio::time::sleep_until(now)),
            sending_blocked: false,
            outbox: Rc::new(Outbox::default()),
            _slot: slot,
        }
    }

    /// What this connection's requests share with it.
    pub fn outbox(&self) -> Rc<Outbox> {
        self.outbox.clone()
    }

    /// The error of the first deadline that has passed; registers for wake-up at the
    /// others.
    fn expired(&mut self, cx: &mut Context<'_>) -> Option<io::Error> {
        if self.sending_blocked && self.send_deadline.as_mut().poll(cx).is_ready() {
            self.io.abort_on_close();
            return Some(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client took no part of the answer in time",
            ));
        }
        if self.reading_timed && self.read_deadline.as_mut().poll(cx).is_ready() {
            let what = if self.framing.phase == Phase::Body {
                "request body not received in time"
            } else {
                "request head not received in time"
            };
            return Some(io::Error::new(io::ErrorKind::TimedOut, what));
        }
        None
    }

    fn observe_read(&mut self, cx: &mut Context<'_>, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        self.framing.feed(bytes);
        let limit = match self.framing.phase {
            Phase::Idle => {
                self.reading_timed = false;
                return;
            }
            Phase::Head => self.deadlines.head,
            Phase::Body => self.deadlines.body,
        };
        if self.framing.entered || !self.reading_timed {
            self.read_deadline.as_mut().reset(Instant::now() + limit);
            self.reading_timed = true;
            // Registers the wake-up at the deadline.
            let _ = self.read_deadline.as_mut().poll(cx);
        }
    }

    fn write_blocked(&mut self, cx: &mut Context<'_>) -> Option<io::Error> {
        self.outbox.set_unsent(true);
        if !self.sending_blocked {
            self.sending_blocked = true;
            self.send_deadline
                .as_mut()
                .reset(Instant::now() + self.deadlines.send);
        }
        self.expired(cx)
    }

    fn wrote(&mut self, written: usize, offered: usize) {
        if written > 0 {
            self.sending_blocked = false;
        }
        self.outbox.set_unsent(written < offered);
    }
}

impl<S: AsyncRead + Abort + Unpin> AsyncRead for Guarded<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Some(error) = this.expired(cx) {
            return Poll::Ready(Err(error));
        }
        // An answer is waiting for the socket: nothing more is read (and so no further
        // request is parsed) until it has gone. The blocked write wakes this task.
        if this.outbox.unsent.get() {
            return Poll::Pending;
        }
        let before = buf.filled().len();
        let result = Pin::new(&mut this.io).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = result {
            this.observe_read(cx, buf.filled().get(before..).unwrap_or_default());
        }
        result
    }
}

impl<S: AsyncWrite + Abort + Unpin> AsyncWrite for Guarded<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.io).poll_write(cx, buf) {
            Poll::Ready(Ok(written)) => {
                this.wrote(written, buf.len());
                Poll::Ready(Ok(written))
            }
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            Poll::Pending => match this.write_blocked(cx) {
                Some(error) => Poll::Ready(Err(error)),
                None => Poll::Pending,
            },
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let offered = bufs.iter().map(|b| b.len()).sum();
        match Pin::new(&mut this.io).poll_write_vectored(cx, bufs) {
            Poll::Ready(Ok(written)) => {
                this.wrote(written, offered);
                Poll::Ready(Ok(written))
            }
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            Poll::Pending => match this.write_blocked(cx) {
                Some(error) => Poll::Ready(Err(error)),
                None => Poll::Pending,
            },
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

/// Holds a request until every byte of the answers before it on its connection has been
/// taken by the socket: a client that pipelines requests and reads nothing makes the
/// server hold one answer, not one per request.
pub async fn one_answer_at_a_time<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    let outbox = req.conn_data::<Rc<Outbox>>().cloned();
    if let Some(outbox) = outbox {
        outbox.sent().await;
    }
    next.call(req).await
}

/// The open connections of each client address (IPv6: each /64), shared by all workers.
#[derive(Debug)]
pub struct AddressSlots {
    max: usize,
    open: Mutex<HashMap<String, usize>>,
}

impl AddressSlots {
    /// At most `max` connections per address; 0: no cap (nothing is counted).
    #[must_use]
    pub fn new(max: usize) -> Arc<Self> {
        Arc::new(Self {
            max,
            open: Mutex::new(HashMap::new()),
        })
    }

    /// A slot for one more connection from `ip`, or `None` when it holds its maximum.
    /// `Some(None)` when there is no cap.
    #[must_use]
    pub fn acquire(self: &Arc<Self>, ip: IpAddr) -> Option<Option<AddressSlot>> {
        if self.max == 0 {
            return Some(None);
        }
        let key = ClientAddress::new(ip).limit_key();
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let count = open.entry(key.clone()).or_insert(0);
        if *count >= self.max {
            return None;
        }
        *count += 1;
        Some(Some(AddressSlot {
            slots: self.clone(),
            key,
        }))
    }

    /// How many connections `ip`'s address holds.
    #[must_use]
    pub fn open(&self, ip: IpAddr) -> usize {
        let key = ClientAddress::new(ip).limit_key();
        let open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.get(&key).copied().unwrap_or(0)
    }
}

/// One connection's place in its address's count, given back when dropped.
#[derive(Debug)]
pub struct AddressSlot {
    slots: Arc<AddressSlots>,
    key: String,
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut open = self
            .slots
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.key) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.key);
            }
        }
    }
}

/// Takes an accepted connection: counts it against its client address and wraps it.
/// `None` (the stream dropped, so closed, unread) when the address already holds its
/// maximum or the peer is gone already.
pub fn accept(
    stream: tokio::net::TcpStream,
    slots: &Arc<AddressSlots>,
    deadlines: Deadlines,
) -> Option<(Guarded<tokio::net::TcpStream>, std::net::SocketAddr)> {
    let peer = stream.peer_addr().ok()?;
    let Some(slot) = slots.acquire(peer.ip()) else {
        tracing::debug!(client = %peer.ip(), "connection refused: the address holds its maximum");
        return None;
    };
    Some((Guarded::new(stream, deadlines, slot), peer))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    impl Abort for tokio::io::DuplexStream {
        fn abort_on_close(&self) {}
    }

    fn fed(chunks: &[&[u8]]) -> Framing {
        let mut framing = Framing::new();
        for chunk in chunks {
            framing.feed(chunk);
        }
        framing
    }

    #[test]
    fn a_head_without_a_body_ends_at_its_empty_line_and_the_next_byte_starts_a_head() {
        let framing = fed(&[b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"]);
        assert_eq!(framing.phase, Phase::Idle);
        let mut framing = fed(&[b"GET / HTTP/1.1\r\nHost: x\r\n\r\nG"]);
        assert_eq!((framing.phase, framing.entered), (Phase::Head, true));
        framing.feed(b"E");
        assert_eq!((framing.phase, framing.entered), (Phase::Head, false));
    }

    #[test]
    fn empty_lines_before_a_request_line_do_not_end_a_head() {
        let framing = fed(&[b"\r\n", b"\r\n", b"\n"]);
        assert_eq!(framing.phase, Phase::Head);
    }

    #[test]
    fn a_content_length_body_is_skipped_whatever_its_bytes() {
        let mut framing = fed(&[b"POST / HTTP/1.1\r\ncontent-LENGTH: 6\r\n\r\n"]);
        assert_eq!(framing.phase, Phase::Body);
        framing.feed(b"\r\n\r\n");
        assert_eq!(framing.phase, Phase::Body);
        framing.feed(b"ab");
        assert_eq!(framing.phase, Phase::Idle);
    }

    #[test]
    fn a_chunked_body_ends_after_its_last_chunk_and_trailers() {
        let mut framing = fed(&[b"POST / HTTP/1.1\nTransfer-Encoding: gzip, chunked\n\n"]);
        assert_eq!(framing.phase, Phase::Body);
        framing.feed(b"5;ext=1\r\n\r\n\r\n\r\r\n0\r\nX-T: 1\r\n");
        assert_eq!(framing.phase, Phase::Body);
        framing.feed(b"\r\nGET");
        assert_eq!((framing.phase, framing.entered), (Phase::Head, true));
    }

    #[test]
    fn the_cap_counts_per_address_and_ipv6_per_64_and_gives_slots_back() {
        let slots = AddressSlots::new(2);
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap_or(IpAddr::V4(0.into()));
        let b: IpAddr = "2001:db8:1:2::ffff".parse().unwrap_or(IpAddr::V4(0.into()));
        let other: IpAddr = "127.0.0.9".parse().unwrap_or(IpAddr::V4(0.into()));
        let first = slots.acquire(a);
        let second = slots.acquire(b);
        assert!(first.is_some() && second.is_some());
        assert!(slots.acquire(a).is_none());
        assert!(slots.acquire(other).is_some());
        drop(first);
        assert_eq!(slots.open(b), 1);
        assert!(slots.acquire(b).is_some());
        assert!(AddressSlots::new(0).acquire(a).is_some());
    }

    fn deadlines(ms: u64) -> Deadlines {
        let d = Duration::from_millis(ms);
        Deadlines {
            head: d,
            body: d,
            send: d,
        }
    }

    #[tokio::test]
    async fn a_later_head_that_stalls_fails_the_read_at_its_deadline() {
        let (client, server) = tokio::io::duplex(1024);
        let mut guarded = Guarded::new(server, deadlines(200), None);
        let mut client = client;
        let mut buf = [0_u8; 256];
        client
            .write_all(b"GET / HTTP/1.1\r\n\r\nGE")
            .await
            .unwrap_or_default();
        let began = Instant::now();
        let mut result = Ok(1);
        while matches!(result, Ok(n) if n > 0) && began.elapsed() < Duration::from_secs(2) {
            result = guarded.read(&mut buf).await;
        }
        let error = result.err().map(|e| e.kind());
        assert_eq!(error, Some(io::ErrorKind::TimedOut));
        assert!(began.elapsed() >= Duration::from_millis(150));
    }

    #[tokio::test]
    async fn a_blocked_write_holds_reads_and_fails_after_the_send_deadline() {
        let (mut client, server) = tokio::io::duplex(64);
        let mut guarded = Guarded::new(server, deadlines(200), None);
        client
            .write_all(b"GET / HTTP/1.1\r\n\r\n")
            .await
            .unwrap_or_default();
        let outbox = guarded.outbox();
        let began = Instant::now();
        let result = guarded.write_all(&[b'x'; 4096]).await;
        assert_eq!(
            result.err().map(|e| e.kind()),
            Some(io::ErrorKind::TimedOut)
        );
        assert!(began.elapsed() >= Duration::from_millis(150));
        assert!(outbox.unsent.get(), "the answer is still unsent");
        let mut buf = [0_u8; 64];
        let held = tokio::time::timeout(Duration::from_millis(50), guarded.read(&mut buf)).await;
        assert!(
            !matches!(held, Ok(Ok(n)) if n > 0),
            "nothing is read meanwhile"
        );
    }
}
