//! Connection abuse against a real `tessera` process on loopback: the per-address cap, a
//! slow head on a kept-alive connection, an idle connection, and clients that pipeline
//! large answers and never read them. Every loop is bounded in count and time.
#![expect(
    clippy::expect_used,
    reason = "a test that cannot set up its sockets has failed"
)]

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use tessera_test_kit::process::{Running, serve, status_kib};

/// The binary under test.
const TESSERA: &str = env!("CARGO_BIN_EXE_tessera");

/// `tessera serve` with memory storage and `extra` settings, once it listens.
fn start(extra: &[(&str, &str)]) -> Running {
    let mut envs = vec![("RUST_LOG", "warn,tessera=info")];
    envs.extend_from_slice(extra);
    serve(TESSERA, &envs).0
}

/// A connection to the server from `source` (a 127.0.0.x address).
fn connect_from(server: &Running, source: Ipv4Addr) -> TcpStream {
    let socket =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("a socket");
    socket
        .bind(&SocketAddr::from((source, 0)).into())
        .expect("bind the source address");
    socket
        .connect(&SocketAddr::from((Ipv4Addr::LOCALHOST, server.port)).into())
        .expect("connect");
    socket.into()
}

/// Waits up to `within` for the server to close `stream` (end of file or reset), reading
/// and dropping whatever it sends; returns how long that took.
fn closed_within(stream: &mut TcpStream, within: Duration) -> Option<Duration> {
    let began = Instant::now();
    let mut buf = [0_u8; 16 * 1024];
    while began.elapsed() < within {
        let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
        match stream.read(&mut buf) {
            Ok(0) => return Some(began.elapsed()),
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return Some(began.elapsed()),
        }
    }
    None
}

/// `/health` from `source` on a new connection: its status line, within `within`.
fn health_from(server: &Running, source: Ipv4Addr, within: Duration) -> String {
    let mut stream = connect_from(server, source);
    let _ = stream.set_read_timeout(Some(within));
    let _ =
        stream.write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.lines().next().unwrap_or_default().to_owned()
}

/// Reads one answer to a `/health` request (head and its 15-byte body).
fn read_health_answer(stream: &mut TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut answer = Vec::new();
    let mut buf = [0_u8; 1024];
    while !String::from_utf8_lossy(&answer).contains("\"status\"") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
        }
    }
    assert!(
        answer.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
}

#[test]
fn connections_beyond_the_per_address_cap_are_closed_at_once_and_others_are_served() {
    const CAP: usize = 20;
    const EXTRA: usize = 10;
    let server = start(&[
        ("MAX_CONNECTIONS_PER_ADDRESS", "20"),
        ("HEAD_TIMEOUT_SECONDS", "10"),
    ]);
    let flooder = Ipv4Addr::new(127, 0, 0, 21);
    let mut held: Vec<TcpStream> = (0..CAP + EXTRA)
        .map(|_| connect_from(&server, flooder))
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    // Which ones were refused is the workers' order; how many is the cap's.
    let closed = held
        .iter_mut()
        .map(|stream| closed_within(stream, Duration::from_millis(300)))
        .filter(Option::is_some)
        .count();
    assert_eq!(closed, EXTRA, "{closed} of {} closed", CAP + EXTRA);
    let began = Instant::now();
    let status = health_from(
        &server,
        Ipv4Addr::new(127, 0, 0, 22),
        Duration::from_secs(2),
    );
    assert!(status.starts_with("HTTP/1.1 200"), "{status:?}");
    assert!(began.elapsed() < Duration::from_secs(2));
    // Released when they end: the flooder's address is served again.
    drop(held);
    std::thread::sleep(Duration::from_millis(300));
    let status = health_from(&server, flooder, Duration::from_secs(2));
    assert!(status.starts_with("HTTP/1.1 200"), "{status:?}");
}

#[test]
fn a_head_trickled_after_an_answered_request_is_cut_off_by_the_head_timeout() {
    let server = start(&[("HEAD_TIMEOUT_SECONDS", "2"), ("KEEP_ALIVE_SECONDS", "30")]);
    let mut stream = connect_from(&server, Ipv4Addr::new(127, 0, 0, 31));
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .expect("send");
    read_health_answer(&mut stream);
    let began = Instant::now();
    let mut closed = None;
    for byte in b"GET /health HTTP/1.1\r\nHost: x\r\n".iter().take(12) {
        if stream.write_all(&[*byte]).is_err() {
            closed = Some(began.elapsed());
            break;
        }
        if let Some(after) = closed_within(&mut stream, Duration::from_secs(1)) {
            closed = Some(began.elapsed().max(after));
            break;
        }
    }
    let closed = closed.expect("the connection was never closed");
    assert!(
        closed >= Duration::from_millis(1500) && closed < Duration::from_secs(4),
        "closed after {closed:?}"
    );
}

