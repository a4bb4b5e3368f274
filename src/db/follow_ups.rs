//! Follow-ups: everything a rep owes, open or done.

use sqlx::{PgExecutor, Postgres, Transaction};
use time::{Date, OffsetDateTime};

use crate::accounts::model::UserId;
use crate::asks::model::AskId;
use crate::contacts::model::ContactId;

/// A follow-up with the names its list shows.
#[derive(Debug, Clone)]
pub struct FollowUp {
    pub follow_up_id: i64,
    pub owner_id: UserId,
    pub kind: String,
    pub title: String,
    pub ask_id: Option<AskId>,
    pub contact_id: Option<ContactId>,
    pub contact_name: Option<String>,
    pub due_on: Date,
    pub done_at: Option<OffsetDateTime>,
    pub overdue_since: Option<OffsetDateTime>,
}

/// What creating a follow-up needs.
#[derive(Debug)]
pub struct NewFollowUp<'a> {
    pub owner: UserId,
    pub kind: &'a str,
    pub title: &'a str,
    pub ask: Option<AskId>,
    pub contact: Option<ContactId>,
    pub due_on: Date,
    pub created_by: Option<UserId>,
}

/// Creates a follow-up.
pub async fn insert(db: impl PgExecutor<'_>, new: &NewFollowUp<'_>) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        "insert into follow_ups (owner_id, kind, title, ask_id, contact_id, due_on, created_by)
         values ($1, $2, $3, $4, $5, $6, $7) returning follow_up_id",
        new.owner as UserId,
        new.kind,
        new.title,
        new.ask as Option<AskId>,
        new.contact as Option<ContactId>,
        new.due_on,
        new.created_by as Option<UserId>
    )
    .fetch_one(db)
    .await
}

/// An owner's open follow-ups, soonest first.
pub async fn open_for(db: impl PgExecutor<'_>, owner: UserId) -> sqlx::Result<Vec<FollowUp>> {
    sqlx::query_as!(
        FollowUp,
        r#"select f.follow_up_id, f.owner_id as "owner_id: UserId", f.kind, f.title,
                  f.ask_id as "ask_id: AskId", f.contact_id as "contact_id: ContactId",
                  c.name as "contact_name?", f.due_on, f.done_at, f.overdue_since
           from follow_ups f left join contacts c on c.contact_id = f.contact_id
           where f.owner_id = $1 and f.done_at is null
           order by f.due_on, f.follow_up_id"#,
        owner as UserId
    )
    .fetch_all(db)
    .await
}

/// An owner's follow-ups done most recently.
pub async fn recently_done(
    db: impl PgExecutor<'_>,
    owner: UserId,
    limit: i64,
) -> sqlx::Result<Vec<FollowUp>> {
    sqlx::query_as!(
        FollowUp,
        r#"select f.follow_up_id, f.owner_id as "owner_id: UserId", f.kind, f.title,
                  f.ask_id as "ask_id: AskId", f.contact_id as "contact_id: ContactId",
                  c.name as "contact_name?", f.due_on, f.done_at, f.overdue_since
           from follow_ups f left join contacts c on c.contact_id = f.contact_id
           where f.owner_id = $1 and f.done_at is not null
           order by f.done_at desc limit $2"#,
        owner as UserId,
        limit
    )
    .fetch_all(db)
    .await
}

/// An ask's follow-ups, open first.
pub async fn of_ask(db: impl PgExecutor<'_>, ask: AskId) -> sqlx::Result<Vec<FollowUp>> {
    sqlx::query_as!(
        FollowUp,
        r#"select f.follow_up_id, f.owner_id as "owner_id: UserId", f.kind, f.title,
                  f.ask_id as "ask_id: AskId", f.contact_id as "contact_id: ContactId",
                  c.name as "contact_name?", f.due_on, f.done_at, f.overdue_since
           from follow_ups f left join contacts c on c.contact_id = f.contact_id
           where f.ask_id = $1
           order by f.done_at is not null, f.due_on, f.follow_up_id"#,
        ask as AskId
    )
    .fetch_all(db)
    .await
}

/// Marks an ask's open follow-ups of these kinds done (an event satisfied them); their
/// overdue flag goes with it. Returns how many.
pub async fn complete_for_ask(
    tx: &mut Transaction<'_, Postgres>,
    ask: AskId,
    kinds: &[&str],
) -> sqlx::Result<u64> {
    let kinds: Vec<String> = kinds.iter().map(|k| k.to_string()).collect();
    let done = sqlx::query!(
        "update follow_ups set done_at = now(), overdue_since = null
         where ask_id = $1 and done_at is null and kind = any($2)",
        ask as AskId,
        &kinds
    )
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected())
}

/// Marks one of the owner's follow-ups done; false when there is no such open follow-up.
pub async fn mark_done(db: impl PgExecutor<'_>, owner: UserId, id: i64) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "update follow_ups set done_at = now(), overdue_since = null
         where follow_up_id = $1 and owner_id = $2 and done_at is null",
        id,
        owner as UserId
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Moves one of the owner's open follow-ups to a new date; it is no longer overdue (nor
/// escalated) unless the new date passes too.
pub async fn postpone(
    db: impl PgExecutor<'_>,
    owner: UserId,
    id: i64,
    due_on: Date,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "update follow_ups set due_on = $3, overdue_since = null, escalated_at = null
         where follow_up_id = $1 and owner_id = $2 and done_at is null",
        id,
        owner as UserId,
        due_on
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// One of the owner's follow-ups.
pub async fn find_own(
    db: impl PgExecutor<'_>,
    owner: UserId,
    id: i64,
) -> sqlx::Result<Option<FollowUp>> {
    sqlx::query_as!(
        FollowUp,
        r#"select f.follow_up_id, f.owner_id as "owner_id: UserId", f.kind, f.title,
                  f.ask_id as "ask_id: AskId", f.contact_id as "contact_id: ContactId",
                  c.name as "contact_name?", f.due_on, f.done_at, f.overdue_since
           from follow_ups f left join contacts c on c.contact_id = f.contact_id
           where f.follow_up_id = $1 and f.owner_id = $2"#,
        id,
        owner as UserId
    )
    .fetch_optional(db)
    .await
}
