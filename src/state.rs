//! The state every handler can reach.

use std::ops::Deref;
use std::sync::Arc;

use sqlx::PgPool;

use crate::config::Config;

/// Cheap to clone: one shared [`App`] behind an `Arc`.
#[derive(Clone)]
pub struct AppState(Arc<App>);

/// What the application shares across requests.
pub struct App {
    /// The connection pool.
    pub pool: PgPool,
    /// The configuration it was started with.
    pub config: Config,
}

impl AppState {
    /// Wraps a pool and configuration.
    pub fn new(pool: PgPool, config: Config) -> Self {
        Self(Arc::new(App { pool, config }))
    }
}

impl Deref for AppState {
    type Target = App;

    fn deref(&self) -> &App {
        &self.0
    }
}
