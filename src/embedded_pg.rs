//! A private PostgreSQL cluster run from the system's server binaries.
//!
//! Warmline starts its own cluster when no `DATABASE_URL` is given, so a newcomer needs nothing
//! but the PostgreSQL server package. The cluster listens on a Unix socket only, in a directory
//! private to it, with trust authentication; there is no TCP listener. PostgreSQL refuses to run
//! as root, so under root the cluster belongs to an unprivileged system user (`postgres`) and
//! every server command runs through `runuser`.
//!
//! A small module of our own rather than the `postgresql_embedded` crate: that crate cannot
//! switch user (so it fails under root, where CI runs), pulls in a second sqlx and an HTTP
//! client, and leaves temporary folders behind.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use tokio::process::Command;

/// The port every embedded cluster uses, each on its own socket directory: the number only
/// names the socket file (`.s.PGSQL.5432`); nothing listens on TCP.
pub const PORT: u16 = 5432;
/// The longest Unix socket path the kernel accepts, less room for the socket file's name.
const MAX_SOCKET_DIR_LEN: usize = 107 - ".s.PGSQL.5432".len() - 1;
/// The system user that owns the cluster when Warmline runs as root.
const SYSTEM_USER: &str = "postgres";
/// The database Warmline keeps its data in.
pub const DATABASE: &str = "warmline";

/// Settings for how a cluster is created; tests trade durability for speed.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClusterOptions {
    /// Turn off fsync and friends: for throwaway test clusters only.
    pub ephemeral: bool,
}

/// A PostgreSQL cluster under a data directory, started (or adopted) by this process.
#[derive(Debug, Clone)]
pub struct EmbeddedPg {
    bindir: PathBuf,
    cluster_dir: PathBuf,
    socket_dir: PathBuf,
    run_as: Option<String>,
}

impl EmbeddedPg {
    /// Describes the cluster at `cluster_dir` without touching it: an existing cluster runs
    /// with the binaries of the major version that made it (its `PG_VERSION`) when they are
    /// installed, a new one with the newest.
    pub fn new(cluster_dir: &Path) -> Result<Self> {
        let made_by = fs::read_to_string(cluster_dir.join("PG_VERSION")).ok();
        let bindir = match made_by.and_then(|v| bindir_for_version(v.trim())) {
            Some(bindir) => bindir,
            None => find_bindir()?,
        };
        Self::with_bindir(cluster_dir, bindir)
    }

    /// Describes the cluster at `cluster_dir`, to be run with the binaries in `bindir`.
    pub fn with_bindir(cluster_dir: &Path, bindir: PathBuf) -> Result<Self> {
        let cluster_dir = absolute(cluster_dir)?;
        let socket_dir = socket_dir_for(&cluster_dir);
        let run_as = if running_as_root() {
            Some(SYSTEM_USER.to_string())
        } else {
            None
        };
        Ok(Self {
            bindir,
            cluster_dir,
            socket_dir,
            run_as,
        })
    }

    /// The cluster's directory (`PGDATA`).
    pub fn cluster_dir(&self) -> &Path {
        &self.cluster_dir
    }

