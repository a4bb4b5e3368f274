//! A rep's scorecard: their figures, coaching notes and the referral math.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use crate::db;
use crate::db::coaching::Note;
use crate::domain::fields::FieldErrors;
use crate::domain::users::{User, UserId};
use crate::state::AppState;
use crate::web::auth::Manager;
use crate::web::{AppError, AppResult, FlashKind, PageContext, redirect_with_flash, render};

use super::coaching::CoachingForm;
use super::{Dashboard, Filters, compute, required_weekly_asks, scope_for, weeks_left_in_year};

/// A rep's scorecard with coaching notes.
#[derive(Template)]
#[template(path = "dashboard/scorecard.html")]
pub(super) struct ScorecardPage {
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

pub(super) async fn scorecard(
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

pub(super) async fn show_scorecard(
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

/// The referral-math inputs.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct GoalForm {
    annual_client_goal: String,
    asks_per_client: String,
}

/// A form of the scorecard's sent back with its problems.
pub(super) enum SentBack {
    Nothing,
    Coaching(CoachingForm, FieldErrors),
    Goal(GoalForm, FieldErrors),
}

pub(super) async fn update_client_goal(
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
