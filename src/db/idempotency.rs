//! The API's idempotency keys: a create sent again with the same `Idempotency-Key` gets the
//! first answer back.

use sqlx::PgExecutor;

use crate::domain::users::UserId;

/// What a key holds.
#[derive(Debug, Clone)]
pub struct Stored {
    /// The method, path and body hash the key was first used for.
    pub request: String,
    /// `None` while the first request is still running.
    pub status: Option<i16>,
    pub location: Option<String>,
    pub body: Option<serde_json::Value>,
}

/// Claims `key` for `request`; false when the user already used it (then see [`find`]). Keys
/// older than a day are forgotten first.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn claim(
    db: impl PgExecutor<'_>,
    user: UserId,
    key: &str,
    request: &str,
) -> sqlx::Result<bool> {
    let claimed = sqlx::query_scalar!(
        r#"with expired as (
               delete from api_idempotency
               where user_id = $1 and key = $2 and created_at < now() - interval '1 day'
           )
           insert into api_idempotency (user_id, key, request) values ($1, $2, $3)
           on conflict (user_id, key) do nothing
           returning true as "claimed!""#,
        user as UserId,
        key,
        request
    )
    .fetch_optional(db)
    .await?;
    Ok(claimed.is_some())
}

/// What the user's `key` holds.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn find(
    db: impl PgExecutor<'_>,
    user: UserId,
    key: &str,
) -> sqlx::Result<Option<Stored>> {
    sqlx::query_as!(
        Stored,
        "select request, status, location, body from api_idempotency where user_id = $1 and key = $2",
        user as UserId,
        key
    )
    .fetch_optional(db)
    .await
}

/// Keeps the answer the first request got.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn complete(
    db: impl PgExecutor<'_>,
    user: UserId,
    key: &str,
    status: i16,
    location: Option<&str>,
    body: &serde_json::Value,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update api_idempotency set status = $3, location = $4, body = $5 where user_id = $1 and key = $2",
        user as UserId,
        key,
        status,
        location,
        body
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Gives a key up after its request failed, so that a retry runs again.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn release(db: impl PgExecutor<'_>, user: UserId, key: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "delete from api_idempotency where user_id = $1 and key = $2 and status is null",
        user as UserId,
        key
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Forgets keys older than a day; returns how many.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn purge(db: impl PgExecutor<'_>) -> sqlx::Result<u64> {
    let done =
        sqlx::query!("delete from api_idempotency where created_at < now() - interval '1 day'")
            .execute(db)
            .await?;
    Ok(done.rows_affected())
}
