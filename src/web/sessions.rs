//! The session store: PostgreSQL's, trying a failed call again. A connection that PostgreSQL
//! ended (a restart, an administrator's `pg_terminate_backend`) fails the one call that meets
//! it and is then dropped by the pool, so the next try gets a live connection. Without this,
//! the session layer would answer that request with a bare 500 while the database is fine.

use async_trait::async_trait;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{Error, Result, SessionStore};
use tower_sessions_sqlx_store::PostgresStore;

/// Tries at most this often: every connection in a small pool may have been ended at once.
const TRIES: usize = 3;

/// [`PostgresStore`], retrying calls that failed in the database.
#[derive(Debug, Clone)]
pub struct RetryingStore(pub PostgresStore);

/// Runs `call` until it succeeds, fails other than in the database, or has run [`TRIES`] times.
macro_rules! retried {
    ($call:expr) => {{
        let mut tries = 1;
        loop {
            match $call {
                Err(Error::Backend(message)) if tries < TRIES => {
                    tracing::warn!(%message, "a session store call failed; trying again");
                    tries += 1;
                }
                other => break other,
            }
        }
    }};
}

#[async_trait]
impl SessionStore for RetryingStore {
    async fn create(&self, record: &mut Record) -> Result<()> {
        retried!(self.0.create(record).await)
    }

    async fn save(&self, record: &Record) -> Result<()> {
        retried!(self.0.save(record).await)
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        retried!(self.0.load(id).await)
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        retried!(self.0.delete(id).await)
    }
}
