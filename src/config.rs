//! Configuration, read from command-line flags and the environment.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

/// Settings shared by every subcommand.
#[derive(Clone, Args)]
pub struct Config {
    /// PostgreSQL URL. Without it Warmline runs its own embedded PostgreSQL in the data directory.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, global = true)]
    pub database_url: Option<String>,

    /// Where the embedded PostgreSQL cluster and other local state live.
    #[arg(
        long,
        env = "WARMLINE_DATA_DIR",
        default_value = "./warmline-data",
        global = true
    )]
    pub data_dir: PathBuf,

    /// Largest number of open database connections.
    #[arg(long, env = "WARMLINE_POOL_SIZE", default_value_t = 10, global = true)]
    pub pool_size: u32,

    /// Seconds a request may take before it is answered with 503.
    #[arg(
        long,
        env = "WARMLINE_REQUEST_TIMEOUT",
        default_value_t = 30,
        global = true
    )]
    pub request_timeout_secs: u64,

    /// Largest request body in bytes; larger ones get 413.
    #[arg(long, env = "WARMLINE_BODY_LIMIT", default_value_t = 2 * 1024 * 1024, global = true)]
    pub body_limit: usize,
}

impl Config {
    /// The request timeout as a duration.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs)
    }

    /// Defaults for tests and embedding: no `DATABASE_URL`, the usual limits.
    pub fn for_database(database_url: Option<String>) -> Self {
        Self {
            database_url,
            data_dir: PathBuf::from("./warmline-data"),
            pool_size: 10,
            request_timeout_secs: 30,
            body_limit: 2 * 1024 * 1024,
        }
    }
}

// The database URL may carry a password: never print it.
impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field(
                "database_url",
                &self.database_url.as_ref().map(|_| "[redacted]"),
            )
            .field("data_dir", &self.data_dir)
            .field("pool_size", &self.pool_size)
            .field("request_timeout_secs", &self.request_timeout_secs)
            .field("body_limit", &self.body_limit)
            .finish()
    }
}

/// The address `serve` listens on.
pub const DEFAULT_BIND: &str = "127.0.0.1:3000";

/// Parses a listen address such as `127.0.0.1:3000` or `[::1]:8080`.
pub fn parse_bind(text: &str) -> Result<SocketAddr, String> {
    text.parse()
        .map_err(|_| format!("'{text}' is not an address like 127.0.0.1:3000"))
}