    /// A connection URL for `database` over the cluster's Unix socket.
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://postgres@localhost:{PORT}/{database}?host={}",
            self.socket_dir.display()
        )
    }

    /// Creates the cluster if needed and starts it, unless it is already running.
    /// Returns once it accepts connections.
    #[tracing::instrument(skip_all, fields(cluster = %self.cluster_dir.display()))]
    pub async fn start(&self, options: ClusterOptions) -> Result<()> {
        if self.run_as.is_some() {
            ensure_system_user()?;
        }
        if !self.cluster_dir.join("PG_VERSION").exists() {
            self.init(options).await?;
        } else if let Some(why) = self.version_mismatch() {
            bail!("{why}");
        }
        self.prepare_socket_dir()?;
        self.write_runtime_conf()?;
        if self.is_running() {
            tracing::info!("PostgreSQL is already running for this cluster; using it");
            return Ok(());
        }
        self.remove_stale_pid_files()?;
        self.launch().await?;
        tracing::info!(socket = %self.socket_dir.display(), "PostgreSQL started");
        Ok(())
    }

    /// Starts an existing cluster again after its postmaster died; never creates one. Fails
    /// with [`Unrecoverable`] when retrying cannot help.
    #[tracing::instrument(skip_all, fields(cluster = %self.cluster_dir.display()))]
    pub async fn restart(&self) -> Result<()> {
        if let Some(why) = self.unrecoverable() {
            return Err(Unrecoverable(why).into());
        }
        self.prepare_socket_dir()?;
        self.remove_stale_pid_files()?;
        match self.launch().await {
            Ok(()) => Ok(()),
            Err(error) => {
                let text = format!("{error:#}");
                if text.contains("Permission denied") || text.contains("incompatible with server") {
                    Err(Unrecoverable(text).into())
                } else {
                    Err(error)
                }
            }
        }
    }

    /// Why the cluster cannot be started by trying again, if it cannot: its directory is gone
    /// or unreadable, or a different major version of PostgreSQL made it.
    pub fn unrecoverable(&self) -> Option<String> {
        let dir = self.cluster_dir.display();
        match fs::read_to_string(self.cluster_dir.join("PG_VERSION")) {
            Ok(_) => {}
            Err(e) if !self.cluster_dir.exists() => {
                return Some(format!("the data directory {dir} has gone missing ({e})"));
            }
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                return Some(format!(
                    "the data directory {dir} cannot be read: its permissions changed ({e})"
                ));
            }
            Err(e) => {
                return Some(format!(
                    "{dir} is no longer a PostgreSQL cluster: PG_VERSION cannot be read ({e})"
                ));
            }
        }
        self.version_mismatch()
    }

    /// The major version of PostgreSQL that made the cluster (its `PG_VERSION`).
    pub fn cluster_version(&self) -> Option<String> {
        fs::read_to_string(self.cluster_dir.join("PG_VERSION"))
            .ok()
            .map(|v| v.trim().to_string())
    }

    /// The major version of the server binaries this cluster would run with.
    pub fn binaries_version(&self) -> Option<String> {
        major_version_of(&self.bindir)
    }

    /// Why these binaries cannot run this cluster, saying what to do: upgrade it when only a
    /// newer PostgreSQL is installed, install its own version otherwise.
    pub fn version_mismatch(&self) -> Option<String> {
        let (made_by, binaries) = (self.cluster_version()?, self.binaries_version()?);
        if made_by == binaries {
            return None;
        }
        let dir = self.cluster_dir.display();
        let newer = binaries.parse::<u32>().ok() > made_by.parse::<u32>().ok();
        Some(if newer {
            format!(
                "the database in {dir} was made by PostgreSQL {made_by}, and the newest \
                 PostgreSQL installed is {binaries}. Run `warmline upgrade-db` to move it to \
                 PostgreSQL {binaries} (it takes a backup first and keeps the old cluster), or \
                 install PostgreSQL {made_by}'s server package beside it."
            )
        } else {
            format!(
                "the database in {dir} was made by PostgreSQL {made_by}, but only PostgreSQL \
                 {binaries} is installed, which cannot run it: install PostgreSQL {made_by}'s \
                 server package."
            )
        })
    }

    /// The server binaries this cluster runs with.
    pub fn bindir(&self) -> &Path {
        &self.bindir
    }

    /// The last lines of the cluster's log, for messages about its failures.
    pub fn log_tail(&self, lines: usize) -> String {
        tail_of(&self.cluster_dir.join("server.log"), lines)
    }

    /// `pg_ctl start`, waiting until the server accepts connections.
    async fn launch(&self) -> Result<()> {
        let log = self.cluster_dir.join("server.log");
        let out = self
            .server_command("pg_ctl")
            .arg("-D")
            .arg(&self.cluster_dir)
            .arg("-l")
            .arg(&log)
            .args(["-w", "-t", "60", "start"])
            .output()
            .await
            .context("could not run pg_ctl start")?;
        if !out.status.success() {
            let tail = tail_of(&log, 20);
            bail!(
                "PostgreSQL did not start: {}\n{}\nlast lines of {}:\n{}",
                String::from_utf8_lossy(&out.stdout).trim(),
                String::from_utf8_lossy(&out.stderr).trim(),
                log.display(),
                tail
            );
        }
        Ok(())
    }

    /// Stops the cluster in fast mode (open transactions are rolled back) and waits for it.
    #[tracing::instrument(skip_all, fields(cluster = %self.cluster_dir.display()))]
    pub async fn stop(&self) -> Result<()> {
        if !self.is_running() {
            return Ok(());
        }
        let out = self
            .server_command("pg_ctl")
            .arg("-D")
            .arg(&self.cluster_dir)
            .args(["-m", "fast", "-w", "-t", "60", "stop"])
            .output()
            .await
            .context("could not run pg_ctl stop")?;
        if !out.status.success() {
            bail!(
                "PostgreSQL did not stop: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        tracing::info!("PostgreSQL stopped");
        Ok(())
    }

    /// Whether a live postmaster is running for this cluster, judged by `postmaster.pid`.
    pub fn is_running(&self) -> bool {
        self.postmaster_pid().is_some_and(is_live_postgres)
    }

    /// The process id `postmaster.pid` names, if there is one (it may be stale).
    pub fn postmaster_pid(&self) -> Option<u32> {
        fs::read_to_string(self.cluster_dir.join("postmaster.pid"))
            .ok()?
            .lines()
            .next()?
            .trim()
            .parse()
            .ok()
    }

    /// For throwaway clusters (tests): a small watchdog process stops the cluster and deletes
    /// `remove` once process `pid` has exited, however it exits.
    pub fn stop_and_remove_after(&self, pid: u32, remove: &Path) -> Result<()> {
        let quote = |p: &Path| format!("'{}'", p.display().to_string().replace('\'', "'\\''"));
        let pg_ctl = quote(&self.bindir.join("pg_ctl"));
        let as_owner = match &self.run_as {
            Some(user) => format!("runuser -u {user} -- "),
            None => String::new(),
        };
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; \
             {as_owner}{pg_ctl} -D {dir} -m immediate -w stop >/dev/null 2>&1; rm -rf {remove}",
            dir = quote(&self.cluster_dir),
            remove = quote(remove),
        );
        std::process::Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .context("could not start the cluster's watchdog")?;
        Ok(())
    }

    /// Creates the database Warmline uses, if it does not exist yet.
    pub async fn ensure_database(&self, name: &str) -> Result<()> {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&self.url("postgres"))
            .await
            .context("could not connect to the embedded PostgreSQL")?;
        let exists: bool =
            sqlx::query_scalar("select exists (select 1 from pg_database where datname = $1)")
                .bind(name)
                .fetch_one(&mut conn)
                .await?;
        if !exists {
            // A database name cannot be a bind parameter; `name` is ours, never user input.
            sqlx::query(&format!("create database \"{name}\""))
                .execute(&mut conn)
                .await
                .with_context(|| format!("could not create database {name}"))?;
        }
        conn.close().await?;
        Ok(())
    }

    async fn init(&self, options: ClusterOptions) -> Result<()> {
        fs::create_dir_all(&self.cluster_dir)
            .with_context(|| format!("could not create {}", self.cluster_dir.display()))?;
        fs::set_permissions(&self.cluster_dir, fs::Permissions::from_mode(0o700))?;
        self.hand_to_system_user(&self.cluster_dir).await?;
        tracing::info!("creating a new PostgreSQL cluster");
        let mut last_error = String::new();
        // C.UTF-8 gives pg_trgm proper word characters beyond ASCII; fall back to the plain C
        // locale on systems that lack it.
        for locale in [["--locale=C.UTF-8"], ["--no-locale"]] {
            let mut cmd = self.server_command("initdb");
            cmd.arg("-D")
                .arg(&self.cluster_dir)
                .args(["-U", "postgres", "-E", "UTF8"])
                .args(["--auth-local=trust", "--auth-host=reject"])
                .args(locale);
            if options.ephemeral {
                cmd.arg("--no-sync");
            }
            let out = cmd.output().await.context("could not run initdb")?;
            if out.status.success() {
                return self.write_base_conf(options);
            }
            last_error = String::from_utf8_lossy(&out.stderr).trim().to_string();
            self.clear_failed_init()?;
        }
        bail!("initdb failed: {last_error}")
    }

    fn clear_failed_init(&self) -> Result<()> {
        for entry in fs::read_dir(&self.cluster_dir)? {
            let path = entry?.path();
            if path.is_dir() {
                fs::remove_dir_all(&path)?;
            } else {
                fs::remove_file(&path)?;
            }
        }
        Ok(())
    }

    fn write_base_conf(&self, options: ClusterOptions) -> Result<()> {
        let mut conf = String::from(
            "\n# Warmline: Unix socket only; the socket directory is set in warmline.conf.\n\
             listen_addresses = ''\n\
             unix_socket_permissions = 0700\n\
             include_if_exists = 'warmline.conf'\n",
        );
        if options.ephemeral {
            conf.push_str("fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n");
        }
        append(&self.cluster_dir.join("postgresql.conf"), &conf)
    }

    /// The socket directory follows the data directory, which may have moved since `initdb`.
    /// Checkpoints are sized for a server that logs asks all day: with PostgreSQL's default
    /// (`max_wal_size` 1 GB, so a checkpoint after about half a gigabyte of WAL), a busy
    /// stretch of quick logs starts one every couple of minutes, and after each the first
    /// change to every page writes the whole page to the WAL: more WAL, slower commits, a tail
    /// of slow requests. At most 4 GB of WAL is kept instead, and a checkpoint is due every 15 minutes
    /// (crash recovery replays at most that much).
    fn write_runtime_conf(&self) -> Result<()> {
        let dir = self.socket_dir.display().to_string().replace('\'', "''");
        let path = self.cluster_dir.join("warmline.conf");
        fs::write(
            &path,
            format!(
                "port = {PORT}\nunix_socket_directories = '{dir}'\n\
                 max_wal_size = '4GB'\ncheckpoint_timeout = '15min'\n"
            ),
        )
        .with_context(|| format!("could not write {}", path.display()))?;
        Ok(())
    }

    fn prepare_socket_dir(&self) -> Result<()> {
        if self.socket_dir == self.cluster_dir {
            return Ok(());
        }
        fs::create_dir_all(&self.socket_dir)
            .with_context(|| format!("could not create {}", self.socket_dir.display()))?;
        fs::set_permissions(&self.socket_dir, fs::Permissions::from_mode(0o700))?;
        if let Some(user) = &self.run_as {
            chown_blocking(user, &self.socket_dir)?;
        }
        Ok(())
    }

    /// A crash can leave `postmaster.pid` (and the socket's lock file) behind. PostgreSQL
    /// recovers from a dead pid by itself, but not when the pid has since been reused by an
    /// unrelated process, so we remove lock files whose pid is not a live postgres.
    fn remove_stale_pid_files(&self) -> Result<()> {
        let lock_files = [
            self.cluster_dir.join("postmaster.pid"),
            self.socket_dir.join(format!(".s.PGSQL.{PORT}.lock")),
        ];
        for file in lock_files {
            let Ok(text) = fs::read_to_string(&file) else {
                continue;
            };
            let pid = text
                .lines()
                .next()
                .and_then(|l| l.trim().parse::<u32>().ok());
            if pid.is_some_and(is_live_postgres) {
                continue;
            }
            tracing::warn!(file = %file.display(), "removing a stale lock file left by a crash");
            fs::remove_file(&file)
                .with_context(|| format!("could not remove stale {}", file.display()))?;
        }
        Ok(())
    }

    async fn hand_to_system_user(&self, dir: &Path) -> Result<()> {
        let Some(user) = &self.run_as else {
            return Ok(());
        };
        chown_blocking(user, dir)?;
        let reachable = Command::new("runuser")
            .args(["-u", user, "--", "test", "-w"])
            .arg(dir)
            .status()
            .await
            .context("could not run runuser")?
            .success();
        if !reachable {
            bail!(
                "PostgreSQL cannot run as root, so Warmline runs it as the system user '{user}', \
                 but that user cannot reach {}: one of its parent directories is not searchable \
                 by others. Set WARMLINE_DATA_DIR to a directory it can reach (for example \
                 /var/lib/warmline), or set DATABASE_URL to use an existing server.",
                dir.display()
            );
        }
        Ok(())
    }

    /// A command for one of the server binaries, run as the cluster's owner, in a process
    /// group of its own so that Ctrl-C in a terminal reaches Warmline, not PostgreSQL:
    /// Warmline stops the cluster itself once requests have drained.
    fn server_command(&self, program: &str) -> Command {
        let binary = self.bindir.join(program);
        let mut cmd = match &self.run_as {
            Some(user) => {
                let mut cmd = Command::new("runuser");
                cmd.args(["-u", user, "--"]).arg(binary);
                cmd
            }
            None => Command::new(binary),
        };
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(false);
        cmd
    }
}

