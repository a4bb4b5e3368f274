//! Follow-ups: everything a rep owes, open or done.

use sqlx::PgExecutor;
use time::{Date, OffsetDateTime};

use crate::domain::asks::AskId;
use crate::domain::contacts::ContactId;
use crate::domain::followups::{FollowUpId, FollowUpKind};
use crate::domain::users::UserId;

/// A follow-up with the names its list shows.
#[derive(Debug, Clone)]
pub struct FollowUp {
    pub follow_up_id: FollowUpId,
    pub owner_id: UserId,
    pub kind: FollowUpKind,
    pub title: String,
    pub ask_id: Option<AskId>,
    pub contact_id: Option<ContactId>,
    pub contact_name: Option<String>,
    pub due_on: Date,
    pub done_at: Option<OffsetDateTime>,
    pub overdue_since: Option<OffsetDateTime>,
}

/// What creating a follow-up needs.
#[derive(Debug, Clone, Copy)]
pub struct NewFollowUp<'a> {
    pub owner: UserId,
    pub kind: FollowUpKind,
    pub title: &'a str,
    pub ask: Option<AskId>,
    pub contact: Option<ContactId>,
    pub due_on: Date,
    pub created_by: Option<UserId>,
}

/// Creates a follow-up.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert(db: impl PgExecutor<'_>, new: &NewFollowUp<'_>) -> sqlx::Result<FollowUpId> {
    sqlx::query_scalar!(
        r#"insert into follow_ups (owner_id, kind, title, ask_id, contact_id, due_on, created_by)
           values ($1, $2, $3, $4, $5, $6, $7) returning follow_up_id as "follow_up_id: FollowUpId""#,
        new.owner as UserId,
        new.kind as FollowUpKind,
        new.title,
        new.ask as Option<AskId>,
        new.contact as Option<ContactId>,
        new.due_on,
        new.created_by as Option<UserId>
    )
    .fetch_one(db)
    .await
}

/// How many open follow-ups an owner has in each group of their list, around `today`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpenCounts {
    pub overdue: i64,
    pub today: i64,
    pub this_week: i64,
    pub later: i64,
}

impl OpenCounts {
    /// All open follow-ups.
    pub fn total(&self) -> i64 {
        self.overdue + self.today + self.this_week + self.later
    }
}

/// Counts an owner's open follow-ups by group: one pass over the owner's open-follow-up
/// index, so a rep with thousands open costs one index scan, not thousands of rows sent.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn open_counts(
    db: impl PgExecutor<'_>,
    owner: UserId,
    today: Date,
) -> sqlx::Result<OpenCounts> {
    sqlx::query_as!(
        OpenCounts,
        r#"select count(*) filter (where due_on < $2) as "overdue!",
                  count(*) filter (where due_on = $2) as "today!",
                  count(*) filter (where due_on > $2 and due_on <= $2 + 6) as "this_week!",
                  count(*) filter (where due_on > $2 + 6) as "later!"
           from follow_ups where owner_id = $1 and done_at is null"#,
        owner as UserId,
        today
    )
    .fetch_one(db)
    .await
}

/// Which of an owner's follow-ups a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Not done yet (overdue ones included).
    Open,
    /// Not done, and past due as of the latest sweep.
    Overdue,
    /// Done.
    Done,
}

impl Status {
    /// Parses `open`, `overdue` or `done`.
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "open" => Some(Self::Open),
            "overdue" => Some(Self::Overdue),
            "done" => Some(Self::Done),
            _ => None,
        }
    }
}

/// A page of an owner's follow-ups of one status, by due date (then id), after `after`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn page_for(
    db: impl PgExecutor<'_>,
    owner: UserId,
    status: Status,
    after: Option<(Date, FollowUpId)>,
    limit: i64,
) -> sqlx::Result<Vec<FollowUp>> {
    let (after_due, after_id) = after.unzip();
    sqlx::query_as!(
        FollowUp,
        r#"select f.follow_up_id as "follow_up_id: FollowUpId", f.owner_id as "owner_id: UserId", f.kind as "kind: FollowUpKind", f.title,
                  f.ask_id as "ask_id: AskId", f.contact_id as "contact_id: ContactId",
                  c.name as "contact_name?", f.due_on, f.done_at, f.overdue_since
           from follow_ups f left join contacts c on c.contact_id = f.contact_id
           where f.owner_id = $1
             and (f.done_at is not null) = $2
             and ($3 = false or f.overdue_since is not null)
             and ($4::date is null or (f.due_on, f.follow_up_id) > ($4, $5))
           order by f.due_on, f.follow_up_id
           limit $6"#,
        owner as UserId,
        status == Status::Done,
        status == Status::Overdue,
        after_due,
        after_id.map(|id| id.0),
        limit
    )
    .fetch_all(db)
    .await
}

