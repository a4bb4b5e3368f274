//! Referral asks and their events. Reads are scoped by the viewer through
//! `visible_user_ids`; writes by the rep who owns the ask.

use sqlx::{FromRow, PgExecutor, Postgres, Transaction};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::db::follow_ups::NewFollowUp;
use crate::domain::asks::{AskDetails, AskId, Channel, EventKind, NewEvent, Stage};
use crate::domain::contacts::ContactId;
use crate::domain::followups::{FollowUpId, FollowUpKind};
use crate::domain::users::UserId;

/// An ask with the names a page shows.
#[derive(Debug, Clone, FromRow)]
pub struct Ask {
    pub ask_id: AskId,
    pub rep_id: UserId,
    pub rep_name: String,
    pub source_contact_id: ContactId,
    pub source_name: String,
    pub target_contact_id: Option<ContactId>,
    pub target_name: Option<String>,
    pub target_description: Option<String>,
    pub reason: String,
    pub channel: Channel,
    pub asked_on: Date,
    pub stage: Stage,
    pub amount_won_cents: Option<i64>,
    pub closed_at: Option<OffsetDateTime>,
    /// An open follow-up of this ask is overdue.
    pub overdue: bool,
    /// The colleague whose network the ask went through, credited as its connector.
    pub assisted_by_name: Option<String>,
}

impl Ask {
    /// Who the rep asked to be introduced to: the contact's name or the description.
    pub fn target_label(&self) -> &str {
        self.target_name
            .as_deref()
            .or(self.target_description.as_deref())
            .unwrap_or("")
    }
}

const ASK_COLUMNS: &str = "a.ask_id, a.rep_id, u.name as rep_name, a.source_contact_id, \
    s.name as source_name, a.target_contact_id, t.name as target_name, a.target_description, \
    a.reason, a.channel, a.asked_on, a.stage, a.amount_won_cents, a.closed_at, \
    exists (select 1 from follow_ups f where f.ask_id = a.ask_id and f.done_at is null \
            and f.overdue_since is not null) as overdue, h.name as assisted_by_name";

const ASK_JOINS: &str = " join users u on u.user_id = a.rep_id \
    join contacts s on s.contact_id = a.source_contact_id \
    left join contacts t on t.contact_id = a.target_contact_id \
    left join users h on h.user_id = a.assisted_by_id";

/// An ask the viewer may see. The columns are the list's ([`ASK_COLUMNS`]), written out so
/// that this most-read query is checked against the schema at compile time.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn find_visible(
    db: impl PgExecutor<'_>,
    viewer: UserId,
    id: AskId,
) -> sqlx::Result<Option<Ask>> {
    sqlx::query_as!(
        Ask,
        r#"select a.ask_id as "ask_id: AskId", a.rep_id as "rep_id: UserId", u.name as rep_name,
                  a.source_contact_id as "source_contact_id: ContactId", s.name as source_name,
                  a.target_contact_id as "target_contact_id: ContactId", t.name as "target_name?",
                  a.target_description, a.reason, a.channel as "channel: Channel", a.asked_on,
                  a.stage as "stage: Stage", a.amount_won_cents, a.closed_at,
                  exists (select 1 from follow_ups f where f.ask_id = a.ask_id and f.done_at is null
                          and f.overdue_since is not null) as "overdue!",
                  h.name as "assisted_by_name?"
           from referral_asks a
           join users u on u.user_id = a.rep_id
           join contacts s on s.contact_id = a.source_contact_id
           left join contacts t on t.contact_id = a.target_contact_id
           left join users h on h.user_id = a.assisted_by_id
           where a.ask_id = $1 and a.rep_id in (select visible_user_ids($2))"#,
        id as AskId,
        viewer as UserId
    )
    .fetch_optional(db)
    .await
}

/// Filters for the ask list.
#[derive(Debug, Clone, Default)]
pub struct AskFilter {
    pub stage: Option<Stage>,
    /// Asks that got at least this far (`introduced`: introduced or any later stage).
    pub reached: Option<Stage>,
    /// Only asks with an overdue follow-up.
    pub overdue: bool,
    pub from: Option<Date>,
    pub to: Option<Date>,
    pub rep: Option<UserId>,
    pub source: Option<ContactId>,
}

/// Where a page of the list starts: after this date and id (newest first).
#[derive(Debug, Clone, Copy)]
pub struct Cursor {
    pub asked_on: Date,
    pub id: AskId,
}

