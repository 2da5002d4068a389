//! The `tessera` binary as a child process: started with a clean environment on a free
//! loopback port, waited for until it logs that it listens, and stopped by a signal.
//!
//! The binary's path is the caller's `env!("CARGO_BIN_EXE_tessera")`: only the `tessera`
//! package's own test binaries know it.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::SECRET;

/// A `tessera` command with an empty environment but `PATH`.
pub fn tessera_command(binary: &str) -> Command {
    let mut command = Command::new(binary);
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    command
}

/// `tessera serve` on `port` with memory storage, the test secret, bcrypt cost 4 and
/// `RUST_LOG=info`; `envs` replace or add variables.
pub fn serve_command(binary: &str, port: u16, envs: &[(&str, &str)]) -> Command {
    let mut command = tessera_command(binary);
    command
        .arg("serve")
        .envs([
            ("STORAGE", "memory"),
            ("JWT_SECRET", SECRET),
            ("BCRYPT_COST", "4"),
            ("PORT", port.to_string().as_str()),
            ("RUST_LOG", "info"),
        ])
        .envs(envs.iter().copied());
    command
}

/// A free port on the loopback address.
pub fn free_port() -> u16 {
    match TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()) {
        Ok(address) => address.port(),
        Err(e) => panic!("no free port: {e}"),
    }
}

/// A running `tessera` process, killed when dropped if it still runs.
pub struct Running {
    /// The process.
    pub child: Child,
    /// The port it listens on.
    pub port: u16,
}

impl Drop for Running {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The rest of a server's log, line by line.
pub type LogLines = Box<dyn Iterator<Item = String> + Send>;

/// Spawns `command`, a `tessera serve` on `port`, and waits (up to 30 s) for its
/// "listening" line, which must name `127.0.0.1:port`. Returns the server, every line it
/// logged up to that one (the last), and the rest of its log, which the caller must keep
/// reading so that the server never blocks on a full pipe.
pub fn spawn_listening(mut command: Command, port: u16) -> (Running, Vec<String>, LogLines) {
    let mut child = match command.stderr(Stdio::piped()).spawn() {
        Ok(child) => child,
        Err(e) => panic!("cannot start tessera: {e}"),
    };
    let Some(stderr) = child.stderr.take() else {
        panic!("stderr is piped");
    };
    let running = Running { child, port };
    let mut lines = BufReader::new(stderr).lines().map_while(Result::ok);
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut logged = Vec::new();
    for line in lines.by_ref() {
        let listening = line.contains("listening");
        logged.push(line);
        if listening || Instant::now() >= deadline {
            break;
        }
    }
    let Some(line) = logged.last().filter(|line| line.contains("listening")) else {
        panic!("the server never said it was listening");
    };
    assert!(line.contains(&format!("127.0.0.1:{port}")), "{line}");
    (running, logged, Box::new(lines))
}

/// [`serve_command`] on a free port, waited for as [`spawn_listening`] does, its log
/// drained in the background. Returns the server and its "listening" line.
pub fn serve(binary: &str, envs: &[(&str, &str)]) -> (Running, String) {
    let port = free_port();
    let (running, logged, rest) = spawn_listening(serve_command(binary, port, envs), port);
    std::thread::spawn(move || rest.for_each(drop));
    (running, logged.last().cloned().unwrap_or_default())
}

/// Sends SIGTERM and waits for the process to exit.
pub fn terminate(running: &mut Running) -> ExitStatus {
    let killed = Command::new("kill")
        .args(["-TERM", &running.child.id().to_string()])
        .status();
    assert!(matches!(killed, Ok(status) if status.success()));
    match running.child.wait() {
        Ok(status) => status,
        Err(e) => panic!("waiting for tessera: {e}"),
    }
}

/// A memory figure of `/proc/PID/status` (`VmRSS:`, `VmHWM:`), in KiB; `u64::MAX` if it
/// cannot be read.
pub fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(u64::MAX)
}
