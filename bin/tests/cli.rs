//! The `tessera` binary as an operator meets it: refusing bad settings, starting, and
//! stopping on a signal.

use std::process::Command;
use std::time::{Duration, Instant};

use tessera_test_kit::process::{
    Running, free_port, serve, serve_command, spawn_listening, status_kib, terminate,
    tessera_command,
};
use tessera_test_kit::{PASSWORD, SECRET};

/// The binary under test.
const TESSERA: &str = env!("CARGO_BIN_EXE_tessera");

fn refused_with(envs: &[(&str, &str)], setting: &str) {
    let output = match tessera_command(TESSERA)
        .args(["serve"])
        .envs(envs.iter().copied())
        .output()
    {
        Ok(output) => output,
        Err(e) => panic!("cannot run tessera: {e}"),
    };
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{envs:?}: {stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line expected, got {stderr:?}");
    assert!(
        lines[0].contains(setting),
        "{setting} not named in {stderr:?}"
    );
}

#[test]
fn an_invalid_setting_stops_the_start_with_one_line_naming_it() {
    refused_with(
        &[("STORAGE", "memory"), ("JWT_SECRET", "too-short")],
        "JWT_SECRET",
    );
    refused_with(&[("STORAGE", "nosql"), ("JWT_SECRET", SECRET)], "STORAGE");
    refused_with(
        &[
            ("STORAGE", "memory"),
            ("JWT_SECRET", SECRET),
            ("PORT", "http"),
        ],
        "PORT",
    );
    refused_with(
        &[
            ("STORAGE", "memory"),
            ("JWT_SECRET", SECRET),
            ("DATABASE_URL", "localhost"),
        ],
        "DATABASE_URL",
    );
    refused_with(
        &[
            ("STORAGE", "memory"),
            ("JWT_SECRET", SECRET),
            ("BCRYPT_COST", "99"),
        ],
        "BCRYPT_COST",
    );
}

#[test]
fn a_missing_secret_stops_the_start_outside_development_mode() {
    let output = match tessera_command(TESSERA)
        .args(["serve"])
        .env("STORAGE", "memory")
        .output()
    {
        Ok(output) => output,
        Err(e) => panic!("cannot run tessera: {e}"),
    };
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("JWT_SECRET"), "{stderr}");
    assert!(stderr.contains("BETTER_AUTH_SECRET"), "{stderr}");
}

/// Starts `tessera serve` on a free port and waits for its "listening" line.
fn start(bcrypt_cost: &str) -> Running {
    start_with(bcrypt_cost, &[]).0
}

/// Like [`start`], with extra environment; also returns the "listening" line.
fn start_with(bcrypt_cost: &str, extra: &[(&str, &str)]) -> (Running, String) {
    let mut envs = vec![("BCRYPT_COST", bcrypt_cost)];
    envs.extend_from_slice(extra);
    serve(TESSERA, &envs)
}

#[test]
fn sigterm_stops_a_running_server_with_exit_code_zero() {
    let mut running = start("4");
    let status = terminate(&mut running);
    assert!(status.success(), "exit status {status:?}");
}

#[test]
fn a_request_in_flight_at_sigterm_is_answered_before_the_exit() {
    use std::io::{Read, Write};

    // A high bcrypt cost makes a signup take long enough to be in flight at the signal.
    let mut running = start("14");
    let body = r#"{"name":"Slow","email":"slow@example.com","password":"securepassword123"}"#;
    let request = format!(
        "POST /api/auth/signup HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream = match std::net::TcpStream::connect(format!("127.0.0.1:{}", running.port)) {
        Ok(stream) => stream,
        Err(e) => panic!("connect: {e}"),
    };
    if let Err(e) = stream.write_all(request.as_bytes()) {
        panic!("send: {e}");
    }
    std::thread::sleep(Duration::from_millis(150));
    let status = terminate(&mut running);
    let mut response = String::new();
    if let Err(e) = stream.read_to_string(&mut response) {
        panic!("read: {e}");
    }
    assert!(response.starts_with("HTTP/1.1 201"), "{response}");
    assert!(status.success(), "exit status {status:?}");
}

