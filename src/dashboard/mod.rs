//! `/dashboard`: whether the referral program is executed, for a manager's subtree (an admin:
//! everyone). One computation serves the page, the CSV export and the rep scorecard.

mod charts;

use std::borrow::Borrow;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use serde_json::json;
use sqlx::PgPool;
use time::{Date, Duration, Month};

use crate::accounts::model::{User, UserId};
use crate::asks::model::format_amount;
use crate::db;
use crate::db::coaching::{NewNote, Note};
use crate::db::follow_ups::NewFollowUp;
use crate::db::metrics::{OverdueByAge, RepStats, Scope, SourceRow, WeekRow};
use crate::domain::dates::{parse_clamped, week_start};
use crate::domain::spreadsheet::CsvOut;
use crate::state::AppState;
use crate::web::auth::Manager;
use crate::web::form::FieldErrors;
use crate::web::{AppError, AppResult, FlashKind, PageContext, redirect_with_flash, render};

/// Weeks in the trend chart.
const TREND_WEEKS: i64 = 12;

/// The dashboard routes (managers and admins).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/dashboard", get(show_dashboard))
        .route("/dashboard.csv", get(export_dashboard))
        .route("/dashboard/reps/{id}", get(show_scorecard))
        .route("/dashboard/reps/{id}/coaching", post(create_coaching_note))
        .route("/dashboard/reps/{id}/goal", post(update_client_goal))
}

/// The period and rep filters.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Filters {
    /// `week`, `4w` (the default), `quarter` or `custom`.
    pub period: String,
    pub from: String,
    pub to: String,
    pub rep: String,
}

impl Filters {
    /// The first and last day covered, as of `today`.
    pub fn range(&self, today: Date) -> (Date, Date) {
        let monday = week_start(today);
        match self.period.as_str() {
            "week" => (monday, today),
            "quarter" => {
                let first_month = (u8::from(today.month()) - 1) / 3 * 3 + 1;
                let month = Month::try_from(first_month).unwrap_or(Month::January);
                (
                    Date::from_calendar_date(today.year(), month, 1).unwrap_or(today),
                    today,
                )
            }
            "custom" if self.date_error().is_none() => {
                let from = parse_clamped(&self.from).unwrap_or(today - Duration::days(27));
                let to = parse_clamped(&self.to).unwrap_or(today);
                (from, to.max(from))
            }
            _ => (today - Duration::days(27), today),
        }
    }

    /// Dates picked without choosing a period (or with the default) mean the custom range.
    pub fn with_dates_as_custom(mut self) -> Self {
        let dates = !self.from.trim().is_empty() || !self.to.trim().is_empty();
        if dates && matches!(self.period.as_str(), "" | "4w") {
            self.period = "custom".into();
        }
        self
    }

    /// What is wrong with the custom range's dates, if anything: one that is not a date, or an
    /// end before the start. The dashboard then shows the last four weeks and says why.
    pub fn date_error(&self) -> Option<String> {
        if self.period != "custom" {
            return None;
        }
        let parse = |text: &str| match text.trim() {
            "" => Ok(None),
            t => parse_clamped(t).map(Some).ok_or(()),
        };
        match (parse(&self.from), parse(&self.to)) {
            (Err(()), _) | (_, Err(())) => {
                Some("Enter the dates like 2026-03-01 (or leave them empty).".into())
            }
            (Ok(Some(from)), Ok(Some(to))) if to < from => Some(format!(
                "The end ({to}) is before the start ({from}): pick an end on or after the start."
            )),
            _ => None,
        }
    }

    /// The filters as a query string (for links and the CSV export).
    pub fn query(&self) -> String {
        let pairs = [
            ("period", &self.period),
            ("from", &self.from),
            ("to", &self.to),
            ("rep", &self.rep),
        ];
        let kept: Vec<_> = pairs.into_iter().filter(|(_, v)| !v.is_empty()).collect();
        serde_urlencoded::to_string(kept).unwrap_or_default()
    }

    fn rep(&self) -> Option<UserId> {
        self.rep.trim().parse().ok().map(UserId)
    }
}

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

