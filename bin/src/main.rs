//! `tessera`: the command line.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use rand::distr::{Alphanumeric, SampleString};
use secrecy::SecretString;
use tessera::settings::{Settings, Storage};
use tessera::startup::Application;
use tessera::telemetry;

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
        /// Development mode: in-memory storage and, when no secret is set, a random one.
        #[arg(long)]
        dev: bool,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut settings = match Settings::load(cli.config.as_deref()) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("tessera: {error}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(settings.log_json);
    match cli.command {
        Command::Serve { dev } => {
            if dev {
                apply_dev_defaults(&mut settings);
            }
            serve(settings).await
        }
    }
}

fn apply_dev_defaults(settings: &mut Settings) {
    settings.storage = Storage::Memory;
    let generated = settings.jwt_secret.is_none();
    if generated {
        let secret = Alphanumeric.sample_string(&mut rand::rng(), 48);
        settings.jwt_secret = Some(SecretString::from(secret));
    }
    tracing::warn!(
        generated_secret = generated,
        "development mode: in-memory storage (data is lost on exit){}",
        if generated {
            " and a generated JWT secret (tokens end with the process)"
        } else {
            ""
        }
    );
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
