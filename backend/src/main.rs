//! `stratus`: the Stratus server binary.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use stratus_backend::config::Settings;
use stratus_backend::startup::Application;
use stratus_backend::telemetry;

/// Stratus: the cloud portal DataMiner Systems connect to.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// A TOML settings file; `STRATUS_*` environment variables override it.
    #[arg(long, env = "STRATUS_CONFIG", global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the portal and its API (the default).
    Serve,
    /// Print the OpenAPI document and exit.
    Openapi,
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Openapi => {
            println!(
                "{}",
                stratus_backend::startup::openapi_document().to_pretty_json()?
            );
            Ok(())
        }
        Command::Serve => {
            let settings = Settings::load(cli.config.as_deref())?;
            telemetry::init(settings.log_format);
            let public_url = settings.public_url();
            let application = Application::build(settings).await?;
            tracing::info!(
                url = %public_url,
                port = application.port(),
                "Stratus is running: open {public_url} in your browser"
            );
            application.run_until_stopped().await?;
            tracing::info!("Stratus stopped");
            Ok(())
        }
    }
}