/// Folds queued rollup changes every [`FOLD_EVERY`] until `stop` turns true. While the
/// database is away this says so once, and carries on when it is back.
pub async fn fold_continuously(pool: PgPool, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut failing = false;
    loop {
        let folded = tokio::select! {
            folded = db::metrics::fold_rollups(&pool) => folded,
            // A fold cut short rolls back whole: the queue keeps its changes.
            _ = stop.changed() => break,
        };
        match folded {
            Ok(_) if failing => {
                failing = false;
                tracing::info!("folding the dashboard's rollups again");
            }
            Ok(_) => {}
            Err(error) if !failing => {
                failing = true;
                tracing::warn!(%error, "folding the dashboard's rollups failed; retrying every second");
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
    let (reps, previous_asks, found, promises, leaderboard, connector_load, coverage, overdue) = tokio::try_join!(
        db::metrics::rep_stats(pool, ids, scope),
        db::metrics::asks_made(pool, ids, previous_from, previous_to),
        db::metrics::weekly_trend(pool, ids, since),
        db::metrics::promises_kept(pool, ids, scope),
        db::metrics::source_leaderboard(pool, ids, scope, 10),
        db::metrics::connector_load(pool, ids, scope, 10),
        db::metrics::ask_coverage(pool, ids, scope),
        db::metrics::overdue_by_age(pool, ids, scope),
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

async fn scope_for(state: &AppState, viewer: &User, filters: &Filters) -> AppResult<Scope> {
    let today = db::users::today_in(&state.pool, &viewer.time_zone).await?;
    let (from, to) = filters.range(today);
    let rep = filters.rep();
    if let Some(rep) = rep
        && !db::users::can_see(&state.pool, viewer.id, rep).await?
    {
        return Err(AppError::NotFound);
    }
    Ok(Scope {
        viewer: viewer.id,
        rep,
        from,
        to,
        today,
    })
}

/// The dashboard page.
#[derive(Template)]
#[template(path = "dashboard/show.html")]
struct DashboardPage {
    ctx: PageContext,
    d: Dashboard,
    filters: Filters,
    /// Why the custom dates were not used.
    date_error: Option<String>,
    weeks: f64,
    team: Vec<(UserId, String)>,
}

async fn show_dashboard(
    State(state): State<AppState>,
    Manager(viewer): Manager,
    mut ctx: PageContext,
    Query(filters): Query<Filters>,
) -> AppResult<Response> {
    let filters = filters.with_dates_as_custom();
    let date_error = filters.date_error();
    let scope = scope_for(&state, &viewer, &filters).await?;
    let d = compute(&state.pool, ctx.read_pool(&state).await, scope).await?;
    let weeks = ((scope.to - scope.from).whole_days() + 1) as f64 / 7.0;
    // Unfiltered, the dashboard covers every rep the filter offers.
    let team = if scope.rep.is_none() {
        d.reps.iter().map(|r| (r.user_id, r.name.clone())).collect()
    } else {
        db::users::list_team(&state.pool, viewer.id)
            .await?
            .into_iter()
            .filter(|m| m.role == crate::accounts::model::Role::Rep && m.deactivated_at.is_none())
            .map(|m| (m.user_id, m.name))
            .collect()
    };
    let status = if date_error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render(
        status,
        &DashboardPage {
            ctx,
            d,
            filters,
            date_error,
            weeks,
            team,
        },
    )
}

/// The per-rep table as CSV.
async fn export_dashboard(
    State(state): State<AppState>,
    Manager(viewer): Manager,
    Query(filters): Query<Filters>,
) -> AppResult<Response> {
    let filters = filters.with_dates_as_custom();
    let scope = scope_for(&state, &viewer, &filters).await?;
    let d = compute(&state.pool, &state.read_pool, scope).await?;
    let weeks = ((scope.to - scope.from).whole_days() + 1) as f64 / 7.0;
    let mut out = CsvOut::default();
    let header = [
        "Rep",
        "From",
        "To",
        "Asks",
        "Target",
        "Introductions",
        "Meetings",
        "Won",
        "Lost",
        "Won amount",
        "Ask to intro rate",
        "Close ratio",
        "Overdue 1-2 days",
        "Overdue 3-7 days",
        "Overdue 8+ days",
        "Median logging delay (days)",
        "Active this week",
    ];
    let csv_error = |e: csv::Error| AppError::Internal(e.into());
    out.row(header).map_err(csv_error)?;
    for r in &d.reps {
        let overdue = d.overdue.iter().find(|o| o.user_id == r.user_id);
        let count = |f: fn(&OverdueByAge) -> i64| overdue.map_or(0, f).to_string();
        out.row([
            r.name.clone(),
            scope.from.to_string(),
            scope.to.to_string(),
            r.asks.to_string(),
            r.target(weeks).to_string(),
            r.intros.to_string(),
            r.meetings.to_string(),
            r.wins.to_string(),
            r.losses.to_string(),
            format_amount(r.won_cents),
            percent(r.intros, r.ended),
            percent(r.wins, r.wins + r.losses),
            count(|o| o.days_1_2),
            count(|o| o.days_3_7),
            count(|o| o.days_8_plus),
            r.median_delay_days
                .map(|d| format!("{d:.1}"))
                .unwrap_or_default(),
            if r.active { "yes" } else { "no" }.into(),
        ])
        .map_err(csv_error)?;
    }
    let body = out.finish().map_err(csv_error)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"dashboard-{}-{}.csv\"",
                    scope.from, scope.to
                ),
            ),
        ],
        body,
    )
        .into_response())
}

