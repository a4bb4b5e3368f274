//! The `warmline` command: parses the command line and hands over to the library.

use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    // A local .env file may set the environment variables documented in .env.example.
    let _ = dotenvy::dotenv();
    let cli = warmline::cli::Cli::parse();
    warmline::telemetry::init();
    match warmline::cli::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
