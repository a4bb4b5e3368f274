//! The audit log: who changed what, when.

use serde_json::Value;
use sqlx::PgExecutor;

use crate::domain::users::UserId;

/// Appends one entry. `actor` is `None` for changes made from the command line.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn record(
    db: impl PgExecutor<'_>,
    actor: Option<UserId>,
    entity: &str,
    entity_id: i64,
    action: &str,
    changes: Value,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into audit_log (actor_id, entity, entity_id, action, changes)
         values ($1, $2, $3, $4, $5)",
        actor as Option<UserId>,
        entity,
        entity_id,
        action,
        changes
    )
    .execute(db)
    .await?;
    Ok(())
}