/// A page of the asks the viewer may see, newest first, by keyset.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn list(
    db: impl PgExecutor<'_>,
    viewer: UserId,
    filter: &AskFilter,
    cursor: Option<Cursor>,
    limit: i64,
) -> sqlx::Result<Vec<Ask>> {
    // Each visible rep's run of the (rep, asked_on desc, id desc) index.
    let runs = super::OwnerRuns {
        order: "a.asked_on desc, a.ask_id desc",
        limit,
    };
    let mut q = super::OwnerRuns::open(ASK_COLUMNS, "referral_asks", "a", "rep_id", viewer);
    if let Some(stage) = filter.stage {
        q.push(" and a.stage = ").push_bind(stage.as_str());
    }
    if let Some(reached) = filter.reached {
        let stages: Vec<String> = Stage::ALL
            .into_iter()
            .filter(|s| s.at_least(reached))
            .map(|s| s.as_str().to_string())
            .collect();
        q.push(" and a.stage = any(").push_bind(stages).push(")");
    }
    if filter.overdue {
        q.push(
            " and exists (select 1 from follow_ups f where f.ask_id = a.ask_id \
             and f.done_at is null and f.overdue_since is not null)",
        );
    }
    if let Some(from) = filter.from {
        q.push(" and a.asked_on >= ").push_bind(from);
    }
    if let Some(to) = filter.to {
        q.push(" and a.asked_on <= ").push_bind(to);
    }
    if let Some(rep) = filter.rep {
        q.push(" and a.rep_id = ").push_bind(rep);
    }
    if let Some(source) = filter.source {
        q.push(" and (a.source_contact_id = ")
            .push_bind(source)
            .push(" or a.target_contact_id = ")
            .push_bind(source)
            .push(")");
    }
    if let Some(c) = cursor {
        q.push(" and (a.asked_on, a.ask_id) < (")
            .push_bind(c.asked_on)
            .push(", ")
            .push_bind(c.id)
            .push(")");
    }
    runs.close(&mut q, "a", ASK_JOINS);
    q.build_query_as().fetch_all(db).await
}

/// What logging an ask writes.
#[derive(Debug)]
pub struct NewAsk<'a> {
    pub rep: UserId,
    pub source: ContactId,
    pub target: Option<ContactId>,
    pub target_description: Option<&'a str>,
    pub reason: &'a str,
    pub channel: Channel,
    pub asked_on: Date,
    pub submission_id: Uuid,
}

/// Inserts an ask with its first follow-up and the audit rows of both, in one statement,
/// unless its form was already submitted (`None`, and nothing is written). Logging an ask is
/// the write every rep makes all day: one round trip here instead of four. The follow-up's
/// audit changes get the new ask's id under `"ask"`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_with_follow_up(
    tx: &mut Transaction<'_, Postgres>,
    new: &NewAsk<'_>,
    ask_changes: &serde_json::Value,
    follow_up: &NewFollowUp<'_>,
    follow_up_changes: &serde_json::Value,
) -> sqlx::Result<Option<(AskId, FollowUpId)>> {
    let row = sqlx::query!(
        r#"with ask as (
               insert into referral_asks (rep_id, source_contact_id, target_contact_id, target_description,
                                          reason, channel, asked_on, submission_id)
               values ($1, $2, $3, $4, $5, $6, $7, $8)
               on conflict (submission_id) do nothing
               returning ask_id
           ), follow_up as (
               insert into follow_ups (owner_id, kind, title, ask_id, contact_id, due_on, created_by)
               select $9, $10, $11, ask.ask_id, $12, $13, $14 from ask
               returning follow_up_id, ask_id
           ), audit as (
               insert into audit_log (actor_id, entity, entity_id, action, changes)
               select $1, 'follow_up', f.follow_up_id, 'create', $15::jsonb || jsonb_build_object('ask', f.ask_id)
               from follow_up f
               union all
               select $1, 'ask', f.ask_id, 'create', $16::jsonb from follow_up f
           )
           select ask_id as "ask_id!: AskId", follow_up_id as "follow_up_id!: FollowUpId" from follow_up"#,
        new.rep as UserId,
        new.source as ContactId,
        new.target as Option<ContactId>,
        new.target_description,
        new.reason,
        new.channel as Channel,
        new.asked_on,
        new.submission_id,
        follow_up.owner as UserId,
        follow_up.kind as FollowUpKind,
        follow_up.title,
        follow_up.contact as Option<ContactId>,
        follow_up.due_on,
        follow_up.created_by as Option<UserId>,
        follow_up_changes,
        ask_changes,
    )
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.map(|r| (r.ask_id, r.follow_up_id)))
}

/// Credits a colleague whose network the ask went through.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_assisted_by(
    tx: &mut Transaction<'_, Postgres>,
    ask: AskId,
    colleague: UserId,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update referral_asks set assisted_by_id = $2 where ask_id = $1",
        ask as AskId,
        colleague as UserId
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The ask a form submission created, if it was submitted before.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn find_by_submission(
    db: impl PgExecutor<'_>,
    rep: UserId,
    submission: Uuid,
) -> sqlx::Result<Option<AskId>> {
    sqlx::query_scalar!(
        r#"select ask_id as "ask_id: AskId" from referral_asks where submission_id = $1 and rep_id = $2"#,
        submission,
        rep as UserId
    )
    .fetch_optional(db)
    .await
}

/// What an event needs to know about its ask, read under a row lock so that concurrent
/// events on one ask are applied one after the other.
#[derive(Debug, Clone)]
pub struct Locked {
    pub ask_id: AskId,
    pub stage: Stage,
    pub asked_on: Date,
    pub source_contact_id: ContactId,
    pub source_name: String,
    pub target_contact_id: Option<ContactId>,
    pub target_label: String,
}