/// A failure that retrying cannot mend: the cluster's directory is gone or unreadable, or it
/// belongs to another major version of PostgreSQL.
#[derive(Debug, thiserror::Error)]
#[error("the embedded PostgreSQL cannot be restarted: {0}")]
pub struct Unrecoverable(pub String);

/// Restarts the cluster whenever its postmaster has exited (the OOM killer, a crash, someone's
/// `kill -9`) until `stopping` turns true, with growing pauses between attempts (1 s, 2 s, 4 s
/// … 1 min), logging each attempt with PostgreSQL's last log lines. `restarts` counts the
/// restarts that worked. Returns the reason when retrying cannot help; the caller stops.
pub async fn supervise(
    pg: EmbeddedPg,
    restarts: std::sync::Arc<std::sync::atomic::AtomicU64>,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) -> Option<Unrecoverable> {
    const CHECK_EVERY: Duration = Duration::from_millis(500);
    const LONGEST_PAUSE: Duration = Duration::from_secs(60);
    let mut pause = Duration::from_secs(1);
    loop {
        tokio::select! {
            () = tokio::time::sleep(CHECK_EVERY) => {}
            _ = stopping.changed() => return None,
        }
        if *stopping.borrow() || pg.is_running() {
            continue;
        }
        tracing::error!(
            postgres.log = %pg.log_tail(10),
            retry_in_secs = pause.as_secs(),
            "PostgreSQL has stopped; restarting it"
        );
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            _ = stopping.changed() => return None,
        }
        match pg.restart().await {
            Ok(()) => {
                restarts.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tracing::info!("PostgreSQL restarted");
                pause = Duration::from_secs(1);
            }
            Err(error) => match error.downcast::<Unrecoverable>() {
                Ok(fatal) => {
                    tracing::error!(error = %fatal, "giving up on the embedded PostgreSQL");
                    return Some(fatal);
                }
                Err(error) => {
                    tracing::error!(
                        error = %format!("{error:#}"),
                        postgres.log = %pg.log_tail(10),
                        "PostgreSQL did not restart"
                    );
                    pause = (pause * 2).min(LONGEST_PAUSE);
                }
            },
        }
    }
}

