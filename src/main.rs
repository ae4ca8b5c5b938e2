//! The command line: `serve` (the default) and `migrate`.

use clap::{Parser, Subcommand};
use rrh_tt02::config::Settings;
use rrh_tt02::startup::Application;
use rrh_tt02::store::Db;
use rrh_tt02::telemetry;

#[derive(Parser)]
#[command(
    version,
    about = "TT02 order tracker for the Register of Beneficial Owners"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server and the mail worker (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    telemetry::init();
    let settings = Settings::from_env()?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            Application::build(settings)
                .await?
                .run_until_stopped()
                .await
        }
        Command::Migrate => {
            let db = Db::connect(&settings.database_url).await?;
            db.migrate().await?;
            db.close().await;
            tracing::info!("migrations applied");
            Ok(())
        }
    }
}
