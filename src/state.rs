//! The state every handler can reach.

use std::ops::Deref;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use sqlx::PgPool;

use crate::config::Config;
use crate::sweeper::report::SweepMetrics;
use crate::web::admission::Admission;
use crate::web::metrics::RequestMetrics;
use crate::webhooks::metrics::DeliveryMetrics;

/// Cheap to clone: one shared [`App`] behind an `Arc`.
#[derive(Clone)]
pub struct AppState(Arc<App>);

/// What the application shares across requests.
pub struct App {
    /// The connection pool.
    pub pool: PgPool,
    /// Where dashboards and lists read: a replica's pool with `DATABASE_READ_URL`, else the
    /// same pool as [`App::pool`].
    pub read_pool: PgPool,
    /// The configuration it was started with.
    pub config: Config,
    /// What the overdue sweeper has done, for `/metrics`.
    pub sweep_metrics: SweepMetrics,
    /// How often the embedded PostgreSQL was restarted after it died, for `/metrics`.
    pub db_restarts: Arc<AtomicU64>,
    /// Requests by route, for `/metrics`.
    pub request_metrics: Arc<RequestMetrics>,
    /// The bound on requests in flight.
    pub admission: Arc<Admission>,
    /// Webhook deliveries made and failed, for `/metrics`.
    pub webhook_metrics: DeliveryMetrics,
}

impl AppState {
    /// Wraps a pool and configuration; every read goes to that pool.
    pub fn new(pool: PgPool, config: Config) -> Self {
        Self::with_read_pool(pool.clone(), pool, config)
    }

    /// Wraps a pool, a pool on a read replica for dashboards and lists, and configuration.
    pub fn with_read_pool(pool: PgPool, read_pool: PgPool, config: Config) -> Self {
        Self(Arc::new(App {
            pool,
            read_pool,
            admission: Arc::new(Admission::new(config.in_flight_limit())),
            config,
            sweep_metrics: SweepMetrics::default(),
            db_restarts: Arc::default(),
            request_metrics: Arc::default(),
            webhook_metrics: DeliveryMetrics::default(),
        }))
    }
}

impl Deref for AppState {
    type Target = App;

    fn deref(&self) -> &App {
        &self.0
    }
}
