//! The embedded PostgreSQL module on its own.

use std::path::PathBuf;

use warmline::embedded_pg::{find_bindir, find_bindir_among};

use crate::common::temp_dir;

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
