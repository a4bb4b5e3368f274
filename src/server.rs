//! `warmline serve`: the database, the HTTP server, and an orderly shutdown.

use std::net::SocketAddr;

use anyhow::{Context, Result};
use tokio::net::TcpListener;

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
    let served = axum::serve(listener, crate::web::app(state))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("the HTTP server failed");
    tracing::info!("requests drained; shutting down");
    let stopped = db.shutdown().await;
    served?;
    stopped
}

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
