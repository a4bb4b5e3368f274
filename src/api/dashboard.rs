//! `/api/v1/dashboard`: the dashboard's figures, from the page's own computation.

use axum::Json;
use axum::extract::{Query, State};
use serde::Deserialize;
use serde_json::{Value, json};

use super::ApiResult;
use crate::dashboard::{Filters, compute, scope_for};
use crate::domain::error::ServiceError;
use crate::state::AppState;
use crate::web::AppError;
use crate::web::auth::ApiUser;

/// The period and the rep: `from` and `to` (`YYYY-MM-DD`, the last four weeks by default)
/// and `rep` (a user id; everyone the viewer sees by default).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DashboardQuery {
    pub from: String,
    pub to: String,
    pub rep: String,
}

/// The figures of the dashboard page for a manager's or an admin's team (a rep is refused
/// with 403): totals and the funnel, each rep's figures, thank-yous, promises, coverage,
/// overdue follow-ups by age, the source leaderboard, connector load and the weekly trend.
#[utoipa::path(
    get,
    path = "/api/v1/dashboard",
    operation_id = "dashboard_show",
    tag = "dashboard",
    params(("from" = Option<String>, Query, description = "First day (YYYY-MM-DD); the last four weeks by default"), ("to" = Option<String>, Query, description = "Last day (YYYY-MM-DD)"), ("rep" = Option<String>, Query, description = "Only this rep (a user id)")),
    responses((status = 200, description = "The dashboard's figures", body = Object), crate::api::openapi::Problems)
)]
pub async fn show(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Query(query): Query<DashboardQuery>,
) -> ApiResult<Json<Value>> {
    if !user.role.sees_others() {
        return Err(AppError::Forbidden.into());
    }
    let filters = Filters {
        period: String::new(),
        from: query.from,
        to: query.to,
        rep: query.rep,
    }
    .with_dates_as_custom();
    if let Some(why) = filters.date_error() {
        return Err(ServiceError::field("from", why).into());
    }
    if !filters.rep.trim().is_empty() && filters.rep.trim().parse::<i64>().is_err() {
        return Err(ServiceError::field("rep", "Give a user id.").into());
    }
    let scope = scope_for(&state, &user, &filters).await?;
    let d = compute(&state.pool, &state.pool, scope).await?;
    let t = &d.totals;
    let reps: Vec<Value> = d
        .reps
        .iter()
        .map(|r| {
            json!({
                "user_id": r.user_id, "name": r.name, "weekly_ask_target": r.weekly_ask_target,
                "asks": r.asks, "intros": r.intros, "meetings": r.meetings, "wins": r.wins,
                "losses": r.losses, "won_cents": r.won_cents, "introduced": r.introduced,
                "thanked": r.thanked, "median_delay_days": r.median_delay_days,
                "active": r.active, "wins_this_year": r.wins_this_year,
            })
        })
        .collect();
    let sources = |rows: &[crate::db::metrics::SourceRow]| -> Vec<Value> {
        rows.iter()
            .map(|s| {
                json!({ "contact_id": s.contact_id, "name": s.name, "rep_name": s.rep_name,
                        "asks": s.asks, "intros": s.intros, "wins": s.wins })
            })
            .collect()
    };
    let overdue: Vec<Value> = d
        .overdue
        .iter()
        .map(|o| {
            json!({ "user_id": o.user_id, "name": o.name, "days_1_2": o.days_1_2,
                    "days_3_7": o.days_3_7, "days_8_plus": o.days_8_plus })
        })
        .collect();
    let trend: Vec<Value> = d
        .trend
        .iter()
        .map(|w| json!({ "week": w.week.to_string(), "asks": w.asks, "intros": w.intros }))
        .collect();
    Ok(Json(json!({
        "from": scope.from.to_string(),
        "to": scope.to.to_string(),
        "rep": scope.rep,
        "totals": {
            "asks": t.asks, "intros": t.intros, "meetings": t.meetings, "wins": t.wins,
            "losses": t.losses, "ended": t.ended, "won_cents": t.won_cents,
            "ask_target": t.target, "active_reps": t.active_reps, "reps": t.reps,
            "median_delay_days": t.median_delay_days,
        },
        "previous_period_asks": d.previous_asks,
        "thanked_within_7_days": { "introduced": d.thanked.0, "thanked": d.thanked.1 },
        "promises_kept": { "due": d.promises.0, "kept": d.promises.1 },
        "ask_coverage": { "strong_clients": d.coverage.0, "asked_in_90_days": d.coverage.1 },
        "reps": reps,
        "overdue_by_age": overdue,
        "source_leaderboard": sources(&d.leaderboard),
        "connector_load": sources(&d.connector_load),
        "weekly_trend": trend,
    })))
}
