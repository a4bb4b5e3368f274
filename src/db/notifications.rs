//! Notifications: in-app always, by e-mail digest when configured.

use sqlx::{PgExecutor, Postgres, Transaction};
use time::{Date, OffsetDateTime};

use crate::domain::asks::AskId;
use crate::domain::followups::FollowUpId;
use crate::domain::notifications::{NotificationId, NotificationKind};
use crate::domain::users::UserId;

/// A notification as the list shows it, with where it leads.
#[derive(Debug, Clone)]
pub struct Notification {
    pub notification_id: NotificationId,
    pub kind: NotificationKind,
    pub body: String,
    pub follow_up_id: Option<FollowUpId>,
    pub ask_id: Option<AskId>,
    /// The rep a daily escalation summary is about.
    pub about_user_id: Option<UserId>,
    /// The follow-up belongs to the reader (else it is a report's, escalated to them).
    pub own_follow_up: bool,
    pub read_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
}

/// Tells a rep a coaching note was written for them (`body` cut to the column's 2,000
/// characters).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_coaching(
    db: impl PgExecutor<'_>,
    rep: UserId,
    follow_up: FollowUpId,
    body: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into notifications (user_id, follow_up_id, kind, body) values ($1, $2, $3, $4)",
        rep as UserId,
        follow_up as FollowUpId,
        NotificationKind::Coaching as NotificationKind,
        body.chars().take(2000).collect::<String>()
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Tells a user about an introduction request: one made of them (with the follow-up to
/// answer it) or the answer to theirs (`body` cut to the column's 2,000 characters).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_intro_request(
    db: impl PgExecutor<'_>,
    user: UserId,
    follow_up: Option<FollowUpId>,
    body: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into notifications (user_id, follow_up_id, kind, body) values ($1, $2, $3, $4)",
        user as UserId,
        follow_up as Option<FollowUpId>,
        NotificationKind::IntroRequest as NotificationKind,
        body.chars().take(2000).collect::<String>()
    )
    .execute(db)
    .await?;
    Ok(())
}

/// How many of the user's notifications are unread.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn unread_count(db: impl PgExecutor<'_>, user: UserId) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"select count(*) as "n!" from notifications where user_id = $1 and read_at is null"#,
        user as UserId
    )
    .fetch_one(db)
    .await
}

/// Where a page of notifications starts: after this one (read or not, its time, its id).
#[derive(Debug, Clone, Copy)]
pub struct After {
    pub read: bool,
    pub created_at: OffsetDateTime,
    pub id: NotificationId,
}

/// A page of the user's notifications in the list's order (unread first, newest first),
/// after `after`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn page(
    db: impl PgExecutor<'_>,
    user: UserId,
    after: Option<After>,
    limit: i64,
) -> sqlx::Result<Vec<Notification>> {
    sqlx::query_as!(
        Notification,
        r#"select n.notification_id as "notification_id: NotificationId", n.kind as "kind: NotificationKind",
                  n.body, n.follow_up_id as "follow_up_id: FollowUpId", f.ask_id as "ask_id?: AskId",
                  n.about_user_id as "about_user_id: UserId",
                  coalesce(f.owner_id = n.user_id, false) as "own_follow_up!", n.read_at, n.created_at
           from notifications n left join follow_ups f on f.follow_up_id = n.follow_up_id
           where n.user_id = $1
             and ($2::bool is null
                  or (n.read_at is not null) > $2
                  or ((n.read_at is not null) = $2 and (n.created_at, n.notification_id) < ($3, $4)))
           order by n.read_at is not null, n.created_at desc, n.notification_id desc
           limit $5"#,
        user as UserId,
        after.map(|a| a.read),
        after.map(|a| a.created_at),
        after.map(|a| a.id.0),
        limit
    )
    .fetch_all(db)
    .await
}

