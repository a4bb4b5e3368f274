//! The dashboard's writes: a manager's coaching notes and a rep's referral-math goal, each
//! with its transaction and audit row.

use serde_json::json;
use sqlx::PgPool;

use crate::db;
use crate::db::coaching::NewNote;
use crate::db::follow_ups::NewFollowUp;
use crate::domain::error::{ServiceError, ServiceResult};
use crate::domain::fields::FieldErrors;
use crate::domain::followups::FollowUpKind;
use crate::domain::users::{User, UserId};

/// The referral-math inputs, as typed on a rep's scorecard.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct GoalForm {
    pub annual_client_goal: String,
    pub asks_per_client: String,
}

/// Sets a rep's annual client goal and asks per client. The caller has checked that the
/// viewer manages the rep.
#[tracing::instrument(skip_all)]
pub async fn set_client_goal(
    pool: &PgPool,
    viewer: &User,
    rep: UserId,
    form: &GoalForm,
) -> ServiceResult<()> {
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

/// Writes a coaching note, its committed action as a follow-up for the rep due on the
/// inspect-on date, the rep's notification and the audit row, in one transaction.
#[tracing::instrument(skip_all)]
pub async fn add_note(pool: &PgPool, manager: &User, note: &NewNote<'_>) -> ServiceResult<i64> {
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