#[test]
fn an_idle_kept_alive_connection_is_closed_after_the_keep_alive_time() {
    let server = start(&[("KEEP_ALIVE_SECONDS", "2"), ("HEAD_TIMEOUT_SECONDS", "10")]);
    let mut stream = connect_from(&server, Ipv4Addr::new(127, 0, 0, 41));
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .expect("send");
    read_health_answer(&mut stream);
    let closed = closed_within(&mut stream, Duration::from_secs(6)).expect("never closed");
    assert!(
        closed >= Duration::from_millis(1000) && closed < Duration::from_secs(4),
        "closed after {closed:?}"
    );
}

/// A 1.5 MB answer whose bytes the server copies for each request.
const LARGE: &str = "/docs/swagger-ui-bundle.js";
const LARGE_BYTES: u64 = 1_526_593;

#[test]
fn clients_that_pipeline_large_answers_and_never_read_hold_one_answer_and_are_cut_off() {
    const CONNECTIONS: usize = 200;
    const PIPELINED: usize = 4;
    let server = start(&[
        ("SEND_TIMEOUT_SECONDS", "3"),
        ("KEEP_ALIVE_SECONDS", "30"),
        ("MAX_CONNECTIONS_PER_ADDRESS", "0"),
    ]);
    let pid = server.child.id();
    let _ = rlimit::increase_nofile_limit(4 * CONNECTIONS as u64);
    let before = status_kib(pid, "VmRSS:");
    let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
    let request = format!("GET {LARGE} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").repeat(PIPELINED);
    let began = Instant::now();
    let mut held = Vec::with_capacity(CONNECTIONS);
    for i in 0..CONNECTIONS {
        let source = Ipv4Addr::new(127, 0, 1, u8::try_from(1 + i % 200).unwrap_or(1));
        let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
            .expect("a socket");
        // A small window: the client takes almost nothing.
        let _ = socket.set_recv_buffer_size(4096);
        socket
            .bind(&SocketAddr::from((source, 0)).into())
            .expect("bind");
        socket
            .connect(&SocketAddr::from((Ipv4Addr::LOCALHOST, server.port)).into())
            .expect("connect");
        let mut stream: TcpStream = socket.into();
        stream.write_all(request.as_bytes()).expect("send");
        held.push(stream);
    }
    std::thread::sleep(Duration::from_millis(1500));
    let served = Instant::now();
    let status = health_from(
        &server,
        Ipv4Addr::new(127, 0, 0, 51),
        Duration::from_secs(2),
    );
    assert!(status.starts_with("HTTP/1.1 200"), "{status:?}");
    assert!(served.elapsed() < Duration::from_secs(2));
    let peak = status_kib(pid, "VmHWM:").max(status_kib(pid, "VmRSS:"));
    let growth = peak.saturating_sub(before);
    // The socket takes up to ~3 MB of each connection's answers on loopback; what the
    // server itself holds must stay below 1.5 answers per connection. Measured: about
    // 1.6 MB a connection with the hold, and the same without it (the middleware and the
    // read pause both off, 4, 16 or 32 pipelined), because actix-http does not start a
    // pipelined request while the answer before has more than its write buffer limit
    // unsent. So this bound does not show the hold at work; it bounds the two together.
    let bound = CONNECTIONS as u64 * LARGE_BYTES * 3 / 2 / 1024;
    assert!(growth < bound, "RSS grew {growth} KiB, bound {bound} KiB");
    // Each connection is reset by the send deadline (3 s after its write blocked). Read
    // nothing to find out: a write to a reset connection fails.
    let deadline = began + Duration::from_secs(8);
    let mut open = held.len();
    while open > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(250));
        open = held
            .iter_mut()
            .map(|stream| stream.write_all(b"\r\n"))
            .filter(Result::is_ok)
            .count();
    }
    assert_eq!(
        open,
        0,
        "{open} connections still open {:?} after the attack",
        began.elapsed()
    );
}
