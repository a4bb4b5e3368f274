//! The overdue sweeper: flags follow-ups whose due date has passed in their owner's time zone,
//! escalates those overdue too long to the owner's manager, notifies each person once, and
//! sends the daily digest e-mails. Set-based, in bounded batches; each batch is one statement,
//! so a stopped sweep leaves nothing half-applied; rows another process is sweeping are
//! skipped (`SKIP LOCKED`), so several processes sweep each row exactly once.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use sqlx::PgPool;
use time::OffsetDateTime;
use tokio::sync::watch;

use crate::db;
use crate::mail::Mailer;
use crate::state::AppState;

pub mod report;
pub use report::{SweepMetrics, SweepReport};

/// Rows per batch.
pub const BATCH: i64 = 5_000;
/// The longest wait between retries while the database is unreachable.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// Hours an uploaded contact import waits for review before the sweeper deletes it.
pub const IMPORT_TTL_HOURS: i64 = 24;

/// Runs one sweep as of `now`. `escalation_delay` is how long a follow-up may stay overdue
/// before its owner's manager hears of it.
#[tracing::instrument(skip_all, fields(now = %now))]
pub async fn sweep(
    pool: &PgPool,
    now: OffsetDateTime,
    escalation_delay: Duration,
) -> Result<SweepReport> {
    let mut report = SweepReport::default();
    loop {
        let n = db::follow_ups::clear_stale_flags(pool, now, BATCH)
            .await
            .context("clearing flags")?;
        report.cleared += n;
        if n < BATCH {
            break;
        }
    }
    let mut after = None;
    loop {
        let batch = db::follow_ups::flag_overdue(pool, now, after, BATCH)
            .await
            .context("flagging overdue follow-ups")?;
        report.flagged += batch.rows;
        report.notified += batch.notified;
        if batch.seen < BATCH {
            break;
        }
        after = batch.cursor;
    }
    report.imports_expired =
        db::contacts::delete_expired_imports(pool, now - time::Duration::hours(IMPORT_TTL_HOURS))
            .await
            .context("expiring contact imports")?;
    db::idempotency::purge(pool)
        .await
        .context("forgetting old idempotency keys")?;
    let mut after = None;
    loop {
        let batch =
            db::follow_ups::escalate(pool, now, escalation_delay.as_secs_f64(), after, BATCH)
                .await
                .context("escalating")?;
        report.escalated += batch.rows;
        report.notified += batch.notified;
        if batch.seen < BATCH {
            break;
        }
        after = batch.cursor;
    }
    Ok(report)
}

/// Sends each user with unsent notifications one digest a day, outside their quiet hours.
/// A notification goes out once: it is marked in the transaction that claims it.
pub async fn send_digests(
    pool: &PgPool,
    mailer: &Mailer,
    public_url: &str,
    now: OffsetDateTime,
) -> Result<i64> {
    let mut sent = 0;
    for user in db::notifications::digest_candidates(pool, now).await? {
        if user.is_quiet() {
            continue;
        }
        let mut tx = pool.begin().await?;
        let Some(unsent) = db::notifications::claim_unsent(&mut tx, user.user_id).await? else {
            continue;
        };
        if unsent.is_empty() {
            continue;
        }
        let mut body = format!(
            "Hello {},\n\nHere is what needs your attention in Warmline:\n\n",
            user.name
        );
        for n in &unsent {
            let marker = if n.kind.is_urgent() { "!" } else { "-" };
            body.push_str(&format!("{marker} {}\n", n.body));
        }
        body.push_str(&format!(
            "\nOpen Warmline: {}/notifications\n",
            public_url.trim_end_matches('/')
        ));
        let subject = format!(
            "Warmline: {} thing{} to follow up",
            unsent.len(),
            if unsent.len() == 1 { "" } else { "s" }
        );
        mailer.send(&user.name, &user.email, &subject, body).await?;
        let ids: Vec<_> = unsent.iter().map(|n| n.notification_id).collect();
        db::notifications::mark_emailed(&mut tx, user.user_id, &ids, user.local_date, now).await?;
        tx.commit().await?;
        sent += 1;
    }
    Ok(sent)
}

/// One tick: the sweep, then the digests when e-mail is configured.
pub async fn tick(
    state: &AppState,
    mailer: Option<&Mailer>,
    now: OffsetDateTime,
) -> Result<SweepReport> {
    let delay = Duration::from_secs_f64(state.config.escalation_delay_hours.max(0.0) * 3600.0);
    let mut report = sweep(&state.pool, now, delay).await?;
    if let Some(mailer) = mailer {
        report.digests = send_digests(&state.pool, mailer, &state.config.public_url, now).await?;
    }
    Ok(report)
}

/// Sweeps every interval until `shutdown` turns true. A failure is logged once and retried
/// with growing pauses (up to five minutes) until the database answers again; a sweep under
/// way when shutdown comes is abandoned (its current statement rolls back whole).
pub async fn run(state: AppState, mut shutdown: watch::Receiver<bool>) {
    let metrics = &state.sweep_metrics;
    let mailer = match Mailer::from_config(&state.config) {
        Ok(mailer) => mailer,
        Err(error) => {
            tracing::error!(error = %format!("{error:#}"), "e-mail digests are off");
            None
        }
    };
    let interval = Duration::from_secs(state.config.sweep_interval_secs.max(1));
    let mut failures: u32 = 0;
    loop {
        let started = Instant::now();
        let now = OffsetDateTime::now_utc();
        let outcome = tokio::select! {
            outcome = tick(&state, mailer.as_ref(), now) => outcome,
            _ = shutdown.changed() => break,
        };
        let pause = match outcome {
            Ok(report) => {
                failures = 0;
                let took = started.elapsed();
                metrics.record(now, took, report);
                tracing::info!(
                    sweep.flagged = report.flagged,
                    sweep.cleared = report.cleared,
                    sweep.escalated = report.escalated,
                    sweep.notified = report.notified,
                    sweep.digests = report.digests,
                    sweep.imports_expired = report.imports_expired,
                    sweep.duration_ms = took.as_millis() as u64,
                    "sweep done"
                );
                interval
            }
            Err(error) => {
                failures += 1;
                metrics.record_failure();
                let pause = interval
                    .saturating_mul(2u32.saturating_pow(failures.min(16)))
                    .min(MAX_BACKOFF)
                    .max(interval);
                tracing::error!(error = %format!("{error:#}"), retry_in_secs = pause.as_secs(), "sweep failed");
                pause
            }
        };
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            _ = shutdown.changed() => break,
        }
    }
    tracing::info!("sweeper stopped");
}
