//! The follow-up lifecycle, in one place. A follow-up is open, then possibly overdue (its due
//! date passed in its owner's time zone), then possibly escalated to the owner's manager; it
//! leaves those states by being done or postponed. Every change of state goes through the
//! functions here or through the sweeper's statements in `db::follow_ups`, and they keep three
//! rules that the property test checks after every step:
//!
//! - an item is overdue exactly when it is open and due before its owner's local today (as of
//!   the latest sweep: time only moves on when the sweeper looks);
//! - an item is escalated only while it is overdue, so whatever ends the overdue state (done,
//!   postpone, an event that satisfies it) ends the escalation in the same statement;
//! - a new or postponed item is never due before its owner's today, so no write can create an
//!   overdue item behind the sweeper's back.

use serde_json::json;
use sqlx::{PgConnection, PgPool};
use time::Date;

use crate::db;
use crate::db::follow_ups::NewFollowUp;
use crate::domain::asks::AskId;
use crate::domain::followups::{FollowUpId, FollowUpKind};
use crate::domain::users::UserId;

/// The longest title a follow-up keeps.
pub const TITLE_MAX_CHARS: usize = 300;

/// Creates a follow-up with its audit row. The caller has checked the due date with
/// [`check_due`](crate::domain::followups::check_due); a title made from long names is shortened to [`TITLE_MAX_CHARS`].
#[tracing::instrument(skip_all)]
pub async fn add(
    db: &mut PgConnection,
    actor: Option<UserId>,
    new: &NewFollowUp<'_>,
) -> sqlx::Result<FollowUpId> {
    let title = shorten(new.title, TITLE_MAX_CHARS);
    let new = &NewFollowUp {
        title: &title,
        ..*new
    };
    let id = db::follow_ups::insert(&mut *db, new).await?;
    let changes = json!({ "kind": new.kind.as_str(), "title": new.title, "ask": new.ask,
                          "contact": new.contact, "due_on": new.due_on.to_string() });
    db::audit::record(&mut *db, actor, "follow_up", id.0, "create", changes).await?;
    Ok(id)
}

/// Marks one of the owner's open follow-ups done, ending its overdue and escalated state;
/// false when there is no such open follow-up.
#[tracing::instrument(skip_all)]
pub async fn complete(db: &mut PgConnection, owner: UserId, id: FollowUpId) -> sqlx::Result<bool> {
    let done = db::follow_ups::mark_done(&mut *db, owner, id).await?;
    if done {
        db::audit::record(&mut *db, Some(owner), "follow_up", id.0, "done", json!({})).await?;
        // Thanking or updating the source is one fact, whether ticked on the ask or done as
        // its follow-up: the follow-up records it on the ask (which the event form does the
        // other way round, through `complete_for_ask`).
        if let Some(event) = db::follow_ups::record_source_event(&mut *db, owner, id).await? {
            let changes = json!({ "from_follow_up": id });
            db::audit::record(&mut *db, Some(owner), "ask_event", event, "create", changes).await?;
        }
    }
    Ok(done)
}

/// Marks an ask's open follow-ups of these kinds done: an event satisfied them.
#[tracing::instrument(skip_all)]
pub async fn complete_for_ask(
    db: &mut PgConnection,
    ask: AskId,
    kinds: &[FollowUpKind],
) -> sqlx::Result<u64> {
    db::follow_ups::complete_for_ask(db, ask, kinds).await
}

/// Moves one of the owner's open follow-ups from `from` to `to` (already checked with
/// [`postponed_date`](crate::domain::followups::postponed_date)); false when there is no such open follow-up.
#[tracing::instrument(skip_all)]
pub async fn postpone(
    db: &mut PgConnection,
    owner: UserId,
    id: FollowUpId,
    from: Date,
    to: Date,
) -> sqlx::Result<bool> {
    let moved = db::follow_ups::postpone(&mut *db, owner, id, to).await?;
    if moved {
        let changes = json!({ "due_on": [from.to_string(), to.to_string()] });
        db::audit::record(
            &mut *db,
            Some(owner),
            "follow_up",
            id.0,
            "postpone",
            changes,
        )
        .await?;
    }
    Ok(moved)
}

/// [`add`] in a transaction of its own.
#[tracing::instrument(skip_all)]
pub async fn add_one(
    pool: &PgPool,
    actor: Option<UserId>,
    new: &NewFollowUp<'_>,
) -> sqlx::Result<FollowUpId> {
    let mut tx = pool.begin().await?;
    let id = add(&mut tx, actor, new).await?;
    tx.commit().await?;
    Ok(id)
}

/// [`complete`] in a transaction of its own.
#[tracing::instrument(skip_all)]
pub async fn complete_one(pool: &PgPool, owner: UserId, id: FollowUpId) -> sqlx::Result<bool> {
    let mut tx = pool.begin().await?;
    let done = complete(&mut tx, owner, id).await?;
    tx.commit().await?;
    Ok(done)
}

/// Marks every one of `ids` done in one transaction, or none of them when one is not an
/// open or done follow-up of the owner's: false then.
#[tracing::instrument(skip_all)]
pub async fn complete_all(pool: &PgPool, owner: UserId, ids: &[FollowUpId]) -> sqlx::Result<bool> {
    let mut tx = pool.begin().await?;
    for &id in ids {
        if db::follow_ups::find_own(&mut *tx, owner, id)
            .await?
            .is_none()
        {
            return Ok(false);
        }
        complete(&mut tx, owner, id).await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// [`postpone`] in a transaction of its own.
#[tracing::instrument(skip_all)]
pub async fn postpone_one(
    pool: &PgPool,
    owner: UserId,
    id: FollowUpId,
    from: Date,
    to: Date,
) -> sqlx::Result<bool> {
    let mut tx = pool.begin().await?;
    let moved = postpone(&mut tx, owner, id, from, to).await?;
    tx.commit().await?;
    Ok(moved)
}

/// `text` trimmed, and cut to `max` characters with an ellipsis when longer.
fn shorten(text: &str, max: usize) -> String {
    let text = text.trim();
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max - 1).collect();
    cut.truncate(cut.trim_end().len());
    cut.push('…');
    cut
}
