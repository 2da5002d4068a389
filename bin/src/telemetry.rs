//! Logging setup.

use std::io::IsTerminal;

use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::EnvFilter;

/// Lines that may wait for the writer thread before a logging call blocks.
const BUFFERED_LINES: usize = 65_536;

/// Installs the global subscriber: `RUST_LOG` filter (default `info`), text or JSON lines
/// on standard error, written by a thread of their own so that a request never waits on
/// the terminal, pipe or file behind standard error. Keep the returned guard for the life
/// of the process: dropping it writes out what is still buffered.
#[must_use = "dropping the guard stops the log writer"]
pub fn init(json: bool) -> WorkerGuard {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Nothing is dropped: when the buffer is full, logging waits, as a direct write would.
    let (writer, guard) = NonBlockingBuilder::default()
        .lossy(false)
        .buffered_lines_limit(BUFFERED_LINES)
        .thread_name("tessera-log")
        .finish(std::io::stderr());
    // Colours only for a person at a terminal, never in a file or a pipe.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(writer);
    // A second call (tests) keeps the first subscriber; that is fine.
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
    guard
}