/// An owner's follow-ups done most recently.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn recently_done(
    db: impl PgExecutor<'_>,
    owner: UserId,
    limit: i64,
) -> sqlx::Result<Vec<FollowUp>> {
    sqlx::query_as!(
        FollowUp,
        r#"select f.follow_up_id as "follow_up_id: FollowUpId", f.owner_id as "owner_id: UserId", f.kind as "kind: FollowUpKind", f.title,
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
#[tracing::instrument(level = "debug", skip_all)]
pub async fn of_ask(db: impl PgExecutor<'_>, ask: AskId) -> sqlx::Result<Vec<FollowUp>> {
    sqlx::query_as!(
        FollowUp,
        r#"select f.follow_up_id as "follow_up_id: FollowUpId", f.owner_id as "owner_id: UserId", f.kind as "kind: FollowUpKind", f.title,
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
/// overdue and escalated flags go with it. Returns how many.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn complete_for_ask(
    db: impl PgExecutor<'_>,
    ask: AskId,
    kinds: &[FollowUpKind],
) -> sqlx::Result<u64> {
    let kinds: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    let done = sqlx::query!(
        "update follow_ups set done_at = now(), overdue_since = null, escalated_at = null
         where ask_id = $1 and done_at is null and kind = any($2)",
        ask as AskId,
        &kinds as &[&str]
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// Marks one of the owner's follow-ups done, no longer overdue nor escalated; false when there
/// is no such open follow-up.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn mark_done(
    db: impl PgExecutor<'_>,
    owner: UserId,
    id: FollowUpId,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "update follow_ups set done_at = now(), overdue_since = null, escalated_at = null
         where follow_up_id = $1 and owner_id = $2 and done_at is null",
        id as FollowUpId,
        owner as UserId
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// For a done follow-up that thanked or updated an ask's source: records that fact as the
/// ask's event (`source_thanked`, or `source_updated` for an update or an outcome report),
/// dated the owner's today, unless the ask already has that event since the follow-up was
/// made. Returns the new event's id.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn record_source_event(
    db: impl PgExecutor<'_>,
    owner: UserId,
    id: FollowUpId,
) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar!(
        r#"insert into ask_events (ask_id, kind, actor_id, occurred_on, note)
           select f.ask_id, e.kind, f.owner_id, (now() at time zone u.time_zone)::date,
                  'Done from the follow-up: ' || f.title
           from follow_ups f
           join users u on u.user_id = f.owner_id
           cross join lateral (select case f.kind when 'thank_source' then 'source_thanked'
                                                  else 'source_updated' end as kind) e
           where f.follow_up_id = $1 and f.owner_id = $2 and f.ask_id is not null
             and f.kind in ('thank_source', 'update_source', 'report_outcome')
             and not exists (select 1 from ask_events x
                             where x.ask_id = f.ask_id and x.kind = e.kind
                               and x.created_at >= f.created_at)
           returning event_id"#,
        id as FollowUpId,
        owner as UserId
    )
    .fetch_optional(db)
    .await
}

/// Moves one of the owner's open follow-ups to a new date; it is no longer overdue (nor
/// escalated) unless the new date passes too.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn postpone(
    db: impl PgExecutor<'_>,
    owner: UserId,
    id: FollowUpId,
    due_on: Date,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "update follow_ups set due_on = $3, overdue_since = null, escalated_at = null
         where follow_up_id = $1 and owner_id = $2 and done_at is null",
        id as FollowUpId,
        owner as UserId,
        due_on
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// One of the owner's follow-ups.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn find_own(
    db: impl PgExecutor<'_>,
    owner: UserId,
    id: FollowUpId,
) -> sqlx::Result<Option<FollowUp>> {
    sqlx::query_as!(
        FollowUp,
        r#"select f.follow_up_id as "follow_up_id: FollowUpId", f.owner_id as "owner_id: UserId", f.kind as "kind: FollowUpKind", f.title,
                  f.ask_id as "ask_id: AskId", f.contact_id as "contact_id: ContactId",
                  c.name as "contact_name?", f.due_on, f.done_at, f.overdue_since
           from follow_ups f left join contacts c on c.contact_id = f.contact_id
           where f.follow_up_id = $1 and f.owner_id = $2"#,
        id as FollowUpId,
        owner as UserId
    )
    .fetch_optional(db)
    .await
}

/// What one batch of a sweep pass changed, and where the next batch starts.
#[derive(Debug, Clone, Copy)]
pub struct BatchCounts<C> {
    /// Rows changed.
    pub rows: i64,
    /// Notifications written.
    pub notified: i64,
    /// Rows the batch looked at: fewer than the batch size means the pass is complete.
    pub seen: i64,
    /// The last row looked at, for the next batch to start after.
    pub cursor: Option<C>,
}

/// The keyset position of the flagging pass: due date and row id.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SweepCursor {
    pub key: Date,
    pub id: i64,
}

/// The keyset position of the escalation pass.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EscalationCursor {
    pub key: OffsetDateTime,
    pub id: i64,
}

