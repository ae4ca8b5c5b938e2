//! The command line: `serve` (the default), `migrate`, `user add|passwd|disable` and `purge`.

use clap::{Parser, Subcommand};
use rrh_tt02::app::{self, Context};
use rrh_tt02::auth;
use rrh_tt02::config::Settings;
use rrh_tt02::startup::Application;
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
    /// Remove personal data from orders that ended more than RRH_PURGE_AFTER_DAYS days ago
    /// (the server also does this every few hours).
    Purge {
        /// Override RRH_PURGE_AFTER_DAYS for this run.
        #[arg(long)]
        older_than_days: Option<u32>,
    },
    /// Manage case-handler and admin accounts. Passwords are read from standard input.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account; the password is the first line of standard input.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// `case-handler` or `admin`.
        #[arg(long, default_value = "case-handler")]
        role: String,
    },
    /// Set a new password (from standard input) and end the account's sessions.
    Passwd {
        #[arg(long)]
        email: String,
    },
    /// Disable an account and end its sessions.
    Disable {
        #[arg(long)]
        email: String,
    },
}

/// The first line of standard input, without its line break. Never an argument: arguments
/// end up in shell history and process listings.
fn read_password() -> anyhow::Result<String> {
    use std::io::{BufRead, IsTerminal};
    let password = if std::io::stdin().is_terminal() {
        // Typed by a person: prompt on the terminal without echoing what is typed.
        rpassword::prompt_password(format!(
            "Password (at least {} characters): ",
            auth::MIN_PASSWORD_CHARS
        ))?
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    };
    auth::check_password_rules(&password).map_err(|e| anyhow::anyhow!(e))?;
    Ok(password)
}

async fn user_command(ctx: &Context, command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add { email, name, role } => {
            let role = auth::Role::parse(&role)
                .ok_or_else(|| anyhow::anyhow!("--role must be `case-handler` or `admin`"))?;
            let parsed = rrh_tt02::domain::EmailAddress::parse(&email)
                .map_err(|_| anyhow::anyhow!("--email must be an email address"))?;
            if name.trim().is_empty() {
                anyhow::bail!("--name must not be empty");
            }
            let user =
                app::accounts::add(ctx, parsed.as_str(), &name, role, read_password()?).await?;
            println!("created {} ({})", user.email, role.as_str());
        }
        UserCommand::Passwd { email } => {
            app::accounts::set_password(ctx, &email, read_password()?).await?;
            println!("password changed for {}", email.trim().to_lowercase());
        }
        UserCommand::Disable { email } => {
            app::accounts::disable(ctx, &email).await?;
            println!("disabled {}", email.trim().to_lowercase());
        }
    }
    Ok(())
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
            Context::connect(settings).await?.db().close().await;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::User { command } => {
            let ctx = Context::connect(settings).await?;
            let result = user_command(&ctx, command).await;
            ctx.db().close().await;
            result
        }
        Command::Purge { older_than_days } => {
            let days = older_than_days.unwrap_or(settings.purge_after_days);
            let ctx = Context::connect(settings).await?;
            let cutoff = chrono::Utc::now() - chrono::Duration::days(i64::from(days));
            let purged = app::purge::personal_data(&ctx, cutoff).await;
            ctx.db().close().await;
            println!(
                "purged personal data from {} order(s) that ended more than {days} day(s) ago",
                purged?
            );
            Ok(())
        }
    }
}