/// The major version of the server binaries in `bindir` (`postgres --version`).
pub fn major_version_of(bindir: &Path) -> Option<String> {
    let out = std::process::Command::new(bindir.join("postgres"))
        .arg("--version")
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let version = text.split_whitespace().last()?;
    Some(version.split('.').next()?.to_string())
}

/// The installed server binaries of one major version, if any: `/usr/lib/postgresql/<v>/bin`,
/// or whichever directory [`find_bindir`] finds when it is that version.
pub fn bindir_for_version(version: &str) -> Option<PathBuf> {
    let packaged = PathBuf::from(format!("/usr/lib/postgresql/{version}/bin"));
    [Some(packaged), find_bindir().ok()]
        .into_iter()
        .flatten()
        .find(|dir| {
            dir.join("postgres").is_file() && major_version_of(dir).as_deref() == Some(version)
        })
}

/// Finds the directory holding `initdb`, `pg_ctl` and `postgres`: `pg_config --bindir`, then
/// `PATH`, then `/usr/lib/postgresql/*/bin`, newest version first.
pub fn find_bindir() -> Result<PathBuf> {
    let mut candidates = Vec::new();
    if let Ok(out) = std::process::Command::new("pg_config")
        .arg("--bindir")
        .output()
        && out.status.success()
    {
        candidates.push(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
    }
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path));
    }
    candidates.extend(packaged_bindirs());
    find_bindir_among(&candidates)
}

