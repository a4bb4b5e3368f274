//! Password hashing with argon2id, off the async worker threads.

use std::sync::LazyLock;

use anyhow::{Context, Result, anyhow};
use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// A hash to verify against when the e-mail is unknown, so that an unknown address takes as
/// long to reject as a wrong password.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_now("a password that matches no account").unwrap_or_default());

/// Hashes a password (argon2id, default parameters, random salt).
pub async fn hash(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || hash_now(&password))
        .await
        .context("the hashing task failed")?
}

/// Checks a password against a stored hash. With no hash (unknown user), checks against a
/// dummy so the time taken does not tell whether the account exists; the answer is false.
pub async fn verify(password: String, stored: Option<String>) -> Result<bool> {
    tokio::task::spawn_blocking(move || {
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| DUMMY_HASH.clone());
        let parsed = PasswordHash::new(&stored).map_err(|e| anyhow!("stored hash: {e}"))?;
        let matches = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        Ok(known && matches)
    })
    .await
    .context("the verification task failed")?
}

fn hash_now(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow!("could not hash a password: {e}"))
}