/// Locks one of the rep's asks for update.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn lock_own(
    tx: &mut Transaction<'_, Postgres>,
    rep: UserId,
    id: AskId,
) -> sqlx::Result<Option<Locked>> {
    sqlx::query_as!(
        Locked,
        r#"select a.ask_id as "ask_id: AskId", a.stage as "stage: Stage", a.asked_on,
                  a.source_contact_id as "source_contact_id: ContactId", s.name as source_name,
                  a.target_contact_id as "target_contact_id: ContactId",
                  coalesce(t.name, a.target_description, '') as "target_label!"
           from referral_asks a
           join contacts s on s.contact_id = a.source_contact_id
           left join contacts t on t.contact_id = a.target_contact_id
           where a.ask_id = $1 and a.rep_id = $2
           for update of a"#,
        id as AskId,
        rep as UserId
    )
    .fetch_optional(&mut **tx)
    .await
}

/// Moves the ask to `stage`, closing it when the stage is final.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_stage(
    tx: &mut Transaction<'_, Postgres>,
    id: AskId,
    stage: Stage,
    amount_won_cents: Option<i64>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update referral_asks
         set stage = $2, amount_won_cents = coalesce($3, amount_won_cents),
             closed_at = case when $4 then coalesce(closed_at, now()) end
         where ask_id = $1",
        id as AskId,
        stage as Stage,
        amount_won_cents,
        stage.is_final()
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Changes an ask's reason, channel and date.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn update_details(
    db: impl PgExecutor<'_>,
    rep: UserId,
    id: AskId,
    details: &AskDetails,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "update referral_asks set reason = $3, channel = $4, asked_on = $5 where ask_id = $1 and rep_id = $2",
        id as AskId,
        rep as UserId,
        details.reason,
        details.channel as Channel,
        details.asked_on
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Appends an event to an ask's history.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_event(
    tx: &mut Transaction<'_, Postgres>,
    id: AskId,
    actor: UserId,
    event: &NewEvent,
) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        "insert into ask_events (ask_id, kind, actor_id, occurred_on, amount_cents, note)
         values ($1, $2, $3, $4, $5, $6) returning event_id",
        id as AskId,
        event.kind as EventKind,
        actor as UserId,
        event.occurred_on,
        event.amount_cents,
        event.note
    )
    .fetch_one(&mut **tx)
    .await
}

/// One entry of an ask's timeline.
#[derive(Debug, Clone)]
pub struct Event {
    pub event_id: i64,
    pub kind: EventKind,
    pub occurred_on: Date,
    pub amount_cents: Option<i64>,
    pub note: String,
    pub actor_name: String,
}

/// An ask's history, oldest first.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn events_of(db: impl PgExecutor<'_>, id: AskId) -> sqlx::Result<Vec<Event>> {
    sqlx::query_as!(
        Event,
        r#"select e.event_id, e.kind as "kind: EventKind", e.occurred_on, e.amount_cents, e.note,
                  u.name as actor_name
           from ask_events e join users u on u.user_id = e.actor_id
           where e.ask_id = $1 order by e.occurred_on, e.event_id"#,
        id as AskId
    )
    .fetch_all(db)
    .await
}

/// How many asks went to this source on or after `since`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn count_to_source_since(
    db: impl PgExecutor<'_>,
    source: ContactId,
    since: Date,
) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"select count(*) as "n!" from referral_asks where source_contact_id = $1 and asked_on >= $2"#,
        source as ContactId,
        since
    )
    .fetch_one(db)
    .await
}

/// How many asks the rep made between two dates (inclusive).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn count_between(
    db: impl PgExecutor<'_>,
    rep: UserId,
    from: Date,
    to: Date,
) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"select count(*) as "n!" from referral_asks where rep_id = $1 and asked_on between $2 and $3"#,
        rep as UserId,
        from,
        to
    )
    .fetch_one(db)
    .await
}

/// A recent introduction, for My week.
#[derive(Debug, Clone)]
pub struct Introduction {
    pub ask_id: AskId,
    pub source_name: String,
    pub target_label: String,
    pub occurred_on: Date,
}

/// The rep's latest introductions.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn recent_introductions(
    db: impl PgExecutor<'_>,
    rep: UserId,
    limit: i64,
) -> sqlx::Result<Vec<Introduction>> {
    sqlx::query_as!(
        Introduction,
        r#"select a.ask_id as "ask_id: AskId", s.name as source_name,
                  coalesce(t.name, a.target_description, '') as "target_label!",
                  a.introduced_on as "occurred_on!"
           from referral_asks a
           join contacts s on s.contact_id = a.source_contact_id
           left join contacts t on t.contact_id = a.target_contact_id
           where a.rep_id = $1 and a.introduced_on is not null
           order by a.introduced_on desc, a.ask_id desc limit $2"#,
        rep as UserId,
        limit
    )
    .fetch_all(db)
    .await
}
