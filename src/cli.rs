//! The command-line interface: `warmline serve`, `warmline migrate`, ….

use std::net::SocketAddr;

use anyhow::Result;
use clap::{Parser, Subcommand};

use crate::config::{Config, DEFAULT_BIND, parse_bind};
use crate::db::{Database, Role};

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
    }
}
