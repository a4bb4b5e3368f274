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
use crate::db::follow_ups::{FollowUp, NewFollowUp};
use crate::domain::asks::AskId;
use crate::domain::contacts::ContactId;
use crate::domain::dates::parse_date;
use crate::domain::error::{ServiceError, ServiceResult};
use crate::domain::fields::FieldErrors;
use crate::domain::followups::{FollowUpId, FollowUpKind};
use crate::domain::followups::{Postpone, parse_due, postponed_date};
use crate::domain::users::User;
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
    let (title, changes) = prepared(new);
    let new = &NewFollowUp {
        title: &title,
        ..*new
    };
    let id = db::follow_ups::insert(&mut *db, new).await?;
    db::audit::record(&mut *db, actor, "follow_up", id.0, "create", changes).await?;
    Ok(id)
}

/// A new follow-up as it is written: its title shortened to [`TITLE_MAX_CHARS`], and the
/// changes its audit row records.
pub fn prepared(new: &NewFollowUp<'_>) -> (String, serde_json::Value) {
    let title = shorten(new.title, TITLE_MAX_CHARS);
    let changes = json!({ "kind": new.kind.as_str(), "title": title, "ask": new.ask,
                          "contact": new.contact, "due_on": new.due_on.to_string() });
    (title, changes)
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

/// A follow-up typed by hand (on the follow-ups page or sent to the API): every field as text.
#[derive(Debug, Clone, Copy, Default)]
pub struct HandInput<'a> {
    pub title: &'a str,
    pub due_on: &'a str,
    /// `promise` (the default) or `other`.
    pub kind: &'a str,
    /// One of the user's asks, or empty.
    pub ask_id: &'a str,
    /// One of the user's contacts, or empty (then the ask's source, if an ask is given).
    pub contact_id: &'a str,
}

/// Creates a follow-up by hand: a promise ("send the case study by Friday") or anything else
/// the user owes, optionally tied to one of their asks or contacts. Another user's ask or
/// contact is not found.
#[tracing::instrument(skip_all)]
pub async fn create_by_hand(
    pool: &PgPool,
    user: &User,
    input: &HandInput<'_>,
) -> ServiceResult<FollowUpId> {
    let today = db::users::today_in(pool, &user.time_zone).await?;
    let mut errors = FieldErrors::default();
    let title = input.title.trim();
    match title.chars().count() {
        0 => errors.add("title", "What do you owe? e.g. “Send Dana the case study”."),
        1..=TITLE_MAX_CHARS => {}
        _ => errors.add("title", "Keep it under 300 characters."),
    }
    let due_on = errors.check("due_on", parse_due(input.due_on, today));
    let kind = match FollowUpKind::parse(input.kind.trim()) {
        None if input.kind.trim().is_empty() => FollowUpKind::Promise,
        Some(kind @ (FollowUpKind::Promise | FollowUpKind::Other)) => kind,
        _ => {
            errors.add("kind", "Choose promise or other.");
            FollowUpKind::Other
        }
    };
    // An id that is not a number is no id (a page sends an empty field).
    let ask = match input.ask_id.trim().parse() {
        Err(_) => None,
        Ok(id) => Some(
            db::asks::find_visible(pool, user.id, AskId(id))
                .await?
                .filter(|a| a.rep_id == user.id)
                .ok_or(ServiceError::NotFound)?,
        ),
    };
    let contact = match input.contact_id.trim().parse() {
        Err(_) => None,
        Ok(id) => Some(
            db::contacts::own_choice(pool, user.id, ContactId(id))
                .await?
                .ok_or(ServiceError::NotFound)?
                .contact_id,
        ),
    };
    let Some(due_on) = due_on.filter(|_| errors.is_empty()) else {
        return Err(ServiceError::Invalid(errors));
    };
    let new = NewFollowUp {
        owner: user.id,
        kind,
        title,
        ask: ask.as_ref().map(|a| a.ask_id),
        contact: contact.or(ask.as_ref().map(|a| a.source_contact_id)),
        due_on,
        created_by: Some(user.id),
    };
    Ok(add_one(pool, Some(user.id), &new).await?)
}

/// Marks one of the user's follow-ups done (again is fine) and returns it as it was.
#[tracing::instrument(skip_all)]
pub async fn mark_done(pool: &PgPool, user: &User, id: FollowUpId) -> ServiceResult<FollowUp> {
    let follow_up = db::follow_ups::find_own(pool, user.id, id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    complete_one(pool, user.id, id).await?;
    Ok(follow_up)
}

/// Postpones one of the user's open follow-ups by a day (`by` = `day`), a week (`week`) or to
/// the date `to`, and returns it with the date it moved to. A refused date is invalid (field
/// `to`, the reason as its message); one already done is a conflict.
#[tracing::instrument(skip_all)]
pub async fn postpone_by(
    pool: &PgPool,
    user: &User,
    id: FollowUpId,
    by: &str,
    to: &str,
) -> ServiceResult<(FollowUp, Date)> {
    let follow_up = db::follow_ups::find_own(pool, user.id, id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let today = db::users::today_in(pool, &user.time_zone).await?;
    let by = match by.trim() {
        "day" => Ok(Postpone::Day),
        "week" => Ok(Postpone::Week),
        _ => parse_date(to).map(Postpone::To),
    };
    let due_on = by
        .and_then(|by| postponed_date(follow_up.due_on, by, today))
        .map_err(|why| ServiceError::field("to", why))?;
    if !postpone_one(pool, user.id, id, follow_up.due_on, due_on).await? {
        return Err(ServiceError::Conflict("That one is already done.".into()));
    }
    Ok((follow_up, due_on))
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
