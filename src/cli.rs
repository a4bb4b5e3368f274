//! The command-line interface: `warmline serve`, `warmline migrate`, ….

use std::net::SocketAddr;

use anyhow::{Context, Result, anyhow, bail};
use clap::{Parser, Subcommand};

use crate::accounts::service::{self, NewUserInput};
use crate::config::{Config, DEFAULT_BIND, parse_bind};
use crate::db::{self, Database, Role};
use crate::domain::error::ServiceError;
use crate::domain::users::TokenAccess;

/// Warmline: a referral-selling CRM server.
#[derive(Debug, Parser)]
#[command(name = "warmline", version, about)]
pub struct Cli {
    #[command(flatten)]
    config: Config,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the web server (and its background tasks) until Ctrl-C or SIGTERM.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "WARMLINE_BIND", default_value = DEFAULT_BIND, value_parser = parse_bind)]
        bind: SocketAddr,
        /// Load the demo team on first start, when the database is empty.
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Load the demo organisation into an empty database and print its logins.
    Demo,
    /// Create bulk synthetic data for benchmarks (through COPY).
    Seed {
        /// Reps to create (with a manager for every ten).
        #[arg(long, default_value_t = 200)]
        reps: usize,
        /// Contacts, spread over the reps.
        #[arg(long, default_value_t = 200_000)]
        contacts: usize,
        /// Asks over the last two years, with their events and follow-ups.
        #[arg(long, default_value_t = 1_000_000)]
        asks: usize,
        /// Relationships between contacts of one network, for path search.
        #[arg(long, default_value_t = 1_000_000)]
        relationships: usize,
        /// Seed even though the database holds data that is not seed data.
        #[arg(long)]
        force: bool,
    },
    /// Run the overdue sweep (and due digest e-mails) once and print what it did.
    Sweep,
    /// Write a consistent backup of the whole database (it may be running) and print its path.
    Backup {
        /// The file to write; by default a new file in the data directory's `backups` folder.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// Move the embedded database to the newest PostgreSQL installed (a backup is taken first
    /// and the old cluster kept).
    UpgradeDb {
        /// Rebuild the cluster the same way even when it is on the newest version already.
        #[arg(long)]
        rebuild: bool,
    },
    /// Restore a backup, then bring its schema up to date.
    Restore {
        /// The backup file (from `warmline backup`).
        file: std::path::PathBuf,
        /// Replace a database that already holds data.
        #[arg(long)]
        force: bool,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Add a user; the password is read from standard input.
    Add {
        /// Login e-mail address.
        #[arg(long)]
        email: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// rep, manager or admin.
        #[arg(long)]
        role: String,
        /// E-mail address of the manager the user reports to.
        #[arg(long)]
        manager: Option<String>,
        /// IANA time zone, e.g. Europe/Berlin.
        #[arg(long, default_value = "UTC")]
        time_zone: String,
        /// Asks per week the user aims for.
        #[arg(long, default_value_t = 5)]
        weekly_target: i32,
        /// Read the password from standard input (required: passwords never go on the
        /// command line, where other users can see them).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Create an API token for a user and print it once.
    Create {
        /// The user's e-mail address.
        #[arg(long)]
        email: String,
        /// What the token is for.
        #[arg(long)]
        name: String,
        /// Let the token only read (every GET), not change anything.
        #[arg(long)]
        read_only: bool,
    },
}

/// Runs one parsed command line.
pub async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Serve { bind, demo } => crate::server::serve(cli.config, bind, demo).await,
        Command::Migrate => {
            // Opening the database applies the migrations.
            let db = Database::open(&cli.config, Role::Command).await?;
            println!("migrations are up to date");
            db.shutdown().await
        }
        Command::Demo => {
            let db = Database::open(&cli.config, Role::Command).await?;
            let result = crate::server::load_demo(&db.pool).await;
            db.shutdown().await?;
            result
        }
        Command::Seed {
            reps,
            contacts,
            asks,
            relationships,
            force,
        } => {
            if reps == 0 {
                bail!("--reps must be at least 1");
            }
            let db = Database::open(&cli.config, Role::Command).await?;
            let started = std::time::Instant::now();
            let size = crate::seed::Size {
                reps,
                contacts,
                asks,
                relationships,
            };
            let result = crate::seed::seed(
                &db.pool,
                size,
                time::OffsetDateTime::now_utc().date(),
                force,
            )
            .await;
            db.shutdown().await?;
            let r = result?;
            println!(
                "seeded {} users, {} contacts at {} companies, {} relationships, {} asks, {} events, {} follow-ups in {:.1} s (password {})",
                r.users,
                r.contacts,
                r.companies,
                r.relationships,
                r.asks,
                r.events,
                r.follow_ups,
                started.elapsed().as_secs_f64(),
                crate::seed::PASSWORD
            );
            println!("  {}", r.phases_text());
            Ok(())
        }
        Command::Sweep => {
            let db = Database::open(&cli.config, Role::Command).await?;
            let state = crate::state::AppState::new(db.pool.clone(), cli.config.clone());
            let mailer = crate::mail::Mailer::from_config(&cli.config)?;
            let result =
                crate::sweeper::tick(&state, mailer.as_ref(), time::OffsetDateTime::now_utc())
                    .await;
            db.shutdown().await?;
            let r = result?;
            println!(
                "flagged {} overdue, cleared {}, escalated {}, wrote {} notifications, sent {} digests",
                r.flagged, r.cleared, r.escalated, r.notified, r.digests
            );
            Ok(())
        }
        Command::Backup { out } => {
            let db = Database::open(&cli.config, Role::Command).await?;
            let out = out.unwrap_or_else(|| {
                crate::backup::new_path(&crate::backup::directory(&cli.config.data_dir))
            });
            let result = crate::backup::take(&db.url, &out).await;
            db.shutdown().await?;
            result?;
            println!("{}", out.display());
            Ok(())
        }
        Command::UpgradeDb { rebuild } => {
            if cli.config.database_url.is_some() {
                bail!(
                    "upgrade-db moves the embedded database; with DATABASE_URL, upgrade that \
                     server the way its operators do (pg_upgrade, or the provider's upgrade)"
                );
            }
            match crate::upgrade::upgrade(&cli.config.data_dir, rebuild).await? {
                None => println!(
                    "the database is on the newest PostgreSQL installed already; nothing to do"
                ),
                Some(done) => println!(
                    "upgraded the database from PostgreSQL {} to {}\nbackup taken first: {}\nthe old cluster is kept in {}; delete it once all is well",
                    done.from,
                    done.to,
                    done.backup.display(),
                    done.old_cluster.display()
                ),
            }
            Ok(())
        }
        Command::Restore { file, force } => {
            let db = Database::open(&cli.config, Role::Command).await?;
            let result = restore(&db, &file, force).await;
            db.shutdown().await?;
            result?;
            println!("restored {}", file.display());
            Ok(())
        }
        Command::User { command } => {
            let db = Database::open(&cli.config, Role::Command).await?;
            let result = run_user(&db, command).await;
            db.shutdown().await?;
            result
        }
        Command::Token { command } => {
            let db = Database::open(&cli.config, Role::Command).await?;
            let result = run_token(&db, command).await;
            db.shutdown().await?;
            result
        }
    }
}

