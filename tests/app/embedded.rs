//! The embedded PostgreSQL module on its own.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use warmline::embedded_pg::{Unrecoverable, find_bindir, find_bindir_among};

use crate::common::{fresh_database, start_cluster, temp_dir};

#[test]
fn missing_server_binaries_give_one_clear_message_naming_the_package_and_the_alternative() {
    let empty = temp_dir("nobin");
    let error = find_bindir_among(&[empty, PathBuf::from("/nonexistent")])
        .unwrap_err()
        .to_string();
    assert!(error.contains("apt-get install postgresql"), "{error}");
    assert!(error.contains("DATABASE_URL"), "{error}");
}

#[test]
fn the_server_binaries_are_found_in_their_real_directory() {
    let dir = find_bindir().expect("this machine has the PostgreSQL server binaries");
    assert!(dir.join("initdb").is_file() && dir.join("postgres").is_file());
    assert_eq!(
        std::fs::canonicalize(&dir).unwrap(),
        dir,
        "symlinks are resolved"
    );
}

/// The reason a restart gave, when it gave up.
async fn unrecoverable_reason(pg: &warmline::embedded_pg::EmbeddedPg) -> String {
    let error = pg.restart().await.expect_err("the restart is refused");
    error
        .downcast::<Unrecoverable>()
        .unwrap_or_else(|e| panic!("a retryable error where retrying cannot help: {e:#}"))
        .0
}

#[tokio::test]
async fn a_restart_gives_up_on_another_major_version_or_unreadable_files_and_leaves_them_be() {
    let dir = temp_dir("unrecoverable");
    let pg = start_cluster(&dir).await;
    pg.stop().await.unwrap();
    let version_file = pg.cluster_dir().join("PG_VERSION");
    let real = std::fs::read_to_string(&version_file).unwrap();

    std::fs::write(&version_file, "99\n").unwrap();
    let why = unrecoverable_reason(&pg).await;
    assert!(
        why.contains("PostgreSQL 99") && why.contains(real.trim()),
        "{why}"
    );
    assert_eq!(std::fs::read_to_string(&version_file).unwrap(), "99\n");
    std::fs::write(&version_file, &real).unwrap();

    // The directory's permissions changed under it: the server cannot read its files.
    let mode = std::fs::metadata(pg.cluster_dir()).unwrap().permissions();
    std::fs::set_permissions(pg.cluster_dir(), std::fs::Permissions::from_mode(0o000)).unwrap();
    let why = pg.restart().await.expect_err("no access, no start");
    let fatal = why.downcast_ref::<Unrecoverable>().is_some();
    std::fs::set_permissions(pg.cluster_dir(), mode).unwrap();
    assert!(fatal, "{why:#}");

    // Put right, the same cluster starts again.
    pg.restart().await.expect("starts once the files are back");
    pg.stop().await.unwrap();
}

#[tokio::test]
async fn the_cluster_spaces_its_checkpoints_for_a_server_that_writes_all_day() {
    let (pool, _) = fresh_database().await;
    let settings: (String, String) = sqlx::query_as(
        "select current_setting('max_wal_size'), current_setting('checkpoint_timeout')",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(settings, ("4GB".to_string(), "15min".to_string()));
}
