//! `/healthz` (the process answers), `/readyz` (the database answers too) and `/metrics`
//! (Prometheus text).

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
        "warmline_db_pool_connections",
        "gauge",
        "Open database connections.",
        state.pool.size().to_string(),
    );
    metric(
        "warmline_db_pool_idle_connections",
        "gauge",
        "Idle database connections.",
        state.pool.num_idle().to_string(),
    );
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
}
