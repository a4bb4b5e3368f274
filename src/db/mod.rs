//! The database: where it comes from (an external server or the embedded cluster), the
//! connection pool, and migrations. Queries live beside this file, one file per table family.

pub mod asks;
pub mod audit;
pub mod calendar;
pub mod coaching;
pub mod companies;
pub mod contacts;
pub mod follow_ups;
pub mod idempotency;
pub mod intro_requests;
pub mod login_failures;
pub mod metrics;
pub mod notifications;
pub mod tokens;
pub mod users;
pub mod webhooks;

use std::fs::{self, File};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgPool};

use crate::config::Config;
use crate::domain::users::UserId;
use crate::embedded_pg::{self, ClusterOptions, EmbeddedPg};

/// Who uses the data directory: the one process that starts and stops the embedded cluster
/// holds an exclusive lock on `warmline.lock` inside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// `warmline serve`: refuses to share the data directory with another server.
    Server,
    /// A one-off command: uses the cluster a server is running, or runs it for itself.
    Command,
}

/// A running database for this process, with the embedded cluster it owns (if any).
#[derive(Debug)]
pub struct Database {
    /// The connection pool.
    pub pool: PgPool,
    /// Where the database is (it may carry a password: never print it).
    pub url: String,
    owned_cluster: Option<EmbeddedPg>,
    // Held for the life of the process; dropping it releases the data directory.
    _lock: Option<File>,
}

impl Database {
    /// Connects to `DATABASE_URL`, or starts (or joins) the embedded cluster, then migrates.
    pub async fn open(config: &Config, role: Role) -> Result<Self> {
        let (url, owned_cluster, lock) = match &config.database_url {
            Some(url) => (url.clone(), None, None),
            None => open_embedded(&config.data_dir, role).await?,
        };
        let pool = connect(&url, config.pool_size).await?;
        migrate(&pool).await?;
        Ok(Self {
            pool,
            url,
            owned_cluster,
            _lock: lock,
        })
    }

    /// The embedded cluster, when this process started it (and so looks after it).
    pub fn owned_cluster(&self) -> Option<&EmbeddedPg> {
        self.owned_cluster.as_ref()
    }

    /// Closes the pool and stops the embedded cluster if this process started it.
    pub async fn shutdown(self) -> Result<()> {
        self.pool.close().await;
        if let Some(cluster) = &self.owned_cluster {
            cluster.stop().await?;
        }
        Ok(())
    }
}

/// How many seconds a streaming replica is behind its primary: 0 when it has replayed all it
/// received, else the age of the last transaction it replayed (or, when it has replayed none
/// since it started, the time since then). `None` when `pool` is a primary.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn replica_lag(pool: &PgPool) -> sqlx::Result<Option<f64>> {
    sqlx::query_scalar!(
        r#"select case when not pg_is_in_recovery() then null
                       when pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() then 0::float8
                       else extract(epoch from now() - coalesce(pg_last_xact_replay_timestamp(),
                                                                pg_postmaster_start_time()))::float8
                  end as "lag""#
    )
    .fetch_one(pool)
    .await
}

/// Whether `error` says the connection itself failed (it broke, or PostgreSQL ended it), so
/// that the same statement on another connection may well succeed.
pub fn is_connection_error(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_) | sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|c| c.starts_with("08") || matches!(c.as_ref(), "57P01" | "57P02")),
        _ => false,
    }
}

/// Whether `error` is a violation of the unique index or constraint named `name`.
pub fn is_unique_violation(error: &sqlx::Error, name: &str) -> bool {
    error
        .as_database_error()
        .is_some_and(|e| e.is_unique_violation() && e.constraint() == Some(name))
}

/// Connections idle for longer than this are pinged before use: after a database restart,
/// only a connection given back within the last second can fail once.
const PING_WHEN_IDLE_FOR: Duration = Duration::from_secs(1);

/// Opens a pool whose connection attempts give up quickly, so that an unreachable database
/// makes requests fail fast instead of hanging.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn connect(url: &str, pool_size: u32) -> Result<PgPool> {
    let options: PgConnectOptions = url.parse().context("DATABASE_URL is not a valid URL")?;
    // Warmline's queries are short and run many at a time (a dashboard runs seven side by
    // side): parallel workers would cost more to start than they save.
    let options = options
        .application_name("warmline")
        .options([("max_parallel_workers_per_gather", "0")]);
    PgPoolOptions::new()
        .max_connections(pool_size)
        .acquire_timeout(Duration::from_secs(3))
        // A connection is pinged before use only when it has been idle a while. Every
        // connection is also pinged when it is given back (sqlx does that), so one that broke
        // while in use never returns to the pool; what a ping on every checkout would add is
        // a round trip per query on a busy page.
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(
                async move { Ok(meta.idle_for < PING_WHEN_IDLE_FOR || conn.ping().await.is_ok()) },
            )
        })
        .connect_with(options)
        .await
        .context("could not connect to PostgreSQL")
}

