//! Coaching notes: a manager's diagnosis and one committed action for a rep.

use sqlx::PgExecutor;
use time::{Date, OffsetDateTime};

use crate::domain::followups::FollowUpId;
use crate::domain::users::UserId;

/// A coaching note with its author's name.
#[derive(Debug, Clone)]
pub struct Note {
    pub coaching_note_id: i64,
    pub manager_name: String,
    pub week_of: Date,
    pub diagnosis: String,
    pub committed_action: String,
    pub metric: String,
    pub inspect_on: Date,
    pub created_at: OffsetDateTime,
}

/// What writing a note needs.
#[derive(Debug)]
pub struct NewNote<'a> {
    pub manager: UserId,
    pub rep: UserId,
    pub week_of: Date,
    pub diagnosis: &'a str,
    pub committed_action: &'a str,
    pub metric: &'a str,
    pub inspect_on: Date,
}

/// Stores a note; returns its id.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert(db: impl PgExecutor<'_>, n: &NewNote<'_>) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        "insert into coaching_notes (manager_id, rep_id, week_of, diagnosis, committed_action, metric, inspect_on)
         values ($1, $2, $3, $4, $5, $6, $7) returning coaching_note_id",
        n.manager as UserId,
        n.rep as UserId,
        n.week_of,
        n.diagnosis,
        n.committed_action,
        n.metric,
        n.inspect_on
    )
    .fetch_one(db)
    .await
}

/// Marks a follow-up as the one a note's committed action became.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn link_follow_up(
    db: impl PgExecutor<'_>,
    note: i64,
    follow_up: FollowUpId,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update follow_ups set coaching_note_id = $2 where follow_up_id = $1",
        follow_up as FollowUpId,
        note
    )
    .execute(db)
    .await?;
    Ok(())
}

/// A rep's notes, newest first.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn for_rep(db: impl PgExecutor<'_>, rep: UserId, limit: i64) -> sqlx::Result<Vec<Note>> {
    sqlx::query_as!(
        Note,
        "select n.coaching_note_id, m.name as manager_name, n.week_of, n.diagnosis, n.committed_action,
                n.metric, n.inspect_on, n.created_at
         from coaching_notes n join users m on m.user_id = n.manager_id
         where n.rep_id = $1 order by n.created_at desc, n.coaching_note_id desc limit $2",
        rep as UserId,
        limit
    )
    .fetch_all(db)
    .await
}
