//! The dashboard page.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;

use crate::db;
use crate::domain::users::UserId;
use crate::state::AppState;
use crate::web::auth::Manager;
use crate::web::{AppResult, PageContext, render};

use super::{Dashboard, Filters, compute, scope_for};

/// The dashboard page.
#[derive(Template)]
#[template(path = "dashboard/show.html")]
pub(super) struct DashboardPage {
    ctx: PageContext,
    d: Dashboard,
    filters: Filters,
    /// Why the custom dates were not used.
    date_error: Option<String>,
    weeks: f64,
    team: Vec<(UserId, String)>,
}

pub(super) async fn show_dashboard(
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
            .filter(|m| m.role == crate::domain::users::Role::Rep && m.deactivated_at.is_none())
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
