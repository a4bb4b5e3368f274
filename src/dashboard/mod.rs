//! `/dashboard`: whether the referral program is executed, for a manager's subtree (an admin:
//! everyone). One computation serves the page, the CSV export and the rep scorecard.
//! `metrics` computes the figures, `page` and `export` show them, `scorecard` is one rep's page
//! with the referral math, and `coaching` writes coaching notes.

mod charts;
mod coaching;
mod export;
mod metrics;
mod page;
mod scorecard;
pub mod service;

use axum::Router;
use axum::routing::{get, post};
use serde::Deserialize;
use time::{Date, Duration, Month};

use crate::db;
use crate::db::metrics::Scope;
use crate::domain::dates::{parse_clamped, week_start};
use crate::domain::users::{User, UserId};
use crate::state::AppState;
use crate::web::{AppError, AppResult};

pub use metrics::{
    Dashboard, Totals, compute, fold_continuously, percent, required_weekly_asks,
    weeks_left_in_year,
};

/// The dashboard routes (managers and admins).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/dashboard", get(page::show_dashboard))
        .route("/dashboard.csv", get(export::export_dashboard))
        .route("/dashboard/reps/{id}", get(scorecard::show_scorecard))
        .route(
            "/dashboard/reps/{id}/coaching",
            post(coaching::create_coaching_note),
        )
        .route(
            "/dashboard/reps/{id}/goal",
            post(scorecard::update_client_goal),
        )
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

/// What a viewer's dashboard with these filters covers; a rep the viewer may not see is not found.
pub async fn scope_for(state: &AppState, viewer: &User, filters: &Filters) -> AppResult<Scope> {
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
