//! The dashboard's writes: a manager's coaching notes and a rep's referral-math goal, each
//! with its transaction and audit row.

use serde_json::json;
use sqlx::PgPool;
use time::Date;

use crate::db;
use crate::db::coaching::NewNote;
use crate::db::follow_ups::NewFollowUp;
use crate::domain::dates::week_start;
use crate::domain::error::{ServiceError, ServiceResult};
use crate::domain::fields::FieldErrors;
use crate::domain::followups::{FollowUpKind, parse_due};
use crate::domain::users::{User, UserId};

/// The referral-math inputs, as typed on a rep's scorecard.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct GoalForm {
    pub annual_client_goal: String,
    pub asks_per_client: String,
}

/// Whether `viewer` coaches `rep`: the rep is in the viewer's subtree, and not the viewer.
/// Anyone else's rep is not found, like every foreign record.
async fn check_coaches(pool: &PgPool, viewer: &User, rep: UserId) -> ServiceResult<()> {
    if rep == viewer.id || !db::users::can_see(pool, viewer.id, rep).await? {
        return Err(ServiceError::NotFound);
    }
    Ok(())
}

/// Sets the annual client goal and asks per client of a rep the viewer manages.
#[tracing::instrument(skip_all)]
pub async fn set_client_goal(
    pool: &PgPool,
    viewer: &User,
    rep: UserId,
    form: &GoalForm,
) -> ServiceResult<()> {
    check_coaches(pool, viewer, rep).await?;
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
        return Err(ServiceError::Invalid(errors));
    };
    let mut tx = pool.begin().await?;
    db::users::set_client_goal(&mut *tx, rep, goal, per_client).await?;
    db::audit::record(
        &mut *tx,
        Some(viewer.id),
        "user",
        rep.0,
        "set_client_goal",
        json!({ "annual_client_goal": goal, "asks_per_client": per_client }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A coaching note as typed.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct CoachingForm {
    pub diagnosis: String,
    pub committed_action: String,
    pub metric: String,
    pub inspect_on: String,
}

/// Checks a coaching note: three short texts, and an inspect-on date from today on.
fn parse_note<'a>(
    manager: &User,
    rep: UserId,
    form: &'a CoachingForm,
    today: Date,
) -> ServiceResult<NewNote<'a>> {
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
    let inspect_on = errors.check("inspect_on", parse_due(&form.inspect_on, today));
    let (Some(inspect_on), true) = (inspect_on, errors.is_empty()) else {
        return Err(ServiceError::Invalid(errors));
    };
    Ok(NewNote {
        manager: manager.id,
        rep,
        week_of: week_start(today),
        diagnosis: form.diagnosis.trim(),
        committed_action: form.committed_action.trim(),
        metric: form.metric.trim(),
        inspect_on,
    })
}

/// Writes a coaching note for a rep the manager coaches: the note, its committed action as a
/// follow-up for the rep due on the inspect-on date, the rep's notification and the audit
/// row, in one transaction.
#[tracing::instrument(skip_all)]
pub async fn add_note(
    pool: &PgPool,
    manager: &User,
    rep: UserId,
    form: &CoachingForm,
) -> ServiceResult<i64> {
    check_coaches(pool, manager, rep).await?;
    let today = db::users::today_in(pool, &manager.time_zone).await?;
    let note = &parse_note(manager, rep, form, today)?;
    let mut tx = pool.begin().await?;
    let note_id = db::coaching::insert(&mut *tx, note).await?;
    let title = format!("Coaching: {}", note.committed_action);
    let follow_up = NewFollowUp {
        owner: note.rep,
        kind: FollowUpKind::Coaching,
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