/// Flags open follow-ups whose due date has passed in the owner's time zone, as overdue since
/// the owner's midnight after the due date, and notifies each owner once. Looks at up to
/// `batch` unflagged follow-ups after `after` in due-date order; rows another sweep holds are
/// skipped, so concurrent sweeps flag each row once.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn flag_overdue(
    db: impl PgExecutor<'_>,
    now: OffsetDateTime,
    after: Option<SweepCursor>,
    batch: i64,
) -> sqlx::Result<BatchCounts<SweepCursor>> {
    // Kiritimati (UTC+14) is the first place a date passes: a bound the partial index on
    // unflagged due dates can use. The batch is read from that index alone first
    // (materialized), then the owner's own zone decides.
    let row = sqlx::query!(
        r#"with due as materialized (
               select follow_up_id, owner_id, due_on from follow_ups
               where done_at is null and overdue_since is null
                 and due_on < ($1::timestamptz at time zone 'Pacific/Kiritimati')::date
                 and (due_on, follow_up_id) > ($2::date, $3::int8)
               order by due_on, follow_up_id
               limit $4
           ), candidates as (
               select f.follow_up_id, ((f.due_on + 1)::timestamp at time zone u.time_zone) as overdue_at
               from due d
               join follow_ups f on f.follow_up_id = d.follow_up_id
               join users u on u.user_id = d.owner_id
               where d.due_on < ($1::timestamptz at time zone u.time_zone)::date
                 and u.deactivated_at is null
                 and f.done_at is null and f.overdue_since is null
               for update of f skip locked
           ), flagged as (
               update follow_ups f set overdue_since = c.overdue_at
               from candidates c where f.follow_up_id = c.follow_up_id
               returning f.follow_up_id, f.owner_id, f.title
           ), notified as (
               insert into notifications (user_id, follow_up_id, kind, body)
               select owner_id, follow_up_id, 'overdue', left('Overdue: ' || title, 2000) from flagged
               on conflict (user_id, follow_up_id, kind) where follow_up_id is not null do nothing
               returning 1
           ), last as (
               select due_on, follow_up_id from due order by due_on desc, follow_up_id desc limit 1
           )
           select (select count(*) from flagged) as "rows!", (select count(*) from notified) as "notified!",
                  (select count(*) from due) as "seen!",
                  (select due_on from last) as last_key, (select follow_up_id from last) as last_id"#,
        now,
        after.map_or(time::macros::date!(0001 - 01 - 01), |c| c.key),
        after.map_or(0, |c| c.id),
        batch
    )
    .fetch_one(db)
    .await?;
    let cursor = row
        .last_key
        .zip(row.last_id)
        .map(|(key, id)| SweepCursor { key, id });
    Ok(BatchCounts {
        rows: row.rows,
        notified: row.notified,
        seen: row.seen,
        cursor,
    })
}

/// Clears the overdue flag (and escalation) of up to `batch` follow-ups that are done or whose
/// due date has moved to today or later in the owner's time zone.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn clear_stale_flags(
    db: impl PgExecutor<'_>,
    now: OffsetDateTime,
    batch: i64,
) -> sqlx::Result<i64> {
    // Baker Island (UTC-12) is the last place a date begins: a postponed follow-up is due on
    // or after its date there.
    sqlx::query_scalar!(
        r#"with stale as materialized (
               select follow_up_id, owner_id, due_on, true as done from follow_ups
               where overdue_since is not null and done_at is not null
               union all
               select follow_up_id, owner_id, due_on, false from follow_ups
               where overdue_since is not null and done_at is null
                 and due_on >= ($1::timestamptz at time zone 'Etc/GMT+12')::date
           ), candidates as (
               select f.follow_up_id
               from stale s
               join follow_ups f on f.follow_up_id = s.follow_up_id
               join users u on u.user_id = s.owner_id
               where f.overdue_since is not null
                 and (s.done or s.due_on >= ($1::timestamptz at time zone u.time_zone)::date)
               limit $2
               for update of f skip locked
           ), cleared as (
               update follow_ups f set overdue_since = null, escalated_at = null
               from candidates c where f.follow_up_id = c.follow_up_id
               returning 1
           )
           select count(*) as "n!" from cleared"#,
        now,
        batch
    )
    .fetch_one(db)
    .await
}

