//! Failed logins, counted for throttling, and the devices that have logged in before.

use sqlx::PgExecutor;
use time::OffsetDateTime;

/// Failures counted against one login attempt: how many, and when the oldest counted one
/// happened (the ceiling lifts when it leaves the window).
#[derive(Debug, Clone, Copy, Default)]
pub struct Count {
    pub n: i64,
    pub oldest: Option<OffsetDateTime>,
}

/// Recent failures for this account from this address, from this address for any account,
/// and for this account from anywhere.
#[derive(Debug, Clone, Copy)]
pub struct Recent {
    pub pair: Count,
    pub addr: Count,
    pub account: Count,
}

/// Counts failures for `email` (case-insensitive) and `addr`: the pair and the address since
/// `short_since`, the account since `long_since`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn recent(
    db: impl PgExecutor<'_>,
    email: &str,
    addr: &str,
    short_since: OffsetDateTime,
    long_since: OffsetDateTime,
) -> sqlx::Result<Recent> {
    let row = sqlx::query!(
        r#"select
             count(*) filter (where lower(email) = lower($1) and client_addr = $2 and at > $3) as "pair!",
             min(at) filter (where lower(email) = lower($1) and client_addr = $2 and at > $3) as oldest_pair,
             count(*) filter (where client_addr = $2 and at > $3) as "addr!",
             min(at) filter (where client_addr = $2 and at > $3) as oldest_addr,
             count(*) filter (where lower(email) = lower($1) and at > $4) as "account!",
             min(at) filter (where lower(email) = lower($1) and at > $4) as oldest_account
           from login_failures
           where at > least($3, $4) and (lower(email) = lower($1) or client_addr = $2)"#,
        email,
        addr,
        short_since,
        long_since
    )
    .fetch_one(db)
    .await?;
    Ok(Recent {
        pair: Count {
            n: row.pair,
            oldest: row.oldest_pair,
        },
        addr: Count {
            n: row.addr,
            oldest: row.oldest_addr,
        },
        account: Count {
            n: row.account,
            oldest: row.oldest_account,
        },
    })
}

/// Records a failure.
#[tracing::instrument(level = "debug", skip_all)]
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

/// After a successful login this address's failures for the account no longer count; rows
/// older than `older_than` are dropped on the way. Failures from other addresses stay: the
/// real user logging in must not reset an attack on their account.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn clear_pair(
    db: impl PgExecutor<'_>,
    email: &str,
    addr: &str,
    older_than: OffsetDateTime,
) -> sqlx::Result<()> {
    sqlx::query!(
        "delete from login_failures where (lower(email) = lower($1) and client_addr = $2) or at < $3",
        email,
        addr,
        older_than
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Whether the device with this cookie hash has logged in to the account with this e-mail.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn is_known_device(
    db: impl PgExecutor<'_>,
    device_hash: &[u8],
    email: &str,
) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"select exists (select 1 from known_devices d join users u on u.user_id = d.user_id
                          where d.device_hash = $1 and lower(u.email) = lower($2)) as "known!""#,
        device_hash,
        email
    )
    .fetch_one(db)
    .await
}

/// Remembers (or refreshes) a device that has just logged in as `user`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn remember_device(
    db: impl PgExecutor<'_>,
    device_hash: &[u8],
    user: crate::domain::users::UserId,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into known_devices (device_hash, user_id) values ($1, $2)
         on conflict (device_hash, user_id) do update set last_used_at = now()",
        device_hash,
        user as crate::domain::users::UserId
    )
    .execute(db)
    .await?;
    Ok(())
}
