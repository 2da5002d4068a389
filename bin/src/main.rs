//! `tessera`: the command line.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use rand::distr::{Alphanumeric, SampleString};
use secrecy::SecretString;
use tessera::settings::{Settings, Storage};
use tessera::startup::{self, Application};
use tessera::telemetry;

/// jemalloc returns freed memory to the system (see `.cargo/config.toml`): after a burst
/// of large requests the process shrinks back instead of keeping its peak for good.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Tessera: sign up, sign in, and manage your own tasks.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// A TOML file of settings (environment variables override it).
    #[arg(long, global = true, env = "TESSERA_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start the HTTP server.
    Serve {
        /// Development mode: when no secret is set, use one generated once and kept in
        /// `.tessera/jwt-secret`.
        #[arg(long)]
        dev: bool,
        /// Do not apply pending migrations at start.
        #[arg(long)]
        no_migrate: bool,
    },
    /// Apply pending database migrations, then exit.
    Migrate,
    /// Time one bcrypt verification at a cost on this machine (to choose BCRYPT_COST).
    HashTime {
        /// The work factor to time (default: BCRYPT_COST).
        #[arg(long)]
        cost: Option<u32>,
        /// How many verifications to time, one after the other.
        #[arg(long, default_value_t = 5)]
        rounds: u32,
    },
}

// One thread is enough for start-up, signals and pruning: requests run on the HTTP
// server's own worker threads.
#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut settings = match Settings::load(cli.config.as_deref()) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("tessera: {error}");
            return ExitCode::from(2);
        }
    };
    let _log_writer = telemetry::init(settings.log_json);
    match cli.command {
        Command::Serve { dev, no_migrate } => {
            if dev && let Err(error) = apply_dev_defaults(&mut settings) {
                eprintln!("tessera: {error:#}");
                return ExitCode::FAILURE;
            }
            settings.storage.migrate_on_start = !no_migrate;
            serve(settings).await
        }
        Command::Migrate => migrate(settings).await,
        Command::HashTime { cost, rounds } => {
            hash_time(cost.unwrap_or(settings.hashing.bcrypt_cost), rounds)
        }
    }
}

/// Prints the mean time of one bcrypt verification, in seconds, on one core.
fn hash_time(cost: u32, rounds: u32) -> ExitCode {
    match tessera_crypto::time_verification(cost, rounds.max(1)) {
        Ok(seconds) => {
            tracing::info!(cost, rounds, seconds, "one bcrypt verification");
            #[expect(clippy::print_stdout, reason = "the command's answer, for scripts")]
            {
                println!("{seconds:.6}");
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("tessera: {error}");
            ExitCode::from(2)
        }
    }
}

async fn migrate(settings: Settings) -> ExitCode {
    if settings.storage.kind == Storage::Memory {
        eprintln!("tessera: STORAGE=memory has no schema to migrate");
        return ExitCode::FAILURE;
    }
    let result = async {
        if settings.storage.kind == Storage::Postgres {
            startup::connect(&settings).await?;
        }
        startup::apply_migrations(&settings).await
    }
    .await;
    match result {
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("tessera: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Where development mode keeps its generated secret (git-ignored).
const DEV_SECRET_FILE: &str = ".tessera/jwt-secret";

fn apply_dev_defaults(settings: &mut Settings) -> anyhow::Result<()> {
    use anyhow::Context;
    if matches!(settings.mail.delivery, tessera::settings::Delivery::Off) {
        settings.mail.delivery =
            tessera::settings::Delivery::Files(tessera::settings::DEV_MAIL_DIR.into());
    }
    if settings.auth.secret.is_some() {
        tracing::warn!("development mode: using the configured JWT secret");
        return Ok(());
    }
    let path = std::path::Path::new(DEV_SECRET_FILE);
    let secret = match std::fs::read_to_string(path) {
        Ok(existing) if existing.trim().len() >= tessera::settings::MIN_SECRET_BYTES => {
            existing.trim().to_owned()
        }
        _ => {
            let generated = Alphanumeric.sample_string(&mut rand::rng(), 48);
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
            }
            write_private(path, &generated)
                .with_context(|| format!("writing {DEV_SECRET_FILE}"))?;
            generated
        }
    };
    settings.auth.secret = Some(SecretString::from(secret));
    tracing::warn!(
        secret_file = DEV_SECRET_FILE,
        "development mode: JWT secret generated for this machine and kept in {DEV_SECRET_FILE}; never use it in production"
    );
    Ok(())
}

/// Writes a file only its owner can read.
fn write_private(path: &std::path::Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents.as_bytes())
}

async fn serve(settings: Settings) -> ExitCode {
    let app = match Application::build(settings).await {
        Ok(app) => app,
        Err(error) => {
            eprintln!("tessera: {error:#}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(address = %format!("http://{}", app.address()), "listening");
    match app.run_until_stopped().await {
        Ok(()) => {
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(error) => {
            tracing::error!(%error, "server failed");
            ExitCode::FAILURE
        }
    }
}
