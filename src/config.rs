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

    /// A read replica of that database (a streaming standby) for the dashboards and the
    /// contact and ask lists; the pages say how far behind it is. Without it, all reads go to
    /// `DATABASE_URL`.
    #[arg(long, env = "DATABASE_READ_URL", hide_env_values = true, global = true)]
    pub database_read_url: Option<String>,

    /// Where the embedded PostgreSQL cluster and other local state live.
    #[arg(
        long,
        env = "WARMLINE_DATA_DIR",
        default_value = DEFAULT_DATA_DIR,
        global = true
    )]
    pub data_dir: PathBuf,

    /// Largest number of open database connections.
    #[arg(long, env = "WARMLINE_POOL_SIZE", default_value_t = DEFAULT_POOL_SIZE, global = true)]
    pub pool_size: u32,

    /// Seconds a request may take before it is answered with 503.
    #[arg(
        long,
        env = "WARMLINE_REQUEST_TIMEOUT",
        default_value_t = DEFAULT_REQUEST_TIMEOUT_SECS,
        global = true
    )]
    pub request_timeout_secs: u64,

    /// Most requests worked on at a time (as many again may wait briefly); beyond that a
    /// request gets 503 with Retry-After at once. 0: twice the pool size.
    #[arg(
        long,
        env = "WARMLINE_MAX_IN_FLIGHT",
        default_value_t = 0,
        global = true
    )]
    pub max_in_flight: usize,

    /// Largest request body in bytes; larger ones get 413.
    #[arg(long, env = "WARMLINE_BODY_LIMIT", default_value_t = DEFAULT_BODY_LIMIT, global = true)]
    pub body_limit: usize,

    /// Mark the session cookie `Secure` (serve over HTTPS, usually behind a proxy).
    #[arg(
        long,
        env = "WARMLINE_SECURE_COOKIES",
        default_value_t = false,
        global = true
    )]
    pub secure_cookies: bool,

    /// Trust `X-Forwarded-For` from a reverse proxy for the client's address.
    #[arg(
        long,
        env = "WARMLINE_TRUST_PROXY",
        default_value_t = false,
        global = true
    )]
    pub trust_proxy: bool,

    /// With `--trust-proxy`: how many trusted proxies append to `X-Forwarded-For`. The client
    /// is the entry that many places from the right; whatever stands further left was written
    /// by the client and is ignored.
    #[arg(long, env = "WARMLINE_PROXY_HOPS", default_value_t = 1, global = true)]
    pub proxy_hops: usize,

    /// Minutes without a request after which a session ends.
    #[arg(long, env = "WARMLINE_SESSION_IDLE_MINUTES", default_value_t = DEFAULT_SESSION_IDLE_MINUTES, global = true)]
    pub session_idle_minutes: i64,

    /// Seconds between sweeps for overdue follow-ups.
    #[arg(long, env = "WARMLINE_SWEEP_INTERVAL_SECS", default_value_t = DEFAULT_SWEEP_INTERVAL_SECS, global = true)]
    pub sweep_interval_secs: u64,

    /// Hours a follow-up stays overdue before it is escalated to the owner's manager.
    #[arg(long, env = "WARMLINE_ESCALATION_DELAY_HOURS", default_value_t = DEFAULT_ESCALATION_DELAY_HOURS, global = true)]
    pub escalation_delay_hours: f64,

    /// Seconds before the first retry of a failed webhook delivery; each further retry waits
    /// twice as long (at most an hour), and an endpoint failing for 24 hours is disabled.
    #[arg(long, env = "WARMLINE_WEBHOOK_RETRY_SECS", default_value_t = DEFAULT_WEBHOOK_RETRY_SECS, global = true)]
    pub webhook_retry_secs: f64,

    /// SMTP server for digest e-mails, e.g. `smtp://user:pass@mail.example.com:587?tls=required`
    /// or `smtps://…`. Without it, notifications are in-app only.
    #[arg(long, env = "WARMLINE_SMTP_URL", hide_env_values = true, global = true)]
    pub smtp_url: Option<String>,

    /// The sender of digest e-mails.
    #[arg(long, env = "WARMLINE_MAIL_FROM", default_value = DEFAULT_MAIL_FROM, global = true)]
    pub mail_from: String,

    /// The address people open Warmline at, for links in e-mails.
    #[arg(long, env = "WARMLINE_PUBLIC_URL", default_value = DEFAULT_PUBLIC_URL, global = true)]
    pub public_url: String,

    /// Daily backups `serve` keeps in the data directory's `backups` folder (0: none taken).
    #[arg(long, env = "WARMLINE_BACKUP_KEEP", default_value_t = crate::backup::DEFAULT_KEEP, global = true)]
    pub backup_keep: usize,

    /// Hours after login at which a session ends, however active.
    #[arg(long, env = "WARMLINE_SESSION_MAX_HOURS", default_value_t = DEFAULT_SESSION_MAX_HOURS, global = true)]
    pub session_max_hours: i64,
}

