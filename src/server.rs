//! `warmline serve`: the database, the HTTP server, and an orderly shutdown.

use std::net::SocketAddr;

use anyhow::{Context, Result};
use std::time::Duration;

use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use tower_sessions::ExpiredDeletion;
use tower_sessions_sqlx_store::PostgresStore;

use crate::config::Config;
use crate::db::{Database, Role};
use crate::embedded_pg;
use crate::state::AppState;

/// Serves until SIGINT or SIGTERM, then drains requests, stops background work and the
/// embedded database, and returns.
pub async fn serve(config: Config, bind: SocketAddr, demo: bool) -> Result<()> {
    let db = Database::open(&config, Role::Server).await?;
    if demo {
        load_demo(&db.pool).await?;
    }
    let listener = TcpListener::bind(bind)
        .await
        .with_context(|| format!("could not listen on {bind}"))?;
    let addr = listener.local_addr()?;
    tracing::info!("listening on http://{addr}");

    let read_pool = match &config.database_read_url {
        Some(url) => crate::db::connect(url, config.pool_size)
            .await
            .context("could not connect to the read replica (DATABASE_READ_URL)")?,
        None => db.pool.clone(),
    };
    let state = AppState::with_read_pool(db.pool.clone(), read_pool, config);
    let (stop, stopping) = watch::channel(false);
    let mut background = spawn_background_tasks(&state, stopping.clone());
    if state.config.backup_keep > 0 {
        background.spawn(crate::backup::run_daily(
            db.url.clone(),
            crate::backup::directory(&state.config.data_dir),
            state.config.backup_keep,
            stopping.clone(),
        ));
    }
    let fatal = Arc::new(Mutex::new(None));
    let given_up = Arc::new(Notify::new());
    if let Some(cluster) = db.owned_cluster() {
        let (cluster, restarts) = (cluster.clone(), state.db_restarts.clone());
        let (fatal, given_up) = (fatal.clone(), given_up.clone());
        background.spawn(async move {
            if let Some(reason) = embedded_pg::supervise(cluster, restarts, stopping).await {
                *fatal.lock().unwrap_or_else(|e| e.into_inner()) = Some(reason);
                given_up.notify_one();
            }
        });
    }
    let app = crate::router::app(state).into_make_service_with_connect_info::<SocketAddr>();
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            tokio::select! {
                () = shutdown_signal() => {}
                () = given_up.notified() => {}
            }
        })
        .await
        .context("the HTTP server failed");
    tracing::info!("requests drained; stopping background tasks");
    let _ = stop.send(true);
    let drained = tokio::time::timeout(BACKGROUND_STOP_LIMIT, async {
        while background.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!("background tasks did not stop in time; aborting them");
        background.abort_all();
    }
    let stopped = db.shutdown().await;
    served?;
    if let Some(reason) = fatal.lock().unwrap_or_else(|e| e.into_inner()).take() {
        // The data stays as it is: nothing here deletes or re-creates a cluster.
        return Err(reason).context("stopping: the database cannot be brought back");
    }
    stopped
}

/// Work that runs beside the HTTP server until `stopping` turns true.
fn spawn_background_tasks(state: &AppState, stopping: watch::Receiver<bool>) -> JoinSet<()> {
    let mut tasks = JoinSet::new();
    tasks.spawn(crate::sweeper::run(state.clone(), stopping.clone()));
    tasks.spawn(crate::webhooks::delivery::run(
        state.clone(),
        stopping.clone(),
    ));
    tasks.spawn(crate::dashboard::fold_continuously(
        state.pool.clone(),
        stopping.clone(),
    ));
    let store = PostgresStore::new(state.pool.clone());
    let mut stop = stopping;
    tasks.spawn(async move {
        // Expired sessions are refused when read; this only reclaims their rows.
        tokio::select! {
            result = store.continuously_delete_expired(SESSION_CLEANUP_EVERY) => {
                if let Err(error) = result {
                    tracing::error!(%error, "session cleanup stopped");
                }
            }
            _ = stop.changed() => {}
        }
    });
    tasks
}

/// How long background tasks get to stop after the last request.
const BACKGROUND_STOP_LIMIT: Duration = Duration::from_secs(5);

/// How often expired sessions are deleted.
const SESSION_CLEANUP_EVERY: Duration = Duration::from_secs(3600);

/// Loads the demo organisation when the database is empty, and says how to log in.
pub async fn load_demo(pool: &sqlx::PgPool) -> Result<()> {
    let today = time::OffsetDateTime::now_utc().date();
    match crate::demo::load(pool, today).await? {
        Some(logins) => {
            println!(
                "Demo organisation loaded. Log in as any of these, password {}:",
                crate::demo::PASSWORD
            );
            for login in logins {
                println!("  {:<8} {:<16} {}", login.role, login.name, login.email);
            }
        }
        None => {
            println!("The database already has users: the demo was not loaded (nothing changed).");
        }
    }
    Ok(())
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
