//! `/healthz` (the process answers), `/readyz` (the database answers too) and `/metrics`
//! (Prometheus text).

use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::state::AppState;

/// How long `/readyz` waits for the database before answering 503.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// The health routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(show_health))
        .route("/readyz", get(show_readiness))
        .route("/metrics", get(show_metrics))
}

async fn show_health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// 200 when a query round-trips, else 503 within [`READY_TIMEOUT`]: never a hang or a 500.
async fn show_readiness(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let ping = sqlx::query_scalar!(r#"select 1 as "one!""#).fetch_one(&state.pool);
    match tokio::time::timeout(READY_TIMEOUT, ping).await {
        Ok(Ok(_)) => (StatusCode::OK, Json(json!({ "status": "ready" }))),
        Ok(Err(error)) => {
            tracing::warn!(%error, "readiness check: database unreachable");
            unavailable()
        }
        Err(_) => {
            tracing::warn!("readiness check: database did not answer in time");
            unavailable()
        }
    }
}

fn unavailable() -> (StatusCode, Json<Value>) {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({ "status": "unavailable", "database": "unreachable" })),
    )
}

/// The sweeper's figures and the connection pool's, in the Prometheus text format.
async fn show_metrics(State(state): State<AppState>) -> impl IntoResponse {
    let m = state.sweep_metrics.snapshot();
    let mut out = String::new();
    let mut metric = |name: &str, kind: &str, help: &str, value: String| {
        out.push_str(&format!(
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"
        ));
    };
    metric(
        "warmline_up",
        "gauge",
        "1 while the process serves.",
        "1".into(),
    );
    metric(
        "warmline_sweep_last_run_timestamp_seconds",
        "gauge",
        "When the last successful sweep ran (Unix time; 0 before the first).",
        m.last_run_unix.unwrap_or(0).to_string(),
    );
    metric(
        "warmline_sweep_last_duration_seconds",
        "gauge",
        "How long the last successful sweep took.",
        format!("{:.6}", m.last_duration_secs),
    );
    metric(
        "warmline_sweep_last_flagged",
        "gauge",
        "Follow-ups the last sweep marked overdue.",
        m.last.flagged.to_string(),
    );
    metric(
        "warmline_sweep_last_escalated",
        "gauge",
        "Follow-ups the last sweep escalated.",
        m.last.escalated.to_string(),
    );
    metric(
        "warmline_sweep_last_notified",
        "gauge",
        "Notifications the last sweep wrote.",
        m.last.notified.to_string(),
    );
    metric(
        "warmline_sweep_runs_total",
        "counter",
        "Successful sweeps.",
        m.runs_total.to_string(),
    );
    metric(
        "warmline_sweep_failures_total",
        "counter",
        "Failed sweeps.",
        m.failures_total.to_string(),
    );
    metric(
        "warmline_sweep_flagged_total",
        "counter",
        "Follow-ups marked overdue.",
        m.flagged_total.to_string(),
    );
    metric(
        "warmline_sweep_escalated_total",
        "counter",
        "Follow-ups escalated to a manager.",
        m.escalated_total.to_string(),
    );
    metric(
        "warmline_sweep_notified_total",
        "counter",
        "Notifications written by sweeps.",
        m.notified_total.to_string(),
    );
    metric(
        "warmline_digests_sent_total",
        "counter",
        "Digest e-mails sent.",
        m.digests_total.to_string(),
    );
    metric(
        "warmline_db_restarts_total",
        "counter",
        "Times the embedded PostgreSQL was restarted after it stopped on its own.",
        state.db_restarts.load(Ordering::Relaxed).to_string(),
    );
    if let Some(space) = data_dir_space(&state.config.data_dir).await {
        metric(
            "warmline_data_dir_free_bytes",
            "gauge",
            "Free space on the data directory's file system.",
            space.free_bytes.to_string(),
        );
        metric(
            "warmline_data_dir_size_bytes",
            "gauge",
            "Size of the data directory's file system.",
            space.total_bytes.to_string(),
        );
    }
    metric(
        "warmline_db_pool_connections",
        "gauge",
        "Open database connections.",
        state.pool.size().to_string(),
    );
    metric(
        "warmline_db_pool_max_connections",
        "gauge",
        "The most database connections the pool opens.",
        state.pool.options().get_max_connections().to_string(),
    );
    metric(
        "warmline_db_pool_idle_connections",
        "gauge",
        "Idle database connections.",
        state.pool.num_idle().to_string(),
    );
    metric(
        "warmline_db_pool_in_use_connections",
        "gauge",
        "Database connections serving a request or task now.",
        (state.pool.size() as usize)
            .saturating_sub(state.pool.num_idle())
            .to_string(),
    );
    metric(
        "warmline_db_pool_waiting",
        "gauge",
        "Requests at work while every connection is in use and none idle: at most this many \
         wait for a connection (the pool does not count its waiters; this is the bound).",
        pool_waiting_bound(
            state.pool.size(),
            state.pool.options().get_max_connections(),
            state.pool.num_idle(),
            state.admission.in_flight(),
        )
        .to_string(),
    );
    if state.config.database_read_url.is_some()
        && let Ok(Some(lag)) = crate::db::replica_lag(&state.read_pool).await
    {
        metric(
            "warmline_db_replica_lag_seconds",
            "gauge",
            "How far the read replica (DATABASE_READ_URL) is behind the primary.",
            format!("{lag:.3}"),
        );
    }
    let admission = &state.admission;
    metric(
        "warmline_requests_in_flight",
        "gauge",
        "Requests being worked on now (health checks, metrics and static files not counted).",
        admission.in_flight().to_string(),
    );
    metric(
        "warmline_requests_in_flight_limit",
        "gauge",
        "The most requests worked on at a time; as many more may wait.",
        admission.limit().to_string(),
    );
    metric(
        "warmline_requests_waiting",
        "gauge",
        "Requests waiting for a turn: the queue in front of the database pool.",
        admission.waiting().to_string(),
    );
    metric(
        "warmline_requests_refused_total",
        "counter",
        "Requests answered 503 at once because the server was full.",
        admission.refused().to_string(),
    );
    let webhooks = &state.webhook_metrics;
    metric(
        "warmline_webhook_deliveries_total",
        "counter",
        "Webhook messages delivered (a 2xx answer) by this process.",
        webhooks.delivered.load(Ordering::Relaxed).to_string(),
    );
    metric(
        "warmline_webhook_failed_attempts_total",
        "counter",
        "Webhook delivery attempts that failed (and will be retried) in this process.",
        webhooks.failed.load(Ordering::Relaxed).to_string(),
    );
    metric(
        "warmline_webhook_endpoints_disabled_total",
        "counter",
        "Webhook endpoints this process disabled after 24 hours of failures.",
        webhooks.disabled.load(Ordering::Relaxed).to_string(),
    );
    if let Ok(outbox) = crate::db::webhooks::figures(&state.pool).await {
        metric(
            "warmline_webhook_outbox_pending",
            "gauge",
            "Webhook messages not yet delivered, across all endpoints.",
            outbox.pending.to_string(),
        );
        metric(
            "warmline_webhook_outbox_oldest_pending_seconds",
            "gauge",
            "Age of the oldest undelivered webhook message (0 when none waits).",
            format!("{:.3}", outbox.oldest_pending_secs),
        );
        metric(
            "warmline_webhook_endpoints_enabled",
            "gauge",
            "Webhook endpoints receiving messages.",
            outbox.endpoints_enabled.to_string(),
        );
        metric(
            "warmline_webhook_endpoints_disabled",
            "gauge",
            "Webhook endpoints disabled (after 24 hours of failures) until an admin enables them.",
            outbox.endpoints_disabled.to_string(),
        );
    }
    if let Ok(queued) = crate::db::metrics::queued_rollup_changes(&state.pool).await {
        metric(
            "warmline_rollup_queue_changes",
            "gauge",
            "Changes of asks not yet folded into the dashboard's rollups (folded every second).",
            queued.to_string(),
        );
    }
    out.push_str(&state.request_metrics.render());
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
}

