//! Backups: a consistent logical copy of the whole database (pg_dump's custom format, taken
//! while Warmline runs), the daily backup `serve` takes, and restoring one.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use sqlx::PgPool;
use tokio::process::Command;
use tokio::sync::watch;

use crate::embedded_pg::find_tool;

/// Backups `serve` keeps in `$WARMLINE_DATA_DIR/backups` by default.
pub const DEFAULT_KEEP: usize = 7;
/// How often `serve` takes one.
const EVERY: Duration = Duration::from_secs(24 * 3600);
/// The file names of automatic backups start with this.
const PREFIX: &str = "warmline-";

/// Where automatic backups go.
pub fn directory(data_dir: &Path) -> PathBuf {
    data_dir.join("backups")
}

/// A new backup's path in `dir`, named by the time it is taken (UTC), so names sort by age.
pub fn new_path(dir: &Path) -> PathBuf {
    let now = time::OffsetDateTime::now_utc();
    let stamp = now
        .format(time::macros::format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ))
        .unwrap_or_default();
    dir.join(format!("{PREFIX}{stamp}.dump"))
}

/// Writes a backup of the database at `url` to `out` (pg_dump, custom format). The file
/// appears only once complete: it is written beside it first and renamed.
pub async fn take(url: &str, out: &Path) -> Result<()> {
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("could not create {}", dir.display()))?;
    }
    let partial = out.with_extension("partial");
    let result = Command::new(find_tool("pg_dump")?)
        .args(["--format=custom", "--no-owner", "--no-privileges", "--file"])
        .arg(&partial)
        .arg(format!("--dbname={url}"))
        .output()
        .await
        .context("could not run pg_dump")?;
    if !result.status.success() {
        let _ = std::fs::remove_file(&partial);
        bail!(
            "pg_dump failed: {}",
            String::from_utf8_lossy(&result.stderr).trim()
        );
    }
    std::fs::rename(&partial, out).with_context(|| format!("could not write {}", out.display()))?;
    Ok(())
}

/// Whether the database holds anything worth keeping: any user at all.
pub async fn holds_data(pool: &PgPool) -> Result<bool> {
    Ok(
        sqlx::query_scalar!(r#"select exists (select 1 from users) as "any!""#)
            .fetch_one(pool)
            .await?,
    )
}

/// Restores the backup `file` into the database at `url`, replacing what is there, in one
/// transaction: a failed restore changes nothing.
pub async fn restore(url: &str, file: &Path) -> Result<()> {
    if !file.is_file() {
        bail!("there is no backup file at {}", file.display());
    }
    let result = Command::new(find_tool("pg_restore")?)
        .args([
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
        ])
        .arg(format!("--dbname={url}"))
        .arg(file)
        .output()
        .await
        .context("could not run pg_restore")?;
    if !result.status.success() {
        bail!(
            "pg_restore failed, and nothing was changed: {}",
            String::from_utf8_lossy(&result.stderr).trim()
        );
    }
    Ok(())
}

/// Deletes all but the newest `keep` automatic backups in `dir`.
pub fn prune(dir: &Path, keep: usize) -> Result<usize> {
    let mut backups: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("could not read {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(PREFIX) && n.ends_with(".dump"))
        })
        .collect();
    backups.sort();
    let old = backups.len().saturating_sub(keep);
    for path in &backups[..old] {
        std::fs::remove_file(path)
            .with_context(|| format!("could not delete {}", path.display()))?;
    }
    Ok(old)
}

/// Takes a backup at start and then every day until `stopping` turns true, keeping the newest
/// `keep`. A failed backup is logged and tried again at the next turn.
pub async fn run_daily(
    url: String,
    dir: PathBuf,
    keep: usize,
    mut stopping: watch::Receiver<bool>,
) {
    loop {
        let path = new_path(&dir);
        match take(&url, &path).await {
            Ok(()) => {
                tracing::info!(backup.path = %path.display(), "backup taken");
                if let Err(error) = prune(&dir, keep.max(1)) {
                    tracing::warn!(error = %format!("{error:#}"), "could not delete old backups");
                }
            }
            Err(error) => tracing::error!(error = %format!("{error:#}"), "backup failed"),
        }
        tokio::select! {
            () = tokio::time::sleep(EVERY) => {}
            _ = stopping.changed() => return,
        }
    }
}
