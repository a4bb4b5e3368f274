//! Failed logins, counted for throttling.

use sqlx::PgExecutor;
use time::OffsetDateTime;

/// Failures within the window for this account or this client address: how many of each,
/// and when the oldest one counted in the window happened.
#[derive(Debug, Clone, Copy)]
pub struct Recent {
    pub for_email: i64,
    pub for_addr: i64,
    pub oldest_email: Option<OffsetDateTime>,
    pub oldest_addr: Option<OffsetDateTime>,
}

/// Counts failures since `since` for `email` (case-insensitive) and for `addr`.
pub async fn recent(
    db: impl PgExecutor<'_>,
    email: &str,
    addr: &str,
    since: OffsetDateTime,
) -> sqlx::Result<Recent> {
    let row = sqlx::query!(
        r#"select
             count(*) filter (where lower(email) = lower($1)) as "for_email!",
             count(*) filter (where client_addr = $2) as "for_addr!",
             min(at) filter (where lower(email) = lower($1)) as oldest_email,
             min(at) filter (where client_addr = $2) as oldest_addr
           from login_failures
           where at > $3 and (lower(email) = lower($1) or client_addr = $2)"#,
        email,
        addr,
        since
    )
    .fetch_one(db)
    .await?;
    Ok(Recent {
        for_email: row.for_email,
        for_addr: row.for_addr,
        oldest_email: row.oldest_email,
        oldest_addr: row.oldest_addr,
    })
}

/// Records a failure.
pub async fn insert(db: impl PgExecutor<'_>, email: &str, addr: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into login_failures (email, client_addr) values ($1, $2)",
        email,
        addr
    )
    .execute(db)
    .await?;
    Ok(())
}

/// After a successful login the account's earlier failures no longer count; old rows of
/// every account are dropped on the way.
pub async fn clear_for_email(
    db: impl PgExecutor<'_>,
    email: &str,
    older_than: OffsetDateTime,
) -> sqlx::Result<()> {
    sqlx::query!(
        "delete from login_failures where lower(email) = lower($1) or at < $2",
        email,
        older_than
    )
    .execute(db)
    .await?;
    Ok(())
}
