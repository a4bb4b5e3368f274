//! `warmline serve`: the database, the HTTP server, and an orderly shutdown.

use std::net::SocketAddr;

use anyhow::{Context, Result};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tower_sessions::ExpiredDeletion;
use tower_sessions_sqlx_store::PostgresStore;

use crate::config::Config;
use crate::db::{Database, Role};
use crate::state::AppState;

/// Serves until SIGINT or SIGTERM, then drains requests, stops background work and the
/// embedded database, and returns.
pub async fn serve(config: Config, bind: SocketAddr, demo: bool) -> Result<()> {
    let db = Database::open(&config, Role::Server).await?;
    if demo {
        tracing::info!("--demo: no demo data is bundled yet; starting with an empty database");
    }
    let listener = TcpListener::bind(bind)
        .await
        .with_context(|| format!("could not listen on {bind}"))?;
    let addr = listener.local_addr()?;
    tracing::info!("listening on http://{addr}");

    let state = AppState::new(db.pool.clone(), config);
    let mut background = spawn_background_tasks(&state);
    let app = crate::web::app(state).into_make_service_with_connect_info::<SocketAddr>();
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("the HTTP server failed");
    tracing::info!("requests drained; shutting down");
    background.abort_all();
    while background.join_next().await.is_some() {}
    let stopped = db.shutdown().await;
    served?;
    stopped
}

/// Work that runs beside the HTTP server until shutdown.
fn spawn_background_tasks(state: &AppState) -> JoinSet<()> {
    let mut tasks = JoinSet::new();
    let store = PostgresStore::new(state.pool.clone());
    tasks.spawn(async move {
        // Expired sessions are refused when read; this only reclaims their rows.
        if let Err(error) = store
            .continuously_delete_expired(SESSION_CLEANUP_EVERY)
            .await
        {
            tracing::error!(%error, "session cleanup stopped");
        }
    });
    tasks
}

/// How often expired sessions are deleted.
const SESSION_CLEANUP_EVERY: Duration = Duration::from_secs(3600);

/// Resolves on Ctrl-C (SIGINT) or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "could not listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "could not listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = interrupt => tracing::info!("received Ctrl-C"),
        () = terminate => tracing::info!("received SIGTERM"),
    }
}
