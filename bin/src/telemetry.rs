//! Logging setup.

use std::fmt::Write as _;
use std::io::{IsTerminal, Write as _};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_appender::non_blocking::{NonBlocking, NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::fmt::writer::MakeWriterExt;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

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
    let ansi = std::io::stderr().is_terminal();
    let client_errors = ClientErrorsAtDebug {
        writer: (filter.max_level_hint() >= Some(LevelFilter::DEBUG)).then(|| writer.clone()),
        json,
    };
    let lines = tracing_subscriber::fmt::layer()
        .with_ansi(ansi)
        .with_writer(writer.with_filter(|meta: &Metadata<'_>| !is_client_error(meta)));
    let lines = if json {
        lines.json().boxed()
    } else {
        lines.boxed()
    };
    // A second call (tests) keeps the first subscriber; that is fine.
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(client_errors)
        .with(lines)
        .try_init();
    guard
}

/// Whether an event is one of the errors actix-http's HTTP/1 dispatcher logs at ERROR
/// for what a client did: a head it could not parse (`URI too long`, `message head is too
/// large`), a connection it dropped or broke. A client decides how many of those there
/// are, so they must not decide how many ERROR lines there are.
fn is_client_error(meta: &Metadata<'_>) -> bool {
    *meta.level() == Level::ERROR && meta.target() == "actix_http::h1::dispatcher"
}

/// Writes each client error as a DEBUG line of `tessera::client` when the filter lets
/// DEBUG lines through; the original ERROR line is filtered out of the output. (An event
/// cannot be re-emitted from inside a subscriber: tracing drops events dispatched while
/// another is, so the line is written here, in the output's own format.)
struct ClientErrorsAtDebug {
    writer: Option<NonBlocking>,
    json: bool,
}

impl<S: Subscriber> Layer<S> for ClientErrorsAtDebug {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let Some(writer) = &self.writer else {
            return;
        };
        if !is_client_error(event.metadata()) {
            return;
        }
        let mut message = Message(String::new());
        event.record(&mut message);
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let line = if self.json {
            serde_json::json!({
                "timestamp": now,
                "level": "DEBUG",
                "fields": {"message": "client connection error", "error": message.0},
                "target": "tessera::client",
            })
            .to_string()
        } else {
            format!(
                "{now} DEBUG tessera::client: client connection error error={:?}",
                message.0
            )
        };
        let _ = writeln!(writer.clone(), "{line}");
    }
}

/// The `message` field of an event, as text.
struct Message(String);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.push_str(value);
        }
    }
}
