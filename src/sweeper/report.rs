//! What a sweep did, and the running figures `/metrics` shows: plain data, so the state every
//! handler reaches can hold them without importing the sweeper.

use std::sync::Mutex;
use std::time::Duration;

use time::OffsetDateTime;

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Follow-ups newly marked overdue.
    pub flagged: i64,
    /// Follow-ups no longer overdue (done, or moved to a later date).
    pub cleared: i64,
    /// Follow-ups escalated to a manager.
    pub escalated: i64,
    /// Notifications written.
    pub notified: i64,
    /// Digest e-mails sent.
    pub digests: i64,
    /// Contact imports left unreviewed past [`IMPORT_TTL_HOURS`](super::IMPORT_TTL_HOURS), deleted.
    pub imports_expired: i64,
}

/// The sweeper's figures, for `/metrics` and the logs.
#[derive(Debug, Default)]
pub struct SweepMetrics {
    inner: Mutex<MetricsInner>,
}

/// A snapshot of [`SweepMetrics`].
#[derive(Debug, Clone, Copy, Default)]
pub struct MetricsInner {
    pub last_run_unix: Option<i64>,
    pub last_duration_secs: f64,
    pub last: SweepReport,
    pub runs_total: u64,
    pub failures_total: u64,
    pub flagged_total: i64,
    pub escalated_total: i64,
    pub notified_total: i64,
    pub digests_total: i64,
}

impl SweepMetrics {
    /// Records a successful sweep.
    pub fn record(&self, at: OffsetDateTime, took: Duration, report: SweepReport) {
        let mut m = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        m.last_run_unix = Some(at.unix_timestamp());
        m.last_duration_secs = took.as_secs_f64();
        m.last = report;
        m.runs_total += 1;
        m.flagged_total += report.flagged;
        m.escalated_total += report.escalated;
        m.notified_total += report.notified;
        m.digests_total += report.digests;
    }

    /// Records a failed sweep.
    pub fn record_failure(&self) {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .failures_total += 1;
    }

    /// The current figures.
    pub fn snapshot(&self) -> MetricsInner {
        *self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}
