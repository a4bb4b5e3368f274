//! What a user's calendar feed shows: open follow-ups on their due dates, and for a manager
//! the days they said they would inspect a coaching commitment.

use sqlx::PgExecutor;
use time::{Date, OffsetDateTime};

use crate::domain::users::{User, UserId};

/// One all-day event of the feed.
#[derive(Debug, Clone)]
pub struct CalendarItem {
    /// Stable across fetches: `follow-up-12`, `coaching-3`.
    pub uid: String,
    pub summary: String,
    pub on_date: Date,
    /// Path of the item on this site.
    pub path: String,
    pub updated_at: OffsetDateTime,
}

/// The active user whose feed has this secret.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn owner_of(db: impl PgExecutor<'_>, secret: &str) -> sqlx::Result<Option<UserId>> {
    sqlx::query_scalar!(
        r#"select user_id as "user_id: UserId" from users
           where calendar_secret = $1 and deactivated_at is null"#,
        secret
    )
    .fetch_optional(db)
    .await
}

/// The user's feed secret, if the feed is on.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn secret_of(db: impl PgExecutor<'_>, user: UserId) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!(
        "select calendar_secret from users where user_id = $1",
        user as UserId
    )
    .fetch_one(db)
    .await
}

/// Sets (a new secret) or clears (`None`) the user's feed secret.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_secret(
    db: impl PgExecutor<'_>,
    user: UserId,
    secret: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update users set calendar_secret = $2 where user_id = $1",
        user as UserId,
        secret
    )
    .execute(db)
    .await?;
    Ok(())
}

/// The feed's events, soonest first: the user's open follow-ups (a title that does not name
/// the follow-up's contact gets the name added), and the inspect-on dates of coaching notes
/// they wrote as a manager from `since` on.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn items(
    db: impl PgExecutor<'_>,
    user: &User,
    since: Date,
) -> sqlx::Result<Vec<CalendarItem>> {
    sqlx::query_as!(
        CalendarItem,
        r#"select 'follow-up-' || f.follow_up_id as "uid!",
                  case when c.name is null or strpos(lower(f.title), lower(c.name)) > 0 then f.title
                       else f.title || ' (' || c.name || ')' end as "summary!",
                  f.due_on as "on_date!",
                  coalesce('/asks/' || f.ask_id, '/follow-ups') || '#follow-up-' || f.follow_up_id as "path!",
                  f.updated_at as "updated_at!"
           from follow_ups f left join contacts c on c.contact_id = f.contact_id
           where f.owner_id = $1 and f.done_at is null
           union all
           select 'coaching-' || n.coaching_note_id, 'Inspect ' || r.name || '’s commitment: ' || n.committed_action,
                  n.inspect_on, '/dashboard/reps/' || n.rep_id || '#coaching', n.updated_at
           from coaching_notes n join users r on r.user_id = n.rep_id
           where n.manager_id = $1 and n.inspect_on >= $2
           order by 3, 1"#,
        user.id as UserId,
        since
    )
    .fetch_all(db)
    .await
}

/// When anything the feed shows last changed, done and past items included, so a follow-up
/// that left the feed still moves this on.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn last_change(
    db: impl PgExecutor<'_>,
    user: UserId,
) -> sqlx::Result<Option<OffsetDateTime>> {
    sqlx::query_scalar!(
        r#"select greatest(
               (select max(updated_at) from follow_ups where owner_id = $1),
               (select max(updated_at) from coaching_notes where manager_id = $1),
               (select updated_at from users where user_id = $1))"#,
        user as UserId
    )
    .fetch_one(db)
    .await
}
