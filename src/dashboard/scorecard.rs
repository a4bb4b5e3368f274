//! A rep's scorecard: their figures, coaching notes and the referral math.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;

use crate::db;
use crate::db::coaching::Note;
use crate::db::metrics::TeamAssisted;
use crate::domain::error::ServiceError;
use crate::domain::fields::FieldErrors;
use crate::domain::users::{User, UserId};
use crate::state::AppState;
use crate::web::auth::Manager;
use crate::web::{AppError, AppResult, FlashKind, PageContext, redirect_with_flash, render};

use super::service::CoachingForm;
use super::service::{self, GoalForm};
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
    /// Colleagues' asks through this rep's network: their credit as a connector.
    shared: TeamAssisted,
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
    rep_id: UserId,
    filters: Filters,
    sent_back: SentBack,
    status: StatusCode,
) -> AppResult<Response> {
    let ((form, errors), goal_back) = match sent_back {
        SentBack::Nothing => (Default::default(), None),
        SentBack::Coaching(form, errors) => ((form, errors), None),
        SentBack::Goal(goal, errors) => (Default::default(), Some((goal, errors))),
    };
    if !db::users::can_see(&state.pool, viewer.id, rep_id).await? {
        return Err(AppError::NotFound);
    }
    let rep = db::users::find(&state.pool, rep_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let filters = Filters {
        rep: rep_id.to_string(),
        ..filters
    };
    let scope = scope_for(state, viewer, &filters).await?;
    let d = compute(&state.pool, &state.pool, scope).await?;
    let notes = db::coaching::for_rep(&state.pool, rep_id, 20).await?;
    let shared = db::metrics::paths_shared(&state.pool, rep_id, scope).await?;
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
        shared,
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
    Path(rep): Path<UserId>,
    Query(filters): Query<Filters>,
) -> AppResult<Response> {
    scorecard(
        &state,
        ctx,
        &viewer,
        rep,
        filters,
        SentBack::Nothing,
        StatusCode::OK,
    )
    .await
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
    Path(rep): Path<UserId>,
    Form(form): Form<GoalForm>,
) -> AppResult<Response> {
    let back = format!("/dashboard/reps/{rep}");
    match service::set_client_goal(&state.pool, &viewer, rep, &form).await {
        Ok(()) => {}
        Err(ServiceError::Invalid(errors)) => {
            return scorecard(
                &state,
                ctx,
                &viewer,
                rep,
                Filters::default(),
                SentBack::Goal(form, errors),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
        Err(e) => return Err(e.into()),
    }
    Ok(redirect_with_flash(
        &back,
        FlashKind::Success,
        "Goal saved.",
    ))
}
