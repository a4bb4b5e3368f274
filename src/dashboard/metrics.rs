//! The dashboard's figures: one computation for the page, the export and the scorecard.

use std::borrow::Borrow;

use sqlx::PgPool;
use time::{Date, Duration, Month};

use crate::db;
use crate::db::metrics::{
    Connector, OverdueByAge, RepStats, Scope, SourceRow, TeamAssisted, WeekRow,
};
use crate::domain::asks::format_amount;
use crate::domain::dates::week_start;
use crate::domain::users::UserId;
use crate::web::AppResult;

use super::charts;

/// Weeks in the trend chart.
const TREND_WEEKS: i64 = 12;

/// Every metric of a dashboard.
#[derive(Debug, Clone)]
pub struct Dashboard {
    pub scope: Scope,
    pub reps: Vec<RepStats>,
    pub totals: Totals,
    pub thanked: (i64, i64),
    pub promises: (i64, i64),
    pub coverage: (i64, i64),
    pub overdue: Vec<OverdueByAge>,
    pub leaderboard: Vec<SourceRow>,
    pub connector_load: Vec<SourceRow>,
    /// Asks that used a colleague's path, and how far they got.
    pub team_assisted: TeamAssisted,
    /// The colleagues whose paths were used most.
    pub generous: Vec<Connector>,
    pub trend: Vec<WeekRow>,
    /// Asks in the period of the same length just before.
    pub previous_asks: i64,
}

/// Sums over the reps in scope.
#[derive(Debug, Clone, Default)]
pub struct Totals {
    pub asks: i64,
    pub intros: i64,
    pub meetings: i64,
    pub wins: i64,
    pub losses: i64,
    pub ended: i64,
    pub won_cents: i64,
    pub target: f64,
    pub active_reps: i64,
    pub reps: i64,
    pub median_delay_days: Option<f64>,
}

/// How often the background task folds queued rollup changes. The dashboard folds as it
/// reads, so this only keeps the queue short.
const FOLD_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// Folds queued rollup changes every [`FOLD_EVERY`] until `stop` turns true, and merges the
/// search indexes' pending entries as often, so that no quick log merges them. While the
/// database is away this says so once, and carries on when it is back.
pub async fn fold_continuously(pool: PgPool, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut failing = false;
    loop {
        let tidy = async {
            db::metrics::fold_rollups(&pool).await?;
            db::contacts::merge_pending_search_entries(&pool).await
        };
        let folded = tokio::select! {
            folded = tidy => folded,
            // A fold cut short rolls back whole: the queue keeps its changes.
            _ = stop.changed() => break,
        };
        match folded {
            Ok(_) if failing => {
                failing = false;
                tracing::info!("folding rollups and merging search entries again");
            }
            Ok(_) => {}
            Err(error) if !failing => {
                failing = true;
                tracing::warn!(%error, "folding rollups or merging search entries failed; retrying every second");
            }
            Err(_) => {}
        }
        tokio::select! {
            () = tokio::time::sleep(FOLD_EVERY) => {}
            _ = stop.changed() => break,
        }
    }
}

/// Computes a dashboard from `pool` (the primary, or a replica). The metric queries run side
/// by side, each on its own connection, after the rollup changes still queued are folded in on
/// the `primary`: read from the primary, the figures count every ask committed before the
/// request; a replica shows them once it has replayed the fold.
pub async fn compute(primary: &PgPool, pool: &PgPool, scope: Scope) -> AppResult<Dashboard> {
    let (ids, _) = tokio::try_join!(
        db::metrics::scope_rep_ids(pool, scope),
        db::metrics::fold_rollups(primary),
    )?;
    let ids = ids.as_slice();
    let monday = week_start(scope.today);
    let since = monday - Duration::weeks(TREND_WEEKS - 1);
    // The period of the same length just before, for the change in asks.
    let length = scope.to - scope.from + Duration::days(1);
    let (previous_from, previous_to) = (scope.from - length, scope.from - Duration::days(1));
    let (
        reps,
        previous_asks,
        found,
        promises,
        leaderboard,
        connector_load,
        coverage,
        overdue,
        (team_assisted, generous),
    ) = tokio::try_join!(
        db::metrics::rep_stats(pool, ids, scope),
        db::metrics::asks_made(pool, ids, previous_from, previous_to),
        db::metrics::weekly_trend(pool, ids, since),
        db::metrics::promises_kept(pool, ids, scope),
        db::metrics::source_leaderboard(pool, ids, scope, 10),
        db::metrics::connector_load(pool, ids, scope, 10),
        db::metrics::ask_coverage(pool, ids, scope),
        db::metrics::overdue_by_age(pool, ids, scope),
        db::metrics::team_assisted(pool, ids, scope, 5),
    )?;
    let weeks = ((scope.to - scope.from).whole_days() + 1) as f64 / 7.0;
    let mut totals = Totals {
        reps: reps.len() as i64,
        ..Default::default()
    };
    let (mut introduced, mut thanked, mut delays) = (0, 0, Vec::new());
    for r in &reps {
        totals.asks += r.asks;
        totals.intros += r.intros;
        totals.meetings += r.meetings;
        totals.wins += r.wins;
        totals.losses += r.losses;
        totals.ended += r.ended;
        totals.won_cents += r.won_cents;
        totals.target += f64::from(r.weekly_ask_target) * weeks;
        totals.active_reps += i64::from(r.active);
        introduced += r.introduced;
        thanked += r.thanked;
        delays.extend_from_slice(&r.delays);
    }
    totals.median_delay_days = db::metrics::median(&delays);
    let trend = (0..TREND_WEEKS)
        .map(|i| {
            let week = since + Duration::weeks(i);
            found
                .iter()
                .find(|w| w.week == week)
                .cloned()
                .unwrap_or(WeekRow {
                    week,
                    asks: 0,
                    intros: 0,
                })
        })
        .collect();
    Ok(Dashboard {
        scope,
        thanked: (introduced, thanked),
        promises,
        coverage,
        overdue,
        leaderboard,
        connector_load,
        team_assisted,
        generous,
        trend,
        reps,
        totals,
        previous_asks,
    })
}