/// Escalates follow-ups overdue for longer than `delay_secs` to the owner's (active) manager.
/// The manager hears of it as one notification per rep per day (the manager's local day),
/// naming that rep's open escalated items: written by the first escalation of the day, and
/// rewritten (and marked unread again) by each later one. Looks at up to `batch` unescalated
/// overdue follow-ups after `after`, oldest overdue first.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn escalate(
    db: impl PgExecutor<'_>,
    now: OffsetDateTime,
    delay_secs: f64,
    after: Option<EscalationCursor>,
    batch: i64,
) -> sqlx::Result<BatchCounts<EscalationCursor>> {
    // The summary lists the rows escalated now (the statement's own update) together with the
    // rep's items escalated before and still open, which the statement's snapshot shows.
    let row = sqlx::query!(
        r#"with late as materialized (
               select follow_up_id, owner_id, overdue_since from follow_ups
               where done_at is null and overdue_since is not null and escalated_at is null
                 and overdue_since <= $1::timestamptz - make_interval(secs => $2)
                 and (overdue_since, follow_up_id) > ($3::timestamptz, $4::int8)
               order by overdue_since, follow_up_id
               limit $5
           ), candidates as (
               select f.follow_up_id, u.manager_id, u.name as owner_name
               from late l
               join follow_ups f on f.follow_up_id = l.follow_up_id
               join users u on u.user_id = l.owner_id
               join users m on m.user_id = u.manager_id
               where m.deactivated_at is null and f.escalated_at is null and f.done_at is null
               for update of f skip locked
           ), escalated as (
               update follow_ups f set escalated_at = $1
               from candidates c where f.follow_up_id = c.follow_up_id
               returning f.follow_up_id, f.owner_id, c.manager_id, c.owner_name, f.title, f.due_on
           ), reps as (
               select distinct manager_id, owner_id, owner_name from escalated
           ), items as (
               select r.manager_id, r.owner_id, r.owner_name, i.title, i.due_on
               from reps r
               cross join lateral (
                   select e.title, e.due_on from escalated e where e.owner_id = r.owner_id
                   union all
                   select f.title, f.due_on from follow_ups f
                   where f.owner_id = r.owner_id and f.done_at is null and f.escalated_at is not null
               ) i
           ), notified as (
               insert into notifications (user_id, about_user_id, on_date, kind, body)
               select i.manager_id, i.owner_id, ($1::timestamptz at time zone m.time_zone)::date, 'escalated',
                      left(i.owner_name || ' has ' || count(*)
                           || case when count(*) = 1 then ' follow-up' else ' follow-ups' end
                           || ' overdue too long: '
                           || array_to_string((array_agg(i.title order by i.due_on, i.title))[1:5], '; ')
                           || case when count(*) > 5 then '; and ' || (count(*) - 5) || ' more' else '' end,
                           2000)
               from items i join users m on m.user_id = i.manager_id
               group by i.manager_id, i.owner_id, i.owner_name, m.time_zone
               on conflict (user_id, about_user_id, on_date, kind) where about_user_id is not null
               do update set body = excluded.body, read_at = null, emailed_at = null,
                             created_at = excluded.created_at
               returning 1
           ), last as (
               select overdue_since, follow_up_id from late order by overdue_since desc, follow_up_id desc limit 1
           )
           select (select count(*) from escalated) as "rows!", (select count(*) from notified) as "notified!",
                  (select count(*) from late) as "seen!",
                  (select overdue_since from last) as last_key, (select follow_up_id from last) as last_id"#,
        now,
        delay_secs,
        after.map_or(time::macros::datetime!(0001-01-01 0:00 UTC), |c| c.key),
        after.map_or(0, |c| c.id),
        batch
    )
    .fetch_one(db)
    .await?;
    let cursor = row
        .last_key
        .zip(row.last_id)
        .map(|(key, id)| EscalationCursor { key, id });
    Ok(BatchCounts {
        rows: row.rows,
        notified: row.notified,
        seen: row.seen,
        cursor,
    })
}