/// How many requests may be waiting for a database connection: none while a connection is
/// idle or the pool may still open one, else the requests at work beyond the connections.
pub fn pool_waiting_bound(size: u32, max: u32, idle: usize, in_flight: usize) -> usize {
    if idle > 0 || size < max {
        0
    } else {
        in_flight.saturating_sub(size as usize)
    }
}

/// Free and total space of the file system holding a directory.
#[derive(Debug, Clone, Copy)]
pub struct DiskSpace {
    pub free_bytes: u64,
    pub total_bytes: u64,
}

impl DiskSpace {
    /// Below this share of free space, admins are warned: PostgreSQL stops writing when the
    /// disk fills.
    pub const LOW_PERCENT: u64 = 10;

    /// Free space in percent.
    pub fn free_percent(&self) -> u64 {
        (self.free_bytes * 100)
            .checked_div(self.total_bytes)
            .unwrap_or(100)
    }

    /// Whether free space is below [`Self::LOW_PERCENT`].
    pub fn is_low(&self) -> bool {
        self.free_percent() < Self::LOW_PERCENT
    }

    /// Free space in gigabytes, for people.
    pub fn free_gb(&self) -> String {
        format!("{:.1}", self.free_bytes as f64 / 1e9)
    }

    /// Total space in gigabytes, for people.
    pub fn total_gb(&self) -> String {
        format!("{:.1}", self.total_bytes as f64 / 1e9)
    }
}

/// The space on the data directory's file system (read with `df`, which every system has;
/// `None` when it cannot be read).
pub async fn data_dir_space(dir: &std::path::Path) -> Option<DiskSpace> {
    let existing = dir.ancestors().find(|d| d.exists())?;
    let out = tokio::process::Command::new("df")
        .args(["-B1", "--output=avail,size"])
        .arg(existing)
        .output()
        .await
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut numbers = text.lines().nth(1)?.split_whitespace();
    let free_bytes = numbers.next()?.parse().ok()?;
    let total_bytes = numbers.next()?.parse().ok()?;
    Some(DiskSpace {
        free_bytes,
        total_bytes,
    })
}