impl Config {
    /// The most requests worked on at a time: as configured, else twice the pool size.
    pub fn in_flight_limit(&self) -> usize {
        if self.max_in_flight > 0 {
            self.max_in_flight
        } else {
            2 * self.pool_size.max(1) as usize
        }
    }

    /// The request timeout as a duration.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs)
    }

    /// How long an idle session lives.
    pub fn session_idle(&self) -> time::Duration {
        time::Duration::minutes(self.session_idle_minutes.max(1))
    }

    /// How long any session lives after login.
    pub fn session_absolute_lifetime(&self) -> time::Duration {
        time::Duration::hours(self.session_max_hours.max(1))
    }

    /// The documented defaults (ignoring the environment), with the given database: for
    /// tests and embedding.
    pub fn for_database(database_url: Option<String>) -> Self {
        Self {
            database_url,
            database_read_url: None,
            data_dir: PathBuf::from(DEFAULT_DATA_DIR),
            pool_size: DEFAULT_POOL_SIZE,
            request_timeout_secs: DEFAULT_REQUEST_TIMEOUT_SECS,
            max_in_flight: 0,
            body_limit: DEFAULT_BODY_LIMIT,
            secure_cookies: false,
            trust_proxy: false,
            proxy_hops: 1,
            session_idle_minutes: DEFAULT_SESSION_IDLE_MINUTES,
            session_max_hours: DEFAULT_SESSION_MAX_HOURS,
            sweep_interval_secs: DEFAULT_SWEEP_INTERVAL_SECS,
            escalation_delay_hours: DEFAULT_ESCALATION_DELAY_HOURS,
            webhook_retry_secs: DEFAULT_WEBHOOK_RETRY_SECS,
            smtp_url: None,
            mail_from: DEFAULT_MAIL_FROM.to_string(),
            public_url: DEFAULT_PUBLIC_URL.to_string(),
            backup_keep: crate::backup::DEFAULT_KEEP,
        }
    }
}

const DEFAULT_DATA_DIR: &str = "./warmline-data";
const DEFAULT_POOL_SIZE: u32 = 10;
const DEFAULT_REQUEST_TIMEOUT_SECS: u64 = 30;
const DEFAULT_BODY_LIMIT: usize = 2 * 1024 * 1024;
const DEFAULT_SESSION_IDLE_MINUTES: i64 = 12 * 60;
const DEFAULT_SESSION_MAX_HOURS: i64 = 7 * 24;
const DEFAULT_SWEEP_INTERVAL_SECS: u64 = 60;
const DEFAULT_ESCALATION_DELAY_HOURS: f64 = 48.0;
const DEFAULT_WEBHOOK_RETRY_SECS: f64 = 5.0;
const DEFAULT_MAIL_FROM: &str = "Warmline <warmline@localhost>";
const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:3000";

// The database URL may carry a password: never print it.
impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field(
                "database_url",
                &self.database_url.as_ref().map(|_| "[redacted]"),
            )
            .field(
                "database_read_url",
                &self.database_read_url.as_ref().map(|_| "[redacted]"),
            )
            .field("data_dir", &self.data_dir)
            .field("pool_size", &self.pool_size)
            .field("request_timeout_secs", &self.request_timeout_secs)
            .field("max_in_flight", &self.max_in_flight)
            .field("body_limit", &self.body_limit)
            .field("secure_cookies", &self.secure_cookies)
            .field("trust_proxy", &self.trust_proxy)
            .field("proxy_hops", &self.proxy_hops)
            .field("session_idle_minutes", &self.session_idle_minutes)
            .field("session_max_hours", &self.session_max_hours)
            .field("sweep_interval_secs", &self.sweep_interval_secs)
            .field("escalation_delay_hours", &self.escalation_delay_hours)
            .field("webhook_retry_secs", &self.webhook_retry_secs)
            .field("smtp_url", &self.smtp_url.as_ref().map(|_| "[redacted]"))
            .field("mail_from", &self.mail_from)
            .field("public_url", &self.public_url)
            .field("backup_keep", &self.backup_keep)
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