/// The packaged versions' binary directories, `/usr/lib/postgresql/*/bin`, newest first.
fn packaged_bindirs() -> Vec<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            Some((version, e.path().join("bin")))
        })
        .collect();
    versions.sort_by(|a, b| b.cmp(a));
    versions.into_iter().map(|(_, dir)| dir).collect()
}

/// A PostgreSQL client program (`pg_dump`, `pg_restore`): beside the server binaries
/// [`find_bindir`] finds when it is there, else from the newest packaged version that has it
/// (a server build shipped without client programs).
pub fn find_tool(name: &str) -> Result<PathBuf> {
    find_bindir()
        .ok()
        .into_iter()
        .chain(packaged_bindirs())
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
        .with_context(|| {
            format!(
                "{name} was not found beside the PostgreSQL server binaries or in \
                 /usr/lib/postgresql/*/bin. Install PostgreSQL's client programs (Debian/Ubuntu: \
                 `apt-get install postgresql-client`)."
            )
        })
}

/// The first of `candidates` that holds the server binaries, resolved through symlinks (an
/// `initdb` linked into `/usr/local/bin` must run from its real directory to find its files).
pub fn find_bindir_among(candidates: &[PathBuf]) -> Result<PathBuf> {
    let has_server = |dir: &Path| {
        ["initdb", "pg_ctl", "postgres"]
            .iter()
            .all(|b| dir.join(b).is_file())
    };
    if let Some(dir) = candidates.iter().find(|d| has_server(d)) {
        let real = fs::canonicalize(dir.join("initdb"))?;
        return Ok(real.parent().map_or_else(|| dir.clone(), Path::to_path_buf));
    }
    bail!(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found via pg_config, \
         PATH or /usr/lib/postgresql/*/bin. Install them (Debian/Ubuntu: \
         `apt-get install postgresql`), or set DATABASE_URL to use an existing PostgreSQL \
         server."
    )
}

/// Where the socket lives: inside the cluster directory, private to it, unless that path is
/// too long for a Unix socket; then in a short directory of its own under `/tmp`.
fn socket_dir_for(cluster_dir: &Path) -> PathBuf {
    if cluster_dir.as_os_str().len() <= MAX_SOCKET_DIR_LEN {
        return cluster_dir.to_path_buf();
    }
    let hash = cluster_dir
        .as_os_str()
        .as_encoded_bytes()
        .iter()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
        });
    PathBuf::from(format!("/tmp/warmline-pg-{hash:016x}"))
}

fn absolute(path: &Path) -> Result<PathBuf> {
    let path = std::path::absolute(path)
        .with_context(|| format!("invalid directory {}", path.display()))?;
    Ok(path)
}

fn running_as_root() -> bool {
    // The owner of /proc/self is the process's effective user.
    use std::os::unix::fs::MetadataExt;
    fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

fn ensure_system_user() -> Result<()> {
    let known = std::process::Command::new("id")
        .args(["-u", SYSTEM_USER])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if known {
        Ok(())
    } else {
        bail!(
            "PostgreSQL refuses to run as root and there is no '{SYSTEM_USER}' system user to \
             run it as. Install the `postgresql` package (which creates it), run Warmline as an \
             ordinary user, or set DATABASE_URL to use an existing server."
        )
    }
}

fn chown_blocking(user: &str, dir: &Path) -> Result<()> {
    let status = std::process::Command::new("chown")
        .arg(format!("{user}:"))
        .arg(dir)
        .status()
        .context("could not run chown")?;
    if !status.success() {
        bail!("could not give {} to the user {user}", dir.display());
    }
    Ok(())
}

/// A running postgres process; a zombie (killed, not yet reaped) does not count.
fn is_live_postgres(pid: u32) -> bool {
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // Format: `pid (comm) state ...`; comm may itself contain spaces or parentheses.
    let Some((head, tail)) = stat.rsplit_once(')') else {
        return false;
    };
    let comm = head.split_once('(').map(|(_, c)| c).unwrap_or("");
    let state = tail.split_whitespace().next().unwrap_or("");
    matches!(comm, "postgres" | "postmaster") && !matches!(state, "Z" | "X")
}

fn append(path: &Path, text: &str) -> Result<()> {
    let mut file = OpenOptions::new()
        .append(true)
        .open(path)
        .with_context(|| format!("could not open {}", path.display()))?;
    file.write_all(text.as_bytes())?;
    Ok(())
}

fn tail_of(path: &Path, lines: usize) -> String {
    let mut text = String::new();
    if let Ok(mut file) = File::open(path) {
        let _ = file.read_to_string(&mut text);
    }
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Waits until `check` holds, polling, for at most `limit`.
pub async fn wait_until<F, Fut>(limit: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