/// Marks one of the user's notifications read; false when there is no such notification.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn mark_read(
    db: impl PgExecutor<'_>,
    user: UserId,
    id: NotificationId,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "update notifications set read_at = coalesce(read_at, now()) where notification_id = $1 and user_id = $2",
        id as NotificationId,
        user as UserId
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks all of the user's notifications read.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn mark_all_read(db: impl PgExecutor<'_>, user: UserId) -> sqlx::Result<u64> {
    let done = sqlx::query!(
        "update notifications set read_at = now() where user_id = $1 and read_at is null",
        user as UserId
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// A user who may be owed a digest e-mail.
#[derive(Debug, Clone)]
pub struct DigestUser {
    pub user_id: UserId,
    pub email: String,
    pub name: String,
    pub local_date: Date,
    pub local_hour: i32,
    pub quiet_hours_start: i16,
    pub quiet_hours_end: i16,
}

impl DigestUser {
    /// Whether `local_hour` falls in the quiet hours (a window may wrap past midnight).
    pub fn is_quiet(&self) -> bool {
        let (h, start, end) = (
            self.local_hour,
            i32::from(self.quiet_hours_start),
            i32::from(self.quiet_hours_end),
        );
        match start.cmp(&end) {
            std::cmp::Ordering::Equal => false,
            std::cmp::Ordering::Less => start <= h && h < end,
            std::cmp::Ordering::Greater => h >= start || h < end,
        }
    }
}

/// Active users with notifications not yet e-mailed and no digest yet today (their today).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn digest_candidates(
    db: impl PgExecutor<'_>,
    now: OffsetDateTime,
) -> sqlx::Result<Vec<DigestUser>> {
    sqlx::query_as!(
        DigestUser,
        r#"select u.user_id as "user_id: UserId", u.email, u.name,
                  ($1::timestamptz at time zone u.time_zone)::date as "local_date!",
                  extract(hour from $1::timestamptz at time zone u.time_zone)::int as "local_hour!",
                  u.quiet_hours_start, u.quiet_hours_end
           from users u
           where u.deactivated_at is null
             and (u.last_digest_on is null or u.last_digest_on < ($1::timestamptz at time zone u.time_zone)::date)
             and exists (select 1 from notifications n where n.user_id = u.user_id and n.emailed_at is null)"#,
        now
    )
    .fetch_all(db)
    .await
}

/// A notification going into a digest.
#[derive(Debug, Clone)]
pub struct Unsent {
    pub notification_id: NotificationId,
    pub kind: NotificationKind,
    pub body: String,
}

/// Claims the user's digest for this transaction: `None` when another process is sending it.
/// Otherwise the notifications not yet e-mailed, oldest first.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn claim_unsent(
    tx: &mut Transaction<'_, Postgres>,
    user: UserId,
) -> sqlx::Result<Option<Vec<Unsent>>> {
    let claimed = sqlx::query_scalar!(
        r#"select pg_try_advisory_xact_lock(hashtext('warmline.digest'), $1::int) as "claimed!""#,
        user.0 as i32
    )
    .fetch_one(&mut **tx)
    .await?;
    if !claimed {
        return Ok(None);
    }
    let unsent = sqlx::query_as!(
        Unsent,
        r#"select notification_id as "notification_id: NotificationId", kind as "kind: NotificationKind", body
           from notifications
           where user_id = $1 and emailed_at is null order by created_at, notification_id"#,
        user as UserId
    )
    .fetch_all(&mut **tx)
    .await?;
    Ok(Some(unsent))
}

/// Records that a digest went out with these notifications.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn mark_emailed(
    tx: &mut Transaction<'_, Postgres>,
    user: UserId,
    ids: &[NotificationId],
    local_date: Date,
    now: OffsetDateTime,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update notifications set emailed_at = $3 where user_id = $1 and notification_id = any($2)",
        user as UserId,
        ids as &[NotificationId],
        now
    )
    .execute(&mut **tx)
    .await?;
    sqlx::query!(
        "update users set last_digest_on = $2 where user_id = $1",
        user as UserId,
        local_date
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}