/// Applies the migrations in `migrations/` that have not run yet, and creates the session
/// store's table.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn migrate(pool: &PgPool) -> Result<()> {
    sqlx::migrate!()
        .run(pool)
        .await
        .context("could not apply database migrations")?;
    tower_sessions_sqlx_store::PostgresStore::new(pool.clone())
        .migrate()
        .await
        .context("could not create the session table")
}

/// Takes the data directory for a command that must have it alone, such as `upgrade-db`:
/// refuses while a server or another command uses it.
pub fn lock_data_dir_alone(data_dir: &Path) -> Result<File> {
    fs::create_dir_all(data_dir)
        .with_context(|| format!("could not create the data directory {}", data_dir.display()))?;
    let lock_path = data_dir.join("warmline.lock");
    match try_lock(&lock_path, Role::Command)? {
        Some(lock) => Ok(lock),
        None => bail!(
            "another Warmline process ({}) is using the data directory {}. Stop it first.",
            read_holder(&lock_path),
            data_dir.display()
        ),
    }
}

async fn open_embedded(
    data_dir: &Path,
    role: Role,
) -> Result<(String, Option<EmbeddedPg>, Option<File>)> {
    fs::create_dir_all(data_dir)
        .with_context(|| format!("could not create the data directory {}", data_dir.display()))?;
    let cluster = EmbeddedPg::new(&data_dir.join("postgres"))?;
    let url = cluster.url(embedded_pg::DATABASE);
    let lock_path = data_dir.join("warmline.lock");
    match try_lock(&lock_path, role)? {
        Some(lock) => {
            cluster.start(ClusterOptions::default()).await?;
            cluster.ensure_database(embedded_pg::DATABASE).await?;
            Ok((url, Some(cluster), Some(lock)))
        }
        None => {
            let holder = read_holder(&lock_path);
            if role == Role::Server {
                bail!(
                    "another Warmline process ({holder}) is using the data directory {}. Stop it \
                     first, or give this server its own WARMLINE_DATA_DIR.",
                    data_dir.display()
                );
            }
            if !cluster.is_running() {
                bail!(
                    "another Warmline process ({holder}) holds the data directory {} but its \
                     database is not running yet; try again in a moment.",
                    data_dir.display()
                );
            }
            tracing::info!(%holder, "using the database of the running Warmline process");
            Ok((url, None, None))
        }
    }
}

/// Takes the data directory's lock, writing our pid and role into it, or returns `None` when
/// another process holds it.
fn try_lock(path: &PathBuf, role: Role) -> Result<Option<File>> {
    let mut file = File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .with_context(|| format!("could not open {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {
            let what = match role {
                Role::Server => "warmline serve",
                Role::Command => "a warmline command",
            };
            file.set_len(0)?;
            file.rewind()?;
            writeln!(file, "pid {}, {what}", std::process::id())?;
            Ok(Some(file))
        }
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("could not lock {}", path.display()))
        }
    }
}

fn read_holder(path: &Path) -> String {
    let mut text = String::new();
    if let Ok(mut file) = File::open(path) {
        let _ = file.read_to_string(&mut text);
    }
    match text.trim() {
        "" => "unknown pid".to_string(),
        t => t.to_string(),
    }
}

/// A page of a list that is ordered per owner by an index on (owner, sort key): each owner the
/// viewer may see contributes its next `limit` rows from that index, and the page is the first
/// `limit` of those together. A page reads at most `limit` index entries per owner, whether it
/// is page 1 or page 500 and however long the list is; a plain `order by` with an
/// `owner in (...)` filter sorts the whole visible set for every page.
///
/// [`OwnerRuns::open`] writes the head: the caller then pushes its filters and cursor on
/// `alias` (the inner query), and [`OwnerRuns::close`] writes the order, the limits and the
/// joins that follow.
pub(crate) struct OwnerRuns<'a> {
    pub order: &'a str,
    pub limit: i64,
}

impl OwnerRuns<'_> {
    /// `select {columns} from visible_user_ids(viewer) cross join lateral (select * from
    /// {table} {alias} where {alias}.{owner} = the owner`.
    pub(crate) fn open<'q>(
        columns: &str,
        table: &str,
        alias: &str,
        owner: &str,
        viewer: UserId,
    ) -> sqlx::QueryBuilder<'q, sqlx::Postgres> {
        let mut q = sqlx::QueryBuilder::new(format!("select {columns} from visible_user_ids("));
        q.push_bind(viewer).push(format!(
            ") as o (owner_id) cross join lateral (select * from {table} {alias} \
             where {alias}.{owner} = o.owner_id"
        ));
        q
    }

    /// Closes the inner query as `alias`, adds `joins`, and orders and limits the page.
    pub(crate) fn close(
        &self,
        q: &mut sqlx::QueryBuilder<'_, sqlx::Postgres>,
        alias: &str,
        joins: &str,
    ) {
        let order = self.order;
        q.push(format!(" order by {order} limit "))
            .push_bind(self.limit);
        q.push(format!(") {alias}{joins} order by {order} limit "))
            .push_bind(self.limit);
    }
}
