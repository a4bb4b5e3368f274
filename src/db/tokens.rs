//! API tokens, stored as SHA-256 hashes.

use sqlx::PgExecutor;
use time::OffsetDateTime;

use crate::domain::users::{TokenAccess, TokenId, UserId};

/// A token as listed on the settings page.
#[derive(Debug, Clone)]
pub struct TokenSummary {
    pub token_id: TokenId,
    pub name: String,
    pub prefix: String,
    pub scopes: Vec<String>,
    pub created_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
}

/// Stores a new token's hash and returns its id.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert(
    db: impl PgExecutor<'_>,
    user: UserId,
    name: &str,
    hash: &[u8],
    prefix: &str,
    access: TokenAccess,
) -> sqlx::Result<TokenId> {
    sqlx::query_scalar!(
        r#"insert into api_tokens (user_id, name, token_hash, prefix, scopes) values ($1, $2, $3, $4, $5)
           returning token_id as "token_id: TokenId""#,
        user as UserId,
        name,
        hash,
        prefix,
        &access.scopes()
    )
    .fetch_one(db)
    .await
}

/// A user's tokens that have not been revoked, newest first.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn list_active(db: impl PgExecutor<'_>, user: UserId) -> sqlx::Result<Vec<TokenSummary>> {
    sqlx::query_as!(
        TokenSummary,
        r#"select token_id as "token_id: TokenId", name, prefix, scopes, created_at, last_used_at from api_tokens
           where user_id = $1 and revoked_at is null order by created_at desc, token_id desc"#,
        user as UserId
    )
    .fetch_all(db)
    .await
}

/// Revokes one of the user's own tokens; false when there is no such active token.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn revoke(
    db: impl PgExecutor<'_>,
    user: UserId,
    token_id: TokenId,
) -> sqlx::Result<bool> {
    let result = sqlx::query!(
        "update api_tokens set revoked_at = now()
         where token_id = $1 and user_id = $2 and revoked_at is null",
        token_id as TokenId,
        user as UserId
    )
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Revokes every live token of the user (at deactivation: a reactivated user starts with
/// none); returns how many.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn revoke_all(db: impl PgExecutor<'_>, user: UserId) -> sqlx::Result<u64> {
    let result = sqlx::query!(
        "update api_tokens set revoked_at = now() where user_id = $1 and revoked_at is null",
        user as UserId
    )
    .execute(db)
    .await?;
    Ok(result.rows_affected())
}

/// The active user a live token belongs to and what the token may do, marking it used.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn authenticate(
    db: impl PgExecutor<'_>,
    hash: &[u8],
) -> sqlx::Result<Option<(UserId, TokenAccess)>> {
    let row = sqlx::query!(
        r#"update api_tokens t set last_used_at = now()
           from users u
           where t.token_hash = $1 and t.revoked_at is null
             and u.user_id = t.user_id and u.deactivated_at is null
           returning t.user_id as "user_id: UserId", t.scopes"#,
        hash
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| (r.user_id, TokenAccess::of_scopes(&r.scopes))))
}