#[test]
fn an_unreachable_database_stops_the_start_with_one_line_naming_it_without_its_password() {
    let began = Instant::now();
    let output = match tessera_command(TESSERA)
        .args(["serve"])
        .envs([
            ("STORAGE", "postgres"),
            (
                "DATABASE_URL",
                "postgres://tessera:hunter2secret@127.0.0.1:1/tessera",
            ),
            ("DATABASE_STARTUP_TIMEOUT_SECONDS", "1"),
            ("JWT_SECRET", SECRET),
        ])
        .output()
    {
        Ok(output) => output,
        Err(e) => panic!("cannot run tessera: {e}"),
    };
    assert!(!output.status.success());
    assert!(
        began.elapsed() < Duration::from_secs(15),
        "{:?}",
        began.elapsed()
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("hunter2secret"), "{stderr}");
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("tessera:"))
        .collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(
        errors[0].contains("postgres://tessera:***@127.0.0.1:1/tessera"),
        "{stderr}"
    );
}

#[test]
fn log_format_json_writes_one_json_object_per_line() {
    let (mut running, line) = start_with("4", &[("LOG_FORMAT", "json")]);
    let parsed: serde_json::Value = match serde_json::from_str(&line) {
        Ok(value) => value,
        Err(e) => panic!("not JSON ({e}): {line}"),
    };
    assert_eq!(parsed["level"], "INFO", "{line}");
    assert_eq!(parsed["fields"]["message"], "listening", "{line}");
    assert!(terminate(&mut running).success());
}

/// Sends raw bytes on a new connection and reads the answer until the server closes it
/// (or a second passes).
fn raw_exchange(port: u16, request: &[u8]) -> String {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(format!("127.0.0.1:{port}")) else {
        panic!("cannot connect");
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    let _ = stream.write_all(request);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

/// Requests actix-http cannot parse (a 70 KB URI, a head over its 128 KiB limit, a
/// request line that is not HTTP) are the client's doing: nothing at ERROR at the
/// default level, and one DEBUG line each when asked for.
#[test]
fn client_parse_errors_are_logged_at_debug_not_error() {
    let requests: Vec<Vec<u8>> = vec![
        format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(70_000)).into_bytes(),
        format!(
            "GET / HTTP/1.1\r\nHost: x\r\nX-Pad: {}\r\n\r\n",
            "p".repeat(140_000)
        )
        .into_bytes(),
        b"NOT HTTP AT ALL\r\n\r\n".to_vec(),
    ];
    for (level, expect_debug) in [("info", false), ("debug", true)] {
        let port = free_port();
        let command = serve_command(TESSERA, port, &[("RUST_LOG", level)]);
        let (mut running, _, rest) = spawn_listening(command, port);
        let collected = std::thread::spawn(move || rest.collect::<Vec<String>>());
        for request in &requests {
            let answer = raw_exchange(port, request);
            assert!(answer.starts_with("HTTP/1.1 4"), "{level}: {answer:.80}");
        }
        assert!(terminate(&mut running).success());
        let lines = collected.join().unwrap_or_default();
        // Standard error is a pipe here: no colour codes.
        let coloured: Vec<&String> = lines.iter().filter(|l| l.contains('\u{1b}')).collect();
        assert!(
            coloured.is_empty(),
            "{level}: ANSI codes in a pipe: {coloured:?}"
        );
        let errors: Vec<&String> = lines.iter().filter(|l| l.contains("ERROR")).collect();
        assert!(errors.is_empty(), "{level}: {errors:?}");
        let debug = lines
            .iter()
            .filter(|l| l.contains("DEBUG") && l.contains("client connection error"))
            .count();
        if expect_debug {
            assert!(debug >= 1, "{level}: {lines:?}");
        } else {
            assert_eq!(debug, 0, "{level}: {lines:?}");
        }
    }
}

/// The resident memory of a process, in KiB.
fn rss_kib(pid: u32) -> u64 {
    status_kib(pid, "VmRSS:")
}

/// Opens `count` connections that each send `head` and then stall, holds them all, closes
/// them, and returns the server's peak RSS and its RSS once it has settled (in KiB).
fn burst(running: &Running, head: &str, count: usize) -> (u64, u64) {
    use std::io::Write;

    const SETTLED_KIB: u64 = 64 * 1024;
    let pid = running.child.id();
    // The peak is the kernel's high-water mark of this burst (reset here), not one sample:
    // refused heads are let go of within moments, before a sample could see them.
    let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut held = Vec::with_capacity(count);
    while held.len() < count && Instant::now() < deadline {
        let mut stream = match std::net::TcpStream::connect(format!("127.0.0.1:{}", running.port)) {
            Ok(stream) => stream,
            Err(e) => panic!("connection {}: {e}", held.len()),
        };
        let _ = stream.set_write_timeout(Some(Duration::from_secs(10)));
        // A refused head may be answered and closed before all of it is sent.
        let _ = stream.write_all(head.as_bytes());
        held.push(stream);
    }
    assert_eq!(held.len(), count, "the burst did not finish in time");
    std::thread::sleep(Duration::from_secs(1));
    let peak = status_kib(pid, "VmHWM:").max(rss_kib(pid));
    drop(held);
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut after = rss_kib(pid);
    while after >= SETTLED_KIB && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(500));
        after = rss_kib(pid);
    }
    (peak, after)
}