/// A share as a whole percentage, or a dash when there is nothing to divide.
/// (Takes borrows too: templates pass fields by reference.)
pub fn percent(part: impl Borrow<i64>, whole: impl Borrow<i64>) -> String {
    let (part, whole) = (*part.borrow(), *whole.borrow());
    if whole == 0 {
        "–".into()
    } else {
        format!("{:.0}%", part as f64 * 100.0 / whole as f64)
    }
}

/// Referral math: the weekly asks needed to reach the annual new-client goal,
/// `ceil(clients still needed ÷ weeks left × asks per client)`.
pub fn required_weekly_asks(
    goal: i32,
    won_so_far: i64,
    weeks_left: f64,
    asks_per_client: f64,
) -> i64 {
    let needed = (i64::from(goal) - won_so_far).max(0) as f64;
    if needed == 0.0 {
        return 0;
    }
    (needed / weeks_left.max(1.0) * asks_per_client).ceil() as i64
}

/// Weeks from `today` to the end of its year.
pub fn weeks_left_in_year(today: Date) -> f64 {
    let end = Date::from_calendar_date(today.year(), Month::December, 31).unwrap_or(today);
    ((end - today).whole_days() + 1) as f64 / 7.0
}

impl Dashboard {
    /// The share of the period's target the asks should have reached by today: all of it once
    /// the period is over, a prorated part while it runs.
    fn target_so_far(&self) -> f64 {
        let s = &self.scope;
        let days = ((s.to - s.from).whole_days() + 1) as f64;
        let elapsed = ((s.today.min(s.to) - s.from).whole_days() + 1).clamp(0, days as i64) as f64;
        self.totals.target * elapsed / days
    }

    /// Whether the asks keep pace with the target (prorated while the period runs).
    pub fn on_track(&self) -> bool {
        self.totals.asks as f64 >= self.target_so_far().floor()
    }

    /// The asks against the previous period of the same length: `+12` or `−3` (`±0`).
    pub fn asks_change(&self) -> String {
        match self.totals.asks - self.previous_asks {
            0 => "±0".into(),
            n if n > 0 => format!("+{n}"),
            n => format!("−{}", n.unsigned_abs()),
        }
    }

    /// The funnel chart.
    pub fn funnel_chart(&self) -> String {
        let t = &self.totals;
        charts::funnel(&[
            ("Asks", t.asks),
            ("Introductions", t.intros),
            ("Meetings", t.meetings),
            ("Won", t.wins),
        ])
    }

    /// The 12-week trend chart; the week of today is drawn as under way.
    pub fn trend_chart(&self) -> String {
        let weeks: Vec<_> = self
            .trend
            .iter()
            .map(|w| (w.week, w.asks, w.intros))
            .collect();
        charts::trend(&weeks, self.trend_partial())
    }

    /// Whether the trend's last week is still under way.
    pub fn trend_partial(&self) -> bool {
        self.trend.last().is_some_and(|w| {
            w.week <= self.scope.today && self.scope.today < w.week + time::Duration::days(6)
        })
    }

    /// The list of asks behind a number: `/asks` with the same period and rep.
    pub fn asks_link(&self, extra: &str, rep: Option<impl Borrow<UserId>>) -> String {
        let rep = rep
            .map(|r| *r.borrow())
            .or(self.scope.rep)
            .map(|r| format!("&rep={r}"))
            .unwrap_or_default();
        format!(
            "/asks?from={}&to={}{rep}{extra}",
            self.scope.from, self.scope.to
        )
    }

    /// Won amount, formatted.
    pub fn won_label(&self) -> String {
        format_amount(self.totals.won_cents)
    }

    /// Median logging delay, in days.
    pub fn delay_label(&self) -> String {
        self.totals
            .median_delay_days
            .map_or("–".into(), |d| format!("{d:.1} days"))
    }

    /// Asks per new client won.
    pub fn asks_per_client_label(&self) -> String {
        if self.totals.wins == 0 {
            "–".into()
        } else {
            format!("{:.1}", self.totals.asks as f64 / self.totals.wins as f64)
        }
    }
}

impl RepStats {
    /// Asks against the target for a period of `weeks` weeks, as a whole percentage (capped).
    pub fn target_percent(&self, weeks: impl Borrow<f64>) -> i64 {
        let weeks = *weeks.borrow();
        let target = f64::from(self.weekly_ask_target) * weeks;
        if target <= 0.0 {
            100
        } else {
            ((self.asks as f64 / target) * 100.0).min(100.0) as i64
        }
    }

    /// The period's target in asks.
    pub fn target(&self, weeks: impl Borrow<f64>) -> i64 {
        let weeks = *weeks.borrow();
        (f64::from(self.weekly_ask_target) * weeks).round() as i64
    }
}