/// A rep's scorecard with coaching notes.
#[derive(Template)]
#[template(path = "dashboard/scorecard.html")]
struct ScorecardPage {
    ctx: PageContext,
    rep: User,
    d: Dashboard,
    filters: Filters,
    notes: Vec<Note>,
    required_weekly: i64,
    weeks_left: f64,
    wins_this_year: i64,
    form: CoachingForm,
    errors: FieldErrors,
    goal: GoalForm,
    goal_errors: FieldErrors,
}

/// A coaching note as typed.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CoachingForm {
    pub diagnosis: String,
    pub committed_action: String,
    pub metric: String,
    pub inspect_on: String,
}

async fn scorecard(
    state: &AppState,
    ctx: PageContext,
    viewer: &User,
    id: i64,
    filters: Filters,
    sent_back: SentBack,
    status: StatusCode,
) -> AppResult<Response> {
    let ((form, errors), goal_back) = match sent_back {
        SentBack::Nothing => (Default::default(), None),
        SentBack::Coaching(form, errors) => ((form, errors), None),
        SentBack::Goal(goal, errors) => (Default::default(), Some((goal, errors))),
    };
    let rep_id = UserId(id);
    if !db::users::can_see(&state.pool, viewer.id, rep_id).await? {
        return Err(AppError::NotFound);
    }
    let rep = db::users::find(&state.pool, rep_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let filters = Filters {
        rep: id.to_string(),
        ..filters
    };
    let scope = scope_for(state, viewer, &filters).await?;
    let d = compute(&state.pool, &state.pool, scope).await?;
    let notes = db::coaching::for_rep(&state.pool, rep_id, 20).await?;
    let (goal, per_client, wins_this_year) = d.reps.first().map_or((0, 4.0, 0), |r| {
        (r.annual_client_goal, r.asks_per_client, r.wins_this_year)
    });
    let weeks_left = weeks_left_in_year(scope.today);
    let required_weekly = required_weekly_asks(goal, wins_this_year, weeks_left, per_client);
    let (goal, goal_errors) = goal_back.unwrap_or_else(|| {
        let form = GoalForm {
            annual_client_goal: goal.to_string(),
            asks_per_client: per_client.to_string(),
        };
        (form, FieldErrors::default())
    });
    let page = ScorecardPage {
        ctx,
        rep,
        d,
        filters,
        notes,
        required_weekly,
        weeks_left,
        wins_this_year,
        form,
        errors,
        goal,
        goal_errors,
    };
    render(status, &page)
}

async fn show_scorecard(
    State(state): State<AppState>,
    Manager(viewer): Manager,
    ctx: PageContext,
    Path(id): Path<i64>,
    Query(filters): Query<Filters>,
) -> AppResult<Response> {
    scorecard(
        &state,
        ctx,
        &viewer,
        id,
        filters,
        SentBack::Nothing,
        StatusCode::OK,
    )
    .await
}

/// Writes a coaching note; its committed action becomes a follow-up for the rep, due on the
/// inspect-on date, and the rep is notified.
async fn create_coaching_note(
    State(state): State<AppState>,
    Manager(viewer): Manager,
    ctx: PageContext,
    Path(id): Path<i64>,
    Form(form): Form<CoachingForm>,
) -> AppResult<Response> {
    let rep = UserId(id);
    if rep == viewer.id || !db::users::can_see(&state.pool, viewer.id, rep).await? {
        return Err(AppError::NotFound);
    }
    let today = db::users::today_in(&state.pool, &viewer.time_zone).await?;
    let mut errors = FieldErrors::default();
    for (field, value, max, message) in [
        (
            "diagnosis",
            &form.diagnosis,
            4000,
            "What is going on? One or two sentences.",
        ),
        (
            "committed_action",
            &form.committed_action,
            1000,
            "The one action the rep commits to.",
        ),
        (
            "metric",
            &form.metric,
            300,
            "The one number you will look at.",
        ),
    ] {
        match value.trim().chars().count() {
            0 => errors.add(field, message),
            n if n > max => errors.add(field, format!("Keep this under {max} characters.")),
            _ => {}
        }
    }
    let inspect_on = errors.check(
        "inspect_on",
        crate::followups::service::parse_due(&form.inspect_on, today),
    );
    let (Some(inspect_on), true) = (inspect_on, errors.is_empty()) else {
        return scorecard(
            &state,
            ctx,
            &viewer,
            id,
            Filters::default(),
            SentBack::Coaching(form, errors),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let monday = week_start(today);
    let note = NewNote {
        manager: viewer.id,
        rep,
        week_of: monday,
        diagnosis: form.diagnosis.trim(),
        committed_action: form.committed_action.trim(),
        metric: form.metric.trim(),
        inspect_on,
    };
    let mut tx = state.pool.begin().await?;
    let note_id = db::coaching::insert(&mut *tx, &note).await?;
    let title = format!("Coaching: {}", note.committed_action);
    let follow_up = NewFollowUp {
        owner: rep,
        kind: "coaching",
        title: &title,
        ask: None,
        contact: None,
        due_on: inspect_on,
        created_by: Some(viewer.id),
    };
    let follow_up_id = crate::followups::service::add(&mut tx, Some(viewer.id), &follow_up).await?;
    sqlx::query!(
        "update follow_ups set coaching_note_id = $2 where follow_up_id = $1",
        follow_up_id,
        note_id
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "insert into notifications (user_id, follow_up_id, kind, body) values ($1, $2, 'coaching', $3)",
        rep.0,
        follow_up_id,
        format!("{} wrote you a coaching note: {}", viewer.name, note.committed_action).chars().take(2000).collect::<String>()
    )
    .execute(&mut *tx)
    .await?;
    db::audit::record(
        &mut *tx,
        Some(viewer.id),
        "coaching_note",
        note_id,
        "create",
        json!({ "rep": rep, "inspect_on": inspect_on.to_string() }),
    )
    .await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/dashboard/reps/{id}"),
        FlashKind::Success,
        "Coaching note saved; the commitment is on the rep's list.",
    ))
}

/// The referral-math inputs.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct GoalForm {
    annual_client_goal: String,
    asks_per_client: String,
}

