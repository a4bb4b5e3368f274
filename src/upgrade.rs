//! `warmline upgrade-db`: moves the embedded cluster to the newest PostgreSQL installed.
//!
//! A cluster made by one major version cannot be started by another. The upgrade runs the old
//! cluster with its own binaries (they must still be installed, as Debian and Ubuntu keep them
//! after a new major arrives), takes a backup of it, creates a new cluster with the newest
//! binaries beside it, restores the backup there and brings its schema up to date. Only once
//! the new cluster has started in the old one's place is the old cluster moved aside (never
//! deleted): `postgres.old-<version>-<time>` in the data directory. A failure at any step
//! leaves the old cluster where it was, untouched apart from having been started.
//!
//! A dump and restore rather than `pg_upgrade`: Warmline's databases are small enough for it
//! to take minutes at most, it needs no matching extension builds or `--link` care, and it
//! leaves a backup behind that `warmline restore` can use.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::backup;
use crate::db;
use crate::embedded_pg::{self, ClusterOptions, EmbeddedPg, find_bindir, major_version_of};

/// What an upgrade did.
#[derive(Debug)]
pub struct Upgraded {
    pub from: String,
    pub to: String,
    pub backup: PathBuf,
    pub old_cluster: PathBuf,
}

/// Upgrades the embedded cluster under `data_dir` to the newest PostgreSQL installed; with
/// `rebuild`, rebuilds it the same way even when it is on that version already. `None` when
/// there was nothing to do.
pub async fn upgrade(data_dir: &Path, rebuild: bool) -> Result<Option<Upgraded>> {
    let _lock = db::lock_data_dir_alone(data_dir)?;
    let cluster_dir = data_dir.join("postgres");
    let old = EmbeddedPg::new(&cluster_dir)?;
    let Some(from) = old.cluster_version() else {
        bail!(
            "there is no embedded database in {} to upgrade",
            cluster_dir.display()
        );
    };
    let newest = find_bindir()?;
    let to =
        major_version_of(&newest).context("could not tell the installed PostgreSQL's version")?;
    if from == to && !rebuild {
        return Ok(None);
    }
    if old.binaries_version().as_deref() != Some(from.as_str()) {
        bail!(
            "the database was made by PostgreSQL {from}, and its server binaries are needed to \
             read it for the upgrade: install PostgreSQL {from}'s server package beside \
             PostgreSQL {to} (Debian and Ubuntu: postgresql-{from}), run `warmline upgrade-db` \
             again, then remove it."
        );
    }

    tracing::info!(from = %from, to = %to, "upgrading the embedded PostgreSQL");
    old.start(ClusterOptions::default()).await?;
    let backup_file = backup::new_path(&backup::directory(data_dir));
    let result = copy_into_new_cluster(&old, data_dir, &newest, &backup_file).await;
    old.stop().await?;
    let new_dir = result?;

    // The switch: the old cluster steps aside, the new one takes its place and must start.
    let stamp = backup_file
        .file_stem()
        .and_then(|s| s.to_str())
        .and_then(|s| s.rsplit('-').next())
        .unwrap_or("old")
        .to_string();
    let old_place = data_dir.join(format!("postgres.old-{from}-{stamp}"));
    std::fs::rename(&cluster_dir, &old_place)
        .with_context(|| format!("could not move the old cluster to {}", old_place.display()))?;
    std::fs::rename(&new_dir, &cluster_dir).with_context(|| {
        format!(
            "could not move the new cluster to {}",
            cluster_dir.display()
        )
    })?;
    let moved = EmbeddedPg::with_bindir(&cluster_dir, newest.clone())?;
    if let Err(error) = moved.start(ClusterOptions::default()).await {
        // Put everything back as it was.
        let failed = data_dir.join(format!("postgres.failed-{to}-{stamp}"));
        let _ = std::fs::rename(&cluster_dir, &failed);
        std::fs::rename(&old_place, &cluster_dir).with_context(|| {
            format!(
                "the new cluster did not start ({error:#}), and the old one could not be moved \
                 back from {}",
                old_place.display()
            )
        })?;
        return Err(error.context(format!(
            "the new cluster (kept in {}) did not start; the old one is back in place",
            failed.display()
        )));
    }
    moved.stop().await?;
    Ok(Some(Upgraded {
        from,
        to,
        backup: backup_file,
        old_cluster: old_place,
    }))
}

/// Backs the running old cluster up, and restores it into a new cluster beside it made with
/// the binaries in `bindir`; returns the new cluster's directory, stopped.
async fn copy_into_new_cluster(
    old: &EmbeddedPg,
    data_dir: &Path,
    bindir: &Path,
    backup_file: &Path,
) -> Result<PathBuf> {
    backup::take(&old.url(embedded_pg::DATABASE), backup_file)
        .await
        .context("could not back the old cluster up; nothing was changed")?;
    let new_dir = data_dir.join("postgres.new");
    if new_dir.exists() {
        // Left by an upgrade that failed part way: it never held anything but a copy.
        std::fs::remove_dir_all(&new_dir)
            .with_context(|| format!("could not remove {}", new_dir.display()))?;
    }
    let new = EmbeddedPg::with_bindir(&new_dir, bindir.to_path_buf())?;
    new.start(ClusterOptions::default()).await?;
    let restored = async {
        new.ensure_database(embedded_pg::DATABASE).await?;
        let url = new.url(embedded_pg::DATABASE);
        backup::restore(&url, backup_file).await?;
        let pool = db::connect(&url, 1).await?;
        let migrated = db::migrate(&pool).await;
        pool.close().await;
        migrated
    }
    .await;
    new.stop().await?;
    restored
        .context("could not restore the backup into the new cluster; the old one is unchanged")?;
    Ok(new_dir)
}
