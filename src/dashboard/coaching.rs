//! Coaching notes, written from a rep's scorecard.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;
use sqlx::PgPool;

use crate::db;
use crate::db::coaching::NewNote;
use crate::db::follow_ups::NewFollowUp;
use crate::domain::dates::week_start;
use crate::domain::fields::FieldErrors;
use crate::domain::users::{User, UserId};
use crate::state::AppState;
use crate::web::auth::Manager;
use crate::web::{AppError, AppResult, FlashKind, PageContext, redirect_with_flash};

use super::Filters;

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
        return super::scorecard::scorecard(
            &state,
            ctx,
            &viewer,
            id,
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
    add_note(&state.pool, &viewer, &note).await?;
    Ok(redirect_with_flash(
        &format!("/dashboard/reps/{id}"),
        FlashKind::Success,
        "Coaching note saved; the commitment is on the rep's list.",
    ))
}

/// Writes a coaching note, its committed action as a follow-up for the rep due on the
/// inspect-on date, the rep's notification and the audit row, in one transaction.
pub async fn add_note(pool: &PgPool, manager: &User, note: &NewNote<'_>) -> AppResult<i64> {
    let mut tx = pool.begin().await?;
    let note_id = db::coaching::insert(&mut *tx, note).await?;
    let title = format!("Coaching: {}", note.committed_action);
    let follow_up = NewFollowUp {
        owner: note.rep,
        kind: "coaching",
        title: &title,
        ask: None,
        contact: None,
        due_on: note.inspect_on,
        created_by: Some(manager.id),
    };
    let follow_up_id =
        crate::followups::service::add(&mut tx, Some(manager.id), &follow_up).await?;
    db::coaching::link_follow_up(&mut *tx, note_id, follow_up_id).await?;
    let body = format!(
        "{} wrote you a coaching note: {}",
        manager.name, note.committed_action
    );
    db::notifications::insert_coaching(&mut *tx, note.rep, follow_up_id, &body).await?;
    db::audit::record(
        &mut *tx,
        Some(manager.id),
        "coaching_note",
        note_id,
        "create",
        json!({ "rep": note.rep, "inspect_on": note.inspect_on.to_string() }),
    )
    .await?;
    tx.commit().await?;
    Ok(note_id)
}