/// A form of the scorecard's sent back with its problems.
enum SentBack {
    Nothing,
    Coaching(CoachingForm, FieldErrors),
    Goal(GoalForm, FieldErrors),
}

async fn update_client_goal(
    State(state): State<AppState>,
    Manager(viewer): Manager,
    ctx: PageContext,
    Path(id): Path<i64>,
    Form(form): Form<GoalForm>,
) -> AppResult<Response> {
    let rep = UserId(id);
    if rep == viewer.id || !db::users::can_see(&state.pool, viewer.id, rep).await? {
        return Err(AppError::NotFound);
    }
    let back = format!("/dashboard/reps/{id}");
    let goal = form
        .annual_client_goal
        .trim()
        .parse::<i32>()
        .ok()
        .filter(|g| (0..=10_000).contains(g));
    let per_client = form
        .asks_per_client
        .trim()
        .replace(',', ".")
        .parse::<f64>()
        .ok()
        .filter(|a| *a > 0.0 && *a <= 1000.0);
    let (Some(goal), Some(per_client)) = (goal, per_client) else {
        let mut errors = FieldErrors::default();
        if goal.is_none() {
            errors.add(
                "annual_client_goal",
                "Enter a whole number of clients from 0 to 10,000.",
            );
        }
        if per_client.is_none() {
            errors.add("asks_per_client", "Enter a number above 0, up to 1,000.");
        }
        return scorecard(
            &state,
            ctx,
            &viewer,
            id,
            Filters::default(),
            SentBack::Goal(form, errors),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let mut tx = state.pool.begin().await?;
    db::users::set_client_goal(&mut *tx, rep, goal, per_client).await?;
    db::audit::record(
        &mut *tx,
        Some(viewer.id),
        "user",
        id,
        "set_client_goal",
        json!({ "annual_client_goal": goal, "asks_per_client": per_client }),
    )
    .await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &back,
        FlashKind::Success,
        "Goal saved.",
    ))
}