/// Restores into a database without users, or any database with `force`; then migrates, so a
/// backup from an older version gets the newer schema.
async fn restore(db: &Database, file: &std::path::Path, force: bool) -> Result<()> {
    if !force && crate::backup::holds_data(&db.pool).await? {
        bail!(
            "the database already holds data; restoring {} would replace it. Run again with \
             --force to replace it, or restore into a new WARMLINE_DATA_DIR.",
            file.display()
        );
    }
    crate::backup::restore(&db.url, file).await?;
    db::migrate(&db.pool)
        .await
        .context("the backup was restored, but bringing its schema up to date failed")?;
    Ok(())
}

async fn run_user(db: &Database, command: UserCommand) -> Result<()> {
    let UserCommand::Add {
        email,
        name,
        role,
        manager,
        time_zone,
        weekly_target,
        password_stdin: _,
    } = command;
    let mut password = String::new();
    std::io::stdin()
        .read_line(&mut password)
        .context("could not read the password from standard input")?;
    let password = password.trim_end_matches(['\r', '\n']).to_string();
    let manager_id = match manager {
        Some(manager) => db::users::id_by_email(&db.pool, &manager)
            .await?
            .ok_or_else(|| anyhow!("no user has the e-mail address {manager}"))?
            .to_string(),
        None => String::new(),
    };
    let input = NewUserInput {
        email,
        name,
        role,
        manager_id,
        weekly_ask_target: weekly_target.to_string(),
        time_zone,
        password,
    };
    let id = service::add_user(&db.pool, None, &input)
        .await
        .map_err(|e| refused(e, "the user was not added"))?;
    println!("added user {id} <{}>", input.email.trim());
    Ok(())
}

async fn run_token(db: &Database, command: TokenCommand) -> Result<()> {
    let TokenCommand::Create {
        email,
        name,
        read_only,
    } = command;
    let access = if read_only {
        TokenAccess::ReadOnly
    } else {
        TokenAccess::ReadWrite
    };
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        bail!("--name must be 1 to 100 characters");
    }
    let user = db::users::id_by_email(&db.pool, &email)
        .await?
        .ok_or_else(|| anyhow!("no user has the e-mail address {email}"))?;
    let token = service::issue_token(&db.pool, None, user, name, access)
        .await
        .map_err(|e| refused(e, "the token was not created"))?;
    println!("{token}");
    eprintln!("This token is shown once. Store it now; Warmline keeps only its hash.");
    Ok(())
}

/// A service's refusal or failure as a command-line error: field messages one per line under
/// `what`, anything else with `what` as context over the error's own chain (a database error
/// keeps its cause, for `{:#}` and the exit message).
fn refused(error: ServiceError, what: &str) -> anyhow::Error {
    match error {
        ServiceError::Invalid(errors) => {
            let lines: Vec<String> = errors.iter().map(|(f, m)| format!("  {f}: {m}")).collect();
            anyhow!("{what}:\n{}", lines.join("\n"))
        }
        other => anyhow::Error::new(other).context(what.to_string()),
    }
}
