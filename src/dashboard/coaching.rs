//! Coaching notes, written from a rep's scorecard.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use crate::db;
use crate::db::coaching::NewNote;
use crate::domain::dates::week_start;
use crate::domain::fields::FieldErrors;
use crate::domain::users::UserId;
use crate::state::AppState;
use crate::web::auth::Manager;
use crate::web::{AppError, AppResult, FlashKind, PageContext, redirect_with_flash};

use super::{Filters, service};

/// A coaching note as typed.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CoachingForm {
    pub diagnosis: String,
    pub committed_action: String,
    pub metric: String,
    pub inspect_on: String,
}

/// Writes a coaching note; its committed action becomes a follow-up for the rep, due on the
/// inspect-on date, and the rep is notified.
pub(super) async fn create_coaching_note(
    State(state): State<AppState>,
    Manager(viewer): Manager,
    ctx: PageContext,
    Path(rep): Path<UserId>,
    Form(form): Form<CoachingForm>,
) -> AppResult<Response> {
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
        return super::scorecard::scorecard(
            &state,
            ctx,
            &viewer,
            rep,
            Filters::default(),
            super::scorecard::SentBack::Coaching(form, errors),
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
    service::add_note(&state.pool, &viewer, &note).await?;
    Ok(redirect_with_flash(
        &format!("/dashboard/reps/{rep}"),
        FlashKind::Success,
        "Coaching note saved; the commitment is on the rep's list.",
    ))
}