fn stalled_head(padding_kib: usize) -> String {
    format!(
        "POST /api/auth/signout HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: 65536\r\nX-Padding: {}\r\n\r\n",
        "x".repeat(padding_kib * 1024)
    )
}

#[test]
fn memory_returns_after_two_thousand_connections_with_large_heads_close() {
    const CONNECTIONS: usize = 2_000;
    const LIMIT_KIB: u64 = 64 * 1024;
    // This process holds every client end of a burst.
    if let Err(e) = rlimit::increase_nofile_limit(4 * CONNECTIONS as u64) {
        panic!("open-file limit: {e}");
    }
    // Bodies that never come are held for the whole burst, as a stalling client would.
    // All from one address: the per-address cap is off, or it would refuse all but 256.
    let (mut running, _) = start_with(
        "4",
        &[
            ("BODY_TIMEOUT_SECONDS", "300"),
            ("MAX_CONNECTIONS_PER_ADDRESS", "0"),
        ],
    );
    // Heads of 120 KiB: refused with 431, and let go of at once.
    let (peak, after) = burst(&running, &stalled_head(120), CONNECTIONS);
    // The burst itself must have cost memory, or this test proves nothing.
    assert!(peak > LIMIT_KIB, "peak RSS only {peak} KiB");
    assert!(
        after < LIMIT_KIB,
        "RSS stayed at {after} KiB after 120 KiB heads (peak {peak} KiB)"
    );
    // Heads just under the limit, all held open until the client closes them.
    let (peak, after) = burst(&running, &stalled_head(30), CONNECTIONS);
    assert!(peak > LIMIT_KIB, "peak RSS only {peak} KiB");
    assert!(
        after < LIMIT_KIB,
        "RSS stayed at {after} KiB after 30 KiB heads (peak {peak} KiB)"
    );
    assert!(terminate(&mut running).success());
}

#[test]
fn max_connections_is_lowered_to_fit_the_open_file_limit_and_a_flood_waits_its_turn() {
    use std::io::{Read, Write};

    let port = free_port();
    // A process allowed 256 descriptors, soft and hard.
    let mut command = Command::new("sh");
    command
        .args(["-c", "ulimit -n 256 && exec \"$0\" serve", TESSERA])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs([
            ("STORAGE", "memory"),
            ("JWT_SECRET", SECRET),
            ("BCRYPT_COST", "4"),
            ("PORT", port.to_string().as_str()),
            ("LOG_FORMAT", "json"),
        ]);
    let (mut running, logged, rest) = spawn_listening(command, port);
    let collected = std::thread::spawn(move || rest.collect::<Vec<_>>());
    let Some(lowered) = logged
        .iter()
        .find(|line| line.contains("MAX_CONNECTIONS lowered"))
    else {
        let _ = running.child.kill();
        panic!("no line says MAX_CONNECTIONS was lowered");
    };
    // 256 descriptors, less 64 kept aside and the two pools' 20.
    assert!(lowered.contains(r#""max_connections":172"#), "{lowered}");

    // A flood of idle connections beyond the limit: the extra ones wait to be accepted,
    // nothing fails for want of a descriptor.
    let flood: Vec<_> = (0..400)
        .filter_map(|_| std::net::TcpStream::connect(format!("127.0.0.1:{port}")).ok())
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let descriptors = std::fs::read_dir(format!("/proc/{}/fd", running.child.id()))
        .map(Iterator::count)
        .unwrap_or(usize::MAX);
    assert!(descriptors <= 256, "{descriptors} descriptors open");
    drop(flood);
    // Once the flood is gone, requests are served again.
    let mut answer = String::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !answer.starts_with("HTTP/1.1 200") && Instant::now() < deadline {
        answer.clear();
        if let Ok(mut stream) = std::net::TcpStream::connect(format!("127.0.0.1:{port}")) {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
            let _ = stream
                .write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
            let _ = stream.read_to_string(&mut answer);
        }
    }
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    terminate(&mut running);
    let logs = collected.join().unwrap_or_default().join("\n");
    assert!(!logs.contains("Too many open files"), "{logs}");
}

/// One HTTP/1.1 request with a JSON body (or none) and a token (or none), on a new
/// connection that the server closes after the answer; returns the status and the body.
fn http(port: u16, method: &str, path: &str, token: Option<&str>, body: &str) -> (u16, String) {
    let auth = token.map_or_else(String::new, |t| format!("Authorization: Bearer {t}\r\n"));
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{auth}\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let answer = raw_exchange(port, request.as_bytes());
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_default();
    let body = answer
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    (status, body)
}

/// Two `tessera` processes on one SQLite file: both migrate it at once, and a signout on
/// one is refused at once by the other.
#[test]
fn two_processes_on_one_sqlite_file_see_each_others_signouts() {
    let db = tessera_sqlite::testing::TempDatabase::new();
    let url = db.url();
    let on_the_file = [("STORAGE", "sqlite"), ("DATABASE_URL", url.as_str())];
    let (mut a, mut b) = std::thread::scope(|scope| {
        let a = scope.spawn(|| serve(TESSERA, &on_the_file).0);
        let b = scope.spawn(|| serve(TESSERA, &on_the_file).0);
        match (a.join(), b.join()) {
            (Ok(a), Ok(b)) => (a, b),
            _ => panic!("both processes must start"),
        }
    });
    let (port_a, port_b) = (a.port, b.port);
    let (status, body) = http(
        port_a,
        "POST",
        "/api/auth/signup",
        None,
        &format!(r#"{{"name":"Two","email":"two@example.com","password":"{PASSWORD}"}}"#),
    );
    assert_eq!(status, 201, "{body}");
    let token = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["token"].as_str().map(str::to_owned))
        .unwrap_or_default();
    assert_eq!(http(port_b, "GET", "/api/auth/me", Some(&token), "").0, 200);
    assert_eq!(
        http(port_b, "POST", "/api/auth/signout", Some(&token), "").0,
        200
    );
    let (status, body) = http(port_a, "GET", "/api/auth/me", Some(&token), "");
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("token_revoked"), "{body}");
    assert!(terminate(&mut a).success());
    assert!(terminate(&mut b).success());
}
